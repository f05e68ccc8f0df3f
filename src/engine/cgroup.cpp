// SPDX-License-Identifier: Apache-2.0
#include "engine/cgroup.hpp"

#include <boxjail/cgroup_limits.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/log.hpp"
#include "engine/steps.hpp"
#include "sys/clone3_vm.hpp"
#include "sys/file_at.hpp"
#include "sys/mountinfo.hpp"
#include "sys/read_all.hpp"
#include "sys/syscalls.hpp"

namespace boxjail {
namespace {

constexpr std::string_view kPrefix = "boxjail-";
constexpr std::size_t kNameHexDigits = 16;
// How long the end waits for the killed processes to be gone (they exit at once; a process in
// uninterruptible sleep on a hung device may not).
constexpr int kEmptyTimeoutMs = 10000;

Error cgroup_error(std::string syscall, std::string path, int err, std::string message) {
  return sys_error(std::string(step::kCgroup), std::move(syscall), std::move(path), err,
                   std::move(message));
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const std::size_t at = text.find(sep);
    if (at != 0) out.push_back(text.substr(0, at));
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + 1);
  }
  return out;
}

using sys::read_file_at;
using sys::write_file_at;

// "KEY VALUE" lines (cpu.stat, memory.events, cgroup.events): the value of KEY.
std::optional<std::uint64_t> keyed_value(const std::string& text, std::string_view key) {
  for (std::string_view line : split(text, '\n')) {
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ' ') {
      const std::string_view v = line.substr(key.size() + 1);
      std::uint64_t out = 0;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
      if (ec == std::errc()) return out;
    }
  }
  return std::nullopt;
}

std::optional<std::uint64_t> number_in(int dir, const char* file, std::string_view key = {}) {
  const auto text = read_file_at(dir, file);
  if (!text) return std::nullopt;
  if (!key.empty()) return keyed_value(*text, key);
  std::uint64_t out = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), out);
  if (ec != std::errc()) return std::nullopt;
  return out;
}

// ---- Where the hierarchy is ----

using Mount = sys::MountInfo;

// Every cgroup and cgroup2 mount of /proc/self/mountinfo.
std::vector<Mount> cgroup_mounts() {
  std::vector<Mount> out;
  auto mounts = sys::read_mountinfo(AT_FDCWD, "/proc/self/mountinfo");
  if (!mounts) return out;
  for (auto& m : *mounts) {
    if (m.fstype == "cgroup" || m.fstype == "cgroup2") out.push_back(std::move(m));
  }
  return out;
}

// Where a v1 hierarchy holds `controller`, or "".
std::string v1_mount_of(const std::vector<Mount>& mounts, std::string_view controller) {
  for (const auto& m : mounts) {
    if (m.fstype != "cgroup") continue;
    for (std::string_view opt : split(m.super_options, ',')) {
      if (opt == controller) return m.point;
    }
  }
  return {};
}

struct Hierarchy {
  std::string mount_point;
  std::string mount_root;  // what of the hierarchy the mount shows (a container's: its own part)
  UniqueFd root;
  std::vector<Mount> mounts;  // every cgroup mount, for the errors
};

result<Hierarchy> find_hierarchy() {
  Hierarchy h;
  h.mounts = cgroup_mounts();
  for (const auto& m : h.mounts) {
    if (m.fstype == "cgroup2") {
      h.mount_point = m.point;
      h.mount_root = m.root;
      break;
    }
  }
  if (h.mount_point.empty()) {
    std::string v1;
    for (const auto& m : h.mounts) v1 += (v1.empty() ? "" : ", ") + m.point;
    Error e = cgroup_error(
        "open", "/proc/self/mountinfo", ENOENT,
        v1.empty() ? "No cgroup hierarchy is mounted here"
                   : "This host has no cgroup v2 hierarchy, only cgroup v1 (" + v1 + ")");
    e.evidence.emplace_back("cgroup.v1", v1);
    return e;
  }
  h.root.reset(open(h.mount_point.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!h.root) {
    return cgroup_error("open", h.mount_point, errno, "Can't open the cgroup v2 hierarchy");
  }
  return h;
}

// The caller's own cgroup, from /proc/self/cgroup's "0::PATH" line.
result<std::string> own_cgroup() {
  UniqueFd fd(open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC));
  std::string text;
  if (!fd || sys::read_all(fd.get(), text, 1 << 20) != 0) {
    return cgroup_error("open", "/proc/self/cgroup", errno, "Can't read our own cgroup");
  }
  for (std::string_view line : split(text, '\n')) {
    if (line.substr(0, 3) == "0::") return std::string(line.substr(3));
  }
  return cgroup_error("read", "/proc/self/cgroup", ENOENT,
                      "This process is in no cgroup v2 cgroup");
}

