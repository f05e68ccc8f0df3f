// SPDX-License-Identifier: Apache-2.0
// Issues each call the shipped seccomp policies deny, with arguments that are harmless when the
// call is NOT filtered (bad flags, bad fds, empty paths), each in a forked child, and prints one
// line per probe: "name=OK", "name=E<errno>" or "name=SIG<signal>" when the child was killed.
// Usage: seccomp_probe [NAME...]  (no NAME: every probe)
//        seccomp_probe ptrace:PID  (PTRACE_SEIZE of PID: "ptrace=OK" or "ptrace=E<errno>")
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

long sys(long nr, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) {
  return syscall(nr, a, b, c, d, e);
}

int null_fd() { return open("/dev/null", O_RDWR | O_CLOEXEC); }

#if defined(__x86_64__)
// The 32-bit entry point from a 64-bit process. Kernels built or booted without IA32 emulation
// raise a general protection fault (SIGSEGV) instead.
long int80(long nr, long a = 0, long b = 0, long c = 0) {
  long ret;
  asm volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
  if (ret < 0 && ret > -4096) {
    errno = static_cast<int>(-ret);
    return -1;
  }
  return ret;
}
constexpr long kX32 = 0x40000000;
#endif

struct Probe {
  const char* name;
  long (*call)();
};

