// SPDX-License-Identifier: Apache-2.0
#include "engine/host_ids.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <sstream>
#include <string_view>
#include <vector>

#include "sys/read_all.hpp"

namespace boxjail {
namespace {

// The files are small; a bound keeps a hostile bind mount over them from costing much.
constexpr std::size_t kMaxFile = 16 << 20;

std::optional<std::uint32_t> number(std::string_view s) {
  std::uint32_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  // (uid_t)-1 is no id: setresuid reads it as "unchanged".
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v == ~std::uint32_t{0}) {
    return std::nullopt;
  }
  return v;
}

// The colon-separated fields of the line of `path` whose field `key_index` is `key`.
std::optional<std::vector<std::string>> find_entry(const std::string& path, std::string_view key,
                                                   std::size_t key_index) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  const int err = sys::read_all(fd, text, kMaxFile);
  close(fd);
  if (err != 0) return std::nullopt;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (std::size_t colon; (colon = line.find(':', start)) != std::string::npos;
         start = colon + 1) {
      fields.push_back(line.substr(start, colon - start));
    }
    fields.push_back(line.substr(start));
    if (fields.size() > key_index && fields[key_index] == key) return fields;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::pair<uid_t, gid_t>> resolve_host_user(const std::string& text,
                                                         std::string* error,
                                                         const std::string& passwd) {
  auto fail = [&](std::string why) -> std::optional<std::pair<uid_t, gid_t>> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  if (const auto colon = text.find(':'); colon != std::string::npos) {
    const auto uid = number(std::string_view(text).substr(0, colon));
    const auto gid = number(std::string_view(text).substr(colon + 1));
    if (!uid || !gid) return fail("--host-user " + text + ": UID:GID takes two numbers");
    return std::pair<uid_t, gid_t>{*uid, *gid};
  }
  if (const auto uid = number(text)) {
    const auto entry = find_entry(passwd, text, 2);
    const auto gid = entry && entry->size() > 3 ? number((*entry)[3]) : std::nullopt;
    return std::pair<uid_t, gid_t>{*uid, gid ? *gid : *uid};
  }
  const auto entry = find_entry(passwd, text, 0);
  if (!entry) return fail("--host-user " + text + ": no such user in " + passwd);
  const auto uid = entry->size() > 3 ? number((*entry)[2]) : std::nullopt;
  const auto gid = entry->size() > 3 ? number((*entry)[3]) : std::nullopt;
  if (!uid || !gid)
    return fail("--host-user " + text + ": its entry in " + passwd + " is malformed");
  return std::pair<uid_t, gid_t>{*uid, *gid};
}

std::optional<std::string> host_user_name(uid_t uid, const std::string& passwd) {
  const auto entry = find_entry(passwd, std::to_string(uid), 2);
  if (!entry || entry->empty() || (*entry)[0].empty()) return std::nullopt;
  return (*entry)[0];
}

std::optional<gid_t> resolve_host_group(const std::string& text, std::string* error,
                                        const std::string& group) {
  if (const auto gid = number(text)) return *gid;
  const auto entry = find_entry(group, text, 0);
  const auto gid = entry && entry->size() > 2 ? number((*entry)[2]) : std::nullopt;
  if (!gid) {
    if (error) *error = "--supplementary-group " + text + ": no such group in " + group;
    return std::nullopt;
  }
  return *gid;
}

}  // namespace boxjail
