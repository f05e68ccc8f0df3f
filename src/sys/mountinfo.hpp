// SPDX-License-Identifier: Apache-2.0
// /proc/PID/mountinfo read into records: the one parser of the mount table, for the engine (the
// classic mount path, cgroup discovery, rootfs) and the diagnosis.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxjail::sys {

// One line: "ID PARENT MAJ:MIN ROOT POINT OPTIONS [TAGS...] - FSTYPE SOURCE SUPER". Paths with
// mountinfo's \ooo escapes (space, tab, newline, backslash) undone.
struct MountInfo {
  int id = -1;
  int parent = -1;
  dev_t dev = 0;       // the filesystem's, as st_dev
  std::string root;    // the part of the filesystem the mount shows ("/" for all of it)
  std::string point;   // absolute, in the reading process's root
  std::string fstype;  // "" if the line has no " - " part
  std::string super_options;
};

// Every well-formed line of `text`; a line with fewer than five fields is skipped.
std::vector<MountInfo> parse_mountinfo(std::string_view text);

// The mount table at `path` (relative to `dirfd`, or absolute with AT_FDCWD), read whole;
// nullopt with errno set if it cannot be.
std::optional<std::vector<MountInfo>> read_mountinfo(int dirfd, const char* path);

}  // namespace boxjail::sys
