// SPDX-License-Identifier: Apache-2.0
#include "engine/spawn.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/channel.hpp"
#include "engine/parent_death.hpp"
#include "engine/steps.hpp"
#include "sys/clone3_vm.hpp"
#include "sys/syscalls.hpp"

extern char** environ;

namespace boxjail {
namespace {

Error clone_failure(int err, const char* syscall = "clone3") {
  return sys_error(std::string(step::kCloneNamespaces), syscall, "", err,
                   "Creating new namespace failed");
}

// clone3, or clone(2) where clone3 is unknown (ENOSYS). `used` names the call that answered.
pid_t clone_namespaces(clone_args& args, const char** used) {
  *used = "clone3";
  const pid_t pid = sys::clone3(args);
  if (pid >= 0 || errno != ENOSYS) return pid;
  *used = "clone";
  return sys::clone_legacy(args.flags);
}

// One byte with room for SCM_CREDENTIALS: the hello the sandbox's first process sends.
struct CredMessage {
  char byte = 'H';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))] = {};
  msghdr msg{};
  CredMessage() {
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
  }
  CredMessage(const CredMessage&) = delete;
  CredMessage& operator=(const CredMessage&) = delete;
};

void send_hello(int fd) {
  CredMessage m;
  cmsghdr* cm = CMSG_FIRSTHDR(&m.msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_CREDENTIALS;
  cm->cmsg_len = CMSG_LEN(sizeof(ucred));
  ucred cred{getpid(), getuid(), getgid()};
  std::memcpy(CMSG_DATA(cm), &cred, sizeof cred);
  (void)sendmsg(fd, &m.msg, MSG_NOSIGNAL);  // if it fails the monitor reports the missing hello
}

// Whether the next record is a hello ('H'), without taking it: an Error record ('E') instead is
// left whole for channel::receive (a read of one byte would truncate it away).
bool next_is_hello(int fd) {
  char b = 0;
  ssize_t n;
  while ((n = recv(fd, &b, 1, MSG_PEEK)) < 0 && errno == EINTR) {
  }
  return n == 1 && b == 'H';
}

result<pid_t> receive_hello(int fd) {
  if (!next_is_hello(fd)) {
    return sys_error(std::string(step::kCloneNamespaces), "recvmsg", "", EPROTO,
                     "The sandbox's first process did not report its pid");
  }
  CredMessage m;
  m.byte = 0;
  ssize_t n;
  do {
    n = recvmsg(fd, &m.msg, 0);
  } while (n < 0 && errno == EINTR);
  if (n == 1 && m.byte == 'H') {
    for (cmsghdr* cm = CMSG_FIRSTHDR(&m.msg); cm; cm = CMSG_NXTHDR(&m.msg, cm)) {
      if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS) {
        ucred cred;
        std::memcpy(&cred, CMSG_DATA(cm), sizeof cred);
        return cred.pid;
      }
    }
  }
  return sys_error(std::string(step::kCloneNamespaces), "recvmsg", "", n < 0 ? errno : EPROTO,
                   "The sandbox's first process did not report its pid");
}

// The child's stack when it shares our memory: its own, so our frames stay intact while it runs.
// 2 MiB reserved, touched only as deep as the setup goes; the lowest page is a guard, so an
// overflow faults instead of writing over whatever lies below.
constexpr size_t kChildStackSize = 2 << 20;
constexpr size_t kGuardSize = 4096;

int run_child_main(void* child_main) {
  (*static_cast<const std::function<void()>*>(child_main))();
  return 127;  // child_main execs or exits; never reached
}

// Returns the child's pid once it has exec'd or exited, -1 with errno when clone3 failed, or
// -2 when no stack could be had (the caller then clones without sharing).
pid_t clone_sharing_memory(clone_args args, const std::function<void()>& child_main) {
  void* stack = mmap(nullptr, kChildStackSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return -2;
  if (mprotect(stack, kGuardSize, PROT_NONE) != 0) {
    munmap(stack, kChildStackSize);
    return -2;
  }
  args.flags |= CLONE_VM | CLONE_VFORK;
  args.stack = reinterpret_cast<std::uint64_t>(stack);
  args.stack_size = kChildStackSize;
  char** const our_environ = environ;
  const pid_t pid =
      sys::clone3_vm(args, run_child_main, const_cast<std::function<void()>*>(&child_main));
  const int err = errno;
  // The child pointed environ at the command's environment, in the memory it shared with us.
  environ = our_environ;
  munmap(stack, kChildStackSize);
  errno = err;
  return pid;
}

}  // namespace

result<Spawned> spawn_sandbox(std::uint64_t flags, bool via_intermediate, bool die_with_parent,
                              bool share_memory, int monitor_end, int child_end, int cgroup_fd,
                              const std::function<void()>& child_main) {
  clone_args args{};
  if (cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<std::uint64_t>(cgroup_fd);
  }
  // A pidfd in the same call: the monitor (or a library caller) watches and signals the sandbox
  // through it, never through a pid that may have been recycled.
  int pidfd = -1;
  args.flags |= flags | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);
  // With CLONE_PARENT clone3 wants none (EINVAL otherwise): the child gets our own exit signal
  // (SIGCHLD), the one our parent expects from its children.
  args.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
  const char* used = "clone3";
  if (!via_intermediate && share_memory && sys::kHaveClone3Vm) {
    const pid_t pid = clone_sharing_memory(args, child_main);
    if (pid >= 0) return Spawned{pid, pid, pidfd};
    // ENOSYS (no clone3) and no stack: the fork-like clone below.
    if (pid == -1 && errno != ENOSYS) return clone_failure(errno, used);
  }
  if (!via_intermediate) {
    pid_t pid = clone_namespaces(args, &used);
    if (pid < 0) return clone_failure(errno, used);
    if (pid == 0) child_main();
    return Spawned{pid, pid, pidfd};
  }
  args.flags &= ~static_cast<std::uint64_t>(CLONE_PIDFD);
  args.pidfd = 0;
  int on = 1;
  if (setsockopt(monitor_end, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) {
    return clone_failure(errno);
  }
  const pid_t monitor = getpid();
  pid_t middle = fork();
  if (middle < 0) return clone_failure(errno);
  if (middle == 0) {
    if (die_with_parent) boxjail::die_with_parent(monitor);
    pid_t pid = clone_namespaces(args, &used);
    if (pid == 0) {
      send_hello(child_end);
      child_main();
    }
    if (cgroup_fd >= 0) close(cgroup_fd);
    if (pid < 0) {
      channel::send_error(child_end, clone_failure(errno, used));
      _exit(1);
    }
    // Signals go from the monitor straight to the sandbox; this process only passes on its status.
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  auto pid = receive_hello(monitor_end);
  if (!pid) {
    // No hello: the intermediate sent the clone3 error record instead, or died.
    int status = 0;
    while (waitpid(middle, &status, 0) < 0 && errno == EINTR) {
    }
    auto msg = channel::receive(monitor_end);
    if (msg && msg.value() && msg.value()->kind == channel::Kind::Fail) return msg.value()->error;
    return pid.error();
  }
  // The intermediate is our child: its pidfd (kernel 5.3+) cannot name a recycled pid either.
  return Spawned{middle, pid.value(), sys::pidfd_open(middle)};
}

}  // namespace boxjail
