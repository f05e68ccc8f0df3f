// SPDX-License-Identifier: Apache-2.0
#include "diagnose/evidence_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "sys/fd.hpp"
#include "sys/mountinfo.hpp"

namespace boxjail::diag {

result<std::string> read_evidence_file(const std::string& path, std::size_t cap) {
  // O_NONBLOCK: a fake tree (or an odd /sys node) could hold a FIFO; the collector must never
  // hang on evidence it only reads to explain a failure.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) return sys_error("collect-facts", "open", path, errno, "reading evidence");
  std::string out;
  std::array<char, 4096> buf{};
  while (out.size() < cap) {
    ssize_t n = ::read(fd.get(), buf.data(), std::min(buf.size(), cap - out.size()));
    if (n < 0 && errno == EINTR) continue;
    // The kernel log (/dev/kmsg) never ends: EAGAIN marks the end of what it holds now, and
    // EPIPE a record overwritten while we read, after which the next one follows.
    if (n < 0 && errno == EAGAIN) break;
    if (n < 0 && errno == EPIPE) continue;
    if (n < 0) return sys_error("collect-facts", "read", path, errno, "reading evidence");
    if (n == 0) break;
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
  return out;
}

std::string trim_value(std::string_view text) {
  constexpr std::string_view kBlank = " \t\n\r";
  constexpr std::string_view kTrailing = std::string_view(" \t\n\r\0", 5);
  auto first = text.find_first_not_of(kBlank);
  if (first == std::string_view::npos) return "";
  auto last = text.find_last_not_of(kTrailing);
  if (last == std::string_view::npos || last < first) return "";
  return std::string(text.substr(first, last - first + 1));
}

std::optional<std::string> status_field(std::string_view status, std::string_view key) {
  std::size_t pos = 0;
  while (pos < status.size()) {
    auto end = status.find('\n', pos);
    if (end == std::string_view::npos) end = status.size();
    std::string_view line = status.substr(pos, end - pos);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
      return trim_value(line.substr(key.size() + 1));
    }
    pos = end + 1;
  }
  return std::nullopt;
}

std::vector<std::string> mounts_over_proc(std::string_view mountinfo) {
  // The kernel refuses a new procfs in a user namespace when the visible one has something
  // mounted over a file or non-empty directory (mount_too_revealing: a container's masked
  // paths). binfmt_misc sits on a permanently empty directory, which the kernel allows, and is
  // present on most ordinary hosts: listing it would make every host look "masked".
  static constexpr std::array<std::string_view, 1> kHarmless = {"/proc/sys/fs/binfmt_misc"};
  std::vector<std::string> out;
  for (const auto& m : sys::parse_mountinfo(mountinfo)) {
    if (m.point.size() <= 6 || m.point.compare(0, 6, "/proc/") != 0) continue;
    if (std::find(kHarmless.begin(), kHarmless.end(), m.point) != kHarmless.end()) continue;
    if (std::find(out.begin(), out.end(), m.point) == out.end()) out.push_back(m.point);
  }
  return out;
}

std::optional<std::string> environ_value(std::string_view environ, std::string_view name) {
  std::size_t pos = 0;
  while (pos < environ.size()) {
    auto end = environ.find('\0', pos);
    if (end == std::string_view::npos) end = environ.size();
    std::string_view entry = environ.substr(pos, end - pos);
    if (entry.size() > name.size() && entry.substr(0, name.size()) == name &&
        entry[name.size()] == '=') {
      return std::string(entry.substr(name.size() + 1));
    }
    pos = end + 1;
  }
  return std::nullopt;
}

}  // namespace boxjail::diag
