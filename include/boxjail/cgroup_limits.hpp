// SPDX-License-Identifier: Apache-2.0
// The per-jail cgroup's limits as the command line and the JSON spec write them, and as the
// kernel's cgroup v2 files take them. One parser per value, shared by every front end.
#pragma once

#include <boxjail/spec.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace boxjail {

// Bytes: a decimal number with an optional K, M, G or T suffix (powers of 1024), or "max".
// At most 2^63-1 bytes.
std::optional<std::uint64_t> parse_cgroup_bytes(std::string_view text);
// pids.max: 1..4194304 (the kernel's PID_MAX_LIMIT), or "max".
std::optional<std::uint64_t> parse_cgroup_pids(std::string_view text);
// cpu.max as QUOTA[:PERIOD] in microseconds: QUOTA >= 1000 or "max", PERIOD 1000..1000000
// (100000 when left out), the kernel's own bounds.
std::optional<CpuMax> parse_cgroup_cpu_max(std::string_view text, std::string* error);
// cpu.weight: 1..10000.
std::optional<std::uint64_t> parse_cgroup_cpu_weight(std::string_view text);
// One io.max line: "MAJ:MIN KEY=VALUE..." with KEY rbps, wbps, riops or wiops, each at most
// once, VALUE a positive number or "max". Returned normalised (single spaces).
std::optional<std::string> parse_cgroup_io_max(std::string_view text, std::string* error);
// A parent path: non-empty, no "." or ".." component, no empty component but a leading '/'.
bool valid_cgroup_parent(std::string_view path, std::string* error);

// The text a cgroup file takes: "max" or the number.
std::string cgroup_value_text(std::uint64_t value);
std::string cgroup_cpu_max_text(const CpuMax& cpu);

}  // namespace boxjail
