// SPDX-License-Identifier: Apache-2.0
#include "engine/identity.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "engine/steps.hpp"
#include "sys/decimal.hpp"
#include "sys/fd.hpp"
#include "sys/file_at.hpp"

namespace boxjail {
namespace {

using sys::write_file_at;

unsigned overflow_id(const char* path) {
  UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
  char buf[16] = {};
  if (!fd || read(fd.get(), buf, sizeof buf - 1) <= 0) return 65534;
  return static_cast<unsigned>(std::strtoul(buf, nullptr, 10));
}

std::string map_text(unsigned inside, unsigned outside, bool overflow_root, const char* overflow) {
  std::string text;
  // A caller whose own id is the overflow id cannot have 0 mapped there too (the kernel refuses
  // overlapping extents): 0 stays unmapped, and devpts then says so itself.
  const unsigned overflow_value = overflow_id(overflow);
  if (overflow_root && inside != 0 && outside != 0 && outside != overflow_value) {
    text = "0 " + std::to_string(overflow_value) + " 1\n";
  }
  return text + std::to_string(inside) + " " + std::to_string(outside) + " 1\n";
}

// The id ranges of this process's own user namespace, each mapped onto itself. At most 340
// lines (the kernel's limit), each of three numbers.
result<std::string> identity_of_own_map(const char* path) {
  UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) return sys_error(std::string(step::kLockUserns), "open", path, errno, "Can't read");
  std::string text(std::size_t{64} * 1024, '\0');
  const ssize_t n = read(fd.get(), text.data(), text.size());
  if (n < 0) return sys_error(std::string(step::kLockUserns), "read", path, errno, "Can't read");
  text.resize(static_cast<size_t>(n));
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = text.find('\n', at);
    // The kernel's own format: three decimal numbers separated by blanks.
    std::vector<std::uint64_t> fields;
    std::string_view line = std::string_view(text).substr(at, end - at);
    while (!line.empty()) {
      const std::size_t start = line.find_first_not_of(' ');
      if (start == std::string_view::npos) break;
      line.remove_prefix(start);
      const std::size_t len = std::min(line.find(' '), line.size());
      if (auto v = sys::parse_decimal(line.substr(0, len))) fields.push_back(*v);
      line.remove_prefix(len);
    }
    if (fields.size() == 3) {
      out += std::to_string(fields[0]) + " " + std::to_string(fields[0]) + " " +
             std::to_string(fields[2]) + "\n";
    }
    if (end == std::string::npos) break;
    at = end + 1;
  }
  if (out.empty()) {
    return sys_error(std::string(step::kLockUserns), "read", path, EINVAL, "No id is mapped");
  }
  return out;
}

result<void> write_identity_maps_here(int proc_pid, const std::string& dir) {
  for (const char* name : {"uid_map", "gid_map"}) {
    BOOST_OUTCOME_TRY(map, identity_of_own_map((std::string("/proc/self/") + name).c_str()));
    if (int rc = write_file_at(proc_pid, name, map); rc != 0) {
      return sys_error(std::string(step::kLockUserns), "write", dir + "/" + name, rc,
                       "Can't map the lock user namespace");
    }
  }
  return boost::outcome_v2::success();
}

bool same_namespace(int a, int b) {
  struct stat sa, sb;
  return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_ino == sb.st_ino &&
         sa.st_dev == sb.st_dev;
}

}  // namespace

result<void> write_id_maps(int proc_pid_dir, uid_t inside_uid, uid_t outside_uid, gid_t inside_gid,
                           gid_t outside_gid, bool deny_setgroups, bool overflow_root,
                           const std::vector<gid_t>& extra_gids) {
  // The kernel only lets an unprivileged writer map its own gid once setgroups is denied, or a
  // dropped supplementary group could be regained (CVE-2014-8989). ENOENT: a pre-3.19 kernel.
  if (deny_setgroups) {
    if (int rc = write_file_at(proc_pid_dir, "setgroups", "deny\n"); rc != 0 && rc != ENOENT) {
      auto e = sys_error(std::string(step::kWriteSetgroups), "write", "/proc/self/setgroups", rc,
                         "error writing to setgroups");
      return e;
    }
  }
  const std::string uid_map =
      map_text(inside_uid, outside_uid, overflow_root, "/proc/sys/kernel/overflowuid");
  if (int rc = write_file_at(proc_pid_dir, "uid_map", uid_map); rc != 0) {
    return sys_error(std::string(step::kWriteUidMap), "write", "/proc/self/uid_map", rc,
                     "setting up uid map");
  }
  std::string gid_map =
      map_text(inside_gid, outside_gid, overflow_root, "/proc/sys/kernel/overflowgid");
  // Each group onto itself, unless its number inside is taken already (the kernel refuses
  // overlapping extents): then it stays unmapped, and the drop's check of the groups says so.
  const unsigned overflow_gid = overflow_id("/proc/sys/kernel/overflowgid");
  std::vector<gid_t> mapped;
  for (gid_t g : extra_gids) {
    const bool taken = g == inside_gid || g == outside_gid ||
                       (overflow_root && (g == 0 || g == overflow_gid)) ||
                       std::find(mapped.begin(), mapped.end(), g) != mapped.end();
    if (taken) continue;
    mapped.push_back(g);
    gid_map += std::to_string(g) + " " + std::to_string(g) + " 1\n";
  }
  if (int rc = write_file_at(proc_pid_dir, "gid_map", gid_map); rc != 0) {
    return sys_error(std::string(step::kWriteGidMap), "write", "/proc/self/gid_map", rc,
                     "setting up gid map");
  }
  return boost::outcome_v2::success();
}

