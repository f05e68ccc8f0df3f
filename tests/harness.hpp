// SPDX-License-Identifier: Apache-2.0
// Test harness: runs the built boxjail (or Debian's bwrap) as root or as uid 65534, optionally
// under a seccomp filter that denies one step's syscall, and collects what it printed.
#pragma once

#include <sys/types.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace boxjail::test {

struct Deny {
  std::string syscall;  // e.g. "mount", "unshare", "clone3"
  int err = 1;          // errno returned (EPERM by default)
  // Only deny when (arg[arg_index] & mask) == value; arg_index < 0 denies every call.
  int arg_index = -1;
  unsigned long long mask = 0;
  unsigned long long value = 0;
};

struct RunOpts {
  bool as_nobody = false;     // drop to uid/gid 65534 (no groups but `groups`) before exec
  std::vector<gid_t> groups;  // supplementary groups of the uid-65534 caller
  std::string stdin_data;     // written to the program's stdin, then EOF
  std::vector<std::pair<int, std::string>> fd_data;  // fd N in the program reads this data
  std::vector<int> keep_fds;  // fds of the test process passed through unchanged
  std::vector<Deny> deny;     // seccomp rules installed as root before the drop
  std::string argv0;          // argv[0] (default: the binary path)
  std::string cwd = "/";
  int timeout_sec = 60;
  bool use_bwrap = false;  // run /usr/bin/bwrap instead of boxjail
  // Run the program in a private mount namespace with an empty tmpfs on /run, so that what it
  // writes there (the seccomp compile cache) never reaches the host's /run.
  bool private_run = false;
  // Run in a private mount namespace where a file of /proc is over-mounted (/dev/null on
  // /proc/uptime), as container runtimes mask /proc: the kernel then refuses a new procfs in a
  // user namespace (EPERM), but not to root in the initial one.
  bool mask_proc = false;
  bool no_new_privs = false;  // set PR_SET_NO_NEW_PRIVS before exec (after the drop)
  // A cgroup directory (a path under the cgroup v2 mount) the program is moved into, as root,
  // before the drop: how a delegated user's session sits below the cgroup it owns.
  std::string cgroup;
  // Run in a private mount namespace without the cgroup v2 mount(s), as on a host with cgroup v1
  // only.
  bool hide_cgroup2 = false;
  // Host files replaced for the program only: each {path, content} pair's content is written to
  // a temp file bind-mounted over `path` in a private mount namespace (the file must exist).
  std::vector<std::pair<std::string, std::string>> host_files;
  // With hide_cgroup2: this cgroup directory is bind-mounted on the first cgroup v2 mount point
  // instead, so the mount shows only that part of the hierarchy (a container's view).
  std::string cgroup2_subtree;
  std::string program;  // run this binary instead of boxjail (e.g. the setuid helper)
  std::vector<std::pair<std::string, std::string>> env;  // set in the program's environment
};

struct RunResult {
  int status = -1;  // exit status, or 128+signal
  std::string out;
  std::string err;
};

// Path of the boxjail binary the tests run: a copy in a fresh mode-755 temp dir, so that uid
// 65534 can execute it whatever the build directory's parents allow.
const std::string& boxjail_binary();

// The setuid helper, copied next to boxjail_binary(), owned by root, mode 4755.
const std::string& setuid_helper_binary();

// tests/seccomp_probe.cpp's binary, copied to a mode-755 dir so that uid 65534 can run it.
const std::string& seccomp_probe_binary();

RunResult run(const std::vector<std::string>& args, const RunOpts& opts = {});

// Runs a shell snippet inside a jail made of `jail_args`, i.e. run(jail_args + {"sh","-c",script}).
RunResult jail_sh(std::vector<std::string> jail_args, const std::string& script,
                  const RunOpts& opts = {});

// A cBPF program (libseccomp's export) that fails `syscall_name` with `err` and allows the rest;
// empty on failure.
std::string bpf_denying(const std::string& syscall_name, int err);

std::string read_file(const std::string& path);
std::string host_mountinfo();                    // /proc/self/mountinfo of the test process
int count_processes_of(const std::string& exe);  // live processes running that executable

