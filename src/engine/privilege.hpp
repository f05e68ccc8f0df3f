// SPDX-License-Identifier: Apache-2.0
// Privilege of the setuid rung: the helper runs with euid 0 on behalf of its real ids. What it
// holds is tracked by these calls and verified after each change, never inferred from geteuid()
// (CVE-2020-5291: an unmapped uid made geteuid() lie to bwrap). Which process holds which
// capability at each step is in docs/design.md ("The setuid rung's privilege split").
#pragma once

#include <vector>

#include <boxjail/error.hpp>

#include <sys/types.h>

#include <functional>
#include <initializer_list>
#include <string>

#include "sys/fd.hpp"

namespace boxjail {

// Host files are touched with the caller's fs ids from now on (the kernel also clears the
// fs-related capabilities, DAC_OVERRIDE among them, from the effective set). Verified.
result<void> assume_caller_fs_ids(uid_t uid, gid_t gid);

// The helper's first act: the bounding set emptied (nothing is ever handed on by an execve) and
// the effective and permitted sets cut to what the privileged side itself calls for, nothing
// that acts on files or other processes: CAP_SYS_ADMIN (clone3 of the namespaces, the mounts,
// pivot_root, sethostname), CAP_NET_ADMIN (lo up), CAP_SETUID/CAP_SETGID/CAP_SETPCAP (the drop),
// CAP_SYS_PTRACE (reading the child's /proc/PID/ns for --info-fd). Verified with capget.
result<void> keep_only_setup_capabilities();

// Cuts the effective and permitted sets to `caps` (never adds one), verified: how the setuid
// rung's privileged child lets each capability go as soon as its last use is behind it.
result<void> keep_only_capabilities(std::initializer_list<int> caps);

// Drops everything for good: bounding and ambient sets, keep-caps, supplementary groups (unless
// `keep_groups`: the caller's own, for a process that must reach files as the caller does), then
// all three gids and uids to the caller's, after which the kernel clears permitted and effective
// capabilities. Then checks that root cannot be regained (setresuid(0), setgroups, capabilities
// all fail or read empty); a failed check is an error, never a warning. `step` names the step
// for the Error ("drop-privileges" in the child, "monitor" in the monitor). With `groups`, the
// supplementary groups become exactly these (--host-user's), whatever `keep_groups` says.
result<void> drop_privileges_to(uid_t uid, gid_t gid, const char* step, bool keep_groups = false,
                                const std::vector<gid_t>* groups = nullptr);

// Runs `work` in a child process that has dropped every privilege to the caller's ids (keeping
// the caller's groups) and returns what it returned: how the setuid helper reads and compiles a
// file the caller named (--seccomp-policy) without holding a capability while it does. `limit`
// bounds the bytes that come back.
result<std::string> run_as_caller(uid_t uid, gid_t gid, const char* step,
                                  const std::function<result<std::string>()>& work,
                                  std::size_t limit);

// The same, for work that also opens files the caller may open (the jail's cgroup): the fds come
// back with the answer (SCM_RIGHTS), so the privileged side never opens them itself.
inline constexpr int kMaxCallerFds = 4;
struct CallerAnswer {
  std::string text;
  std::vector<UniqueFd> fds;  // at most kMaxCallerFds
};
result<CallerAnswer> run_as_caller_with_fds(uid_t uid, gid_t gid, const char* step,
                                            const std::function<result<CallerAnswer>()>& work,
                                            std::size_t limit);

}  // namespace boxjail
