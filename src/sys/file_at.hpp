// SPDX-License-Identifier: Apache-2.0
// Small kernel files below a directory fd: /proc/PID's id maps, a cgroup's control files. Each
// takes its value in one write(2), and is read whole.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>

#include "sys/fd.hpp"
#include "sys/read_all.hpp"

namespace boxjail::sys {

// One write(2) of `text` to `name` below `dir` (never through a symlink). 0, or the errno (EIO
// for a short write: the kernel took part of a value).
inline int write_file_at(int dir, const char* name, const std::string& text) {
  UniqueFd fd(openat(dir, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return errno;
  ssize_t n;
  while ((n = write(fd.get(), text.data(), text.size())) < 0 && errno == EINTR) {
  }
  if (n < 0) return errno;
  return n == static_cast<ssize_t>(text.size()) ? 0 : EIO;
}

// The whole of `name` below `dir` (at most 1 MiB), or nullopt with errno set.
inline std::optional<std::string> read_file_at(int dir, const char* name) {
  UniqueFd fd(openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return std::nullopt;
  std::string out;
  if (const int err = read_all(fd.get(), out, 1 << 20); err != 0) {
    errno = err;
    return std::nullopt;
  }
  return out;
}

}  // namespace boxjail::sys
