// SPDX-License-Identifier: Apache-2.0
// Attacks on the setuid rung by its own caller (uid 65534), each of which must fail:
//  * the environment: the variables the dynamic loader and glibc read (LD_PRELOAD, GCONV_PATH,
//    MALLOC_*, ...) may neither change what the helper does nor reach the jail through it;
//  * a core dump: the caller may signal the helper (it is the helper's real uid) while it holds
//    privilege; a core file of a root process would hold what root read;
//  * the helper's fds: nothing it opened for its own work may be open in the command.
// (ptrace, /proc/PID/mem and process_vm_readv of the helper at each stage are in ladder_test.cpp,
// the privilege split's kernel-file attacks in privilege_split_test.cpp.)
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace {

namespace bt = boxjail::test;

std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  closedir(d);
  return out;
}

class SetuidAttacks : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = bt::ladder_config(dir_, "setuid", bt::setuid_helper_binary());
    ASSERT_EQ(chmod(dir_.path().c_str(), 0777), 0);  // the caller's own writable directory
  }
  std::vector<std::string> jail(const std::vector<std::string>& command) const {
    std::vector<std::string> args = {"--config", config_, "--ro-bind",     "/", "/",
                                     "--proc",   "/proc", "--unshare-pid", "--"};
    args.insert(args.end(), command.begin(), command.end());
    return args;
  }
  bt::TempDir dir_;
  std::string config_;
};

// The variables the loader and glibc read (LD_PRELOAD, GCONV_PATH, MALLOC_*, GLIBC_TUNABLES with
// the overflowing shape of CVE-2023-4911...) do nothing in the helper: it is static (no loader),
// glibc's secure mode (AT_SECURE) drops the unsafe ones before main, and the helper clears the
// rest before reading anything. None of the files they name is read or written. The command gets
// the caller's environment as data, as on every rung: it runs as the caller without privilege
// (NO_NEW_PRIVS), so they give it nothing the caller could not do itself. (Setuid bwrap differs:
// its glibc drops them, and the command loses them too.)
TEST_F(SetuidAttacks, LoaderAndLibcVariablesDoNothingInTheHelper) {
  const std::string trace = dir_.path() + "/malloc-trace";
  std::string tunables = "glibc.malloc.mxfast=glibc.malloc.mxfast=";
  tunables.append(4000, 'A');
  const std::vector<std::pair<std::string, std::string>> hostile = {
      {"LD_PRELOAD", dir_.path() + "/evil.so"},
      {"LD_LIBRARY_PATH", dir_.path()},
      {"LD_AUDIT", dir_.path() + "/audit.so"},
      {"GCONV_PATH", dir_.path()},
      {"MALLOC_TRACE", trace},
      {"MALLOC_CHECK_", "3"},
      {"GLIBC_TUNABLES", tunables},
      {"LOCPATH", dir_.path()},
      {"NLSPATH", dir_.path() + "/%N"},
      {"TMPDIR", dir_.path()},
      {"TZDIR", dir_.path()},
      {"HOSTALIASES", dir_.path() + "/hosts"},
      {"RESOLV_HOST_CONF", dir_.path() + "/host.conf"},
  };
  // glibc's own list of what secure mode drops (UNSECURE_ENVVARS); MALLOC_CHECK_ and
  // GLIBC_TUNABLES are filtered as tunables instead.
  const std::set<std::string> dropped = {
      "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "GCONV_PATH",  "MALLOC_TRACE",    "LOCPATH",
      "NLSPATH",    "TMPDIR",          "TZDIR",    "HOSTALIASES", "RESOLV_HOST_CONF"};
  bt::RunOpts o;
  o.as_nobody = true;
  o.env = hostile;
  const auto before = listing(dir_.path());
  // Through boxjail, the command gets them as data (as on every rung).
  const auto through = bt::run(jail({"/usr/bin/env"}), o);
  ASSERT_EQ(through.status, 0) << through.err;
  EXPECT_EQ(through.err.find("boxjail: "), std::string::npos) << through.err;
  for (const auto& [name, value] : hostile) {
    EXPECT_NE(through.out.find(name + "=" + value + "\n"), std::string::npos)
        << name << " is not the command's, as on the other rungs";
  }
  // Run directly by the caller, the helper's glibc started in secure mode: what it dropped
  // before main is not in the environment the helper hands on.
  bt::RunOpts direct = o;
  direct.program = bt::setuid_helper_binary();
  auto args = jail({"/usr/bin/env"});
  args.erase(args.begin(), args.begin() + 2);  // the helper reads no config
  const auto r = bt::run(args, direct);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  for (const auto& name : dropped) {
    EXPECT_EQ(r.out.find(name + "="), std::string::npos) << name << ": not in secure mode";
  }
  EXPECT_EQ(listing(dir_.path()), before) << "a file appeared in the caller's directory";
}

