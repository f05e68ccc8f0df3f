// SPDX-License-Identifier: Apache-2.0
// Reading and parsing the /proc and /sys files the fact collector looks at. Pure functions over
// text, so tests exercise the parsing without a fake tree.
#pragma once

#include <boxjail/error.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxjail::diag {

// The whole content of a small pseudo-file. /proc and /sys report size 0 in stat, so it reads
// until EOF; `cap` bounds what a huge file (a mountinfo with 100k mounts) can make us hold.
result<std::string> read_evidence_file(const std::string& path, std::size_t cap = 1 << 20);

// Strips the trailing newline, NUL and blanks the kernel appends (attr/current ends in "\n" on
// some kernels and in "\0" on others), and leading blanks.
std::string trim_value(std::string_view text);

// The value after "Key:" in a /proc/<pid>/status text, trimmed; nullopt when the line is absent.
std::optional<std::string> status_field(std::string_view status, std::string_view key);

// The mount points below /proc (not /proc itself) in a mountinfo text, in order, without
// duplicates and without the ones that never make a new procfs "too revealing" (see .cpp).
std::vector<std::string> mounts_over_proc(std::string_view mountinfo);

// The value of `name` in a NUL-separated environ block; nullopt when it is not set.
std::optional<std::string> environ_value(std::string_view environ, std::string_view name);

}  // namespace boxjail::diag
