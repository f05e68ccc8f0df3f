// SPDX-License-Identifier: Apache-2.0
// The monitor: the caller's own process, which stays outside the sandbox, reports status on the
// status fds, forwards signals, and returns the command's exit status.
#pragma once

#include <boxjail/error.hpp>
#include <boxjail/spec.hpp>

#include <sys/types.h>

#include <optional>
#include <string>

namespace boxjail {

struct Supervised {
  pid_t child;     // the first process of the sandbox (pid 1 when there is a reaper)
  pid_t wait_for;  // whose exit ends supervision: `child`, or its --pidns intermediate parent
  int channel;     // monitor's end of the record channel
  int signal_fd;   // SIGCHLD and the forwarded signals
  // The child will ask for the maps of its lock user namespace (Plan::lock_userns).
  bool maps_lock_userns = false;
};

// bwrap's --info-fd object and the first --json-status-fd line; that line also names the ladder
// rung and mode when they are given (empty under the name bwrap). Described (the namespace ids
// read from /proc/PID/ns) apart from written: the setuid helper reads them while it may, and
// writes to the caller's fds only once it holds no privilege.
struct ChildInfo {
  std::string info;         // for --info-fd
  std::string json_status;  // for --json-status-fd
};
ChildInfo describe_child(const Spec& spec, pid_t child, const std::string& rung,
                         const std::string& ladder_mode);
result<void> write_child_info(const Spec& spec, const ChildInfo& info);

// After the command has run this long (ms), the monitor re-executes itself as the slim monitor
// (slim_monitor.hpp); -1 never (the setuid helper, whose image is setuid, and doctor's probes).
struct ShedOptions {
  int after_ms = -1;
};

// Waits for the sandbox to end. Returns the exit status, or the child's setup Error.
result<int> supervise(const Spec& spec, const Supervised& s, const ShedOptions& shed);

// Forwards signals to the sandbox and reaps it; the exit status to report, or nullopt when
// `timeout_ms` (>= 0) passed first.
std::optional<int> forward_until_exit(const Supervised& s, int timeout_ms);

// The final --json-status-fd line, then the fd is closed.
void write_exit_code(int json_status_fd, int exit_status);

}  // namespace boxjail
