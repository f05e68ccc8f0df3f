// SPDX-License-Identifier: Apache-2.0
// clone3 with CLONE_VM|CLONE_VFORK: the child runs a function on its own stack, in the parent's
// memory, while the parent sleeps until the child execs or exits (what posix_spawn does). It
// saves the copy of the parent's page tables at the clone and the copy-on-write faults that
// follow, and the teardown of that copy (with its TLB shootdown) at the child's execve.
#pragma once

#include <linux/sched.h>
#include <sys/types.h>

namespace boxjail::sys {

// True where clone3_vm() is implemented (x86_64) and may be used: not under AddressSanitizer,
// whose leak check would count what the child allocated in the shared heap as the parent's leaks.
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
inline constexpr bool kHaveClone3Vm = true;
#else
inline constexpr bool kHaveClone3Vm = false;
#endif

// `args` must carry CLONE_VM|CLONE_VFORK, the stack and its size. In the child, `fn(arg)` runs
// on that stack; if it returns, the child exits with its value. Returns the child's pid in the
// parent once the child has exec'd or exited, or -1 with errno set.
pid_t clone3_vm(clone_args& args, int (*fn)(void*), void* arg);

}  // namespace boxjail::sys
