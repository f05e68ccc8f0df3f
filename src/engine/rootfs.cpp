// SPDX-License-Identifier: Apache-2.0
#include "engine/rootfs.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "engine/steps.hpp"
#include "sys/kernel_features.hpp"
#include "sys/mountinfo.hpp"
#include "sys/syscalls.hpp"

namespace boxjail {
namespace {

Error fail(std::string_view step_name, const char* syscall, const char* path, int err,
           const char* message) {
  return sys_error(std::string(step_name), syscall, path, err, message);
}

// MS_PRIVATE on every mount of the tree whose root `root_fd` is: mount_setattr where the kernel
// has it; before 5.12 mount(2) on ".", with the cwd moved to that root (no /proc to name the fd
// by once the pivot is done; "." is the mount's root itself, whatever is stacked on its mount
// point), where it stays: the unmount that follows takes "." too. 0 or -1 with errno.
int make_tree_private(int root_fd) {
  if (sys::kernel_has_mount_setattr()) {
    mount_attr attr{};
    attr.propagation = MS_PRIVATE;
    return sys::mount_setattr(root_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, attr);
  }
  if (fchdir(root_fd) != 0) return -1;
  return mount(nullptr, ".", nullptr, MS_PRIVATE | MS_REC, nullptr);
}

// Whether this namespace's root is rootfs, the initial ramfs a system booted from an initramfs
// may run on: the one mount with no parent, which pivot_root cannot move away (EINVAL). Read only
// after pivot_root failed, through the host's /proc below `host_root_fd`.
struct RootfsChild {
  std::string mount_point;  // relative to the host's root
};
std::optional<std::vector<RootfsChild>> rootfs_children(int host_root_fd) {
  const auto mounts = sys::read_mountinfo(host_root_fd, "proc/self/mountinfo");
  if (!mounts) return std::nullopt;
  int root_id = -1;
  for (const auto& m : *mounts) {
    if (m.point == "/" && m.fstype == "rootfs") root_id = m.id;
  }
  if (root_id < 0) return std::nullopt;
  std::vector<RootfsChild> children;
  for (const auto& m : *mounts) {
    if (m.parent == root_id && m.point != "/") children.push_back({m.point.substr(1)});
  }
  return children;
}

// pivot_root's stand-in on rootfs (nsjail's way): the new root is moved over "/" and the process
// chroots into it. The host's other mounts are detached, as the pivot's detach would, where the
// kernel lets us: in a jail with a user namespace they were copied into a less privileged
// namespace and are locked (EINVAL), and stay. What stays below the new root (rootfs itself,
// which no mount operation can remove, and those locked mounts) is reachable only through a
// chroot escape, which needs CAP_SYS_CHROOT: the command of a jail that keeps no capability does
// not have it, and in a user namespace it would reach no more than its own user may outside.
result<void> move_over_rootfs(int host_root_fd, const std::vector<RootfsChild>& children) {
  if (mount(".", "/", nullptr, MS_MOVE, nullptr) != 0)
    return fail(step::kPivotRoot, "mount(MS_MOVE)", "/newroot", errno,
                "move the new root over rootfs");
  if (chroot(".") != 0) return fail(step::kPivotRoot, "chroot", "/newroot", errno, "chroot");
  for (const auto& child : children) {
    UniqueFd at(openat(host_root_fd, child.mount_point.c_str(),
                       O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!at) continue;  // below another child, gone with it
    if (fchdir(at.get()) != 0) continue;
    if (make_tree_private(at.get()) != 0 || (umount2(".", MNT_DETACH) != 0 && errno != EINVAL)) {
      return fail(step::kDetachOldRoot, "umount2(MNT_DETACH)", "/oldroot", errno,
                  "unmount old root");
    }
  }
  if (chdir("/") != 0) return fail(step::kDetachOldRoot, "chdir", "/", errno, "chdir /");
  return boost::outcome_v2::success();
}

}  // namespace

result<void> make_root_rslave() {
  // Slave, not private: mounts made here never propagate to the host, yet a host unmount (a USB
  // stick pulled) still reaches the sandbox instead of pinning the device.
  if (mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
    return fail(step::kMakeRootRslave, "mount(MS_SLAVE|MS_REC)", "/", errno,
                "Failed to make / slave");
  }
  return boost::outcome_v2::success();
}

result<UniqueFd> open_new_root(int base_fd) {
  UniqueFd root(openat(base_fd, "newroot", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return fail(step::kBindMount, "open", "/newroot", errno, "Can't open the new root");
  return root;
}

result<void> enter_new_root(int base_fd, int host_root_fd) {
  UniqueFd newroot(openat(base_fd, "newroot", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!newroot || fchdir(newroot.get()) != 0)
    return fail(step::kPivotRoot, "open", "/newroot", errno, "can't open /newroot");
  // One pivot: pivot_root(".", ".") makes newroot "/" and stacks the host's root on top of it,
  // where the detach below removes it with everything under it (the base tmpfs included). bwrap
  // pivots twice (into the base, then into newroot) and detaches twice; each pivot walks every
  // task on the host and each detach may wait for an RCU grace period.
  if (sys::pivot_root(".", ".") != 0) {
    const int err = errno;
    if (err == EINVAL) {
      if (auto children = rootfs_children(host_root_fd))
        return move_over_rootfs(host_root_fd, *children);
    }
    return fail(step::kPivotRoot, "pivot_root", "/newroot", err, "pivot_root");
  }
  // rprivate first: on a slave tree the unmount would otherwise be a propagation event. Through
  // the fd: newroot is no longer below the host's root, so only the old tree changes, and the
  // sandbox's own mounts keep their slave propagation from the host.
  if (make_tree_private(host_root_fd) != 0) {
    return fail(step::kDetachOldRoot,
                sys::kernel_has_mount_setattr() ? "mount_setattr(MS_PRIVATE, AT_RECURSIVE)"
                                                : "mount(MS_PRIVATE|MS_REC)",
                "/oldroot", errno, "Failed to make old root rprivate");
  }
  if (umount2(".", MNT_DETACH) != 0)
    return fail(step::kDetachOldRoot, "umount2(MNT_DETACH)", "/oldroot", errno, "unmount old root");
  if (chdir("/") != 0) return fail(step::kDetachOldRoot, "chdir", "/", errno, "chdir /");
  return boost::outcome_v2::success();
}

}  // namespace boxjail
