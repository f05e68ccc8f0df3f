// SPDX-License-Identifier: Apache-2.0
#include "engine/parent_death.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace boxjail {
namespace {

// As early as the process can look: before main, so a caller that dies while the arguments are
// parsed is still noticed.
const pid_t kParentAtStart = getppid();

}  // namespace

pid_t parent_at_start() { return kParentAtStart; }

void die_with_parent(pid_t expected) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != expected) _exit(1);
}

void die_with_parent_of_channel(int channel) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  pollfd hup{channel, POLLRDHUP, 0};
  if (poll(&hup, 1, 0) == 1 && (hup.revents & (POLLHUP | POLLRDHUP)) != 0) _exit(1);
}

}  // namespace boxjail
