// SPDX-License-Identifier: Apache-2.0
#include "engine/fs_ops.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>

#include "engine/log.hpp"
#include "engine/mounts.hpp"
#include "engine/rootfs.hpp"
#include "engine/steps.hpp"
#include "sys/kernel_features.hpp"

namespace boxjail {
namespace {

std::string octal(unsigned mode) {
  char buf[16];
  snprintf(buf, sizeof buf, "0%o", mode);
  return buf;
}

std::string_view kind_name(OpKind k) {
  static constexpr std::string_view kNames[] = {
      "bind", "bind-fd",   "remount-ro", "proc",  "dev",     "tmpfs",       "mqueue",    "dir",
      "file", "bind-data", "symlink",    "chmod", "overlay", "tmp-overlay", "ro-overlay"};
  return kNames[static_cast<size_t>(k)];
}

bool is_overlay(OpKind k) {
  return k == OpKind::Overlay || k == OpKind::TmpOverlay || k == OpKind::RoOverlay;
}

// overlayfs splits lowerdir on ':' and unescapes '\'; bwrap also escapes ','.
std::string overlay_escape(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == ':' || c == ',' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

Error op_error(std::string_view step, const char* syscall, const std::string& path, int err,
               std::string message) {
  return sys_error(std::string(step), syscall, path, err, std::move(message));
}

// Calls that take only a path reach one of our fds' objects through its magic link (overlay
// layers opened by resolve_sources, fchmodat2's fallback, a --bind-fd source).
using sys::fd_path;

result<void> bind_tree(FsContext& ctx, const RootDir& root, const MountOp& op, int src_fd) {
  const std::string src_shown =
      op.kind == OpKind::BindFd ? "fd " + std::to_string(op.fd) : "/oldroot" + normalize(op.source);
  struct stat st;
  if (fstat(src_fd, &st) != 0) {
    return op_error(step::kBindMount, "fstat", op.dest, errno, "Can't stat source " + src_shown);
  }
  const mode_t pmode = parent_mode_for(op);
  auto target = S_ISDIR(st.st_mode) ? ensure_dir(root, op.dest, 0755, pmode, step::kBindMount)
                                    : ensure_file(root, op.dest, 0444, pmode, step::kBindMount);
  if (!target) return target.error();
  // nosuid always: a bind must never bring setuid binaries into a sandbox that could then use
  // them against the ids mapped in it. nodev unless --dev-bind asked for device nodes.
  unsigned attrs = MOUNT_ATTR_NOSUID;
  if (!op.devices) attrs |= MOUNT_ATTR_NODEV;
  if (op.readonly) attrs |= MOUNT_ATTR_RDONLY;
  const std::string what = "Can't bind mount " + src_shown + " on " + newroot_path(op.dest);
  // Recursive, and the copy holds nothing of the sandbox under construction: the base tmpfs is
  // unbindable, so the kernel skips it (and newroot in it) even when the source is "/" or /tmp.
  if (MountCall call = ctx.mounter.bind(src_fd, target.value().get(), true, attrs); !call.ok()) {
    auto e = op_error(step::kBindMount, call.syscall, op.dest, call.err,
                      what + ": Unable to mount source on destination");
    e.source = src_shown;
    return e;
  }
  return boost::outcome_v2::success();
}

result<void> mount_fs_at(FsContext& ctx, const RootDir& root, const std::string& dest,
                         std::string_view step_name, const FsRequest& fs, mode_t pmode,
                         const std::string& what) {
  BOOST_OUTCOME_TRY(target, ensure_dir(root, dest, 0755, pmode, step_name));
  if (MountCall call = ctx.mounter.mount_fs(fs, target.get(), nullptr); !call.ok()) {
    return op_error(step_name, call.syscall, dest, call.err, what);
  }
  return boost::outcome_v2::success();
}

result<void> do_tmpfs(FsContext& ctx, const RootDir& root, const MountOp& op) {
  std::vector<std::pair<std::string, std::string>> opts{{"mode", octal(op.perms.value_or(0755))}};
  if (op.size) opts.emplace_back("size", std::to_string(*op.size));
  if (ctx.spec.file_label) opts.emplace_back("context", *ctx.spec.file_label);
  return mount_fs_at(ctx, root, op.dest, step::kMountTmpfs,
                     {"tmpfs", std::move(opts), MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV},
                     parent_mode_for(op), "Can't mount tmpfs on " + newroot_path(op.dest));
}

result<void> do_dir(const RootDir& root, const MountOp& op) {
  BOXJAIL_TRY(
      ensure_dir(root, op.dest, op.perms.value_or(0755), parent_mode_for(op), step::kMakeDir));
  return boost::outcome_v2::success();
}

result<void> copy_fd(int from, int to, std::string_view step_name, const std::string& dest) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(from, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return op_error(step_name, "read", dest, errno, "Can't read data for " + dest);
    if (n == 0) return boost::outcome_v2::success();
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(to, buf + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0)
        return op_error(step_name, "write", dest, errno, "Can't write data to file " + dest);
      off += w;
    }
  }
}

result<void> do_file(const RootDir& root, const MountOp& op) {
  BOOST_OUTCOME_TRY(parent, ensure_parent(root, op.dest, parent_mode_for(op), step::kWriteFile));
  // O_NOFOLLOW: a symlink planted at the destination is refused, not written through.
  UniqueFd out(openat(parent.dir.get(), parent.name.c_str(),
                      O_CREAT | O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                      op.perms.value_or(0666)));
  if (!out) {
    return op_error(step::kWriteFile, "openat", op.dest, errno,
                    "Can't create file " + normalize(op.dest));
  }
  return copy_fd(op.fd, out.get(), step::kWriteFile, normalize(op.dest));
}

// The scratch tmpfs, mounted in the base (outside newroot) on first use. Not the base itself: an
// unbindable mount can be neither bound (--bind-data) nor cloned by overlayfs (its upper dir).
result<int> scratch_fd(FsContext& ctx, std::string_view step_name) {
  if (ctx.scratch) return ctx.scratch.get();
  if (mkdirat(ctx.base_fd, "scratch", 0755) != 0)
    return op_error(step_name, "mkdirat", "/scratch", errno, "Can't make scratch space");
  UniqueFd at(openat(ctx.base_fd, "scratch", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!at) return op_error(step_name, "openat", "/scratch", errno, "Can't make scratch space");
  UniqueFd fs;
  if (MountCall call = ctx.mounter.mount_fs(
          {"tmpfs", {{"mode", "0755"}}, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV}, at.get(), &fs);
      !call.ok()) {
    return op_error(step_name, call.syscall, "/scratch", call.err, "Can't mount tmpfs");
  }
  ctx.scratch = std::move(fs);
  return ctx.scratch.get();
}

result<void> do_bind_data(FsContext& ctx, const RootDir& root, const MountOp& op, int index) {
  // The data lives in a file of the scratch tmpfs, bound onto the destination, then unlinked:
  // the scratch tmpfs is detached with the old root, so nothing outside sees it.
  BOOST_OUTCOME_TRY(scratch, scratch_fd(ctx, step::kBindData));
  const std::string tmp = "bind-data-" + std::to_string(index);
  UniqueFd data(openat(scratch, tmp.c_str(), O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC,
                       op.perms.value_or(0600)));
  if (!data) return op_error(step::kBindData, "openat", "/" + tmp, errno, "Can't create tmpfile");
  BOXJAIL_TRY(copy_fd(op.fd, data.get(), step::kBindData, normalize(op.dest)));
  BOOST_OUTCOME_TRY(target, ensure_file(root, op.dest, 0444, parent_mode_for(op), step::kBindData));
  unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (op.readonly ? MOUNT_ATTR_RDONLY : 0);
  const std::string what = "Can't bind mount /" + tmp + " on " + newroot_path(op.dest);
  if (MountCall call = ctx.mounter.bind(data.get(), target.get(), false, attrs); !call.ok()) {
    return op_error(step::kBindData, call.syscall, op.dest, call.err, what);
  }
  unlinkat(scratch, tmp.c_str(), 0);
  return boost::outcome_v2::success();
}

result<void> do_symlink(const RootDir& root, const MountOp& op) {
  BOOST_OUTCOME_TRY(parent, ensure_parent(root, op.dest, 0755, step::kMakeSymlink));
  if (symlinkat(op.source.c_str(), parent.dir.get(), parent.name.c_str()) == 0) {
    return boost::outcome_v2::success();
  }
  int err = errno;
  const std::string what = "Can't make symlink at " + normalize(op.dest);
  if (err == EEXIST) {
    char buf[PATH_MAX];
    ssize_t n = readlinkat(parent.dir.get(), parent.name.c_str(), buf, sizeof buf - 1);
    if (n >= 0) {
      std::string existing(buf, static_cast<size_t>(n));
      if (existing == op.source) return boost::outcome_v2::success();  // idempotent (bwrap 0.9+)
      return op_error(step::kMakeSymlink, "symlinkat", op.dest, 0,
                      what + ": existing destination is " + existing);
    }
  }
  return op_error(step::kMakeSymlink, "symlinkat", op.dest, err, what);
}

result<void> do_chmod(const RootDir& root, const MountOp& op) {
  const unsigned mode = op.perms.value_or(0);
  char what[64];
  snprintf(what, sizeof what, "Can't chmod %#o ", mode);
  int fd = open_in_root(root, op.dest, O_PATH);
  if (fd < 0) return op_error(step::kChmod, "openat2", op.dest, -fd, what + normalize(op.dest));
  UniqueFd target(fd);
  // fchmodat2(AT_EMPTY_PATH) (Linux 6.6) changes the very inode we resolved; older kernels go
  // through the fd's magic link in the host's /proc, which names the same inode.
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
  if (syscall(SYS_fchmodat2, target.get(), "", mode, AT_EMPTY_PATH) == 0) {
    return boost::outcome_v2::success();
  }
  if (errno == ENOSYS || errno == EINVAL) {
    const std::string link = fd_path(target.get());
    if (chmod(link.c_str(), mode) == 0) return boost::outcome_v2::success();
  }
  return op_error(step::kChmod, "fchmodat2", op.dest, errno, what + normalize(op.dest));
}

result<void> do_remount_ro(FsContext& ctx, const RootDir& root, const MountOp& op) {
  const std::string what = "Can't remount readonly on " + newroot_path(op.dest);
  int fd = open_in_root(root, op.dest, O_PATH);
  // bwrap resolves the destination with realpath() and names that call when it fails.
  if (fd < 0) {
    return op_error(step::kRemountRo, "openat2", op.dest, -fd, what + ": realpath(destination)");
  }
  UniqueFd target(fd);
  if (MountCall call = ctx.mounter.set_attr(target.get(), MOUNT_ATTR_RDONLY); !call.ok()) {
    return op_error(step::kRemountRo, call.syscall, op.dest, call.err, what);
  }
  return boost::outcome_v2::success();
}

result<void> do_mqueue(FsContext& ctx, const RootDir& root, const MountOp& op) {
  return mount_fs_at(ctx, root, op.dest, step::kMountMqueue, {"mqueue", {}, 0}, parent_mode_for(op),
                     "Can't mount mqueue on " + newroot_path(op.dest));
}

result<void> do_overlay(FsContext& ctx, const RootDir& root, const MountOp& op,
                        const SourceRef& src, int index) {
  // src.paths / src.dirs: the lower layers bottom first, then (Overlay) upper and work. Messages
  // show the paths as bwrap does (under /oldroot); the mount gets the fds.
  const size_t nlower = op.overlay_sources.size();
  std::string lower;
  std::string lower_shown;
  for (size_t i = nlower; i-- > 0;) {  // overlayfs lists the top layer first
    if (!lower.empty()) {
      lower += ':';
      lower_shown += ':';
    }
    lower += fd_path(src.dirs[i].get());
    lower_shown += overlay_escape("/oldroot" + src.paths[i]);
  }
  std::vector<std::pair<std::string, std::string>> opts;
  std::vector<std::pair<std::string, std::string>> shown;
  if (op.kind == OpKind::Overlay) {
    opts.emplace_back("upperdir", fd_path(src.dirs[nlower].get()));
    opts.emplace_back("workdir", fd_path(src.dirs[nlower + 1].get()));
    shown.emplace_back("upperdir", overlay_escape("/oldroot" + src.paths[nlower]));
    shown.emplace_back("workdir", overlay_escape("/oldroot" + src.paths[nlower + 1]));
  } else if (op.kind == OpKind::TmpOverlay) {
    // Upper and work dirs in the scratch tmpfs: invisible, and gone with the sandbox.
    BOOST_OUTCOME_TRY(scratch, scratch_fd(ctx, step::kMountOverlay));
    const std::string upper = "tmp-overlay-upper-" + std::to_string(index);
    const std::string work = "tmp-overlay-work-" + std::to_string(index);
    for (const auto& d : {upper, work}) {
      if (mkdirat(scratch, d.c_str(), 0755) != 0) {
        return op_error(step::kMountOverlay, "mkdirat", "/" + d, errno, "Can't make overlay dirs");
      }
    }
    const std::string base = fd_path(scratch) + "/";
    opts.emplace_back("upperdir", base + upper);
    opts.emplace_back("workdir", base + work);
    shown.emplace_back("upperdir", "/" + upper);
    shown.emplace_back("workdir", "/" + work);
  }
  opts.emplace_back("lowerdir", lower);
  opts.emplace_back("userxattr", "");
  shown.emplace_back("lowerdir", lower_shown);
  shown.emplace_back("userxattr", "");
  std::string shown_opts;
  for (const auto& [k, v] : shown) {
    if (!shown_opts.empty()) shown_opts += ',';
    shown_opts += v.empty() ? k : k + "=" + v;
  }
  unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (op.kind == OpKind::RoOverlay) attrs |= MOUNT_ATTR_RDONLY;
  BOOST_OUTCOME_TRY(target,
                    ensure_dir(root, op.dest, 0755, parent_mode_for(op), step::kMountOverlay));
  MountCall call = ctx.mounter.mount_fs({"overlay", std::move(opts), attrs}, target.get(), nullptr);
  if (!call.ok()) {
    if (call.err == ELOOP) {
      return op_error(step::kMountOverlay, "fsconfig", op.dest, 0,
                      "Overlay directories may not overlap");
    }
    if (std::string_view(call.syscall) == "move_mount") {
      return op_error(step::kMountOverlay, call.syscall, op.dest, call.err,
                      "Can't make overlay mount on " + newroot_path(op.dest));
    }
    return op_error(
        step::kMountOverlay, call.syscall, op.dest, call.err,
        "Can't make overlay mount on " + newroot_path(op.dest) + " with options " + shown_opts);
  }
  return boost::outcome_v2::success();
}

// The setuid rung binds only what the caller can read, --bind-fd sources included (the privileged
// side checks again, mount_broker.cpp). access by the real ids, the caller's, on the very inode
// opened (sys::access_fd), so no path swap can slip in between.
result<void> check_caller_may_read(int fd, const std::string& shown) {
  int err = 0;
  const char* call = sys::access_fd(fd, R_OK, &err);
  if (err != 0) {
    return sys_error(std::string(step::kResolveSources), call, shown, err,
                     "Can't read source path " + shown +
                         " (the setuid rung binds only what the caller can read)");
  }
  return boost::outcome_v2::success();
}

}  // namespace

mode_t parent_mode_for(const MountOp& op) {
  mode_t mode = 0755;
  if (op.perms && op.kind != OpKind::Chmod) {
    if ((*op.perms & 0070) == 0) mode &= ~0050;
    if ((*op.perms & 0007) == 0) mode &= ~0005;
  }
  return mode;
}

result<std::vector<SourceRef>> resolve_sources(const Spec& spec, bool caller_must_read) {
  std::vector<SourceRef> refs(spec.ops.size());
  for (size_t i = 0; i < spec.ops.size(); ++i) {
    const MountOp& op = spec.ops[i];
    if (op.kind == OpKind::Bind) {
      int fd = open(op.source.c_str(), O_PATH | O_CLOEXEC);
      if (fd < 0) {
        if (errno == ENOENT && op.allow_missing) {
          refs[i].skip = true;
          continue;
        }
        return sys_error(std::string(step::kResolveSources), "open", op.source, errno,
                         "Can't find source path " + op.source);
      }
      refs[i].fd.reset(fd);
      if (caller_must_read) BOXJAIL_TRY(check_caller_may_read(fd, op.source));
    } else if (op.kind == OpKind::BindFd) {
      // The caller opened FD in its own mount namespace, and CLONE_NEWNS gave us copies of those
      // mounts: open_tree(OPEN_TREE_CLONE) refuses a mount of another namespace (EINVAL). Like
      // bwrap, resolve the fd to a path, open that here (the host tree is still "/"), and check
      // it is the very same inode, or someone swapped what the path names.
      const std::string link = fd_path(op.fd);
      char real[PATH_MAX];
      if (realpath(link.c_str(), real) == nullptr) {
        return sys_error(std::string(step::kResolveSources), "realpath", link, errno,
                         "Can't find source path " + link);
      }
      UniqueFd fd(open(real, O_PATH | O_CLOEXEC));
      if (!fd) {
        return sys_error(std::string(step::kResolveSources), "open", real, errno,
                         "Can't find source path " + std::string(real));
      }
      struct stat given, opened;
      if (fstat(op.fd, &given) != 0 || fstat(fd.get(), &opened) != 0) {
        return sys_error(std::string(step::kResolveSources), "fstat", link, errno,
                         "Can't stat fd " + std::to_string(op.fd));
      }
      if (given.st_dev != opened.st_dev || given.st_ino != opened.st_ino) {
        return make_error(std::string(step::kResolveSources), "Race condition binding dirfd");
      }
      if (caller_must_read) BOXJAIL_TRY(check_caller_may_read(fd.get(), real));
      refs[i].fd = std::move(fd);
    } else if (is_overlay(op.kind)) {
      std::vector<std::string> dirs = op.overlay_sources;
      if (op.kind == OpKind::Overlay) {
        dirs.push_back(op.overlay_upper);
        dirs.push_back(op.overlay_work);
      }
      for (const auto& d : dirs) {
        char real[PATH_MAX];
        if (realpath(d.c_str(), real) == nullptr) {
          return sys_error(std::string(step::kResolveSources), "realpath", d, errno,
                           "Can't find source path " + d);
        }
        UniqueFd dir(open(real, O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!dir) {
          return sys_error(std::string(step::kResolveSources), "open", real, errno,
                           "Can't find source path " + d);
        }
        refs[i].paths.emplace_back(real);
        refs[i].dirs.push_back(std::move(dir));
      }
    }
  }
  return refs;
}

result<UniqueFd> build_new_root(const Spec& spec, const Plan& plan, Mounter& mounter,
                                int host_root_fd, Resolver resolver) {
  BOOST_OUTCOME_TRY(sources, resolve_sources(spec, plan.setuid));
  UniqueFd base;
  if (MountCall call = mounter.make_base(&base); !call.ok()) {
    return sys_error(std::string(step::kMountBaseTmpfs), call.syscall, "/tmp", call.err,
                     "Failed to mount tmpfs");
  }
  {
    FsContext ctx{spec, plan, mounter, host_root_fd, base.get(), sources, resolver};
    BOXJAIL_TRY(run_fs_ops(ctx));
  }
  sources.clear();
  close_consumed_fds(spec);
  return base;
}

void close_consumed_fds(const Spec& spec) {
  for (const auto& op : spec.ops) {
    if (op.fd > 2 &&
        (op.kind == OpKind::File || op.kind == OpKind::BindData || op.kind == OpKind::BindFd))
      close(op.fd);
  }
}

result<void> run_fs_ops(FsContext& ctx) {
  for (size_t i = 0; i < ctx.spec.ops.size(); ++i) {
    const MountOp& op = ctx.spec.ops[i];
    // Re-opened for every operation: an earlier one may have mounted over it (--bind / /).
    BOOST_OUTCOME_TRY(root_fd, open_new_root(ctx.base_fd));
    RootDir root{root_fd.get(), "", ctx.resolver};
    SourceRef& src = ctx.sources[i];
    const int index = static_cast<int>(i);
    BOXJAIL_LOG(Debug, "operation " + std::to_string(i) + ": " + std::string(kind_name(op.kind)) +
                           " on " + op.dest);
    switch (op.kind) {
      case OpKind::Bind:
      case OpKind::BindFd:
        if (!src.skip) BOXJAIL_TRY(bind_tree(ctx, root, op, src.fd.get()));
        break;
      case OpKind::RemountRo:
        BOXJAIL_TRY(do_remount_ro(ctx, root, op));
        break;
      case OpKind::Proc:
        BOXJAIL_TRY(mount_proc(ctx, root, op));
        break;
      case OpKind::Dev:
        BOXJAIL_TRY(mount_dev(ctx, root, op));
        break;
      case OpKind::Tmpfs:
        BOXJAIL_TRY(do_tmpfs(ctx, root, op));
        break;
      case OpKind::Mqueue:
        BOXJAIL_TRY(do_mqueue(ctx, root, op));
        break;
      case OpKind::Dir:
        BOXJAIL_TRY(do_dir(root, op));
        break;
      case OpKind::File:
        BOXJAIL_TRY(do_file(root, op));
        break;
      case OpKind::BindData:
        BOXJAIL_TRY(do_bind_data(ctx, root, op, index));
        break;
      case OpKind::Symlink:
        BOXJAIL_TRY(do_symlink(root, op));
        break;
      case OpKind::Chmod:
        BOXJAIL_TRY(do_chmod(root, op));
        break;
      case OpKind::Overlay:
      case OpKind::TmpOverlay:
      case OpKind::RoOverlay:
        BOXJAIL_TRY(do_overlay(ctx, root, op, src, index));
        break;
    }
  }
  return boost::outcome_v2::success();
}

}  // namespace boxjail
