// SPDX-License-Identifier: Apache-2.0
// The start-up cost of the classic mount path next to the new mount API's, on one kernel:
// `mount_path_classic` runs boxjail with the new mount API answering ENOSYS (as on a kernel before
// 5.2, so boxjail probes and takes classic mount(2)); `mount_path_new` runs it under a filter of
// the same size that denies calls boxjail never makes. Both pay the same exec and filter, so
// startup_bench's difference between them is the mount path's own (bench/mount_paths.sh).
#include <seccomp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

int main(int, char** argv) {
#ifdef BOXJAIL_BENCH_CLASSIC
  const char* calls[] = {"open_tree", "move_mount", "fsopen",       "fsconfig",
                         "fsmount",   "fspick",     "mount_setattr"};
#else
  const char* calls[] = {"kexec_load", "init_module", "finit_module", "delete_module",
                         "swapon",     "swapoff",     "acct"};
#endif
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  // As root without NO_NEW_PRIVS (a runtime's filter, which leaves setuid programs alone); an
  // unprivileged caller may install a filter only with it, and boxjail sets it anyway.
  if (!ctx || seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, geteuid() == 0 ? 0 : 1) != 0) return 126;
  for (const char* c : calls) {
    if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), seccomp_syscall_resolve_name(c), 0) != 0) {
      return 126;
    }
  }
  if (seccomp_load(ctx) != 0) return 126;
  seccomp_release(ctx);
  argv[0] = const_cast<char*>(BOXJAIL_BENCH_TARGET);
  execv(BOXJAIL_BENCH_TARGET, argv);
  std::perror(BOXJAIL_BENCH_TARGET);
  return 127;
}
