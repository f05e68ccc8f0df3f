// SPDX-License-Identifier: Apache-2.0
// The monitor: the caller's own process, which stays outside the sandbox, reports status on the
// status fds, forwards signals, and returns the command's exit status.
#pragma once

#include <boxjail/error.hpp>
#include <boxjail/spec.hpp>

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace boxjail {

struct Supervised {
  pid_t child;     // the first process of the sandbox (pid 1 when there is a reaper)
  pid_t wait_for;  // whose exit ends supervision: `child`, or its --pidns intermediate parent
  int channel;     // monitor's end of the record channel
  int signal_fd;   // SIGCHLD and the forwarded signals
  // The child will ask for the maps of a user namespace it enters after its mounts
  // (Plan::lock_userns, Plan::host_user_userns): how to write them. Empty: it may not ask.
  std::function<result<void>()> write_requested_maps;
  // A pidfd of `wait_for`, polled for its exit while the child sets up (-1: none, the kernel has
  // no pidfds; then SIGCHLD on `signal_fd` or a timed waitpid tells).
  int pidfd = -1;
  // --handover: `child` is our parent's child (CLONE_PARENT); we can watch it but not reap it.
  bool parent_reaps = false;
};

// bwrap's --info-fd object and the first --json-status-fd line; that line also names the ladder
// rung and mode when they are given (empty under the name bwrap). Described (the namespace ids
// read from /proc/PID/ns) apart from written: the setuid helper reads them while it may, and
// writes to the caller's fds only once it holds no privilege.
struct ChildInfo {
  std::string info;         // for --info-fd
  std::string json_status;  // for --json-status-fd
  // With `want_namespaces`: every namespace the jail created, the user namespace included.
  std::vector<std::pair<std::string, unsigned long long>> namespaces;
};
ChildInfo describe_child(const Spec& spec, pid_t child, const std::string& rung,
                         const std::string& ladder_mode, bool want_namespaces = false);
result<void> write_child_info(const Spec& spec, const ChildInfo& info);

// After the command has run this long (ms), the monitor re-executes itself as the slim monitor
// (slim_monitor.hpp); -1 never (the setuid helper, whose image is setuid, and doctor's probes).
class JailCgroup;
struct ShedOptions {
  int after_ms = -1;
  const JailCgroup* cgroup = nullptr;  // the jail's, which the slim monitor takes over
};

// How the setup ended: the command started (its pid, as our pid namespace sees it), or the
// sandbox ended first without a setup error (killed, say) with `exit_status`.
struct SetupOutcome {
  bool exec_started = false;
  pid_t command = -1;
  std::optional<int> exit_status;
};

// Serves the child while it sets up (the lock namespace's maps, --pid-file) until the command
// runs or the setup fails; the child's setup Error, if any. `signal_fd` may be -1 (library
// callers): signals are then theirs, not forwarded.
result<SetupOutcome> await_exec(const Spec& spec, const Supervised& s);

// Waits for the command's sandbox to end, after await_exec. Returns the exit status.
int supervise_command(const Spec& spec, const Supervised& s, const SetupOutcome& setup,
                      const ShedOptions& shed);

// Forwards signals to the sandbox and reaps it; the exit status to report, or nullopt when
// `timeout_ms` (>= 0) passed first.
std::optional<int> forward_until_exit(const Supervised& s, int timeout_ms);

// The final --json-status-fd line, then the fd is closed.
void write_exit_code(int json_status_fd, int exit_status);

}  // namespace boxjail
