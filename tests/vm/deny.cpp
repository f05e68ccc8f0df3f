// SPDX-License-Identifier: Apache-2.0
// vm_deny CALL[,CALL...] UID PROGRAM [ARGS...]: runs PROGRAM as UID (0 keeps root) with each
// CALL answering ENOSYS, as on a kernel that lacks it. The filter is installed as root without
// NO_NEW_PRIVS (as a container runtime's is), then the ids are dropped, so a setuid program such
// as boxjail-suid still gains its privilege under it. The VM stage's old-kernel scenario uses it
// to take a real 5.10 further back (statx without the mount id, no openat2...). Static: the
// guest has no libseccomp.
#include <grp.h>
#include <seccomp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: vm_deny CALL[,CALL...] UID PROGRAM [ARGS...]\n");
    return 2;
  }
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx || seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) != 0) return 126;
  std::istringstream calls(argv[1]);
  for (std::string call; std::getline(calls, call, ',');) {
    const int nr = seccomp_syscall_resolve_name(call.c_str());
    if (nr == __NR_SCMP_ERROR || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0) != 0) {
      std::fprintf(stderr, "vm_deny: cannot deny %s\n", call.c_str());
      return 126;
    }
  }
  if (seccomp_load(ctx) != 0) {
    std::perror("vm_deny: seccomp_load");
    return 126;
  }
  seccomp_release(ctx);
  const auto uid = static_cast<uid_t>(std::strtoul(argv[2], nullptr, 10));
  if (uid != 0 && (setgroups(0, nullptr) != 0 || setresgid(uid, uid, uid) != 0 ||
                   setresuid(uid, uid, uid) != 0)) {
    std::perror("vm_deny: dropping to the uid");
    return 126;
  }
  execv(argv[3], argv + 3);
  std::perror(argv[3]);
  return 127;
}
