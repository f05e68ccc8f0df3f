// SPDX-License-Identifier: Apache-2.0
#include <linux/close_range.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "engine/child.hpp"
#include "sys/kernel_features.hpp"

namespace boxjail {
namespace {

// pid 1 keeps stdio, the sync fd and its lock fds; everything else it inherited belongs to the
// command, and holding a copy would keep the caller's pipes open after the command closed them.
void close_other_fds(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  // close_range is 5.9; before it every number below the fd limit is closed one by one (pid 1
  // does this once, and /proc, which could list the open ones, may not be in the sandbox).
  const auto close_between = [](unsigned first, unsigned last) {
    if (sys::kernel_features().close_range) {
      close_range(first, last, 0);
      return;
    }
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    const rlim_t end = std::min<rlim_t>(lim.rlim_cur, static_cast<rlim_t>(last) + 1);
    for (rlim_t fd = first; fd < end; ++fd) close(static_cast<int>(fd));
  };
  unsigned from = 3;
  for (int k : keep) {
    if (k < static_cast<int>(from)) continue;
    if (static_cast<unsigned>(k) > from) close_between(from, static_cast<unsigned>(k) - 1);
    from = static_cast<unsigned>(k) + 1;
  }
  close_between(from, ~0U);
}

}  // namespace

void reaper_main(pid_t command, const std::vector<int>& keep_fds) {
  // The lock fds and the sync fd stay open because this process never execs: they are released
  // when pid 1 exits, i.e. when the sandbox ends.
  close_other_fds(keep_fds);
  const sigset_t& fwd = forwarded_signals();
  sigset_t wait_set = fwd;
  sigaddset(&wait_set, SIGCHLD);
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&wait_set, &info);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      kill(command, sig);
      continue;
    }
    for (;;) {
      int status;
      pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      // The command is done: leave now. As pid 1 our exit kills whatever the command left behind
      // in the pid namespace, so nothing of the sandbox outlives it.
      if (pid == command) _exit(propagate_status(status));
    }
  }
}

}  // namespace boxjail