// A hierarchy path (as /proc/self/cgroup writes it) as a path below the mount ("/" for the
// mount's root), or nullopt when the mount does not show it.
std::optional<std::string> below_mount(const Hierarchy& h, const std::string& path) {
  const std::string& root = h.mount_root;
  if (root.empty() || root == "/") return path;
  if (path == root) return std::string("/");
  if (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
      path[root.size()] == '/') {
    return path.substr(root.size());
  }
  return std::nullopt;
}

std::string owner_of(int dir, const char* name) {
  struct stat st;
  if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW | (name[0] ? 0 : AT_EMPTY_PATH)) != 0) {
    return "unknown owner";
  }
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
  return "owned by " + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid) + ", mode " +
         mode;
}

std::string who_am_i() {
  return "uid " + std::to_string(geteuid()) + ", gid " + std::to_string(getegid());
}

// Walks `rel` ("a/b") from `root`, one component at a time, never following a link.
result<UniqueFd> open_below(int root, const std::string& rel, const std::string& shown) {
  UniqueFd cur(fcntl(root, F_DUPFD_CLOEXEC, 0));
  for (std::string_view part : split(rel, '/')) {
    const std::string name(part);
    UniqueFd next(openat(cur.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) {
      const int err = errno;
      return cgroup_error(
          "openat", shown, err,
          err == ENOENT ? "The cgroup parent does not exist" : "Can't open the cgroup parent");
    }
    cur = std::move(next);
  }
  return cur;
}

// The longest common cgroup ancestor of two absolute hierarchy paths.
std::string common_ancestor(const std::string& a, const std::string& b) {
  const auto pa = split(a, '/');
  const auto pb = split(b, '/');
  std::string out;
  for (std::size_t i = 0; i < pa.size() && i < pb.size() && pa[i] == pb[i]; ++i) {
    out.append("/").append(pa[i]);
  }
  return out.empty() ? "/" : out;
}

std::string random_name() {
  std::array<unsigned char, kNameHexDigits / 2> bytes{};
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name(kPrefix);
  for (unsigned char b : bytes) {
    name.push_back(kHex[b >> 4]);
    name.push_back(kHex[b & 15]);
  }
  return name;
}

bool is_jail_name(std::string_view name) {
  if (name.size() != kPrefix.size() + kNameHexDigits || name.substr(0, kPrefix.size()) != kPrefix) {
    return false;
  }
  for (char c : name.substr(kPrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Kills every process below `dir` and waits until none is left. Returns 0 or the errno.
int kill_all(int dir) {
  if (const int err = write_file_at(dir, "cgroup.kill", "1"); err == ENOENT) {
    // Before 5.14: freeze, so that nothing forks behind the loop, kill each, thaw (a frozen
    // process does not die until thawed). Without cgroup.freeze (before 5.2) the loop repeats
    // until a read finds nobody.
    const bool frozen = write_file_at(dir, "cgroup.freeze", "1") == 0;
    for (int round = 0; round < 100; ++round) {
      const auto procs = read_file_at(dir, "cgroup.procs");
      if (!procs) return errno;
      bool any = false;
      for (std::string_view line : split(*procs, '\n')) {
        int pid = 0;
        if (std::from_chars(line.data(), line.data() + line.size(), pid).ec == std::errc() &&
            pid > 0) {
          kill(pid, SIGKILL);
          any = true;
        }
      }
      if (!any || frozen) break;
    }
    if (frozen) write_file_at(dir, "cgroup.freeze", "0");
  } else if (err != 0) {
    return err;
  }
  // cgroup.events says "populated 0" once the last process has exited; a change wakes poll with
  // POLLPRI.
  UniqueFd events(openat(dir, "cgroup.events", O_RDONLY | O_CLOEXEC));
  if (!events) return errno;
  for (int waited = 0;; waited += 50) {
    char buf[256];
    const ssize_t n = pread(events.get(), buf, sizeof buf - 1, 0);
    if (n < 0) return errno;
    if (keyed_value(std::string(buf, static_cast<std::size_t>(n)), "populated") == 0U) return 0;
    if (waited >= kEmptyTimeoutMs) return EBUSY;
    pollfd p{events.get(), POLLPRI, 0};
    poll(&p, 1, 50);
  }
}

// A jail's cgroup whose lock nobody holds belongs to a monitor that is gone (killed with
// SIGKILL, or its machine's power cut before a reboot kept the hierarchy): its processes are
// killed and it is removed, as that monitor would have done.
void remove_stale_jails(int parent, const std::string& parent_path) {
  UniqueFd scan(openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  DIR* d = scan ? fdopendir(scan.get()) : nullptr;
  if (!d) return;
  scan.release();
  std::vector<std::string> stale;
  while (const dirent* e = readdir(d)) {
    if (e->d_type == DT_DIR && is_jail_name(e->d_name)) stale.emplace_back(e->d_name);
  }
  closedir(d);
  for (const auto& name : stale) {
    UniqueFd dir(openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    // Someone else's (no permission) or alive (locked): not ours to touch.
    if (!dir || flock(dir.get(), LOCK_EX | LOCK_NB) != 0) continue;
    const int killed = kill_all(dir.get());
    const bool removed = killed == 0 && unlinkat(parent, name.c_str(), AT_REMOVEDIR) == 0;
    BOXJAIL_LOG(Info, "cgroup: stale " + parent_path + "/" + name +
                          (removed ? " removed"
                                   : std::string(" not removed: ") +
                                         std::strerror(killed ? killed : errno)));
  }
}

// The controllers the limits need, by the files that carry them.
std::vector<std::string_view> controllers_for(const CgroupRequest& r) {
  std::vector<std::string_view> out;
  if (r.memory_max || r.memory_swap_max) out.push_back("memory");
  if (r.pids_max) out.push_back("pids");
  if (r.cpu_max || r.cpu_weight) out.push_back("cpu");
  if (!r.io_max.empty()) out.push_back("io");
  return out;
}

bool listed(const std::string& words, std::string_view word) {
  for (std::string_view w : split(words, ' ')) {
    if (w == word ||
        (w.size() == word.size() + 1 && w.substr(0, word.size()) == word && w.back() == '\n')) {
      return true;
    }
  }
  return false;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Turns on in the parent's cgroup.subtree_control each controller a limit needs, so that the
// jail's cgroup has its files. One the parent is not offered is an error naming where it went.
result<void> enable_controllers(const CgroupRequest& request, const Hierarchy& h, int parent,
                                const std::string& parent_file) {
  const auto wanted = controllers_for(request);
  if (wanted.empty()) return boost::outcome_v2::success();
  const auto enabled = read_file_at(parent, "cgroup.subtree_control");
  const auto offered = read_file_at(parent, "cgroup.controllers");
  if (!enabled || !offered) {
    return cgroup_error("open", parent_file + "/cgroup.controllers", errno,
                        "Can't read the parent's controllers");
  }
  for (std::string_view c : wanted) {
    if (listed(*enabled, c)) continue;
    if (!listed(*offered, c)) {
      const std::string v1 = v1_mount_of(h.mounts, c);
      Error e = cgroup_error(
          "open", parent_file + "/cgroup.controllers", ENOTSUP,
          "The " + std::string(c) + " controller is not available in the cgroup parent" +
              (v1.empty() ? " (its cgroup.controllers: \"" + trimmed(*offered) +
                                "\"; enable it in the cgroup.subtree_control of each cgroup above)"
                          : ": it is bound to the cgroup v1 hierarchy at " + v1 +
                                " (boot with systemd.unified_cgroup_hierarchy=1 or "
                                "cgroup_no_v1=all to give it to cgroup v2)"));
      e.evidence.emplace_back("cgroup.controllers", trimmed(*offered));
      if (!v1.empty()) e.evidence.emplace_back("cgroup.v1", v1);
      return e;
    }
    const std::string file = parent_file + "/cgroup.subtree_control";
    if (const int err = write_file_at(parent, "cgroup.subtree_control", "+" + std::string(c));
        err != 0) {
      std::string why = "Can't enable the " + std::string(c) + " controller for the jails";
      if (err == EBUSY) {
        why +=
            " (the parent has processes of its own: cgroup v2 enables controllers only "
            "for cgroups whose processes live in leaves; move them into a child cgroup)";
      } else if (err == EACCES || err == EPERM) {
        why += " (" + file + " is " + owner_of(parent, "cgroup.subtree_control") + "; this is " +
               who_am_i() + ")";
      }
      return cgroup_error("write", file, err, why);
    }
  }
  return boost::outcome_v2::success();
}

result<void> write_limits(const CgroupRequest& r, int dir, const std::string& shown) {
  std::vector<std::pair<const char*, std::string>> writes;
  if (r.memory_max) writes.emplace_back("memory.max", cgroup_value_text(*r.memory_max));
  if (r.memory_swap_max) {
    writes.emplace_back("memory.swap.max", cgroup_value_text(*r.memory_swap_max));
  }
  if (r.pids_max) writes.emplace_back("pids.max", cgroup_value_text(*r.pids_max));
  if (r.cpu_max) writes.emplace_back("cpu.max", cgroup_cpu_max_text(*r.cpu_max));
  if (r.cpu_weight) writes.emplace_back("cpu.weight", std::to_string(*r.cpu_weight));
  for (const auto& line : r.io_max) writes.emplace_back("io.max", line);
  for (const auto& [file, value] : writes) {
    if (const int err = write_file_at(dir, file, value); err != 0) {
      Error e = cgroup_error("write", shown + "/" + file, err,
                             "Can't set " + std::string(file) + " to \"" + value + "\"");
      if (err == ENOENT && std::string_view(file) == "memory.swap.max") {
        e.message += " (this kernel has no swap accounting: swapaccount=1 on older kernels)";
      }
      return e;
    }
  }
  return boost::outcome_v2::success();
}

}  // namespace

JailCgroup& JailCgroup::operator=(JailCgroup&& o) noexcept {
  if (this != &o) {
    if (dir_ && !ended_) end();
    path_ = std::move(o.path_);
    name_ = std::move(o.name_);
    parent_ = std::move(o.parent_);
    dir_ = std::move(o.dir_);
    ended_ = std::exchange(o.ended_, true);
    usage_ = std::move(o.usage_);
  }
  return *this;
}

JailCgroup::~JailCgroup() {
  if (dir_ && !ended_) end();
}

result<JailCgroup> JailCgroup::create(const CgroupRequest& request) {
  BOOST_OUTCOME_TRY(h, find_hierarchy());
  BOOST_OUTCOME_TRY(own, own_cgroup());
  std::string parent_path = request.parent;
  if (parent_path.empty()) {
    return make_error(std::string(step::kCgroup), "No cgroup parent was given");
  }
  if (parent_path.front() != '/') parent_path = (own == "/" ? "" : own) + "/" + parent_path;
  while (parent_path.size() > 1 && parent_path.back() == '/') parent_path.pop_back();
  const auto parent_rel = below_mount(h, parent_path);
  if (!parent_rel) {
    Error e = cgroup_error("open", h.mount_point, ENOENT,
                           "The cgroup parent " + parent_path +
                               " is outside what the cgroup v2 "
                               "mount at " +
                               h.mount_point + " shows (" + h.mount_root + ")");
    e.evidence.emplace_back("cgroup.mount_root", h.mount_root);
    return e;
  }
  const std::string parent_file =
      h.mount_point + (*parent_rel == "/" ? std::string() : *parent_rel);
  BOOST_OUTCOME_TRY(parent, open_below(h.root.get(), *parent_rel, parent_file));
  // Starts under one parent take turns from the stale scan to their own cgroup's lock: a
  // cgroup just made and not yet locked must not look stale to another start.
  if (flock(parent.get(), LOCK_EX) != 0) {
    return cgroup_error("flock", parent_file, errno, "Can't lock the cgroup parent");
  }
  remove_stale_jails(parent.get(), parent_path);
  BOOST_OUTCOME_TRY(enable_controllers(request, h, parent.get(), parent_file));

  JailCgroup cg;
  cg.name_ = random_name();
  if (mkdirat(parent.get(), cg.name_.c_str(), 0755) != 0) {
    const int err = errno;
    std::string why = "Can't create the jail's cgroup";
    if (err == EACCES || err == EPERM) {
      why += ": the cgroup parent is not delegated to this user (" + parent_file + " is " +
             owner_of(parent.get(), "") + "; this is " + who_am_i() + ")";
    }
    return cgroup_error("mkdir", parent_file + "/" + cg.name_, err, why);
  }
  cg.path_ = (parent_path == "/" ? "" : parent_path) + "/" + cg.name_;
  cg.dir_.reset(
      openat(parent.get(), cg.name_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!cg.dir_) {
    const int err = errno;
    unlinkat(parent.get(), cg.name_.c_str(), AT_REMOVEDIR);
    return cgroup_error("openat", parent_file + "/" + cg.name_, err,
                        "Can't open the jail's cgroup");
  }
  cg.parent_ = std::move(parent);
  const std::string shown = parent_file + "/" + cg.name_;
  if (flock(cg.dir_.get(), LOCK_EX | LOCK_NB) != 0) {
    return cgroup_error("flock", shown, errno, "Can't lock the jail's cgroup");
  }
  BOOST_OUTCOME_TRY(write_limits(request, cg.dir_.get(), shown));
  // Moving a process between cgroups (CLONE_INTO_CGROUP too) takes write access to cgroup.procs
  // of the two cgroups' common ancestor: say so now, by name, rather than as the clone's EACCES.
  // (Where the mount does not show that ancestor, the kernel's answer at the clone is all.)
  const auto ancestor = below_mount(h, common_ancestor(own, cg.path_));
  const std::string procs_rel =
      (!ancestor || *ancestor == "/" ? std::string() : ancestor->substr(1) + "/") + "cgroup.procs";
  if (ancestor && faccessat(h.root.get(), procs_rel.c_str(), W_OK, AT_EACCESS) != 0) {
    const int err = errno;
    const std::string procs = h.mount_point + "/" + procs_rel;
    return cgroup_error(
        "access", procs, err,
        "The jail cannot be moved from this process's cgroup (" + own + ") into " + cg.path_ +
            ": that needs write access to cgroup.procs of "
            "their common ancestor, " +
            procs + ", which is " + owner_of(h.root.get(), procs_rel.c_str()) + " (this is " +
            who_am_i() + "): start boxjail from a cgroup below the delegated one");
  }
  flock(cg.parent_.get(), LOCK_UN);
  BOXJAIL_LOG(Debug, "cgroup: created " + shown);
  return cg;
}

std::vector<std::string> cgroup_notes(const CgroupUsage& u) {
  std::vector<std::string> out;
  // memory.events' oom_kill counts the jail's processes killed for want of memory, whether its
  // memory.max or the host's memory ran out.
  if (u.oom_kills.value_or(0) > 0) {
    out.push_back(
        "cgroup: out of memory (memory.max, or the host's): the kernel's OOM killer "
        "killed " +
        std::to_string(*u.oom_kills) + " process(es) of the jail");
  }
  if (u.pids_max_hits.value_or(0) > 0) {
    out.push_back("cgroup: pids.max reached: " + std::to_string(*u.pids_max_hits) +
                  " fork(s) of the jail refused");
  }
  if (!u.not_removed_why.empty()) out.push_back("cgroup: " + u.not_removed_why);
  return out;
}

void print_cgroup_notes(const CgroupUsage& usage) {
  char comm[16] = "boxjail";
  prctl(PR_GET_NAME, comm, 0, 0, 0);
  if (std::string_view(comm) == "bwrap") return;
  for (const auto& note : cgroup_notes(usage)) std::fprintf(stderr, "%s: %s\n", comm, note.c_str());
}

JailCgroup JailCgroup::adopt(std::string path, UniqueFd parent, UniqueFd dir) {
  JailCgroup cg;
  cg.path_ = std::move(path);
  cg.name_ = cg.path_.substr(cg.path_.rfind('/') + 1);
  cg.parent_ = std::move(parent);
  cg.dir_ = std::move(dir);
  return cg;
}

std::pair<UniqueFd, UniqueFd> JailCgroup::release() {
  ended_ = true;
  return {std::move(parent_), std::move(dir_)};
}

result<void> JailCgroup::place(pid_t pid) const {
  if (const int err = write_file_at(dir_.get(), "cgroup.procs", std::to_string(pid)); err != 0) {
    return cgroup_error("write", path_ + "/cgroup.procs", err,
                        "Can't move the sandbox into its cgroup");
  }
  return boost::outcome_v2::success();
}

CgroupUsage JailCgroup::end() {
  if (ended_ || !dir_) return usage_;
  ended_ = true;
  usage_.path = path_;
  const int killed = kill_all(dir_.get());
  usage_.memory_peak = number_in(dir_.get(), "memory.peak");
  usage_.cpu_usage_usec = number_in(dir_.get(), "cpu.stat", "usage_usec");
  usage_.oom_kills = number_in(dir_.get(), "memory.events", "oom_kill");
  usage_.pids_max_hits = number_in(dir_.get(), "pids.events", "max");
  dir_.reset();  // releases the lock; nothing else holds it by now
  if (killed != 0) {
    usage_.not_removed_why = path_ + " was not emptied: " + std::strerror(killed);
  } else if (unlinkat(parent_.get(), name_.c_str(), AT_REMOVEDIR) != 0) {
    usage_.not_removed_why = "can't remove " + path_ + ": " + std::strerror(errno);
  } else {
    usage_.removed = true;
  }
  parent_.reset();
  return usage_;
}

namespace {

int exit_at_once(void*) { _exit(0); }

}  // namespace

bool kernel_clones_into_cgroups() {
  static const bool answer = [] {
    // A directory that is no cgroup: a kernel that knows the flag rejects it (EBADF) before the
    // child exists; one that does not, rejects the flag (EINVAL) or the larger struct (E2BIG).
    // The kernel looks at the cgroup only after copying the memory map: with CLONE_VM there is
    // none to copy, and the child, had one ever been made, would run on a stack of its own.
    UniqueFd not_a_cgroup(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    clone_args args{};
    args.flags = CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = static_cast<std::uint64_t>(not_a_cgroup.get());
    pid_t pid;
    if constexpr (sys::kHaveClone3Vm) {
      alignas(16) static char stack[16384];
      args.flags |= CLONE_VM | CLONE_VFORK;
      args.stack = reinterpret_cast<std::uint64_t>(stack);
      args.stack_size = sizeof stack;
      pid = sys::clone3_vm(args, exit_at_once, nullptr);
    } else {
      pid = sys::clone3(args);
      if (pid == 0) _exit(0);  // cannot happen: "/" is no cgroup; never run on in a copy of us
    }
    if (pid > 0) {
      while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      return true;
    }
    return errno == EBADF;
  }();
  return answer;
}

}  // namespace boxjail
