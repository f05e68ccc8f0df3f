// SPDX-License-Identifier: Apache-2.0
#include "engine/rootfs.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

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
