// SPDX-License-Identifier: Apache-2.0
// User namespace id maps, the loopback device and the hostname: the namespace steps that come
// after clone3 and need the capabilities the new user namespace gives.
#pragma once

#include <boxjail/error.hpp>

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace boxjail {

// Writes setgroups=deny (when `deny_setgroups`), then uid_map "inside outside 1" and gid_map,
// into `proc_pid_dir` (an O_PATH fd of /proc/self or /proc/PID). With `overflow_root`, uid and gid
// 0 inside are also mapped, to the kernel's overflow ids (which own nothing), unless the ids map
// 0 already: what devpts needs from a privileged writer.
// `extra_gids` are mapped onto themselves as well (a privileged writer only): --host-user's
// supplementary groups.
result<void> write_id_maps(int proc_pid_dir, uid_t inside_uid, uid_t outside_uid, gid_t inside_gid,
                           gid_t outside_gid, bool deny_setgroups, bool overflow_root = false,
                           const std::vector<gid_t>& extra_gids = {});

// Maps every id of the caller's own user namespace onto itself in the (new, unmapped) user
// namespace of process `pid`: each line "first lower count" of /proc/self/uid_map (gid_map)
// becomes "first first count". Needs CAP_SETUID and CAP_SETGID here (the lock-userns step's
// monitor, run by root).
result<void> write_identity_maps(pid_t pid);

// Brings `lo` up in the current network namespace; the kernel then assigns 127.0.0.1/8 and ::1
// itself, which is all bwrap's rtnetlink RTM_NEWADDR achieves.
result<void> loopback_up();

result<void> set_hostname(const std::string& name);

// Reads the effective capability set of this process.
std::uint64_t effective_caps();

// Leaves the command exactly `keep`: bounding set first (needs CAP_SETPCAP, still held), then
// permitted/effective, then (when `ambient`) inheritable+ambient so the set survives exec for a
// non-root uid. bwrap raises ambient caps only for an explicit --cap-add/--cap-drop; uid 0 gets
// its caps back from the bounding set at exec anyway.
result<void> drop_capabilities(std::uint64_t keep, bool ambient);

}  // namespace boxjail
