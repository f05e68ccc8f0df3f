// SPDX-License-Identifier: Apache-2.0
// The slim monitor. A runtime starts one jail per VM and its monitor stays resident for the VM's
// lifetime, but everything it touched while setting up (the parser, the ladder, the mount code,
// static libstdc++ and glibc pages) stays mapped and counted in its resident set. Once the command
// has run for a while, the monitor re-executes its own binary (/proc/self/exe) in a mode that
// only forwards signals, reaps and reports: same pid, same parent, same signal mask and pending
// signals, same signalfd; a fresh address space with a fraction of the pages.
//
// Only the CLI opts in (RunOptions::shed_after_ms): a library caller's /proc/self/exe is its own
// program, and the setuid helper's image is setuid, so neither ever re-executes.
#pragma once

#include "engine/cgroup.hpp"
#include "engine/monitor.hpp"

namespace boxjail {

inline constexpr const char* kSlimMonitorFlag = "--internal-slim-monitor";

// Execs /proc/self/exe as the slim monitor of `s` (and of the jail's cgroup, which it then
// empties and removes at the end). Returns only if that failed, with every fd
// as it was: the caller goes on supervising in place.
void shed_setup_image(const Supervised& s, int json_status_fd, const JailCgroup* cgroup);

// main() of the slim monitor: argv is {prog, kSlimMonitorFlag, wait_for, child, signal_fd,
// json_status_fd} and, with a cgroup, {parent_fd, cgroup_fd, cgroup_path}. Returns the exit
// status to report (bwrap's statuses).
int slim_monitor_main(int argc, char** argv);

}  // namespace boxjail