// The caller kills the helper with each core-dumping signal while it holds euid 0 (blocked on
// reading its spec, as ladder_test.cpp's ptrace attack holds it): the kernel marked the setuid
// exec not dumpable, so no core file appears in the caller's cwd (with fs.suid_dumpable = 2 a
// plain core_pattern is refused too), and the helper simply dies of the signal.
TEST_F(SetuidAttacks, KillingTheHelperLeavesNoCoreDump) {
  for (const int sig : {SIGSEGV, SIGABRT, SIGQUIT, SIGBUS}) {
    SCOPED_TRACE(strsignal(sig));
    int spec_pipe[2];
    ASSERT_EQ(pipe2(spec_pipe, O_CLOEXEC), 0);
    bt::RunOpts o;
    o.as_nobody = true;
    o.cwd = dir_.path();
    o.keep_fds = {spec_pipe[0]};
    o.program = bt::setuid_helper_binary();
    // In the sanitizer build ASan would catch SIGSEGV and SIGBUS itself and exit 1; told not to,
    // the helper meets each signal as the release build does (the release build ignores this).
    o.env = {{"ASAN_OPTIONS", "handle_segv=0:handle_sigbus=0:handle_abort=0:detect_leaks=0"}};
    auto helper = bt::spawn({"--spec-fd", std::to_string(spec_pipe[0])}, o);
    close(spec_pipe[0]);
    const std::string privileged = "Uid:\t65534\t0\t0\t65534";
    std::string uid;
    for (int i = 0; i < 500 && uid != privileged; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      const std::string status =
          bt::read_file("/proc/" + std::to_string(helper->pid()) + "/status");
      const auto at = status.find("Uid:");
      uid = at == std::string::npos ? "" : status.substr(at, status.find('\n', at) - at);
    }
    ASSERT_EQ(uid, privileged);
    // From the caller's side: uid 65534 may signal a process whose real uid is 65534.
    const pid_t killer = fork();
    if (killer == 0) {
      if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) _exit(2);
      _exit(kill(helper->pid(), sig) == 0 ? 0 : 1);
    }
    int st = 0;
    waitpid(killer, &st, 0);
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "the caller could not signal it";
    const auto r = helper->wait(30);
    close(spec_pipe[1]);
    EXPECT_TRUE(WIFSIGNALED(helper->wait_status()) && WTERMSIG(helper->wait_status()) == sig)
        << r.status;
    EXPECT_FALSE(WCOREDUMP(helper->wait_status())) << "the kernel dumped its core";
    for (const auto& name : listing(dir_.path())) {
      EXPECT_EQ(name.find("core"), std::string::npos) << "a core file: " << name;
    }
  }
}

// The command holds the fds its caller passed down (as with bwrap, any fd not close-on-exec), and
// nothing more: the helper's spec pipe, its locks, status channels and cgroup fds are all closed
// first. The same command on the userns rung, from the same caller, is the reference.
TEST_F(SetuidAttacks, NoFdOfTheHelperReachesTheCommand) {
  bt::RunOpts o;
  o.as_nobody = true;
  const auto setuid = bt::run(jail({"/bin/ls", "/proc/self/fd"}), o);
  ASSERT_EQ(setuid.status, 0) << setuid.err;
  auto args = jail({"/bin/ls", "/proc/self/fd"});
  args.erase(args.begin(), args.begin() + 2);  // no config: the userns rung
  const auto userns = bt::run(args, o);
  ASSERT_EQ(userns.status, 0) << userns.err;
  EXPECT_EQ(setuid.out, userns.out);
  EXPECT_NE(setuid.out.find("0\n1\n"), std::string::npos) << setuid.out;
}

}  // namespace

