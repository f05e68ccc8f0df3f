// SPDX-License-Identifier: Apache-2.0
// Spec: a plain value that says everything a jail can be asked to be. Every front end (the
// bwrap-style argv parser, later the JSON spec reader, the setuid helper and the library API)
// produces one; the engine consumes nothing else.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace boxjail {

// Filesystem operations, run in order inside the new root (bwrap's SETUP_* operations).
enum class OpKind : std::uint8_t {
  Bind,        // --bind, --ro-bind, --dev-bind and their -try forms: source is a host path
  BindFd,      // --bind-fd, --ro-bind-fd: the source is the open directory fd
  RemountRo,   // --remount-ro
  Proc,        // --proc
  Dev,         // --dev
  Tmpfs,       // --tmpfs (perms, size)
  Mqueue,      // --mqueue
  Dir,         // --dir (perms)
  File,        // --file FD DEST (perms, default 0666)
  BindData,    // --bind-data / --ro-bind-data FD DEST (perms, default 0600)
  Symlink,     // --symlink TARGET DEST: source holds TARGET
  Chmod,       // --chmod OCTAL PATH: perms holds the mode
  Overlay,     // --overlay RW WORK DEST
  TmpOverlay,  // --tmp-overlay DEST
  RoOverlay,   // --ro-overlay DEST
};

struct MountOp {
  OpKind kind = OpKind::Bind;
  std::string source;                 // Bind: host path; Symlink: the link's target text
  std::string dest;                   // path inside the sandbox
  int fd = -1;                        // BindFd, File, BindData
  bool readonly = false;              // ro-bind*, ro-bind-fd, ro-bind-data
  bool devices = false;               // dev-bind*: leave device nodes usable (no nodev)
  bool allow_missing = false;         // *-try: a missing source skips the operation
  std::optional<unsigned> perms;      // --perms for Dir/File/BindData/Tmpfs, the mode for Chmod
  std::optional<std::uint64_t> size;  // --size for Tmpfs
  std::vector<std::string> overlay_sources;  // host paths, bottom layer first
  std::string overlay_upper;                 // Overlay: RW dir (host path)
  std::string overlay_work;                  // Overlay: WORK dir (host path)
};

// Capability request as bwrap's --cap-add/--cap-drop leave it after applying them in order.
struct CapRequest {
  bool specified = false;  // any --cap-add/--cap-drop seen; if not, root keeps its caps
  std::uint64_t mask = 0;  // bit n = capability n
};

// --rlimit NAME=SOFT[:HARD]: one resource limit of the command (setrlimit's RLIMIT_NAME).
struct RlimitRequest {
  int resource = 0;        // RLIMIT_NOFILE...
  std::uint64_t soft = 0;  // RLIM_INFINITY for "unlimited"
  std::uint64_t hard = 0;
};

// --host-user / --supplementary-group (boxjail's own): the host ids a root-run jail's processes
// take at the privilege drop, with these supplementary groups and no capability.
struct HostIdentity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

// --uid-range / --gid-range INSIDE:OUTSIDE:COUNT (boxjail's own): COUNT subordinate ids of the
// caller's, from OUTSIDE on, mapped to INSIDE.. in the jail's user namespace besides its own id,
// as /etc/subuid and /etc/subgid grant them, written by Debian's newuidmap and newgidmap.
struct IdRange {
  std::uint32_t inside = 0;
  std::uint32_t outside = 0;
  std::uint32_t count = 0;
};

// The per-jail cgroup (boxjail's own --cgroup-parent, --memory-max...): created under `parent`
// in the cgroup v2 hierarchy before the clone, the sandbox born in it (CLONE_INTO_CGROUP), every
// process in it killed and the cgroup removed when the jail ends. Values are those the kernel's
// files take; kCgroupMax stands for "max".
inline constexpr std::uint64_t kCgroupMax = UINT64_MAX;
struct CpuMax {
  std::uint64_t quota = kCgroupMax;  // microseconds per period, or kCgroupMax
  std::uint64_t period = 100000;     // microseconds
};
struct CgroupRequest {
  // Absolute: from the root of the cgroup v2 hierarchy (as /proc/self/cgroup writes paths);
  // relative: from the caller's own cgroup. Empty until the config's [cgroup] parent fills it.
  std::string parent;
  std::optional<std::uint64_t> memory_max;       // bytes
  std::optional<std::uint64_t> memory_swap_max;  // bytes
  std::optional<std::uint64_t> pids_max;
  std::optional<CpuMax> cpu_max;
  std::optional<std::uint64_t> cpu_weight;  // 1..10000
  std::vector<std::string> io_max;          // "MAJ:MIN KEY=VALUE...", one line per device
};

struct Spec {
  // What to run.
  std::vector<std::string> command;  // command[0] is looked up in the sandbox's PATH
  std::optional<std::string> argv0;  // --argv0
  std::vector<std::string> env;      // the complete "NAME=value" environment of the command

  // Namespaces.
  bool unshare_user = false;
  bool unshare_user_try = false;
  bool unshare_ipc = false;
  bool unshare_pid = false;
  bool unshare_net = false;
  bool unshare_uts = false;
  bool unshare_cgroup = false;
  bool unshare_cgroup_try = false;
  int userns_fd = -1;   // --userns
  int userns2_fd = -1;  // --userns2
  int pidns_fd = -1;    // --pidns
  bool disable_userns = false;
  bool assert_userns_disabled = false;
  std::optional<uid_t> uid;  // --uid
  std::optional<gid_t> gid;  // --gid
  std::optional<std::string> hostname;

  // Process.
  std::optional<std::string> chdir;
  std::vector<std::string> lock_files;
  int sync_fd = -1;
  int block_fd = -1;
  int userns_block_fd = -1;
  int info_fd = -1;
  int json_status_fd = -1;
  bool new_session = false;
  bool die_with_parent = false;
  bool as_pid_1 = false;
  CapRequest caps;
  std::optional<std::string> exec_label;
  std::optional<std::string> file_label;
  int seccomp_fd = -1;               // --seccomp (issue "Seccomp")
  std::vector<int> add_seccomp_fds;  // --add-seccomp-fd (issue "Seccomp")
  // --seccomp-policy NAME|PATH (boxjail's own): a JSON policy compiled by the monitor before
  // clone and installed in the command right before execve, after --seccomp's program.
  std::optional<std::string> seccomp_policy;
  // --pid-file PATH (boxjail's own): the jailed command's pid, as the caller's pid namespace
  // sees it (not the monitor's, not pid 1's), written atomically when the command starts.
  std::optional<std::string> pid_file;
  // --keep-fd FD (boxjail's own): when set (even empty), every fd of the command but 0-2 and
  // these is closed before execve; unset, fds not marked close-on-exec are inherited (bwrap).
  std::optional<std::vector<int>> keep_fds;
  // --rlimit (boxjail's own): set in the command's process right before execve, after every
  // privilege is gone, so that the kernel checks a raise against the caller's own hard limit.
  // At most one per resource, in resource order.
  std::vector<RlimitRequest> rlimits;
  std::optional<HostIdentity> host_user;
  std::vector<IdRange> uid_ranges;
  std::vector<IdRange> gid_ranges;
  std::optional<CgroupRequest> cgroup;
  // --handover (boxjail's own): the sandbox's first process is made the child of boxjail's own
  // parent (CLONE_PARENT) and boxjail exits once the command runs: nothing of it stays resident.
  bool handover = false;

  // Filesystem, in command-line order.
  std::vector<MountOp> ops;

  // Diagnostics.
  bool level_prefix = false;  // --level-prefix
};

}  // namespace boxjail
