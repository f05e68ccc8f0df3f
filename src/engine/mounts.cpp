// SPDX-License-Identifier: Apache-2.0
#include "engine/mounts.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <unistd.h>

#include <cerrno>

#include "sys/syscalls.hpp"

namespace boxjail {
namespace {

MountCall failed(const char* syscall) { return MountCall{errno, syscall}; }

// A new detached filesystem instance; returns its mount fd or -1 with *call set.
int new_filesystem(const FsRequest& fs, MountCall* call) {
  UniqueFd ctx(sys::fsopen(fs.type.c_str(), FSOPEN_CLOEXEC));
  if (!ctx) {
    *call = failed("fsopen");
    return -1;
  }
  for (const auto& [key, value] : fs.options) {
    const int rc =
        value.empty()
            ? sys::fsconfig(ctx.get(), FSCONFIG_SET_FLAG, key.c_str(), nullptr, 0)
            : sys::fsconfig(ctx.get(), FSCONFIG_SET_STRING, key.c_str(), value.c_str(), 0);
    if (rc != 0) {
      *call = failed("fsconfig");
      return -1;
    }
  }
  if (sys::fsconfig(ctx.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    *call = failed("fsconfig");
    return -1;
  }
  const int mnt = sys::fsmount(ctx.get(), FSMOUNT_CLOEXEC, fs.attrs);
  if (mnt < 0) *call = failed("fsmount");
  return mnt;
}

MountCall attach(int tree_fd, int target_fd) {
  if (sys::move_mount(tree_fd, "", target_fd, "",
                      MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
    return failed("move_mount");
  }
  return {};
}

}  // namespace

MountCall DirectMounter::make_base(UniqueFd* base) {
  // The base directory is /tmp in the new mount namespace: it always exists and no other user can
  // pre-create or redirect it, unlike a per-user path (CVE-2019-12439). Host paths under /tmp are
  // covered from here on: every host source was opened before (resolve-sources).
  MountCall call;
  UniqueFd fs(
      new_filesystem({"tmpfs", {{"mode", "0755"}}, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV}, &call));
  if (!fs) return call;
  UniqueFd tmp(open("/tmp", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!tmp) return failed("open");
  if (call = attach(fs.get(), tmp.get()); !call.ok()) return call;
  if (call = lay_out_base(fs.get()); !call.ok()) return call;
  *base = std::move(fs);
  return {};
}

MountCall lay_out_base(int base_fd) {
  if (fchdir(base_fd) != 0) return failed("fchdir");
  if (mkdir("newroot", 0755) != 0) return failed("mkdir");
  // newroot must be a mount point of its own for pivot_root.
  if (mount("newroot", "newroot", nullptr, MS_BIND | MS_REC, nullptr) != 0) return failed("mount");
  // Unbindable, and only the base (newroot below it stays private, so the command can bind what
  // is in its root, nested jails included): a recursive bind of "/" or /tmp made while the host's
  // root is still "/" skips the base and everything in it, as bwrap's /oldroot holds no trace of
  // its newroot.
  if (mount(nullptr, ".", nullptr, MS_UNBINDABLE, nullptr) != 0) return failed("mount");
  return {};
}

MountCall DirectMounter::bind(int src_fd, int target_fd, bool recursive, unsigned attrs) {
  // OPEN_TREE_CLONE makes a private detached copy; AT_RECURSIVE takes the submounts along, which
  // an unprivileged user must do anyway (a non-recursive bind could reveal what a locked submount
  // hides, so the kernel refuses it).
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH;
  if (recursive) flags |= AT_RECURSIVE;
  UniqueFd tree(sys::open_tree(src_fd, "", flags));
  if (!tree) return failed("open_tree");
  if (attrs != 0) {
    mount_attr attr{};
    attr.attr_set = attrs;
    if (sys::mount_setattr(tree.get(), "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), attr) !=
        0) {
      return failed("mount_setattr");
    }
  }
  return attach(tree.get(), target_fd);
}

MountCall DirectMounter::mount_fs(const FsRequest& fs, int target_fd, UniqueFd* root) {
  MountCall call;
  UniqueFd mnt(new_filesystem(fs, &call));
  if (!mnt) return call;
  if (call = attach(mnt.get(), target_fd); !call.ok()) return call;
  // The mount fd now names the root of the attached filesystem.
  if (root) *root = std::move(mnt);
  return {};
}

MountCall DirectMounter::set_attr(int target_fd, unsigned attrs) {
  mount_attr attr{};
  attr.attr_set = attrs;
  if (sys::mount_setattr(target_fd, "", AT_EMPTY_PATH, attr) != 0) return failed("mount_setattr");
  return {};
}

}  // namespace boxjail
