// SPDX-License-Identifier: Apache-2.0
#include "engine/rootfs.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "engine/mounts.hpp"
#include "engine/steps.hpp"
#include "sys/syscalls.hpp"

namespace boxjail {
namespace {

Error fail(std::string_view step_name, const char* syscall, const char* path, int err,
           const char* message) {
  return sys_error(std::string(step_name), syscall, path, err, message);
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

result<UniqueFd> mount_base_tmpfs() {
  // The base directory is /tmp in the new mount namespace: it always exists and no other user can
  // pre-create or redirect it, unlike a per-user path (CVE-2019-12439). Host paths under /tmp are
  // covered from here on: every host source was opened before (resolve-sources).
  int base = new_filesystem("tmpfs", {{"mode", "0755"}}, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
  if (base < 0)
    return fail(step::kMountBaseTmpfs, "fsmount(tmpfs)", "/tmp", -base, "Failed to mount tmpfs");
  UniqueFd base_fd(base);
  UniqueFd tmp(open("/tmp", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!tmp) return fail(step::kMountBaseTmpfs, "open", "/tmp", errno, "Failed to mount tmpfs");
  if (int rc = attach(base_fd.get(), tmp.get()); rc < 0) {
    return fail(step::kMountBaseTmpfs, "move_mount", "/tmp", -rc, "Failed to mount tmpfs");
  }
  if (fchdir(base_fd.get()) != 0)
    return fail(step::kMountBaseTmpfs, "fchdir", "/tmp", errno, "Failed to enter base dir");
  if (mkdir("newroot", 0755) != 0)
    return fail(step::kMountBaseTmpfs, "mkdir", "/tmp/newroot", errno, "Creating newroot failed");
  // newroot must be a mount point of its own for pivot_root.
  if (mount("newroot", "newroot", nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return fail(step::kMountBaseTmpfs, "mount(MS_BIND)", "/tmp/newroot", errno,
                "setting up newroot bind");
  }
  // Unbindable, and only the base (newroot below it stays private, so the command can bind what
  // is in its root, nested jails included): a recursive bind of "/" or /tmp made while the host's
  // root is still "/" skips the base and everything in it, as bwrap's /oldroot holds no trace of
  // its newroot.
  if (mount(nullptr, ".", nullptr, MS_UNBINDABLE, nullptr) != 0) {
    return fail(step::kMountBaseTmpfs, "mount(MS_UNBINDABLE)", "/tmp", errno,
                "Failed to make the base tmpfs unbindable");
  }
  return base_fd;
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
  if (sys::pivot_root(".", ".") != 0)
    return fail(step::kPivotRoot, "pivot_root", "/newroot", errno, "pivot_root");
  // rprivate first: on a slave tree the unmount would otherwise be a propagation event. Through
  // the fd: newroot is no longer below the host's root, so only the old tree changes, and the
  // sandbox's own mounts keep their slave propagation from the host.
  mount_attr attr{};
  attr.propagation = MS_PRIVATE;
  if (sys::mount_setattr(host_root_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, attr) != 0) {
    return fail(step::kDetachOldRoot, "mount_setattr(MS_PRIVATE, AT_RECURSIVE)", "/oldroot", errno,
                "Failed to make old root rprivate");
  }
  if (umount2(".", MNT_DETACH) != 0)
    return fail(step::kDetachOldRoot, "umount2(MNT_DETACH)", "/oldroot", errno, "unmount old root");
  if (chdir("/") != 0) return fail(step::kDetachOldRoot, "chdir", "/", errno, "chdir /");
  return boost::outcome_v2::success();
}

}  // namespace boxjail
