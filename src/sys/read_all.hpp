// SPDX-License-Identifier: Apache-2.0
// Reading a whole fd (a spec, a config file, a seccomp program) into memory.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>

namespace boxjail::sys {

// Appends everything up to EOF to `out`, retrying EINTR. Returns 0, the errno of a failed read,
// or EFBIG as soon as more than `limit` bytes arrived (input from a caller is bounded).
inline int read_all(int fd, std::string& out, std::size_t limit = SIZE_MAX) {
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return 0;
    if (out.size() + static_cast<std::size_t>(n) > limit) return EFBIG;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

}  // namespace boxjail::sys
