// SPDX-License-Identifier: Apache-2.0
// The Mounter of kernels without the new mount API's mount_setattr (before Linux 5.12): classic
// mount(2), with the same guarantees wherever the kernel allows them.
//
// Every mount is made on a staging node of our own, a directory or file in the base tmpfs that
// no other process can reach (the base is in our private mount namespace, outside newroot, and
// the setup process that could look through /proc/PID/root is not dumpable). There the mount is
// given its final flags, a remount per mount of the tree, and only then moved (MS_MOVE) onto the
// destination fd, which the steps resolved inside the new root: a read-only bind is never
// writable where the jail will see it, and no path of the sandbox tree is resolved again.
//
// What the kernel does not allow: a mount covered by another mount at the same point (a stack
// of mounts in a recursive bind's source) has no path to be remounted through, and keeps its own
// flags, as with bwrap; only a command that may unmount the cover (CAP_SYS_ADMIN over the jail's
// mount namespace) could ever see it.
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "engine/mounts.hpp"
#include "sys/kernel_features.hpp"
#include "sys/mountinfo.hpp"
#include "sys/syscalls.hpp"

namespace boxjail {
namespace {

using sys::fd_path;

MountCall failed(const char* syscall) { return MountCall{errno, syscall}; }

unsigned long ms_flags(unsigned attrs) {
  unsigned long f = 0;
  if (attrs & MOUNT_ATTR_RDONLY) f |= MS_RDONLY;
  if (attrs & MOUNT_ATTR_NOSUID) f |= MS_NOSUID;
  if (attrs & MOUNT_ATTR_NODEV) f |= MS_NODEV;
  if (attrs & MOUNT_ATTR_NOEXEC) f |= MS_NOEXEC;
  return f;
}

// The flags a mount has now, as a bind remount must repeat them: in a user namespace the kernel
// refuses a remount that would clear one the mount was locked with (EPERM), and a remount sets
// every flag anew, so the atime mode is kept too. False with errno set if they cannot be read:
// a remount without them could clear nosuid or nodev where the kernel lets it.
bool current_flags(int fd, unsigned long* flags) {
  struct statfs st;
  if (fstatfs(fd, &st) != 0) return false;
  unsigned long f = 0;
  if (st.f_flags & ST_RDONLY) f |= MS_RDONLY;
  if (st.f_flags & ST_NOSUID) f |= MS_NOSUID;
  if (st.f_flags & ST_NODEV) f |= MS_NODEV;
  if (st.f_flags & ST_NOEXEC) f |= MS_NOEXEC;
  if (st.f_flags & ST_NOATIME) f |= MS_NOATIME;
  if (st.f_flags & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (st.f_flags & ST_RELATIME) f |= MS_RELATIME;
  *flags = f;
  return true;
}

// A bind remount of the mount whose root `fd` names, with its own flags and `add`.
MountCall remount_adding(int fd, unsigned long add) {
  unsigned long flags = 0;
  if (!current_flags(fd, &flags)) return failed("fstat");
  if (mount(nullptr, fd_path(fd).c_str(), nullptr, MS_REMOUNT | MS_BIND | flags | add, nullptr) !=
      0) {
    return failed("mount");
  }
  return {};
}

// The id of the mount a fd is on, where statx tells it (STATX_MNT_ID, 5.8); -1 before that.
// (/proc/self/fdinfo would tell too, but before 5.14 it is closed to the setuid rung's privileged
// side, whose fs uid is the caller's, in a user namespace where host root is no one.)
int mount_id_of(int fd) {
  struct statx sx {};
  if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) == 0 &&
      (sx.stx_mask & STATX_MNT_ID) != 0) {
    return static_cast<int>(sx.stx_mnt_id);
  }
  return -1;
}

// This process's mount table by id; false with errno set if it cannot be read.
bool read_mounts(std::map<int, sys::MountInfo>* out) {
  auto mounts = sys::read_mountinfo(AT_FDCWD, "/proc/self/mountinfo");
  if (!mounts) return false;
  for (auto& m : *mounts) (*out)[m.id] = std::move(m);
  return true;
}

// Opens `rel` (a path below the mount `top_fd` is the root of) never following a symlink, nor
// leaving the tree: each step crosses into whatever is mounted there, as a path walk does.
UniqueFd open_below(int top_fd, const std::string& rel) {
  // One call where the kernel has openat2 (5.6): the same walk, refused at any symlink.
  if (sys::kernel_features().openat2) {
    return UniqueFd(sys::openat2(top_fd, rel.c_str(), O_PATH | O_CLOEXEC, 0,
                                 RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH));
  }
  UniqueFd cur(fcntl(top_fd, F_DUPFD_CLOEXEC, 3));
  std::istringstream parts(rel);
  std::string part;
  while (cur && std::getline(parts, part, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      errno = EXDEV;  // mountinfo names no mount point with ".."; a tree that does is not ours
      return UniqueFd();
    }
    cur = UniqueFd(openat(cur.get(), part.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  }
  return cur;
}

// The flags `attrs` added to every mount of the tree whose root `top_fd` is, staged at `point`.
// Submounts are found in mountinfo (the kernel has no recursive remount before mount_setattr),
// each reached by its path below the top, which cannot leave the tree nor follow a symlink. The
// remount goes through the reached fd, which the kernel accepts only at a mount's root (EINVAL
// anywhere else); that it is the very mount expected is checked by its id where statx gives it
// (5.8), by its filesystem otherwise. A mount stacked under another at the same point is reached
// as its cover, which gets its turn too; the covered one keeps its flags, out of every path's
// reach. Anything else (a tree that moved under us) fails the bind rather than skip a mount.
MountCall remount_tree(int top_fd, const std::string& point, unsigned attrs, bool recursive) {
  const unsigned long add = ms_flags(attrs);
  if (MountCall call = remount_adding(top_fd, add); !call.ok()) return call;
  if (!recursive) return {};
  std::map<int, sys::MountInfo> mounts;
  if (!read_mounts(&mounts)) return failed("open");
  // The top is the one mount on our fresh staging node.
  int top_id = -1;
  for (const auto& [id, m] : mounts) {
    if (m.point == point) top_id = id;
  }
  if (top_id < 0) return {ENOENT, "mount"};
  // The tree below the top, parents before children (ids do not say the order: walk it).
  std::vector<int> tree{top_id};
  for (size_t i = 0; i < tree.size(); ++i) {
    for (const auto& [id, m] : mounts) {
      if (m.parent == tree[i] && id != tree[i]) tree.push_back(id);
    }
  }
  const auto stacked_at = [&](const std::string& p) {
    int n = 0;
    for (int id : tree) n += mounts.at(id).point == p ? 1 : 0;
    return n > 1;
  };
  for (size_t i = 1; i < tree.size(); ++i) {
    const sys::MountInfo& m = mounts.at(tree[i]);
    if (m.point.compare(0, point.size() + 1, point + "/") != 0) return {EXDEV, "mount"};
    UniqueFd sub = open_below(top_fd, m.point.substr(point.size() + 1));
    if (!sub) return failed("open");
    const int reached = mount_id_of(sub.get());
    struct stat st;
    if (fstat(sub.get(), &st) != 0) return failed("fstat");
    const bool same = reached >= 0 ? reached == tree[i] : st.st_dev == m.dev;
    if (!same) {
      if (stacked_at(m.point)) continue;  // the cover: in the tree, remounted in its turn
      return {EBUSY, "mount"};
    }
    if (MountCall call = remount_adding(sub.get(), add); !call.ok()) return call;
  }
  return {};
}

}  // namespace

MountCall ClassicMounter::make_base(UniqueFd* base) {
  // As DirectMounter's: /tmp of the new mount namespace, which always exists and which no other
  // user can pre-create or redirect.
  UniqueFd tmp(open("/tmp", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!tmp) return failed("open");
  if (mount("tmpfs", fd_path(tmp.get()).c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
    return failed("mount");
  }
  // The fd names the covered /tmp; the lookup by name crosses into the tmpfs just mounted, which
  // must be a tmpfs on a mount of its own (nothing else can mount here between the two calls).
  UniqueFd fs(open("/tmp", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fs) return failed("open");
  struct statfs st;
  if (fstatfs(fs.get(), &st) != 0) return failed("fstat");
  struct stat fs_st, tmp_st;
  if (fstat(fs.get(), &fs_st) != 0 || fstat(tmp.get(), &tmp_st) != 0) return failed("fstat");
  if (st.f_type != TMPFS_MAGIC || fs_st.st_dev == tmp_st.st_dev) return {EXDEV, "mount"};
  if (MountCall call = lay_out_base(fs.get()); !call.ok()) return call;
  if (mkdirat(fs.get(), "staging", 0700) != 0) return failed("mkdir");
  staging_ = UniqueFd(openat(fs.get(), "staging", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!staging_) return failed("open");
  *base = std::move(fs);
  return {};
}

// A fresh staging node of the source's kind (a bind's source and target must both be
// directories or both not); returns its name, empty with *call set on failure.
std::string ClassicMounter::new_stage(bool directory, MountCall* call) {
  std::string name = std::to_string(next_stage_++);
  if (directory ? mkdirat(staging_.get(), name.c_str(), 0700) != 0
                : mknodat(staging_.get(), name.c_str(), S_IFREG | 0600, 0) != 0) {
    *call = failed("mkdir");
    return {};
  }
  return name;
}

// Mounts with `do_mount` on a new staging node, then moves the result onto `target_fd`;
// `finish` runs on the staged mount's root first (the flags), `root` gets a fd of it.
MountCall ClassicMounter::staged(bool directory, bool need_point, int target_fd, UniqueFd* root,
                                 const std::function<int(const std::string&)>& do_mount,
                                 const std::function<MountCall(int, const std::string&)>& finish) {
  if (!staging_) return {EINVAL, "mount"};  // no base yet
  MountCall call;
  const std::string name = new_stage(directory, &call);
  if (name.empty()) return call;
  UniqueFd node(openat(staging_.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!node) return failed("open");
  if (do_mount(fd_path(node.get())) != 0) return failed("mount");
  // The node's own fd names what the mount covers; by name, the lookup reaches the mount.
  UniqueFd top(openat(staging_.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!top) return failed("open");
  // Where mountinfo shows the staged tree, for a recursive remount to find its submounts by.
  std::string staged_at;
  if (need_point) {
    char point[PATH_MAX];
    const ssize_t n = readlink(fd_path(staging_.get()).c_str(), point, sizeof point - 1);
    if (n <= 0) return failed("open");
    staged_at = std::string(point, static_cast<size_t>(n)) + "/" + name;
  }
  if (call = finish(top.get(), staged_at); !call.ok()) {
    umount2(fd_path(top.get()).c_str(), MNT_DETACH);
    return call;
  }
  if (mount(fd_path(top.get()).c_str(), fd_path(target_fd).c_str(), nullptr, MS_MOVE, nullptr) !=
      0) {
    const MountCall moved = failed("mount");
    umount2(fd_path(top.get()).c_str(), MNT_DETACH);
    return moved;
  }
  if (root) *root = std::move(top);
  return {};
}

MountCall ClassicMounter::bind(int src_fd, int target_fd, bool recursive, unsigned attrs) {
  struct stat st;
  if (fstat(src_fd, &st) != 0) return failed("fstat");
  const std::string src = fd_path(src_fd);
  return staged(
      S_ISDIR(st.st_mode), recursive && attrs != 0, target_fd, nullptr,
      [&](const std::string& at) {
        return mount(src.c_str(), at.c_str(), nullptr, MS_BIND | (recursive ? MS_REC : 0), nullptr);
      },
      [&](int top, const std::string& point) -> MountCall {
        if (attrs == 0) return {};
        return remount_tree(top, point, attrs, recursive);
      });
}

MountCall ClassicMounter::mount_fs(const FsRequest& fs, int target_fd, UniqueFd* root) {
  // A new filesystem takes its flags at creation: no window to close.
  std::string data;
  for (const auto& [key, value] : fs.options) {
    // mount(2)'s data string separates options with ','; a value holding one cannot be said.
    if (key.find(',') != std::string::npos || value.find(',') != std::string::npos) {
      return {EINVAL, "mount"};
    }
    if (!data.empty()) data += ',';
    data += value.empty() ? key : key + "=" + value;
  }
  return staged(
      true, false, target_fd, root,
      [&](const std::string& at) {
        return mount(fs.type.c_str(), at.c_str(), fs.type.c_str(), ms_flags(fs.attrs),
                     data.empty() ? nullptr : data.c_str());
      },
      [](int, const std::string&) -> MountCall { return {}; });
}

MountCall ClassicMounter::set_attr(int target_fd, unsigned attrs) {
  // The fd names the mount's root: its magic link is a path to that very mount (EINVAL if the fd
  // names no mount's root, as mount_setattr answers).
  return remount_adding(target_fd, ms_flags(attrs));
}

std::unique_ptr<Mounter> kernel_mounter() {
  if (sys::kernel_has_mount_setattr()) return std::make_unique<DirectMounter>();
  return std::make_unique<ClassicMounter>();
}

}  // namespace boxjail
