// SPDX-License-Identifier: Apache-2.0
// Creating the sandbox's first process.
#pragma once

#include <boxjail/error.hpp>

#include <sys/types.h>

#include <cstdint>
#include <functional>

namespace boxjail {

// clone3 with `flags`; the child runs `child_main` (which never returns).
//
// With `via_intermediate` (--pidns together with a new pid or user namespace) the kernel refuses a
// direct clone3 (EINVAL: after setns(CLONE_NEWPID) our children's pid namespace differs from our
// own, and CLONE_NEWPID/CLONE_NEWUSER require them equal). An intermediate process, born inside
// the joined namespace, does the clone3 and stays as the sandbox's parent, exiting with its status:
// an orphan would be reparented to the joined namespace's init, never back to the monitor. The
// monitor learns the sandbox's pid in its own pid namespace from the SCM_CREDENTIALS of the first
// message the sandbox sends on the channel (the kernel translates the pid).
struct Spawned {
  pid_t wait_pid;     // the process the monitor waits for (the intermediate, or the sandbox)
  pid_t sandbox_pid;  // the sandbox's first process, in the monitor's pid namespace
  int pidfd = -1;     // of wait_pid, close-on-exec (the caller owns it); -1 where there is none
};
//
// With `share_memory` the child runs in our memory until its execve (sys::clone3_vm, where
// available) and we sleep until then: the caller must have nothing to do before the child execs,
// and the child must never stay (a pid-1 reaper) nor change its credentials (see run.cpp).
//
// `flags` may carry CLONE_PARENT (--handover; not with `via_intermediate`). With `cgroup_fd`
// (>= 0; only where kernel_clones_into_cgroups()) the sandbox is born in that cgroup; the
// intermediate, which holds no part of the jail's lifetime, closes its copy once it cloned.
result<Spawned> spawn_sandbox(std::uint64_t flags, bool via_intermediate, bool die_with_parent,
                              bool share_memory, int monitor_end, int child_end, int cgroup_fd,
                              const std::function<void()>& child_main);

}  // namespace boxjail
