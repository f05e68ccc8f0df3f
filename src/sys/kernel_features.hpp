// SPDX-License-Identifier: Apache-2.0
// What this kernel offers of the interfaces the engine prefers, probed once per process with
// calls that cannot do anything (invalid fds): ENOSYS means the kernel (or a seccomp filter of the
// caller's, which a container runtime may install) lacks the call. The engine then takes the
// older way for the whole run, never a mix decided step by step.
#pragma once

#include <string>

namespace boxjail::sys {

struct KernelFeatures {
  bool new_mount_api = false;  // open_tree, move_mount, fsopen/fsmount (5.2), mount_setattr (5.12)
  bool mount_setattr = false;  // 5.12: without it the new API cannot set a bind's flags
  bool openat2 = false;        // 5.6: RESOLVE_IN_ROOT
  bool faccessat2 = false;     // 5.8: access checks on an fd
  bool close_range = false;    // 5.9
};

const KernelFeatures& kernel_features();

// Whether mounts take the new API (all of it, mount_setattr included) or classic mount(2).
inline bool kernel_has_mount_setattr() { return kernel_features().mount_setattr; }

// access(2) by the real ids on the very inode `fd` names (an O_PATH fd included): faccessat2
// with AT_EMPTY_PATH where the kernel has it (5.8), else faccessat on the fd's magic link, which
// the kernel follows to the same inode. Returns the name of the call made; sets *err (0 on
// success).
const char* access_fd(int fd, int mode, int* err);

// One line for --version and doctor: which mount path this kernel gets and, for the classic
// one, which call it lacks.
std::string mount_path_description();

// The running kernel's release ("5.10.0-28-amd64").
std::string kernel_release();

}  // namespace boxjail::sys
