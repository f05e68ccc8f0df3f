// SPDX-License-Identifier: Apache-2.0
#include "engine/mounts.hpp"

#include <fcntl.h>
#include <linux/mount.h>

#include <cerrno>

#include "sys/syscalls.hpp"

namespace boxjail {

int clone_tree(int src_fd, bool recursive, unsigned attr_set) {
  // OPEN_TREE_CLONE makes a private detached copy; AT_RECURSIVE takes the submounts along, which
  // an unprivileged user must do anyway (a non-recursive bind could reveal what a locked submount
  // hides, so the kernel refuses it).
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH;
  if (recursive) flags |= AT_RECURSIVE;
  int tree = sys::open_tree(src_fd, "", flags);
  if (tree < 0) return -errno;
  if (attr_set != 0) {
    mount_attr attr{};
    attr.attr_set = attr_set;
    if (sys::mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), attr) != 0) {
      int err = errno;
      close(tree);
      return -err;
    }
  }
  return tree;
}

int new_filesystem(const char* fstype,
                   const std::vector<std::pair<std::string, std::string>>& options,
                   unsigned attr_set, std::string* failed_key) {
  UniqueFd fs(sys::fsopen(fstype, FSOPEN_CLOEXEC));
  if (!fs) return -errno;
  for (const auto& [key, value] : options) {
    int rc = value.empty()
                 ? sys::fsconfig(fs.get(), FSCONFIG_SET_FLAG, key.c_str(), nullptr, 0)
                 : sys::fsconfig(fs.get(), FSCONFIG_SET_STRING, key.c_str(), value.c_str(), 0);
    if (rc != 0) {
      if (failed_key) *failed_key = key;
      return -errno;
    }
  }
  if (sys::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) return -errno;
  int mnt = sys::fsmount(fs.get(), FSMOUNT_CLOEXEC, attr_set);
  return mnt < 0 ? -errno : mnt;
}

int attach(int tree_fd, int target_fd) {
  if (sys::move_mount(tree_fd, "", target_fd, "",
                      MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
    return -errno;
  }
  return 0;
}

int set_mount_attr(int fd, unsigned attr_set, bool recursive) {
  mount_attr attr{};
  attr.attr_set = attr_set;
  if (sys::mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), attr) != 0) {
    return -errno;
  }
  return 0;
}

}  // namespace boxjail
