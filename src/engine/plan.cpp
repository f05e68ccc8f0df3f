// SPDX-License-Identifier: Apache-2.0
#include "engine/plan.hpp"

#include <linux/capability.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

namespace boxjail {

Plan make_plan(const Spec& spec, const Caller& caller, std::uint64_t caller_effective_caps) {
  Plan p;
  p.real_uid = caller.uid;
  p.real_gid = caller.gid;
  p.setuid = caller.via_setuid_helper && !caller.is_root();
  p.host_root = caller.is_root();
  // --host-user: the jail's host ids are that user's, not the caller's (validated: root only).
  const bool host_user = spec.host_user.has_value();
  p.map_uid = host_user ? spec.host_user->uid : caller.uid;
  p.map_gid = host_user ? spec.host_user->gid : caller.gid;
  if (host_user && spec.unshare_user) {
    p.host_user_userns = true;
    p.map_extra_gids = spec.host_user->groups;
  }
  p.sandbox_uid = spec.uid.value_or(p.map_uid);
  p.sandbox_gid = spec.gid.value_or(p.map_gid);

  // CLONE_NEWNS always: every jail has its own root. The others as asked.
  p.clone_flags = CLONE_NEWNS;
  if (spec.unshare_user && !p.host_user_userns) p.clone_flags |= CLONE_NEWUSER;
  if (spec.unshare_pid) p.clone_flags |= CLONE_NEWPID;
  if (spec.unshare_ipc) p.clone_flags |= CLONE_NEWIPC;
  if (spec.unshare_net) p.clone_flags |= CLONE_NEWNET;
  if (spec.unshare_uts) p.clone_flags |= CLONE_NEWUTS;
  if (spec.unshare_cgroup) p.clone_flags |= CLONE_NEWCGROUP;

  if (spec.unshare_user && !p.host_user_userns) {
    // The setuid helper's child cannot map the caller's ids from inside (it is root there, and
    // the caller's uid is not its own): the monitor, still privileged, writes them (bwrap's
    // setuid mode). Nor can root's child map another host user's (--host-user).
    const bool ranges = !spec.uid_ranges.empty() || !spec.gid_ranges.empty();
    p.map_writer = spec.userns_block_fd >= 0 ? MapWriter::External
                   : p.setuid                ? MapWriter::Monitor
                   : ranges                  ? MapWriter::Subid
                                             : MapWriter::Child;
  }
  p.ns_uid = p.sandbox_uid;
  p.ns_gid = p.sandbox_gid;
  const bool needs_devpts = std::any_of(spec.ops.begin(), spec.ops.end(),
                                        [](const MountOp& op) { return op.kind == OpKind::Dev; });
  // devpts wants uid and gid 0 mapped: the monitor maps them to the overflow ids, which grant
  // nothing (bwrap's setuid mode).
  p.map_overflow_root = p.map_writer == MapWriter::Monitor && needs_devpts;
  if ((p.setuid && spec.unshare_user) || host_user) {
    p.caller_uid_inside = p.sandbox_uid;
    p.caller_gid_inside = p.sandbox_gid;
  } else {
    p.caller_uid_inside = p.real_uid;
    p.caller_gid_inside = p.real_gid;
  }
  // devpts refuses to mount (EINVAL) in a user namespace where uid 0 and gid 0 are unmapped, so
  // with --dev the first namespace maps root; a nested one maps the sandbox ids afterwards.
  if (p.map_writer == MapWriter::Child && needs_devpts) {
    p.ns_uid = 0;
    p.ns_gid = 0;
  }
  p.nested_userns = p.map_writer == MapWriter::Child &&
                    (p.ns_uid != p.sandbox_uid || p.ns_gid != p.sandbox_gid || spec.disable_userns);

  p.needs_pid1 =
      !spec.as_pid_1 && (spec.unshare_pid || !spec.lock_files.empty() || spec.sync_fd >= 0);
  p.child_waits = spec.info_fd >= 0 || spec.json_status_fd >= 0 || spec.userns_block_fd >= 0 ||
                  p.map_writer == MapWriter::Monitor || p.map_writer == MapWriter::Subid;
  p.new_procfs = spec.unshare_pid || spec.pidns_fd >= 0;

  // bwrap: root keeps its effective capabilities unless --cap-add/--cap-drop says otherwise;
  // anyone else starts from none.
  if (host_user) {
    // The command runs as its host user with no capability (validated: no --cap-add).
    p.keep_caps = 0;
  } else if (spec.caps.specified) {
    p.keep_caps = spec.caps.mask;
  } else if (caller.is_root() && !p.setuid) {
    p.keep_caps = caller_effective_caps;
  }

  // Whether the command holds CAP_SYS_ADMIN after its execve: uid 0 gets the bounding set back,
  // any other uid only the ambient set that --cap-add/--cap-drop raise (no_new_privs rules out
  // file capabilities). bwrap's nested namespace already takes every capability over the mounts,
  // and --userns2 moves the command below the namespace that owns them.
  const bool command_has_sys_admin =
      ((p.keep_caps >> CAP_SYS_ADMIN) & 1) != 0 && (p.sandbox_uid == 0 || spec.caps.specified);
  if (p.host_root && !p.setuid && command_has_sys_admin && !p.nested_userns &&
      spec.userns2_fd < 0) {
    p.lock_userns = true;
  }

  char buf[PATH_MAX];
  if (getcwd(buf, sizeof buf) != nullptr) p.old_cwd = buf;
  return p;
}

}  // namespace boxjail
