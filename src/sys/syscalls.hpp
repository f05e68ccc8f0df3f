// SPDX-License-Identifier: Apache-2.0
// Thin typed wrappers over the kernel interfaces glibc 2.36 does not wrap (or wraps late). Each
// returns the raw result and leaves errno as the kernel set it; callers turn failures into an
// Error naming their step. Nothing here decides policy.
#pragma once

#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>

namespace boxjail::sys {

// clone3 without CLONE_VM: behaves like fork() in the child (returns 0) but can create every
// namespace and a pidfd in one call, so there is no window where the child exists outside them.
inline pid_t clone3(clone_args& args) {
  return static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof(args)));
}

// clone(2) with the same flags, for kernels before 5.3 and for callers whose seccomp policy
// answers clone3 with ENOSYS (container runtimes do, since they cannot inspect its flags).
// x86_64 argument order: flags, stack, parent_tid, child_tid, tls.
inline pid_t clone_legacy(std::uint64_t flags) {
  // No CLONE_PIDFD here: clone(2) would want a pointer for it (and kernels this old lack it).
  flags &= ~static_cast<std::uint64_t>(CLONE_PIDFD);
  return static_cast<pid_t>(::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, 0));
}

inline int openat2(int dirfd, const char* path, std::uint64_t flags, std::uint64_t mode,
                   std::uint64_t resolve) {
  open_how how{};
  how.flags = flags;
  how.mode = mode;
  how.resolve = resolve;
  return static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof(how)));
}

inline int pivot_root(const char* new_root, const char* put_old) {
  return static_cast<int>(::syscall(SYS_pivot_root, new_root, put_old));
}

inline int open_tree(int dirfd, const char* path, unsigned flags) {
  return static_cast<int>(::syscall(SYS_open_tree, dirfd, path, flags));
}

inline int move_mount(int from_dirfd, const char* from_path, int to_dirfd, const char* to_path,
                      unsigned flags) {
  return static_cast<int>(
      ::syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags));
}

inline int fsopen(const char* fstype, unsigned flags) {
  return static_cast<int>(::syscall(SYS_fsopen, fstype, flags));
}

inline int fsconfig(int fsfd, unsigned cmd, const char* key, const void* value, int aux) {
  return static_cast<int>(::syscall(SYS_fsconfig, fsfd, cmd, key, value, aux));
}

inline int fsmount(int fsfd, unsigned flags, unsigned attr_flags) {
  return static_cast<int>(::syscall(SYS_fsmount, fsfd, flags, attr_flags));
}

inline int mount_setattr(int dirfd, const char* path, unsigned flags, mount_attr& attr) {
  return static_cast<int>(::syscall(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof(attr)));
}

inline int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

inline int pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

}  // namespace boxjail::sys
