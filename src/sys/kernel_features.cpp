// SPDX-License-Identifier: Apache-2.0
#include "sys/kernel_features.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>

#include "sys/fd.hpp"

namespace boxjail::sys {
namespace {

// A call given only invalid fds fails with EBADF (or EINVAL) where the kernel has it.
bool has(long rc) { return rc == 0 || errno != ENOSYS; }

KernelFeatures probe() {
  KernelFeatures f;
  mount_attr attr{};
  const bool setattr = has(::syscall(SYS_mount_setattr, -1, "", AT_EMPTY_PATH, &attr, sizeof attr));
  f.new_mount_api = has(::syscall(SYS_open_tree, -1, "", AT_EMPTY_PATH)) &&
                    has(::syscall(SYS_move_mount, -1, "", -1, "", 0)) &&
                    has(::syscall(SYS_fsopen, "", 0)) && has(::syscall(SYS_fsmount, -1, 0, 0));
  f.mount_setattr = f.new_mount_api && setattr;
  open_how how{};
  f.openat2 = has(::syscall(SYS_openat2, -1, "", &how, sizeof how));
  f.faccessat2 = has(::syscall(SYS_faccessat2, -1, "", 0, AT_EMPTY_PATH));
  // Closes nothing: the range is empty of fds (the highest ones), and EINVAL for first > last.
  f.close_range = has(::syscall(SYS_close_range, ~0U, 0U, 0));
  return f;
}

}  // namespace

const KernelFeatures& kernel_features() {
  static const KernelFeatures features = probe();
  return features;
}

const char* access_fd(int fd, int mode, int* err) {
  if (kernel_features().faccessat2) {
    *err = ::syscall(SYS_faccessat2, fd, "", mode, AT_EMPTY_PATH) == 0 ? 0 : errno;
    return "faccessat2";
  }
  *err = ::faccessat(AT_FDCWD, fd_path(fd).c_str(), mode, 0) == 0 ? 0 : errno;
  return "faccessat";
}

std::string kernel_release() {
  utsname u{};
  return uname(&u) == 0 ? u.release : "unknown";
}

std::string mount_path_description() {
  const KernelFeatures& f = kernel_features();
  if (f.mount_setattr) {
    return "the new mount API (open_tree, fsmount, mount_setattr, move_mount; Linux " +
           kernel_release() + ")";
  }
  return "classic mount(2), staged: this kernel (" + kernel_release() + ") has no " +
         (f.new_mount_api ? std::string("mount_setattr (Linux 5.12+)")
                          : std::string("new mount API (Linux 5.2+, mount_setattr 5.12+)"));
}

}  // namespace boxjail::sys
