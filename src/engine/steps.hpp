// SPDX-License-Identifier: Apache-2.0
// The stable names of every setup step, in the order the engine runs them, each with the reason
// for its place. Error records, logs, docs/design.md and the diagnosis rules all use these names;
// a test checks that docs/design.md lists exactly this table.
#pragma once

#include <array>
#include <string_view>

namespace boxjail::step {

struct Info {
  std::string_view name;
  std::string_view why;
};

inline constexpr std::string_view kCgroup = "cgroup";
inline constexpr std::string_view kJoinUserns = "join-userns";
inline constexpr std::string_view kJoinPidns = "join-pidns";
inline constexpr std::string_view kCloneNamespaces = "clone-namespaces";
inline constexpr std::string_view kWaitMonitor = "wait-monitor";
inline constexpr std::string_view kWriteSetgroups = "write-setgroups";
inline constexpr std::string_view kWriteUidMap = "write-uid-map";
inline constexpr std::string_view kWriteGidMap = "write-gid-map";
inline constexpr std::string_view kLoopbackUp = "loopback-up";
inline constexpr std::string_view kSetHostname = "set-hostname";
inline constexpr std::string_view kResolveSources = "resolve-sources";
inline constexpr std::string_view kMakeRootRslave = "make-root-rslave";
inline constexpr std::string_view kMountBaseTmpfs = "mount-base-tmpfs";
inline constexpr std::string_view kPivotRoot = "pivot-root";
inline constexpr std::string_view kBindMount = "bind-mount";
inline constexpr std::string_view kRemountRo = "remount-ro";
inline constexpr std::string_view kMountProc = "mount-proc";
inline constexpr std::string_view kMountDev = "mount-dev";
inline constexpr std::string_view kMountTmpfs = "mount-tmpfs";
inline constexpr std::string_view kMountMqueue = "mount-mqueue";
inline constexpr std::string_view kMakeDir = "make-dir";
inline constexpr std::string_view kWriteFile = "write-file";
inline constexpr std::string_view kBindData = "bind-data";
inline constexpr std::string_view kMakeSymlink = "make-symlink";
inline constexpr std::string_view kChmod = "chmod";
inline constexpr std::string_view kMountOverlay = "mount-overlay";
inline constexpr std::string_view kLimitUserns = "limit-userns";
inline constexpr std::string_view kDetachOldRoot = "detach-old-root";
inline constexpr std::string_view kJoinUserns2 = "join-userns2";
inline constexpr std::string_view kNestedUserns = "nested-userns";
inline constexpr std::string_view kLockUserns = "lock-userns";
inline constexpr std::string_view kHostUserUserns = "host-user-userns";
inline constexpr std::string_view kAssertUsernsDisabled = "assert-userns-disabled";
inline constexpr std::string_view kLockFiles = "lock-files";
inline constexpr std::string_view kDropCapabilities = "drop-capabilities";
inline constexpr std::string_view kDropPrivileges = "drop-privileges";
inline constexpr std::string_view kCallerFsIds = "caller-fs-ids";
inline constexpr std::string_view kLimitCapabilities = "limit-capabilities";
inline constexpr std::string_view kUnprivilegedSetup = "unprivileged-setup";
inline constexpr std::string_view kNoNewPrivs = "no-new-privs";
inline constexpr std::string_view kBlockFd = "block-fd";
inline constexpr std::string_view kSeccomp = "seccomp";
inline constexpr std::string_view kExecLabel = "exec-label";
inline constexpr std::string_view kChdir = "chdir";
inline constexpr std::string_view kNewSession = "new-session";
inline constexpr std::string_view kForkCommand = "fork-command";
inline constexpr std::string_view kRlimits = "rlimits";
inline constexpr std::string_view kKeepFds = "keep-fds";
inline constexpr std::string_view kExec = "exec";

// The order, with the reason for each position. Monitor-side steps come first.
inline constexpr std::array kOrder = {
    Info{kCallerFsIds,
         "setuid rung only: the helper's first act, before it reads anything: host files are "
         "touched with the caller's fs ids, never root's (bwrap >= 0.1.4)"},
    Info{kLimitCapabilities,
         "setuid rung only: right after, the bounding set is emptied and the helper keeps only "
         "the capabilities its privileged side calls for (none that acts on files or on other "
         "processes' settings: no DAC_*, FOWNER, SYS_NICE, SYS_RESOURCE...); its privileged "
         "child cuts them again to CAP_SYS_ADMIN and the final drop's three after set-hostname"},
    Info{kCgroup,
         "--cgroup-parent and the limits: the jail's cgroup is made and limited before the "
         "sandbox exists, so its first process is born inside it (CLONE_INTO_CGROUP) and nothing "
         "of it ever runs unlimited; before --userns, with the caller's own credentials (the "
         "setuid rung: in a process with the caller's ids and no capability)"},
    Info{kJoinUserns,
         "--userns: enter the caller's user namespace before cloning, so every new "
         "namespace is owned by it"},
    Info{kJoinPidns, "--pidns: the clone's child is born inside the given pid namespace"},
    Info{kCloneNamespaces,
         "one clone3 creates every namespace at once: the child never exists "
         "half-isolated, and no second fork is needed; when the monitor has nothing to do "
         "before the command's execve, the child runs in its memory until then "
         "(CLONE_VM|CLONE_VFORK, as posix_spawn), which spares the copy of the page tables"},
    Info{kWaitMonitor,
         "only when the monitor must act first (--info-fd, --userns-block-fd, maps "
         "written from outside): the child waits for its go-ahead"},
    Info{kWriteSetgroups,
         "setgroups must be denied before an unprivileged gid_map write (kernel "
         "rule since 3.19, CVE-2014-8989)"},
    Info{kWriteUidMap,
         "capabilities in the new namespace mean nothing for file access until the "
         "ids are mapped"},
    Info{kWriteGidMap, "after setgroups=deny"},
    Info{kLoopbackUp, "needs CAP_NET_ADMIN over the new net namespace, which the mapped child has"},
    Info{kSetHostname, "needs the new uts namespace; harmless before the mounts"},
    Info{kMakeRootRslave,
         "MS_SLAVE|MS_REC before any mount: nothing we mount propagates back to "
         "the host, while host unmounts still reach us"},
    Info{kUnprivilegedSetup,
         "setuid rung only: a process with the caller's ids and no capability at all (verified) "
         "runs resolve-sources and every filesystem operation below, and asks this privileged "
         "process for each mount over a socket, passing the fds it resolved; the privileged "
         "side serves a closed set of requests, each checked (docs/design.md)"},
    Info{kResolveSources,
         "host paths (bind and overlay sources) are opened before anything covers them: the "
         "same meaning bwrap gives them via realpath, and no path is resolved twice"},
    Info{kMountBaseTmpfs,
         "a private tmpfs on /tmp holds newroot/: no predictable host path an attacker could "
         "pre-create (CVE-2019-12439); the host root stays \"/\" while the operations run, and "
         "the base is unbindable so a recursive bind of \"/\" or /tmp copies none of it"},
    Info{kBindMount,
         "each filesystem operation runs in command-line order; destinations are "
         "resolved with openat2(RESOLVE_IN_ROOT) so no symlink leads outside newroot"},
    Info{kRemountRo, ""},
    Info{kMountProc, ""},
    Info{kMountDev, ""},
    Info{kMountTmpfs, ""},
    Info{kMountMqueue, ""},
    Info{kMakeDir, ""},
    Info{kWriteFile, ""},
    Info{kBindData, ""},
    Info{kMakeSymlink, ""},
    Info{kChmod, ""},
    Info{kMountOverlay, ""},
    Info{kLimitUserns,
         "--disable-userns: user.max_user_namespaces=1 is written through the host's /proc, "
         "kept as a fd"},
    Info{kPivotRoot,
         "one pivot_root(\".\", \".\") into newroot, after every operation: the host root is "
         "stacked on the new one, and bwrap's second pivot and detach are not needed"},
    Info{kDetachOldRoot,
         "the stacked host root goes rprivate (so the detach sends no unmount events to the "
         "host), then it is detached with the base tmpfs: no path leads back to the host tree"},
    Info{kJoinUserns2, "--userns2: after setup, when no further privilege is needed"},
    Info{kNestedUserns,
         "devpts needed uid 0 mapped; now that mounting is done the sandbox uid is "
         "mapped in a nested namespace, which also drops all outer capabilities"},
    Info{kLockUserns,
         "a jail run by root whose command keeps CAP_SYS_ADMIN: after the last mount, a user "
         "namespace of its own, where the monitor maps every id of the namespace the jail acted "
         "in onto itself: the mounts belong to a namespace the command has no capability over, "
         "so the kernel refuses it any change to them, and locks the copies it makes of them"},
    Info{kHostUserUserns,
         "--host-user with --unshare-user: root built the jail as in its own user namespace; "
         "the child enters the jail's after the last mount, the monitor maps the sandbox ids to "
         "the host user's (and its groups onto themselves), and the drop follows: the command "
         "never holds a capability over the mounts, and nothing was set up as the host user"},
    Info{kAssertUsernsDisabled, "checked after the limit and the nesting are in place"},
    Info{kDropPrivileges,
         "setuid rung (and --host-user): bounding and ambient sets cleared, then all ids set to "
         "the caller's (its own supplementary groups kept, as bwrap; --host-user's ids with "
         "exactly its groups), then every capability set cleared explicitly, then verified: "
         "regaining root must fail"},
    Info{kDropCapabilities,
         "after the last privileged step; bounding set first, then capset, "
         "then ambient"},
    Info{kLockFiles,
         "after the drop: the paths are opened with the command's own credentials (in the "
         "setuid rung with no capability), by the process that will stay as pid 1, as fcntl "
         "locks are per process"},
    Info{kBlockFd, "the caller's last chance to act on a fully set-up sandbox"},
    Info{kChdir, "inside the final root, with the sandbox's own uid; PWD follows"},
    Info{kNewSession, "setsid() detaches from the caller's terminal (TIOCSTI, CVE-2017-5226)"},
    Info{kNoNewPrivs, "always, as bwrap: no setuid binary can raise the command's privileges"},
    Info{kExecLabel, "SELinux exec context, applied at execve"},
    Info{kSeccomp,
         "--add-seccomp-fd programs before the fork, --seccomp and --seccomp-policy (compiled by "
         "the monitor before clone) in pid 1 right after the fork and in the command right "
         "before execve (bwrap's order): every process of the sandbox runs under every filter, "
         "and a filter installed earlier would have to allow the setup calls"},
    Info{kForkCommand,
         "a pid-1 reaper stays behind when there is a pid namespace or a lock/sync "
         "fd to hold; made non-dumpable first, and it never execs, so the command cannot "
         "ptrace it into making calls for it"},
    Info{kRlimits,
         "--rlimit: in the command's process (pid 1 is not limited, so NPROC=1 still lets it "
         "fork the command), after every privilege is gone, so a raise is checked against the "
         "caller's own hard limit (CAP_SYS_RESOURCE counts only in the host's user namespace)"},
    Info{kKeepFds,
         "--keep-fd: in the command's process, after pid 1 forked off (it keeps its own fds), "
         "every fd but 0-2, the kept ones and --sync-fd with --as-pid-1 is marked close-on-exec "
         "(not closed: the error channel must work up to the execve)"},
    Info{kExec, "the command; the error channel is close-on-exec, so its EOF means success"},
};

}  // namespace boxjail::step
