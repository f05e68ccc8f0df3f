// SPDX-License-Identifier: Apache-2.0
#include "engine/setuid_setup.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "engine/fs_ops.hpp"
#include "engine/mount_broker.hpp"
#include "engine/parent_death.hpp"
#include "engine/privilege.hpp"
#include "engine/steps.hpp"

namespace boxjail {
namespace {

Error setup_error(const char* syscall, int err, const std::string& what) {
  return sys_error(std::string(step::kUnprivilegedSetup), syscall, "", err, what);
}

// The unprivileged setup process. Never returns.
[[noreturn]] void setup_process(const Spec& spec, const Plan& plan, int host_root_fd,
                                Resolver resolver, int sock, pid_t privileged) {
  // Named, so that ps and the tests can tell it from the privileged process.
  prctl(PR_SET_NAME, "boxjail-setup", 0, 0, 0);
  MountBrokerClient broker(sock);
  auto built = [&]() -> result<void> {
    // Every id the caller's, no capability in any set, the caller's own groups kept (a bind
    // source may be readable through one): from here on each path walk, mkdir, open, write and
    // chmod is exactly what the caller could do itself, and a kernel file that checks the
    // writer's capabilities (/proc/PID/uid_map, timerslack_ns, oom_score_adj...) finds none.
    BOXJAIL_TRY(drop_privileges_to(plan.caller_uid_inside, plan.caller_gid_inside,
                                   step::kUnprivilegedSetup.data(), true));
    // Cleared with the credentials; without the privileged side there is nothing to set up.
    die_with_parent(privileged);
    BOXJAIL_TRY(build_new_root(spec, plan, broker, host_root_fd, resolver));
    return boost::outcome_v2::success();
  }();
  if (built) {
    broker.done();
    _exit(0);
  }
  broker.failed(built.error());
  _exit(1);
}

}  // namespace

result<UniqueFd> build_new_root_unprivileged(const Spec& spec, const Plan& plan, int host_root_fd,
                                             Resolver resolver) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return setup_error("socketpair", errno, "Can't create the mount request channel");
  }
  UniqueFd mine(sv[0]), theirs(sv[1]);
  const pid_t privileged = getpid();
  const pid_t pid = fork();
  if (pid < 0) return setup_error("fork", errno, "Can't fork the unprivileged setup process");
  if (pid == 0) {
    mine.reset();
    setup_process(spec, plan, host_root_fd, resolver, theirs.get(), privileged);
  }
  theirs.reset();
  const auto mounter = kernel_mounter();
  auto base = serve_mount_requests(mine.get(), *mounter);
  if (!base) kill(pid, SIGKILL);  // a malformed request: the setup process is not ours to trust
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!base) return std::move(base).error();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return setup_error("waitpid", EPIPE, "The unprivileged setup process failed");
  }
  // Its copies are gone with it; ours of the fds it consumed go too, not to the command.
  close_consumed_fds(spec);
  return base;
}

}  // namespace boxjail
