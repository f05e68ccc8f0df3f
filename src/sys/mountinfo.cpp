// SPDX-License-Identifier: Apache-2.0
#include "sys/mountinfo.hpp"

#include <fcntl.h>
#include <sys/sysmacros.h>

#include <cerrno>

#include "sys/decimal.hpp"
#include "sys/fd.hpp"
#include "sys/read_all.hpp"

namespace boxjail::sys {
namespace {

bool is_octal(char c) { return c >= '0' && c <= '7'; }

std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && is_octal(s[i + 1]) && is_octal(s[i + 2]) &&
        is_octal(s[i + 3])) {
      out.push_back(
          static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find(sep, pos);
    if (end == std::string_view::npos) end = text.size();
    out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

int as_int(std::string_view s) {
  const auto v = parse_decimal(s);
  return v && *v <= static_cast<std::uint64_t>(INT32_MAX) ? static_cast<int>(*v) : -1;
}

}  // namespace

std::vector<MountInfo> parse_mountinfo(std::string_view text) {
  std::vector<MountInfo> out;
  for (std::string_view line : split(text, '\n')) {
    const auto fields = split(line, ' ');
    if (fields.size() < 5) continue;
    MountInfo m;
    m.id = as_int(fields[0]);
    m.parent = as_int(fields[1]);
    const auto colon = fields[2].find(':');
    if (colon != std::string_view::npos) {
      m.dev = makedev(static_cast<unsigned>(as_int(fields[2].substr(0, colon))),
                      static_cast<unsigned>(as_int(fields[2].substr(colon + 1))));
    }
    m.root = unescape(fields[3]);
    m.point = unescape(fields[4]);
    std::size_t dash = 6;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (dash + 1 < fields.size()) m.fstype = std::string(fields[dash + 1]);
    if (dash + 3 < fields.size()) m.super_options = std::string(fields[dash + 3]);
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<std::vector<MountInfo>> read_mountinfo(int dirfd, const char* path) {
  UniqueFd fd(openat(dirfd, path, O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::string text;
  // fs.mount-max's default 100000 mounts make some 15 MiB: the bound only stops a runaway read.
  if (const int err = read_all(fd.get(), text, 64u << 20); err != 0) {
    errno = err;
    return std::nullopt;
  }
  return parse_mountinfo(text);
}

}  // namespace boxjail::sys
