// SPDX-License-Identifier: Apache-2.0
// --die-with-parent. PR_SET_PDEATHSIG fires only for a parent that dies after it was armed: a
// parent gone before that has already handed us to init (or a subreaper), and the signal never
// comes. So every arming is followed by a check that the parent is still the one it should be;
// if not, the process ends at once, as the signal would have ended it.
#pragma once

#include <sys/types.h>

namespace boxjail {

// The parent this process had when it started (read before main runs).
pid_t parent_at_start();

// Arms SIGKILL on the parent's death, then _exit(1)s if getppid() is no longer `expected`.
void die_with_parent(pid_t expected);

// The same for a process whose parent lies outside its pid namespace (getppid() is 0 there): the
// parent's end of `channel` is closed exactly when the parent is gone.
void die_with_parent_of_channel(int channel);

}  // namespace boxjail
