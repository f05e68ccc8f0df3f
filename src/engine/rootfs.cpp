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
#include "sys/fd.hpp"
#include "sys/syscalls.hpp"

namespace boxjail {
namespace {

Error fail(std::string_view step_name, const char* syscall, const char* path, int err,
           const char* message) {
  return sys_error(std::string(step_name), syscall, path, err, message);
}

}  // namespace

result<void> enter_base_root() {
  // Slave, not private: mounts made here never propagate to the host, yet a host unmount (a USB
  // stick pulled) still reaches the sandbox instead of pinning the device.
  if (mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
    return fail(step::kMakeRootRslave, "mount(MS_SLAVE|MS_REC)", "/", errno,
                "Failed to make / slave");
  }
  // The base directory is /tmp in the new mount namespace: it always exists and no other user can
  // pre-create or redirect it, unlike a per-user path (CVE-2019-12439).
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
  // newroot must be a mount point of its own for the second pivot_root(".", ".").
  if (mount("newroot", "newroot", nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return fail(step::kMountBaseTmpfs, "mount(MS_BIND)", "/tmp/newroot", errno,
                "setting up newroot bind");
  }
  if (mkdir("oldroot", 0755) != 0)
    return fail(step::kMountBaseTmpfs, "mkdir", "/tmp/oldroot", errno, "Creating oldroot failed");
  if (sys::pivot_root(".", "oldroot") != 0)
    return fail(step::kPivotRoot, "pivot_root", "/tmp", errno, "pivot_root");
  if (chdir("/") != 0) return fail(step::kPivotRoot, "chdir", "/", errno, "chdir / (base path)");
  return boost::outcome_v2::success();
}

result<void> enter_new_root() {
  // rprivate before the detach: on a slave tree the unmount would otherwise be a propagation event.
  if (mount("oldroot", "oldroot", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return fail(step::kDetachOldRoot, "mount(MS_REC|MS_PRIVATE)", "/oldroot", errno,
                "Failed to make old root rprivate");
  }
  if (umount2("oldroot", MNT_DETACH) != 0) {
    return fail(step::kDetachOldRoot, "umount2(MNT_DETACH)", "/oldroot", errno, "unmount old root");
  }
  UniqueFd newroot(open("/newroot", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!newroot || fchdir(newroot.get()) != 0) {
    return fail(step::kPivotNewRoot, "open", "/newroot", errno, "can't open /newroot");
  }
  // pivot_root(".", ".") puts the old root (the base tmpfs) on top of the new one at "/"; the
  // detach below then removes it, leaving the sandbox tree as the only root.
  if (sys::pivot_root(".", ".") != 0)
    return fail(step::kPivotNewRoot, "pivot_root", "/newroot", errno, "pivot_root(/newroot)");
  if (umount2(".", MNT_DETACH) != 0)
    return fail(step::kPivotNewRoot, "umount2(MNT_DETACH)", "/", errno, "unmount old root");
  if (chdir("/") != 0) return fail(step::kPivotNewRoot, "chdir", "/", errno, "chdir /");
  return boost::outcome_v2::success();
}

}  // namespace boxjail