// Files the caller cannot read, named to the helper through each input that takes a path: a
// root-only file, a world-readable file in a root-only directory, and a link of the caller's to
// the first. Whatever the input (bind sources of every kind, --seccomp-policy, --lock-file, the
// operator config through boxjail), the helper opens it as the caller, so the run fails or the
// command finds nothing to read, and no byte of the files appears in any output or error message.
// (Inputs given as fds, --file, --bind-data, --args, --seccomp, are the caller's own opens.)
TEST_F(SetuidAttacks, FilesTheCallerCannotReadStayUnreadThroughEveryInput) {
  const std::string mark = "TOPSECRET";
  // JSON and TOML at once, so that a parser quoting what it read would quote the mark.
  const std::string content = "{\"" + mark + "\": \"" + mark + "\"}\n";
  const std::string secret = dir_.file("secret", content, 0600);
  const std::string closed = dir_.path() + "/closed";
  ASSERT_EQ(mkdir(closed.c_str(), 0700), 0);
  const std::string inner = closed + "/inner";
  {
    const int fd = open(inner.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    close(fd);
  }
  const std::string link = dir_.path() + "/link";
  ASSERT_EQ(symlink(secret.c_str(), link.c_str()), 0);
  ASSERT_EQ(lchown(link.c_str(), 65534, 65534), 0);

  struct Input {
    std::string name;
    std::vector<std::string> args;  // before the jail's own options
  };
  std::vector<Input> inputs;
  for (const std::string& file : {secret, inner, link}) {
    for (const char* bind : {"--ro-bind", "--bind", "--dev-bind", "--ro-bind-try", "--bind-try"}) {
      inputs.push_back({std::string(bind) + " " + file, {bind, file, "/x"}});
    }
    inputs.push_back({"--seccomp-policy " + file, {"--seccomp-policy", file}});
    inputs.push_back({"--lock-file " + file, {"--lock-file", file}});
  }
  inputs.push_back({"--ro-bind " + closed, {"--ro-bind", closed, "/x"}});
  const std::string command = "cat /x /x/inner " + secret + " " + inner + " 2>/dev/null; exit 0";

  for (const auto& input : inputs) {
    for (const bool direct : {false, true}) {
      SCOPED_TRACE(input.name + (direct ? ", the helper run directly" : ", through boxjail"));
      std::vector<std::string> args = input.args;
      for (const char* a : {"--ro-bind", "/", "/", "--proc", "/proc", "--unshare-pid"}) {
        args.emplace_back(a);
      }
      // The bind's destination must follow the root bind to be seen: move it behind.
      if (args.size() > 3 && input.args.size() == 3) {
        args.erase(args.begin(), args.begin() + 3);
        args.insert(args.end(), input.args.begin(), input.args.end());
      }
      args.insert(args.end(), {"sh", "-c", command});
      bt::RunOpts o;
      o.as_nobody = true;
      o.cwd = dir_.path();
      if (direct) {
        o.program = bt::setuid_helper_binary();
      } else {
        args.insert(args.begin(), {"--config", config_});
      }
      const auto r = bt::run(args, o);
      EXPECT_EQ(r.out.find(mark), std::string::npos) << r.out;
      EXPECT_EQ(r.err.find(mark), std::string::npos) << r.err;
      // A file the run could not open is an error of the step that tried (the -try binds skip a
      // source they cannot reach, as bwrap's do); a run that went on printed nothing of it.
      if (r.status != 0) {
        EXPECT_EQ(r.status, 1) << r.err;
        EXPECT_EQ(r.err.rfind(direct ? "boxjail-suid: setuid rung: " : "boxjail: setuid rung: ", 0),
                  0u)
            << r.err;
        EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
      }
    }
  }
  // And through the operator config, which boxjail reads as the caller before any rung.
  const auto r = bt::run({"--config", secret, "--ro-bind", "/", "/", "true"},
                         {.as_nobody = true, .cwd = dir_.path()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.find(mark), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
}