// A fresh mode-755 temp dir, removed with everything in it by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name, const std::string& content, unsigned mode = 0644) const;

 private:
  std::string path_;
};

bool bwrap_available();

// A kernel without the new mount API (before 5.2) or mount_setattr (before 5.12), as a seccomp
// filter makes it: every call of that API answers ENOSYS, so boxjail's probe picks classic
// mount(2) for the run.
std::vector<Deny> deny_new_mount_api();

// BOXJAIL_TEST_MOUNTS=classic in the environment: every boxjail run of the suite gets
// deny_new_mount_api() (ctest runs the mount, jail and differential suites so a second time).
bool classic_mounts_forced();

// The binaries under test were built with ASan+UBSan (the dev preset): their runtime is a shared
// library the loader must open, and it needs fds of its own (UBSan's vptr check probes memory
// through a pipe), so a test that starves boxjail of fds would test the runtime instead.
constexpr bool sanitized_build() {
#ifdef BOXJAIL_TEST_SANITIZED
  return true;
#else
  return false;
#endif
}

// User namespaces denied to the program, as a container runtime's profile denies them: clone3
// answers ENOSYS (its flags are out of seccomp's sight), so the engine falls back to clone(2),
// whose CLONE_NEWUSER the filter refuses with `err`, as it does unshare(CLONE_NEWUSER).
std::vector<Deny> deny_user_namespaces(int err);

// An operator config (TOML) for the ladder, written into `dir`: mode and helper, then `extra`.
std::string ladder_config(const TempDir& dir, const std::string& mode, const std::string& helper,
                          const std::string& extra = "");

// The --report-fd stream ("boxjail.report/v1", JSON Lines): every line parsed, in order (a line
// that is not JSON becomes a discarded value), and the last line, the "end" summary.
std::vector<nlohmann::json> report_events(const std::string& text);
nlohmann::json report_summary(const std::string& text);

// A file the program gets as --report-fd `fd` (pass it in RunOpts::keep_fds); read it afterwards.
struct ReportFile {
  ReportFile();
  ~ReportFile();
  ReportFile(const ReportFile&) = delete;
  ReportFile& operator=(const ReportFile&) = delete;
  std::string text() const { return read_file(path); }
  std::vector<nlohmann::json> events() const { return report_events(text()); }
  nlohmann::json summary() const { return report_summary(text()); }
  TempDir dir;
  std::string path;
  int fd = -1;
};

}  // namespace boxjail::test

// ---- Background runs (added for the process tests) ----

namespace boxjail::test {

// A program started in the background with the same set-up as run(): stdio pipes, fd_data
// (written and closed at start), keep_fds, deny, as_nobody and cwd. Its stdin stays open until
// close_stdin() or wait(), so a test can act on the running jail (signals, locks, maps) and then
// let it finish. The destructor SIGKILLs and reaps it if the test did not wait().
class Spawned {
 public:
  Spawned(const std::string& program, const std::vector<std::string>& args,
          const RunOpts& opts = {});
  ~Spawned();
  Spawned(const Spawned&) = delete;
  Spawned& operator=(const Spawned&) = delete;

  pid_t pid() const { return pid_; }
  // The next line of stdout without its '\n'; nullopt at EOF or when none arrives in timeout_ms.
  std::optional<std::string> read_line(int timeout_ms = 20000);
  void write_stdin(const std::string& data);
  void close_stdin();
  int send_signal(int sig) const;
  // Closes stdin, reads stdout and stderr to EOF and reaps the process; SIGKILLs it at the
  // deadline. out holds all of stdout, including the lines read_line() returned.
  RunResult wait(int timeout_sec = 60);
  // The raw waitpid() status after wait(): tells a normal exit with 143 from death by SIGTERM.
  int wait_status() const { return wait_status_; }

 private:
  bool pump(int timeout_ms);  // reads what is available; false when nothing came in time

  pid_t pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
  std::string out_all_, out_pending_, err_all_;
  int wait_status_ = -1;
  bool reaped_ = false;
};

// Starts boxjail (or bwrap, with opts.use_bwrap) in the background.
std::unique_ptr<Spawned> spawn(const std::vector<std::string>& args, const RunOpts& opts = {});

}  // namespace boxjail::test