const Probe kProbes[] = {
    {"keyctl", [] { return sys(SYS_keyctl, 9999); }},
    {"add_key", [] { return sys(SYS_add_key, 0, 0, 0, 0, 0); }},
    {"request_key", [] { return sys(SYS_request_key, 0, 0, 0, 0); }},
    {"kexec_load", [] { return sys(SYS_kexec_load, 0, 0, 0, 0xffff0000L); }},
    {"kexec_file_load", [] { return sys(SYS_kexec_file_load, -1, -1, 0, 0, 0xffff0000L); }},
    {"bpf", [] { return sys(SYS_bpf, 9999, 0, 0); }},
    {"perf_event_open", [] { return sys(SYS_perf_event_open, 0, 0, -1, -1, 0); }},
    {"userfaultfd", [] { return sys(SYS_userfaultfd, 0xffffffffL); }},
    {"syslog", [] { return sys(SYS_syslog, 9999, 0, 0); }},
    {"uselib", [] { return sys(SYS_uselib, 0); }},
    {"acct", [] { return sys(SYS_acct, reinterpret_cast<long>("")); }},
    {"quotactl", [] { return sys(SYS_quotactl, 0, 0, 0, 0); }},
    {"mount", [] { return sys(SYS_mount, 0, 0, 0, 0, 0); }},
    {"umount2", [] { return sys(SYS_umount2, reinterpret_cast<long>(""), 0); }},
    {"pivot_root",
     [] { return sys(SYS_pivot_root, reinterpret_cast<long>(""), reinterpret_cast<long>("")); }},
    {"fsopen", [] { return sys(SYS_fsopen, reinterpret_cast<long>("nosuchfs"), 0); }},
    {"fsconfig", [] { return sys(SYS_fsconfig, -1, 0, 0, 0, 0); }},
    {"fsmount", [] { return sys(SYS_fsmount, -1, 0, 0); }},
    {"fspick", [] { return sys(SYS_fspick, -1, reinterpret_cast<long>(""), 0xffffffffL); }},
    {"open_tree", [] { return sys(SYS_open_tree, -1, reinterpret_cast<long>(""), 0xffffffffL); }},
    {"move_mount",
     [] {
       return sys(SYS_move_mount, -1, reinterpret_cast<long>(""), -1, reinterpret_cast<long>(""),
                  0xffffffffL);
     }},
    {"mount_setattr",
     [] { return sys(SYS_mount_setattr, -1, reinterpret_cast<long>(""), 0xffffffffL, 0, 0); }},
    {"unshare_user", [] { return sys(SYS_unshare, CLONE_NEWUSER); }},
    {"unshare_ipc", [] { return sys(SYS_unshare, 0); }},  // allowed: no user namespace
    {"clone_user",
     [] {
       const long pid = sys(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
       if (pid == 0) _exit(0);
       if (pid > 0) waitpid(static_cast<pid_t>(pid), nullptr, 0);
       return pid > 0 ? 0L : pid;
     }},
    {"clone3", [] { return sys(SYS_clone3, 0, 0); }},
    {"personality_noaslr", [] { return sys(SYS_personality, 0x0040000); }},
    {"personality_bit31", [] { return sys(SYS_personality, 0x80040000L); }},
    {"personality_linux32", [] { return sys(SYS_personality, 8); }},
    {"personality_query", [] { return sys(SYS_personality, 0xffffffffL); }},
    {"reboot", [] { return sys(SYS_reboot, 0, 0, 0, 0); }},
    {"init_module", [] { return sys(SYS_init_module, 0, 0, reinterpret_cast<long>("")); }},
    {"finit_module", [] { return sys(SYS_finit_module, -1, reinterpret_cast<long>(""), 0); }},
    {"delete_module", [] { return sys(SYS_delete_module, reinterpret_cast<long>(""), 0); }},
    {"open_by_handle_at", [] { return sys(SYS_open_by_handle_at, -1, 0, 0); }},
    {"ioperm", [] { return sys(SYS_ioperm, 0, 0, 0); }},
    {"settimeofday", [] { return sys(SYS_settimeofday, 0, 0); }},
    // ioctls on /dev/null: unfiltered they fail with ENOTTY, never touch a terminal.
    {"ioctl_tiocsti", [] { return sys(SYS_ioctl, null_fd(), 0x5412, 0); }},
    {"ioctl_tiocsti_high", [] { return sys(SYS_ioctl, null_fd(), 0x100005412L, 0); }},
    {"ioctl_tiocsti_high2", [] { return sys(SYS_ioctl, null_fd(), 0xffffffff00005412UL, 0); }},
    {"ioctl_tioclinux", [] { return sys(SYS_ioctl, null_fd(), 0x541C, 0); }},
    {"ioctl_tioclinux_high", [] { return sys(SYS_ioctl, null_fd(), 0x10000541CL, 0); }},
    {"ioctl_fionread",
     [] {  // allowed: on a pipe it succeeds
       int p[2];
       int n = 0;
       if (pipe(p) != 0) return -1L;
       return sys(SYS_ioctl, p[0], 0x541B, reinterpret_cast<long>(&n));
     }},
    {"ioctl_kvm", [] { return sys(SYS_ioctl, null_fd(), 0xAE00, 0); }},
    {"eventfd", [] { return sys(SYS_eventfd2, 0, 0); }},
    {"io_uring_setup", [] { return sys(SYS_io_uring_setup, 0, 0); }},
    {"getpid", [] { return sys(SYS_getpid); }},
#if defined(__x86_64__)
    {"int80_getpid", [] { return int80(20); }},         // x86 getpid
    {"int80_keyctl", [] { return int80(288, 9999); }},  // x86 keyctl
    {"x32_getpid", [] { return sys(kX32 | 39); }},
    {"x32_keyctl", [] { return sys(kX32 | 250, 9999); }},
#endif
};

void run(const Probe& p) {
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) {
    std::printf("%s=FORK%d\n", p.name, errno);
    return;
  }
  if (pid == 0) {
    errno = 0;
    const long ret = p.call();
    char line[128];
    const int n = ret < 0 ? std::snprintf(line, sizeof line, "%s=E%d\n", p.name, errno)
                          : std::snprintf(line, sizeof line, "%s=OK\n", p.name);
    if (write(1, line, static_cast<size_t>(n)) < 0) _exit(2);
    _exit(0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) std::printf("%s=SIG%d\n", p.name, WTERMSIG(status));
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  if (argc == 2 && std::strncmp(argv[1], "ptrace:", 7) == 0) {
    // Whether this process may trace PID at all: what a jailed command would need to make
    // another process of the sandbox run a call for it. The tracee is released at our exit.
    const long ret = ptrace(PTRACE_SEIZE, std::atoi(argv[1] + 7), nullptr, nullptr);
    if (ret == 0) {
      std::printf("ptrace=OK\n");
    } else {
      std::printf("ptrace=E%d\n", errno);
    }
    return 0;
  }
  for (const Probe& p : kProbes) {
    bool wanted = argc == 1;
    for (int i = 1; i < argc; ++i) wanted = wanted || std::strcmp(argv[i], p.name) == 0;
    if (wanted) run(p);
  }
  return 0;
}
