// SPDX-License-Identifier: Apache-2.0
// The record channel between the monitor and the sandboxed child: a SOCK_SEQPACKET socketpair,
// close-on-exec in the child, so message boundaries are kept and EOF means "exec'd or gone".
// An error crosses as a whole record (step, syscall, paths, errno, evidence), never as a byte.
#pragma once

#include <boxjail/error.hpp>

#include <sys/types.h>

#include <optional>

namespace boxjail::channel {

enum class Kind : char {
  Go = 'G',       // monitor -> child: maps and status fds are done, carry on
  Exec = 'X',     // child -> monitor: everything is set up, execve comes next
  Fail = 'E',     // child -> monitor: an Error record follows in the same message
  MapLock = 'M',  // child -> monitor: map the lock-userns namespace I just entered, then Go
};

// Best effort: the monitor may be gone, and the sender exits right after anyway.
void send_error(int fd, const Error& e);
void send(int fd, Kind kind);

// Blocks for one message. Returns nullopt on EOF.
struct Message {
  Kind kind;
  Error error;       // for Fail
  pid_t sender = 0;  // the sending process, in the receiver's pid namespace (with SO_PASSCRED)
};
result<std::optional<Message>> receive(int fd);

}  // namespace boxjail::channel
