// SPDX-License-Identifier: Apache-2.0
// Plan: the facts the engine derives once from a resolved Spec and the caller, before cloning.
// Steps read the Plan; none of them re-derives policy from the Spec.
#pragma once

#include <boxjail/spec.hpp>
#include <boxjail/validate.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace boxjail {

// Who writes the uid/gid maps of the new user namespace.
enum class MapWriter {
  None,      // no new user namespace
  Child,     // unprivileged: the child maps its own uid (bwrap's unprivileged path)
  Monitor,   // the monitor writes /proc/PID/*_map (the setuid helper's user namespace)
  External,  // --userns-block-fd: newuidmap or similar writes them
  Subid,     // --uid-range/--gid-range: the monitor runs newuidmap and newgidmap
};

struct Plan {
  std::uint64_t clone_flags = 0;
  MapWriter map_writer = MapWriter::None;
  uid_t real_uid = 0;
  gid_t real_gid = 0;
  // The host ids the monitor's maps send the sandbox ids to: the caller's own in the setuid rung,
  // --host-user's for root's jail run as a host user.
  uid_t map_uid = 0;
  gid_t map_gid = 0;
  // --host-user with --unshare-user: root sets the jail up as in the initial user namespace (its
  // files root's, as without --unshare-user), and the child enters the jail's user namespace
  // after the last mount, right before the drop (host-user-userns), which the monitor maps:
  // the sandbox ids to the host user's, each supplementary group onto itself, setgroups left
  // allowed for the child's own drop to exactly those groups. The mounts then belong to a
  // namespace the command holds no capability over, as with lock-userns.
  bool host_user_userns = false;
  std::vector<gid_t> map_extra_gids;
  uid_t sandbox_uid = 0;  // what the command sees
  gid_t sandbox_gid = 0;
  uid_t ns_uid = 0;  // what the first user namespace maps the real uid to
  gid_t ns_gid = 0;
  bool nested_userns = false;      // a second user namespace maps sandbox_uid -> ns_uid
  bool map_overflow_root = false;  // the monitor's maps also send 0 to the overflow ids
  // The caller's ids as the sandbox's user namespace sees them: what the setuid rung's setup
  // process and final drop switch to (the sandbox ids inside its own user namespace).
  uid_t caller_uid_inside = 0;
  gid_t caller_gid_inside = 0;
  // A root-run jail whose command keeps CAP_SYS_ADMIN over the mount namespace boxjail built
  // could unmount the covers of /proc's knobs or remount a --ro-bind read-write, as host root. It
  // enters a user namespace after the last mount instead (lock-userns), which the monitor maps:
  // the mounts then belong to a namespace it holds no capability over, and the kernel locks any
  // copy it makes of them.
  bool lock_userns = false;
  bool needs_pid1 = false;   // a reaper runs as pid 1 and the command as pid 2
  bool child_waits = false;  // the child waits for the monitor's go-ahead
  // --unshare-cgroup where the monitor moves the child into the jail's cgroup after the clone
  // (no CLONE_INTO_CGROUP): the child makes its cgroup namespace once it is there, after the
  // go-ahead, so that the namespace's root is the jail's cgroup as with CLONE_INTO_CGROUP.
  bool late_cgroupns = false;
  bool new_procfs = false;      // --proc mounts a new procfs (there is a pid namespace)
  std::uint64_t keep_caps = 0;  // capabilities the command keeps
  // Set up by the setuid-root helper: euid 0 in the initial user namespace, real ids the
  // caller's. The filesystem work is done by an unprivileged setup process (setuid_setup.hpp),
  // and every privilege is dropped to the caller's ids before exec (drop-privileges).
  bool setuid = false;
  // The jail's processes act as host uid 0 (a root caller, with or without a user namespace: its
  // ids map to host root, and sysctl files check the kernel uid, not capabilities): /proc's
  // kernel knobs are then all covered read-only and its internals masked (mount-proc).
  bool host_root = false;
  std::string old_cwd;  // the caller's cwd, for bwrap's chdir fallback
};

// Derives the plan. `caller_effective_caps` is root's effective set (bwrap keeps it by default).
Plan make_plan(const Spec& spec, const Caller& caller, std::uint64_t caller_effective_caps);

}  // namespace boxjail
