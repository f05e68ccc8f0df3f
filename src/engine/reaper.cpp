// SPDX-License-Identifier: Apache-2.0
#include <linux/close_range.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "engine/child.hpp"

namespace boxjail {
namespace {

// pid 1 keeps stdio, the sync fd and its lock fds; everything else it inherited belongs to the
// command, and holding a copy would keep the caller's pipes open after the command closed them.
void close_other_fds(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned from = 3;
  for (int k : keep) {
    if (k < static_cast<int>(from)) continue;
    if (static_cast<unsigned>(k) > from) close_range(from, static_cast<unsigned>(k) - 1, 0);
    from = static_cast<unsigned>(k) + 1;
  }
  close_range(from, ~0U, 0);
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
