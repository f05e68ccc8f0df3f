// SPDX-License-Identifier: Apache-2.0
// Privilege of the setuid rung: the helper runs with euid 0 on behalf of its real ids. What it
// holds is tracked by these calls and verified after each change, never inferred from geteuid()
// (CVE-2020-5291: an unmapped uid made geteuid() lie to bwrap).
#pragma once

#include <boxjail/error.hpp>

#include <sys/types.h>

namespace boxjail {

// Host files are touched with the caller's fs ids from now on (the kernel also clears the
// fs-related capabilities, DAC_OVERRIDE among them, from the effective set). Verified.
result<void> assume_caller_fs_ids(uid_t uid, gid_t gid);

// Drops everything for good: bounding and ambient sets, keep-caps, supplementary groups, then all
// three gids and uids to the caller's, after which the kernel clears permitted and effective
// capabilities. Then checks that root cannot be regained (setresuid(0), setgroups, capabilities
// all fail or read empty); a failed check is an error, never a warning. `step` names the step
// for the Error ("drop-privileges" in the child, "monitor" in the monitor).
result<void> drop_privileges_to(uid_t uid, gid_t gid, const char* step);

}  // namespace boxjail
