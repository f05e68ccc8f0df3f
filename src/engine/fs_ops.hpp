// SPDX-License-Identifier: Apache-2.0
// The filesystem operations of a Spec, run in command-line order against the new root.
#pragma once

#include <boxjail/error.hpp>
#include <boxjail/spec.hpp>

#include <string>
#include <vector>

#include "engine/mounts.hpp"
#include "engine/paths.hpp"
#include "engine/plan.hpp"
#include "sys/fd.hpp"

namespace boxjail {

// What an operation's host-side source resolved to, before the base tmpfs covered /tmp.
struct SourceRef {
  UniqueFd fd;                     // Bind, BindFd: O_PATH fd of the source
  bool skip = false;               // *-try with a missing source
  std::vector<std::string> paths;  // Overlay: real paths of sources (then upper, work), shown
  std::vector<UniqueFd> dirs;      // Overlay: O_PATH fds of the same, what is mounted
};

// Opens every host-side source before the base tmpfs is mounted on /tmp: bind sources and
// overlay directories as O_PATH fds. No path is resolved again later (no race), and a source
// under /tmp means the host's /tmp.
// `caller_must_read`: the setuid rung also requires that the caller (the real ids) may read each
// bind source: open(O_PATH) only checks the path's search permissions.
result<std::vector<SourceRef>> resolve_sources(const Spec& spec, bool caller_must_read);

struct FsContext {
  const Spec& spec;
  const Plan& plan;
  Mounter& mounter;
  int host_root_fd;  // O_PATH fd of the host root ("/" until the pivot; bwrap's /oldroot)
  int base_fd;       // the base tmpfs (unbindable), holding newroot
  std::vector<SourceRef>& sources;
  Resolver resolver = Resolver::Auto;
  UniqueFd scratch{};  // a tmpfs in the base for --bind-data files and --tmp-overlay dirs, made
                       // on first use: a file or upper dir must be on a bindable mount
};

result<void> run_fs_ops(FsContext& ctx);

// Builds the sandbox's root in the base tmpfs: resolve-sources, mount-base-tmpfs, then every
// operation. Every mount goes through `mounter`; everything else (path walks, mkdir, file data,
// symlinks, chmod) runs in the calling process, with its credentials: in the setuid rung that is
// the unprivileged setup process (setuid_setup.hpp). `host_root_fd` is the host's "/".
// Returns the base's fd; the fds the operations consumed (--file, --bind-data, --bind-fd) are
// closed.
result<UniqueFd> build_new_root(const Spec& spec, const Plan& plan, Mounter& mounter,
                                int host_root_fd, Resolver resolver);

// Closes the fds the operations read or bound (--file, --bind-data, --bind-fd): not the command's.
void close_consumed_fds(const Spec& spec);

// --dev and --proc live in their own files; run_fs_ops calls them.
result<void> mount_dev(FsContext& ctx, const RootDir& root, const MountOp& op);
result<void> mount_proc(FsContext& ctx, const RootDir& root, const MountOp& op);

// The parent-directory mode bwrap derives from --perms: parents lose g-rx / o-rx when the
// operation's own mode grants no group / other access.
mode_t parent_mode_for(const MountOp& op);

}  // namespace boxjail
