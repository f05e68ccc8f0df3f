// SPDX-License-Identifier: Apache-2.0
// Resource limit names and values as the command line and the JSON spec write them.
#pragma once

#include <boxjail/spec.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace boxjail {

// "NOFILE" -> RLIMIT_NOFILE (upper case, without RLIMIT_), or nullopt.
std::optional<int> rlimit_resource(std::string_view name);
// RLIMIT_NOFILE -> "NOFILE".
std::string_view rlimit_name(int resource);

// A limit's value: a decimal number, or "unlimited" / "infinity" (RLIM_INFINITY).
std::optional<std::uint64_t> parse_rlimit_value(std::string_view text);

// `NAME=SOFT[:HARD]` (HARD defaults to SOFT, as prlimit's). The error names what is wrong.
std::optional<RlimitRequest> parse_rlimit(std::string_view text, std::string* error);

// Adds or replaces the limit of `r.resource`, keeping `list` in resource order.
void set_rlimit(std::vector<RlimitRequest>& list, const RlimitRequest& r);

}  // namespace boxjail
