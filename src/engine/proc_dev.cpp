// SPDX-License-Identifier: Apache-2.0
// --proc and --dev: the two operations that assemble a filesystem from several mounts.
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "engine/fs_ops.hpp"
#include "engine/steps.hpp"

namespace boxjail {
namespace {

Error fail(std::string_view step_name, const char* syscall, const std::string& path, int err,
           std::string message) {
  return sys_error(std::string(step_name), syscall, path, err, std::move(message));
}

// Binds the object at `src_fd` onto `target_fd` with `attrs`.
result<void> bind_fd_onto(FsContext& ctx, std::string_view step_name, int src_fd, int target_fd,
                          bool recursive, unsigned attrs, const std::string& src_shown,
                          const std::string& dest) {
  if (MountCall call = ctx.mounter.bind(src_fd, target_fd, recursive, attrs); !call.ok()) {
    return fail(step_name, call.syscall, dest, call.err,
                "Can't bind mount " + src_shown + " on " + newroot_path(dest));
  }
  return boost::outcome_v2::success();
}

// A new filesystem onto `target_fd`; `root` gets a fd of its root when given.
result<void> mount_onto(FsContext& ctx, std::string_view step_name, const FsRequest& fs,
                        int target_fd, UniqueFd* root, const std::string& dest) {
  if (MountCall call = ctx.mounter.mount_fs(fs, target_fd, root); !call.ok()) {
    return fail(step_name, call.syscall, dest, call.err,
                "Can't mount " + fs.type + " on " + newroot_path(dest));
  }
  return boost::outcome_v2::success();
}

// What Docker's and crun's default specs mask in /proc: the kernel's memory (kcore), the keys of
// every user, timer and scheduler internals, hardware trees. A file is covered by the host's
// /dev/null (reads empty, writes vanish), a directory by an empty read-only tmpfs.
result<void> mask_kernel_internals(FsContext& ctx, int proc_fd, const std::string& dest) {
  RootDir host{ctx.host_root_fd, "/oldroot", ctx.resolver};
  for (const char* name : {"kcore", "keys", "timer_list", "timer_stats", "sched_debug",
                           "latency_stats", "acpi", "scsi", "asound"}) {
    const std::string sub = dest + "/" + name;
    UniqueFd node(openat(proc_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!node) {
      if (errno == ENOENT) continue;
      return fail(step::kMountProc, "openat", sub, errno, "Can't access " + sub);
    }
    struct stat st;
    if (fstat(node.get(), &st) != 0) return fail(step::kMountProc, "fstat", sub, errno, sub);
    if (S_ISDIR(st.st_mode)) {
      BOXJAIL_TRY(
          mount_onto(ctx, step::kMountProc,
                     {"tmpfs",
                      {{"mode", "0555"}},
                      MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC},
                     node.get(), nullptr, sub));
      continue;
    }
    int null_fd = open_in_root(host, "/dev/null", O_PATH);
    if (null_fd < 0) {
      return fail(step::kMountProc, "openat2", "/oldroot/dev/null", -null_fd,
                  "Can't open /oldroot/dev/null");
    }
    UniqueFd null_dev(null_fd);
    BOXJAIL_TRY(bind_fd_onto(ctx, step::kMountProc, null_dev.get(), node.get(), false,
                             MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, "/oldroot/dev/null", sub));
  }
  return boost::outcome_v2::success();
}

}  // namespace

result<void> mount_proc(FsContext& ctx, const RootDir& root, const MountOp& op) {
  const std::string dest = normalize(op.dest);
  BOOST_OUTCOME_TRY(target, ensure_dir(root, op.dest, 0755, parent_mode_for(op), step::kMountProc));
  if (ctx.plan.new_procfs) {
    // A procfs of the sandbox's own pid namespace; noexec/nosuid/nodev as bwrap mounts it.
    BOXJAIL_TRY(mount_onto(ctx, step::kMountProc,
                           {"proc", {}, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODEV},
                           target.get(), nullptr, dest));
  } else {
    // Same pid namespace as the host: a new procfs would show the same processes, so bwrap binds
    // the host's, and so do we.
    RootDir host{ctx.host_root_fd, "/oldroot", ctx.resolver};
    int src = open_in_root(host, "/proc", O_PATH | O_DIRECTORY);
    if (src < 0)
      return fail(step::kMountProc, "openat2", "/oldroot/proc", -src, "Can't open /oldroot/proc");
    UniqueFd src_fd(src);
    BOXJAIL_TRY(bind_fd_onto(ctx, step::kMountProc, src_fd.get(), target.get(), true,
                             MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, "/oldroot/proc", dest));
  }
  int proc = open_in_root(root, op.dest, O_PATH | O_DIRECTORY);
  if (proc < 0) return fail(step::kMountProc, "openat2", dest, -proc, "Can't open " + dest);
  UniqueFd proc_fd(proc);
  // The kernel's knobs that could hurt the host (sysrq-trigger reboots it, /proc/sys holds
  // core_pattern): each is covered with a read-only bind of itself. bwrap covers those writable
  // by the caller; a jail that acts as host root gets them all, the directories included (a
  // directory's own mode never says W_OK, yet root writes every sysctl file in it), and the
  // kernel's internals masked as container runtimes mask them.
  for (const char* name : {"sys", "sysrq-trigger", "irq", "bus", "fs"}) {
    const std::string sub = dest + "/" + name;
    if (faccessat(proc_fd.get(), name, ctx.plan.host_root ? F_OK : W_OK, 0) != 0) {
      if (errno == EACCES || errno == ENOENT || errno == EROFS) continue;
      return fail(step::kMountProc, "faccessat", sub, errno, "Can't access " + sub);
    }
    UniqueFd node(openat(proc_fd.get(), name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!node) return fail(step::kMountProc, "openat", sub, errno, "Can't access " + sub);
    BOXJAIL_TRY(bind_fd_onto(ctx, step::kMountProc, node.get(), node.get(), true,
                             MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, sub, sub));
  }
  if (ctx.plan.host_root) BOXJAIL_TRY(mask_kernel_internals(ctx, proc_fd.get(), dest));
  return boost::outcome_v2::success();
}

result<void> mount_dev(FsContext& ctx, const RootDir& root, const MountOp& op) {
  const std::string dest = normalize(op.dest);
  BOOST_OUTCOME_TRY(target, ensure_dir(root, op.dest, 0755, parent_mode_for(op), step::kMountDev));
  std::vector<std::pair<std::string, std::string>> opts{{"mode", "0755"}};
  if (ctx.spec.file_label) opts.emplace_back("context", *ctx.spec.file_label);
  UniqueFd dev;
  BOXJAIL_TRY(mount_onto(ctx, step::kMountDev,
                         {"tmpfs", std::move(opts), MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV},
                         target.get(), &dev, dest));
  // `dev` now names the root of the attached tmpfs: everything below is created through it.
  RootDir host{ctx.host_root_fd, "/oldroot", ctx.resolver};
  for (const char* name : {"null", "zero", "full", "random", "urandom", "tty"}) {
    const std::string node_dest = dest + "/" + name;
    const std::string node_src = std::string("/dev/") + name;
    int created =
        openat(dev.get(), name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0444);
    if (created < 0)
      return fail(step::kMountDev, "openat", node_dest, errno, "Can't create file at " + node_dest);
    close(created);
    int src = open_in_root(host, node_src, O_PATH);
    if (src < 0) {
      return fail(step::kMountDev, "openat2", "/oldroot" + node_src, -src,
                  "Can't bind mount /oldroot" + node_src + " on " + newroot_path(node_dest));
    }
    UniqueFd src_fd(src);
    UniqueFd node(openat(dev.get(), name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!node) return fail(step::kMountDev, "openat", node_dest, errno, "Can't open " + node_dest);
    // Device nodes must stay usable: no nodev on these binds, nosuid still. No noexec either:
    // bwrap binds them with nosuid only, and noexec makes mmap(PROT_EXEC) of /dev/zero fail
    // with EPERM, which programs that map executable anonymous memory this way rely on.
    BOXJAIL_TRY(bind_fd_onto(ctx, step::kMountDev, src_fd.get(), node.get(), false,
                             MOUNT_ATTR_NOSUID, "/oldroot" + node_src, node_dest));
  }
  static constexpr std::pair<const char*, const char*> kLinks[] = {
      {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
      {"fd", "/proc/self/fd"},      {"core", "/proc/kcore"},       {"ptmx", "pts/ptmx"}};
  for (const auto& [name, target_text] : kLinks) {
    if (symlinkat(target_text, dev.get(), name) != 0) {
      return fail(step::kMountDev, "symlinkat", dest + "/" + name, errno,
                  "Can't make symlink at " + dest + "/" + name);
    }
  }
  for (const char* name : {"shm", "pts"}) {
    if (mkdirat(dev.get(), name, 0755) != 0) {
      return fail(step::kMountDev, "mkdirat", dest + "/" + name, errno,
                  "Can't mkdir " + dest + "/" + name);
    }
  }
  // A private devpts instance: the sandbox's ptys are its own, and it cannot open the host's.
  const std::string pts_dest = dest + "/pts";
  UniqueFd pts_dir(openat(dev.get(), "pts", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!pts_dir) return fail(step::kMountDev, "openat", pts_dest, errno, "Can't open " + pts_dest);
  BOXJAIL_TRY(mount_onto(ctx, step::kMountDev,
                         {"devpts",
                          {{"newinstance", ""}, {"ptmxmode", "0666"}, {"mode", "620"}},
                          MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC},
                         pts_dir.get(), nullptr, pts_dest));
  // bwrap binds the caller's terminal on /dev/console when stdout is one. By its path in the host
  // root, as the device nodes above: fd 1 itself belongs to a mount of the caller's namespace,
  // which open_tree cannot clone into this one (EINVAL).
  char tty[PATH_MAX];
  if (isatty(1) && ttyname_r(1, tty, sizeof tty) == 0) {
    const std::string console = dest + "/console";
    const std::string tty_src = "/oldroot" + normalize(tty);
    int src = open_in_root(host, tty, O_PATH);
    if (src < 0) {
      return fail(step::kMountDev, "openat2", tty_src, -src,
                  "Can't bind mount " + tty_src + " on " + newroot_path(console));
    }
    UniqueFd src_fd(src);
    int created =
        openat(dev.get(), "console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0444);
    if (created < 0)
      return fail(step::kMountDev, "openat", console, errno, "Can't create file at " + console);
    close(created);
    UniqueFd node(openat(dev.get(), "console", O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!node) return fail(step::kMountDev, "openat", console, errno, "Can't open " + console);
    // nosuid only, as bwrap binds it (see the device nodes above).
    BOXJAIL_TRY(bind_fd_onto(ctx, step::kMountDev, src_fd.get(), node.get(), false,
                             MOUNT_ATTR_NOSUID, tty_src, console));
  }
  return boost::outcome_v2::success();
}

}  // namespace boxjail
