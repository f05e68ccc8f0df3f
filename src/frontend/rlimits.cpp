// SPDX-License-Identifier: Apache-2.0
#include <boxjail/rlimits.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

namespace boxjail {
namespace {

constexpr std::array<std::pair<int, std::string_view>, 16> kResources = {{
    {RLIMIT_CPU, "CPU"},
    {RLIMIT_FSIZE, "FSIZE"},
    {RLIMIT_DATA, "DATA"},
    {RLIMIT_STACK, "STACK"},
    {RLIMIT_CORE, "CORE"},
    {RLIMIT_RSS, "RSS"},
    {RLIMIT_NPROC, "NPROC"},
    {RLIMIT_NOFILE, "NOFILE"},
    {RLIMIT_MEMLOCK, "MEMLOCK"},
    {RLIMIT_AS, "AS"},
    {RLIMIT_LOCKS, "LOCKS"},
    {RLIMIT_SIGPENDING, "SIGPENDING"},
    {RLIMIT_MSGQUEUE, "MSGQUEUE"},
    {RLIMIT_NICE, "NICE"},
    {RLIMIT_RTPRIO, "RTPRIO"},
    {RLIMIT_RTTIME, "RTTIME"},
}};

}  // namespace

std::optional<int> rlimit_resource(std::string_view name) {
  for (const auto& [r, n] : kResources) {
    if (n == name) return r;
  }
  return std::nullopt;
}

std::string_view rlimit_name(int resource) {
  for (const auto& [r, n] : kResources) {
    if (r == resource) return n;
  }
  return "?";
}

std::optional<std::uint64_t> parse_rlimit_value(std::string_view text) {
  if (text == "unlimited" || text == "infinity") return RLIM_INFINITY;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  // RLIM_INFINITY is ~0: a number that large is "unlimited" written by accident; refused.
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v == RLIM_INFINITY) {
    return std::nullopt;
  }
  return v;
}

std::optional<RlimitRequest> parse_rlimit(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<RlimitRequest> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  const auto eq = text.find('=');
  if (eq == std::string_view::npos) return fail("--rlimit takes NAME=SOFT[:HARD]");
  const auto resource = rlimit_resource(text.substr(0, eq));
  if (!resource) {
    std::string names;
    for (const auto& [r, n] : kResources) names += (names.empty() ? "" : ", ") + std::string(n);
    return fail("--rlimit: unknown limit " + std::string(text.substr(0, eq)) + " (" + names + ")");
  }
  const std::string_view values = text.substr(eq + 1);
  const auto colon = values.find(':');
  const auto soft = parse_rlimit_value(values.substr(0, colon));
  const auto hard =
      colon == std::string_view::npos ? soft : parse_rlimit_value(values.substr(colon + 1));
  if (!soft || !hard) {
    return fail("--rlimit " + std::string(text) +
                ": a limit is a number of 0 or more, or \"unlimited\"");
  }
  if (*soft > *hard) {
    return fail("--rlimit " + std::string(text) + ": the soft limit is above the hard one");
  }
  return RlimitRequest{*resource, *soft, *hard};
}

void set_rlimit(std::vector<RlimitRequest>& list, const RlimitRequest& r) {
  auto it = std::find_if(list.begin(), list.end(),
                         [&](const RlimitRequest& x) { return x.resource >= r.resource; });
  if (it != list.end() && it->resource == r.resource) {
    *it = r;
  } else {
    list.insert(it, r);
  }
}

}  // namespace boxjail
