// SPDX-License-Identifier: Apache-2.0
// Open fds sent along a message over a unix socket (SCM_RIGHTS): how the setuid rung's
// unprivileged processes hand the privileged side what they opened, so that it never opens a
// caller-chosen path itself (the mount broker, the jail's cgroup).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "sys/fd.hpp"

namespace boxjail::sys {

// The most fds one message may carry.
inline constexpr int kMaxPassedFds = 4;

// sendmsg of `data` with `fds` (at most kMaxPassedFds) in SCM_RIGHTS. Returns 0 or an errno
// (EMSGSIZE when not all of `data` went).
int send_with_fds(int sock, const std::string& data, const int* fds, int nfds);

struct Received {
  std::string data;  // empty: EOF
  std::vector<UniqueFd> fds;
  int err = 0;
};

// One message (on a stream socket: up to `max_data` bytes) and the fds that came with it
// (close-on-exec, owned). A message whose data or whose fds (more than `max_fds`) did not fit is
// an error (EMSGSIZE): nothing of it is to be acted on.
Received receive_with_fds(int sock, std::size_t max_data, int max_fds);

}  // namespace boxjail::sys
