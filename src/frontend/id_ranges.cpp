// SPDX-License-Identifier: Apache-2.0
#include <boxjail/id_ranges.hpp>

#include "sys/decimal.hpp"

namespace boxjail {
namespace {

constexpr std::size_t kMaxRanges = 339;

bool overlap(std::uint64_t a, std::uint64_t an, std::uint64_t b, std::uint64_t bn) {
  return a < b + bn && b < a + an;
}

}  // namespace

std::optional<IdRange> parse_id_range(std::string_view text, std::string* error) {
  std::uint64_t v[3] = {};
  std::string_view rest = text;
  bool ok = true;
  for (int i = 0; i < 3 && ok; ++i) {
    const std::size_t colon = i < 2 ? rest.find(':') : std::string_view::npos;
    if (i < 2 && colon == std::string_view::npos) {
      ok = false;
      break;
    }
    const auto n = sys::parse_decimal(rest.substr(0, colon));
    ok = n.has_value();
    if (ok) v[i] = *n;
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  }
  if (!ok) {
    *error = "\"" + std::string(text) + "\": expected INSIDE:OUTSIDE:COUNT (decimal numbers)";
    return std::nullopt;
  }
  const auto [inside, outside, count] = v;
  if (count == 0 || count > kMaxMappedId || inside > kMaxMappedId || outside > kMaxMappedId ||
      inside + count - 1 > kMaxMappedId || outside + count - 1 > kMaxMappedId) {
    *error = "\"" + std::string(text) + "\": COUNT must be at least 1 and both ranges end at " +
             std::to_string(kMaxMappedId) + " at most";
    return std::nullopt;
  }
  return IdRange{static_cast<std::uint32_t>(inside), static_cast<std::uint32_t>(outside),
                 static_cast<std::uint32_t>(count)};
}

std::string id_ranges_problem(const std::vector<IdRange>& ranges, std::uint32_t own,
                              std::string_view what) {
  if (ranges.size() > kMaxRanges) {
    return "at most " + std::to_string(kMaxRanges) + " " + std::string(what) + " ranges";
  }
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const IdRange& a = ranges[i];
    if (overlap(a.inside, a.count, own, 1)) {
      return "the " + std::string(what) + " range " + id_range_text(a) + " covers the jail's own " +
             std::string(what) + " " + std::to_string(own) +
             " inside (it is mapped to the caller's own)";
    }
    for (std::size_t j = 0; j < i; ++j) {
      const IdRange& b = ranges[j];
      if (overlap(a.inside, a.count, b.inside, b.count) ||
          overlap(a.outside, a.count, b.outside, b.count)) {
        return "the " + std::string(what) + " ranges " + id_range_text(b) + " and " +
               id_range_text(a) + " overlap";
      }
    }
  }
  return {};
}

std::string id_range_text(const IdRange& r) {
  return std::to_string(r.inside) + ":" + std::to_string(r.outside) + ":" + std::to_string(r.count);
}

}  // namespace boxjail