result<void> write_identity_maps(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  auto failed = [&](const char* call, const std::string& path) {
    return sys_error(std::string(step::kLockUserns), call, path, errno,
                     "Can't map the lock user namespace");
  };
  UniqueFd proc_pid(open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!proc_pid) return failed("open", dir);
  UniqueFd userns(openat(proc_pid.get(), "ns/user", O_RDONLY | O_CLOEXEC));
  if (!userns) return failed("open", dir + "/ns/user");
  UniqueFd parent(ioctl(userns.get(), NS_GET_PARENT));
  if (!parent) return failed("ioctl(NS_GET_PARENT)", dir + "/ns/user");
  UniqueFd own(open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC));
  if (!own) return failed("open", "/proc/self/ns/user");
  if (same_namespace(parent.get(), own.get())) return write_identity_maps_here(proc_pid.get(), dir);
  // The jail made a user namespace of its own first (--unshare-user): only a process inside it
  // may write the maps of a namespace below it, and only that namespace's ids are to be mapped.
  // A forked writer joins it (root over its owner may) and reports its outcome on a pipe.
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return failed("pipe2", "");
  UniqueFd rd(fds[0]), wr(fds[1]);
  const pid_t writer = fork();
  if (writer < 0) return failed("fork", "");
  if (writer == 0) {
    rd.reset();
    auto r = setns(parent.get(), CLONE_NEWUSER) == 0 ? write_identity_maps_here(proc_pid.get(), dir)
                                                     : failed("setns(CLONE_NEWUSER)", "");
    if (!r) {
      const std::string record = serialize(r.error(), 4096);
      (void)!write(wr.get(), record.data(), record.size());
    }
    _exit(r ? 0 : 1);
  }
  wr.reset();
  std::string record(8192, '\0');
  ssize_t n;
  do {
    n = read(rd.get(), record.data(), record.size());
  } while (n < 0 && errno == EINTR);
  int status = 0;
  while (waitpid(writer, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return boost::outcome_v2::success();
  if (n > 0) {
    record.resize(static_cast<size_t>(n));
    BOOST_OUTCOME_TRY(parsed, deserialize(record));
    return parsed.error;
  }
  errno = ECHILD;
  return failed("waitpid", "");
}

result<void> loopback_up() {
  UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock)
    return sys_error(std::string(step::kLoopbackUp), "socket", "lo", errno,
                     "loopback: Failed to create socket");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(sock.get(), SIOCGIFFLAGS, &ifr) != 0) {
    return sys_error(std::string(step::kLoopbackUp), "ioctl(SIOCGIFFLAGS)", "lo", errno,
                     "loopback: Failed to look up lo");
  }
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(sock.get(), SIOCSIFFLAGS, &ifr) != 0) {
    return sys_error(std::string(step::kLoopbackUp), "ioctl(SIOCSIFFLAGS)", "lo", errno,
                     "loopback: Failed to bring up lo");
  }
  return boost::outcome_v2::success();
}

result<void> set_hostname(const std::string& name) {
  if (sethostname(name.data(), name.size()) != 0) {
    return sys_error(std::string(step::kSetHostname), "sethostname", "", errno,
                     "Can't set hostname to " + name);
  }
  return boost::outcome_v2::success();
}

std::uint64_t effective_caps() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &hdr, data) != 0) return 0;
  return (static_cast<std::uint64_t>(data[1].effective) << 32) | data[0].effective;
}

result<void> drop_capabilities(std::uint64_t keep, bool ambient) {
  // Raw prctl/capset rather than libcap-ng's capng_apply, which reads /proc/PID/status twice
  // first: this runs in every jail's child, on its start-up path.
  auto failed = [](const char* call) {
    return sys_error(std::string(step::kDropCapabilities), call, "", errno,
                     "Failed to drop capabilities");
  };
  // Bounding set first, while CAP_SETPCAP is still effective: one prctl per capability, DROP
  // for those that go, READ for those kept; EINVAL marks the first capability this kernel does
  // not know, and bits from there on (--cap-add ALL names them all) mean nothing here.
  int known = 64;
  for (int cap = 0; cap < 64; ++cap) {
    const bool kept = (keep >> cap) & 1;
    if (prctl(kept ? PR_CAPBSET_READ : PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      if (errno != EINVAL) return failed("prctl(PR_CAPBSET_DROP)");
      known = cap;
      break;
    }
  }
  if (known < 64) keep &= (std::uint64_t{1} << known) - 1;
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  for (int i = 0; i < 2; ++i) {
    const auto word = static_cast<std::uint32_t>(keep >> (32 * i));
    data[i].effective = data[i].permitted = word;
    data[i].inheritable = ambient ? word : 0;
  }
  if (syscall(SYS_capset, &hdr, data) != 0) return failed("capset");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return failed("prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
  }
  if (ambient) {
    // Ambient capabilities survive execve for a non-root uid: how --cap-add reaches the command.
    for (int cap = 0; cap < known; ++cap) {
      if (((keep >> cap) & 1) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
        return failed("prctl(PR_CAP_AMBIENT_RAISE)");
      }
    }
  }
  return boost::outcome_v2::success();
}

}  // namespace boxjail
