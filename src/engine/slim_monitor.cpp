// SPDX-License-Identifier: Apache-2.0
#include "engine/slim_monitor.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

extern char** environ;

namespace boxjail {
namespace {

bool parse_int(const char* s, long min, long* out) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > 0x7fffffff) return false;
  *out = v;
  return true;
}

void set_cloexec(int fd, bool on) {
  if (fd < 0) return;
  const int flags = fcntl(fd, F_GETFD);
  if (flags >= 0) fcntl(fd, F_SETFD, on ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC));
}

// What an internal entry point is given is checked, not assumed: anyone may run it directly.
bool is_signalfd(long fd) {
  char target[64] = {};
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  return readlink(link.c_str(), target, sizeof target - 1) > 0 &&
         std::string(target) == "anon_inode:[signalfd]";
}

bool is_our_child(long pid) {
  siginfo_t info{};
  return waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

}  // namespace

void shed_setup_image(const Supervised& s, int json_status_fd, const JailCgroup* cgroup) {
  const std::string wait_for = std::to_string(s.wait_for);
  const std::string child = std::to_string(s.child);
  const std::string signal_fd = std::to_string(s.signal_fd);
  const std::string json_fd = std::to_string(json_status_fd);
  // argv[0] carries our process name: exec'ing /proc/self/exe would rename us "exe", and
  // pgrep/ps users look for "boxjail" (or "bwrap").
  char comm[16] = "boxjail";
  prctl(PR_GET_NAME, comm, 0, 0, 0);
  std::vector<const char*> argv = {comm,          kSlimMonitorFlag,  wait_for.c_str(),
                                   child.c_str(), signal_fd.c_str(), json_fd.c_str()};
  // The jail's cgroup goes along, its directory holding the lock that keeps it from looking
  // stale: the slim monitor empties and removes it at the end.
  const bool with_cgroup = cgroup != nullptr && static_cast<bool>(*cgroup);
  const std::string parent_fd = with_cgroup ? std::to_string(cgroup->parent_fd()) : "";
  const std::string dir_fd = with_cgroup ? std::to_string(cgroup->fd()) : "";
  if (with_cgroup) {
    argv.insert(argv.end(), {parent_fd.c_str(), dir_fd.c_str(), cgroup->path().c_str()});
    set_cloexec(cgroup->parent_fd(), false);
    set_cloexec(cgroup->fd(), false);
  }
  argv.push_back(nullptr);
  // Only these fds cross the exec; the channel is at EOF and everything else of ours is
  // close-on-exec. The blocked signal mask and the pending signals survive execve.
  set_cloexec(s.signal_fd, false);
  // The environment passes through unchanged: the slim image reads none of it, but a sanitizer
  // build's runtime does (ASAN_OPTIONS).
  execve("/proc/self/exe", const_cast<char* const*>(argv.data()), environ);
  set_cloexec(s.signal_fd, true);
  if (with_cgroup) {
    set_cloexec(cgroup->parent_fd(), true);
    set_cloexec(cgroup->fd(), true);
  }
}

namespace {

// The cgroup fds given to the slim monitor: both directories of a cgroup v2 hierarchy, the
// second one the last component of `path` in the first.
bool is_jail_cgroup(long parent, long dir, const std::string& path) {
  struct statfs fs {};
  struct stat a {};
  struct stat b {};
  const std::string name = path.substr(path.rfind('/') + 1);
  return fstatfs(static_cast<int>(dir), &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC &&
         fstatfs(static_cast<int>(parent), &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC &&
         !name.empty() && fstat(static_cast<int>(dir), &a) == 0 && S_ISDIR(a.st_mode) &&
         fstatat(static_cast<int>(parent), name.c_str(), &b, AT_SYMLINK_NOFOLLOW) == 0 &&
         a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

}  // namespace

int slim_monitor_main(int argc, char** argv) {
  long wait_for, child, signal_fd, json_fd, parent_fd = -1, dir_fd = -1;
  const bool with_cgroup = argc == 9;
  if ((argc != 6 && !with_cgroup) || !parse_int(argv[2], 1, &wait_for) ||
      !parse_int(argv[3], 1, &child) || !parse_int(argv[4], 0, &signal_fd) ||
      !parse_int(argv[5], -1, &json_fd) || !is_signalfd(signal_fd) || !is_our_child(wait_for) ||
      (with_cgroup && (!parse_int(argv[6], 0, &parent_fd) || !parse_int(argv[7], 0, &dir_fd) ||
                       !is_jail_cgroup(parent_fd, dir_fd, argv[8])))) {
    std::fprintf(stderr, "%s: %s is boxjail's own, not for direct use\n", argv[0],
                 kSlimMonitorFlag);
    return 255;
  }
  prctl(PR_SET_NAME, argv[0], 0, 0, 0);
  set_cloexec(static_cast<int>(signal_fd), true);
  JailCgroup cgroup;
  if (with_cgroup) {
    set_cloexec(static_cast<int>(parent_fd), true);
    set_cloexec(static_cast<int>(dir_fd), true);
    cgroup = JailCgroup::adopt(argv[8], UniqueFd(static_cast<int>(parent_fd)),
                               UniqueFd(static_cast<int>(dir_fd)));
  }
  const Supervised s{
      static_cast<pid_t>(child), static_cast<pid_t>(wait_for), -1, static_cast<int>(signal_fd), {}};
  const int status = *forward_until_exit(s, -1);
  write_exit_code(static_cast<int>(json_fd), status);
  if (cgroup) print_cgroup_notes(cgroup.end());
  return status;
}

}  // namespace boxjail
