// SPDX-License-Identifier: Apache-2.0
#include "ladder/setuid_rung.hpp"

#include <boxjail/spec_json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "engine/child.hpp"
#include "engine/monitor.hpp"
#include "engine/parent_death.hpp"
#include "sys/fd.hpp"
#include "sys/read_all.hpp"

extern char** environ;

namespace boxjail {
namespace {

constexpr const char* kStep = "helper-exec";

Error helper_error(const char* syscall, const std::string& path, int err, const std::string& what) {
  Error e = sys_error(kStep, syscall, path, err, what);
  e.rung = "setuid";
  return e;
}

result<UniqueFd> spec_memfd(const Spec& spec) {
  const std::string json = spec_to_json(spec);
  // Sealed: the helper reads exactly what we wrote, and nothing else holding the fd can change it.
  UniqueFd fd(memfd_create("boxjail-spec", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) return helper_error("memfd_create", "", errno, "Can't create the spec memfd");
  if (write(fd.get(), json.data(), json.size()) != static_cast<ssize_t>(json.size()) ||
      lseek(fd.get(), 0, SEEK_SET) != 0 ||
      fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
    return helper_error("write", "memfd", errno, "Can't write the spec memfd");
  }
  return fd;
}

}  // namespace

result<int> run_setuid_rung(const Spec& spec, const LadderOptions& options) {
  const std::string& helper = options.setuid_helper;
  struct stat st;
  if (helper.empty() || stat(helper.c_str(), &st) != 0) {
    Error e = helper_error("stat", helper, helper.empty() ? ENOENT : errno,
                           "setuid helper " + (helper.empty() ? "(none configured)" : helper));
    e.evidence.emplace_back("helper.refusal", "missing");
    return e;
  }
  BOOST_OUTCOME_TRY(spec_fd, spec_memfd(spec));
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return helper_error("pipe2", "", errno, "pipe2");
  UniqueFd error_read(pipe_fds[0]), error_write(pipe_fds[1]);

  // Signals for the jail reach it through the helper, which forwards them on; SIGCHLD tells us
  // the helper is done.
  sigset_t block = forwarded_signals();
  sigaddset(&block, SIGCHLD);
  sigset_t old;
  sigprocmask(SIG_BLOCK, &block, &old);
  struct MaskRestore {
    sigset_t mask;
    ~MaskRestore() { sigprocmask(SIG_SETMASK, &mask, nullptr); }
  } restore{old};
  UniqueFd signal_fd(signalfd(-1, &block, SFD_CLOEXEC));
  if (!signal_fd) return helper_error("signalfd", "", errno, "signalfd");
  signal(SIGCHLD, SIG_DFL);
  if (spec.die_with_parent) die_with_parent(parent_at_start());

  const std::string error_fd_text = std::to_string(error_write.get());
  const std::string spec_fd_text = std::to_string(spec_fd.get());
  const std::string mode(to_string(options.mode));
  std::vector<const char*> argv = {helper.c_str(), "--error-fd", error_fd_text.c_str(), "--spec-fd",
                                   spec_fd_text.c_str()};
  if (options.report_status) {
    argv.push_back("--ladder-mode");
    argv.push_back(mode.c_str());
  }
  if (options.probe) argv.push_back("--probe");
  const std::string report_fd_text = std::to_string(options.report_fd);
  if (options.report_fd >= 0) {
    argv.push_back("--report-fd");
    argv.push_back(report_fd_text.c_str());
  }
  argv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) return helper_error("fork", helper, errno, "Can't fork the setuid helper");
  if (pid == 0) {
    // The two fds the helper is told about survive the exec; everything of ours is close-on-exec.
    fcntl(error_write.get(), F_SETFD, 0);
    fcntl(spec_fd.get(), F_SETFD, 0);
    // The helper writes the "started" line to the report itself, once it holds no privilege.
    if (options.report_fd >= 0) fcntl(options.report_fd, F_SETFD, 0);
    sigprocmask(SIG_SETMASK, &old, nullptr);
    execve(helper.c_str(), const_cast<char* const*>(argv.data()), environ);
    const Error e = helper_error("execve", helper, errno, "Can't execute setuid helper " + helper);
    const std::string record = serialize(e);
    (void)!write(error_write.get(), record.data(), record.size());
    _exit(1);
  }
  error_write.reset();
  spec_fd.reset();

  // The monitor's own loop: signals go on to the helper, which passes them to the jail.
  const int status = *forward_until_exit(Supervised{pid, pid, -1, signal_fd.get(), {}}, -1);
  std::string record;
  (void)sys::read_all(error_read.get(), record);  // nothing read: the helper reported no error
  if (!record.empty()) {
    BOOST_OUTCOME_TRY(decoded, deserialize(record));
    Error e = std::move(decoded.error);
    e.rung = "setuid";
    return e;
  }
  return status;
}

}  // namespace boxjail
