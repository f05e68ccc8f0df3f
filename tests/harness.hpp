// SPDX-License-Identifier: Apache-2.0
// Test harness: runs the built boxjail (or Debian's bwrap) as root or as uid 65534, optionally
// under a seccomp filter that denies one step's syscall, and collects what it printed.
#pragma once

#include <sys/types.h>

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
  bool as_nobody = false;                 // drop to uid/gid 65534 (no groups) before exec
  std::string stdin_data;                 // written to the program's stdin, then EOF
  std::vector<std::pair<int, std::string>> fd_data;  // fd N in the program reads this data
  std::vector<int> keep_fds;              // fds of the test process passed through unchanged
  std::vector<Deny> deny;                 // seccomp rules installed as root before the drop
  std::string argv0;                      // argv[0] (default: the binary path)
  std::string cwd = "/";
  int timeout_sec = 60;
  bool use_bwrap = false;                 // run /usr/bin/bwrap instead of boxjail
};

struct RunResult {
  int status = -1;      // exit status, or 128+signal
  std::string out;
  std::string err;
};

// Path of the boxjail binary the tests run: a copy in a fresh mode-755 temp dir, so that uid
// 65534 can execute it whatever the build directory's parents allow.
const std::string& boxjail_binary();

RunResult run(const std::vector<std::string>& args, const RunOpts& opts = {});

// Runs a shell snippet inside a jail made of `jail_args`, i.e. run(jail_args + {"sh","-c",script}).
RunResult jail_sh(std::vector<std::string> jail_args, const std::string& script,
                  const RunOpts& opts = {});

std::string read_file(const std::string& path);
std::string host_mountinfo();          // /proc/self/mountinfo of the test process
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

}  // namespace boxjail::test
