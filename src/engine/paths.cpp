// SPDX-License-Identifier: Apache-2.0
#include "engine/paths.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <vector>

#include "sys/syscalls.hpp"

namespace boxjail {
namespace {

std::vector<std::string> split(std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = i;
    while (j < path.size() && path[j] != '/') ++j;
    if (j > i) {
      std::string_view part = path.substr(i, j - i);
      if (part != ".") parts.emplace_back(part);
    }
    i = j;
  }
  return parts;
}

bool same_inode(int a, int b) {
  struct stat sa, sb;
  if (fstat(a, &sa) != 0 || fstat(b, &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

// The walk: each component opened O_PATH|O_NOFOLLOW from the directory reached so far; a symlink
// is read and its text pushed in front of the remaining components (absolute ones restart at the
// root), ".." never climbs above the root. The same semantics as RESOLVE_IN_ROOT without magic
// links; 40 symlinks at most, like the kernel.
int walk_in_root(int root, std::string_view path, int flags) {
  std::vector<std::string> todo = split(path);
  std::reverse(todo.begin(), todo.end());
  UniqueFd cur(fcntl(root, F_DUPFD_CLOEXEC, 0));
  if (!cur) return -errno;
  int links = 0;
  while (!todo.empty()) {
    std::string comp = std::move(todo.back());
    todo.pop_back();
    const bool last = todo.empty();
    if (comp == "..") {
      if (same_inode(cur.get(), root)) continue;
      int up = openat(cur.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (up < 0) return -errno;
      cur.reset(up);
      continue;
    }
    int next = openat(cur.get(), comp.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) return -errno;
    UniqueFd nfd(next);
    struct stat st;
    if (fstat(nfd.get(), &st) != 0) return -errno;
    if (S_ISLNK(st.st_mode)) {
      if (++links > 40) return -ELOOP;
      char target[PATH_MAX];
      ssize_t n = readlinkat(cur.get(), comp.c_str(), target, sizeof target - 1);
      if (n < 0) return -errno;
      std::string_view text(target, static_cast<size_t>(n));
      auto more = split(text);
      for (auto it = more.rbegin(); it != more.rend(); ++it) todo.push_back(*it);
      if (!text.empty() && text[0] == '/') {
        int r = fcntl(root, F_DUPFD_CLOEXEC, 0);
        if (r < 0) return -errno;
        cur.reset(r);
      }
      continue;
    }
    if (!last && !S_ISDIR(st.st_mode)) return -ENOTDIR;
    cur = std::move(nfd);
  }
  if ((flags & O_PATH) != 0) {
    if ((flags & O_DIRECTORY) != 0) {
      struct stat st;
      if (fstat(cur.get(), &st) != 0) return -errno;
      if (!S_ISDIR(st.st_mode)) return -ENOTDIR;
    }
    return cur.release();
  }
  // Re-open the final object with the real access mode through its O_PATH fd's /proc link is not
  // available here; callers of the walk only ask for O_PATH.
  return -EINVAL;
}

bool openat2_missing = false;  // learnt once per process: ENOSYS does not come and go

}  // namespace

std::string normalize(std::string_view path) {
  std::string out;
  for (const auto& part : split(path)) {
    out += '/';
    out += part;
  }
  return out.empty() ? "/" : out;
}

std::string newroot_path(std::string_view path) { return "/newroot" + normalize(path); }

int open_in_root(const RootDir& root, std::string_view path, int flags) {
  std::string rel = normalize(path).substr(1);
  if (rel.empty()) rel = ".";
  if (root.resolver != Resolver::Walk && !openat2_missing) {
    // EAGAIN: with RESOLVE_IN_ROOT the kernel refuses a ".." step when a rename or mount
    // happened anywhere on the system meanwhile (it cannot then prove the walk stayed inside).
    // Busy hosts mount all the time: retry, then take the walk, which has the same semantics.
    int fd = -1;
    for (int attempt = 0; attempt < 16; ++attempt) {
      fd = sys::openat2(root.fd, rel.c_str(), static_cast<std::uint64_t>(flags | O_CLOEXEC), 0,
                        RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
      if (fd >= 0 || errno != EAGAIN) break;
    }
    if (fd >= 0) return fd;
    if (errno == EAGAIN) return walk_in_root(root.fd, rel, flags);
    if (errno != ENOSYS || root.resolver == Resolver::Openat2) return -errno;
    openat2_missing = true;
  }
  return walk_in_root(root.fd, rel, flags);
}

static std::string shown(const RootDir& root, std::string_view path) {
  return root.display + normalize(path);
}

static std::pair<std::string, std::string> split_last(std::string_view path) {
  std::string norm = normalize(path);
  auto slash = norm.rfind('/');
  std::string parent = slash == 0 ? "/" : norm.substr(0, slash);
  return {parent, norm.substr(slash + 1)};
}

// A destination's parents are made before it, and a failure there names the whole destination
// ("Can't mkdir parents for DEST", bwrap's words); the error's path stays the component that
// failed, the evidence.
static Error parents_failed(Error e, const RootDir& root, std::string_view path) {
  e.message = "Can't mkdir parents for " + shown(root, path);
  return e;
}

// A destination that exists but could not be opened as asked. ENOTDIR, ELOOP...: from a parent
// (a file or a link loop on the way) or from the last component; the parent's own lookup tells
// which.
static Error lookup_failed(const RootDir& root, std::string_view path, int err,
                           std::string_view step, const std::string& what) {
  Error e =
      sys_error(std::string(step), "openat2", shown(root, path), err, what + shown(root, path));
  const auto [parent_path, name] = split_last(path);
  if (!name.empty() && normalize(path) != "/") {
    const int parent = open_in_root(root, parent_path, O_PATH | O_DIRECTORY);
    if (parent < 0) return parents_failed(std::move(e), root, path);
    close(parent);
  }
  return e;
}

result<UniqueFd> ensure_dir(const RootDir& root, std::string_view path, mode_t mode,
                            mode_t parent_mode, std::string_view step) {
  int fd = open_in_root(root, path, O_PATH | O_DIRECTORY);
  if (fd >= 0) return UniqueFd(fd);
  if (fd != -ENOENT) return lookup_failed(root, path, -fd, step, "Can't mkdir ");
  auto [parent_path, name] = split_last(path);
  if (name.empty() || name == "..") {
    return sys_error(std::string(step), "openat2", shown(root, path), ENOENT,
                     "Can't mkdir " + shown(root, path));
  }
  auto made = ensure_dir(root, parent_path, parent_mode, parent_mode, step);
  if (!made) return parents_failed(made.error(), root, path);
  UniqueFd parent = std::move(made).value();
  if (mkdirat(parent.get(), name.c_str(), mode) != 0 && errno != EEXIST) {
    return sys_error(std::string(step), "mkdirat", shown(root, path), errno,
                     "Can't mkdir " + shown(root, path));
  }
  fd = open_in_root(root, path, O_PATH | O_DIRECTORY);
  if (fd < 0) {
    return sys_error(std::string(step), "openat2", shown(root, path), -fd,
                     "Can't mkdir " + shown(root, path));
  }
  return UniqueFd(fd);
}

result<ParentRef> ensure_parent(const RootDir& root, std::string_view path, mode_t parent_mode,
                                std::string_view step) {
  auto [parent_path, name] = split_last(path);
  if (name.empty() || name == "..") {
    return sys_error(std::string(step), "openat2", shown(root, path), EINVAL,
                     "Invalid destination " + shown(root, path));
  }
  auto parent = ensure_dir(root, parent_path, parent_mode, parent_mode, step);
  if (!parent) return parents_failed(parent.error(), root, path);
  return ParentRef{std::move(parent).value(), name};
}

result<UniqueFd> ensure_file(const RootDir& root, std::string_view path, mode_t mode,
                             mode_t parent_mode, std::string_view step) {
  int fd = open_in_root(root, path, O_PATH);
  if (fd >= 0) {
    UniqueFd existing(fd);
    // A file is never mounted on a directory (the kernel refuses); say so as bwrap does.
    struct stat st;
    if (fstat(existing.get(), &st) == 0 && S_ISDIR(st.st_mode)) {
      return sys_error(std::string(step), "openat2", shown(root, path), EISDIR,
                       "Can't create file at " + shown(root, path));
    }
    return existing;
  }
  if (fd != -ENOENT) return lookup_failed(root, path, -fd, step, "Can't create file at ");
  BOOST_OUTCOME_TRY(parent, ensure_parent(root, path, parent_mode, step));
  // O_EXCL|O_NOFOLLOW: if the name is a dangling symlink this fails with EEXIST instead of
  // creating the link's target, which could lie anywhere.
  int created = openat(parent.dir.get(), parent.name.c_str(),
                       O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, mode);
  if (created < 0 && errno != EEXIST) {
    return sys_error(std::string(step), "openat", shown(root, path), errno,
                     "Can't create file at " + shown(root, path));
  }
  if (created >= 0) close(created);
  fd = open_in_root(root, path, O_PATH);
  if (fd < 0) {
    return sys_error(std::string(step), "openat2", shown(root, path), -fd,
                     "Can't create file at " + shown(root, path));
  }
  return UniqueFd(fd);
}

}  // namespace boxjail
