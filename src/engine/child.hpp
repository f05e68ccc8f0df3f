// SPDX-License-Identifier: Apache-2.0
// The sandboxed child: runs the setup steps in order, then becomes (or forks) the command.
#pragma once

#include <boxjail/spec.hpp>

#include <signal.h>

#include <string>
#include <vector>

#include "engine/paths.hpp"
#include "engine/plan.hpp"

namespace boxjail {

struct ChildArgs {
  const Spec& spec;
  const Plan& plan;
  int channel;             // child's end of the record channel (close-on-exec)
  sigset_t original_mask;  // the caller's signal mask, restored before exec
  pid_t monitor_pid;
  Resolver resolver = Resolver::Auto;
  const std::vector<std::string>* add_seccomp = nullptr;  // --add-seccomp-fd, read by the monitor
  const std::vector<std::string>* policy_seccomp = nullptr;  // --seccomp-policy, compiled
  bool probe = false;                                        // doctor: exit 0 where execve would be
};

// Never returns: execs the command, or sends an Error record and exits 1.
[[noreturn]] void child_main(const ChildArgs& args);

// pid 1 of the sandbox: forwards signals to the command, reaps orphans, and exits with the
// command's status as soon as the command exits (which ends the whole pid namespace).
[[noreturn]] void reaper_main(pid_t command, const std::vector<int>& keep_fds);

// The exit status bwrap reports for a wait status: the code, 128+signal, or 255.
int propagate_status(int wait_status);

// The signals the monitor and the reaper pass on to the command.
const sigset_t& forwarded_signals();

}  // namespace boxjail
