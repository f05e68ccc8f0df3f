// SPDX-License-Identifier: Apache-2.0
// Mounting through the new mount API (Linux 5.2+; mount_setattr 5.12+): every mount is built
// detached, given its final flags while nobody can see it, and attached to a destination fd that
// was resolved inside the new root. There is no window where a bind is writable before its
// read-only remount, and no path string is resolved twice.
#pragma once

#include <boxjail/error.hpp>

#include <string>
#include <utility>
#include <vector>

#include "sys/fd.hpp"

namespace boxjail {

// A detached copy of the tree at `src_fd` (recursive), with `attr_set` (MOUNT_ATTR_*) applied to
// every mount in it. Returns -errno.
int clone_tree(int src_fd, bool recursive, unsigned attr_set);

// A new detached filesystem instance of `fstype` configured with string `options`
// ({"mode","0755"}, {"newinstance",""} for flags). Returns -errno; `failed_key` tells which
// option the kernel refused.
int new_filesystem(const char* fstype,
                   const std::vector<std::pair<std::string, std::string>>& options,
                   unsigned attr_set, std::string* failed_key = nullptr);

// Attaches a detached mount onto the object `target_fd` refers to. Returns -errno.
int attach(int tree_fd, int target_fd);

// Changes the flags of the mount whose root `fd` is (not recursive): --remount-ro.
int set_mount_attr(int fd, unsigned attr_set, bool recursive);

}  // namespace boxjail
