// SPDX-License-Identifier: Apache-2.0
// Subordinate id ranges (--uid-range, --gid-range) as the command line and the JSON spec write
// them, and the checks every front end applies before anything starts.
#pragma once

#include <boxjail/spec.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxjail {

// The highest id a range may reach: (uid_t)-1 is never mapped (it means "unchanged").
inline constexpr std::uint64_t kMaxMappedId = 4294967294U;

// "INSIDE:OUTSIDE:COUNT", decimal, COUNT >= 1, both ends within 0..kMaxMappedId.
std::optional<IdRange> parse_id_range(std::string_view text, std::string* error);

// The ranges and the jail's own id inside (`own`) must not overlap inside, nor the ranges
// outside; at most 339 ranges (the kernel's 340 lines, one for the jail's own id). `what` is
// "uid" or "gid". Empty when fine, else why not.
std::string id_ranges_problem(const std::vector<IdRange>& ranges, std::uint32_t own,
                              std::string_view what);

// "INSIDE:OUTSIDE:COUNT"
std::string id_range_text(const IdRange& r);

}  // namespace boxjail
