// SPDX-License-Identifier: Apache-2.0
// A whole string as an unsigned decimal number: what every numeric option and host file field
// (limits, id ranges, /etc/subuid) is read with.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace boxjail::sys {

// Digits only, all of them used, within 64 bits; nullopt otherwise (empty, a sign, a space).
inline std::optional<std::uint64_t> parse_decimal(std::string_view s) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace boxjail::sys
