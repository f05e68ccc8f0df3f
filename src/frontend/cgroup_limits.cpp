// SPDX-License-Identifier: Apache-2.0
#include <boxjail/cgroup_limits.hpp>

#include <array>
#include <vector>

#include "sys/decimal.hpp"

namespace boxjail {
namespace {

using sys::parse_decimal;

constexpr std::uint64_t kMaxBytes = (std::uint64_t{1} << 63) - 1;
constexpr std::uint64_t kPidMaxLimit = 4194304;

std::vector<std::string_view> split_spaces(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

}  // namespace

std::optional<std::uint64_t> parse_cgroup_bytes(std::string_view text) {
  if (text == "max") return kCgroupMax;
  int shift = 0;
  if (!text.empty()) {
    switch (text.back()) {
      case 'K':
        shift = 10;
        break;
      case 'M':
        shift = 20;
        break;
      case 'G':
        shift = 30;
        break;
      case 'T':
        shift = 40;
        break;
      default:
        break;
    }
    if (shift != 0) text.remove_suffix(1);
  }
  const auto v = parse_decimal(text);
  if (!v || *v > (kMaxBytes >> shift)) return std::nullopt;
  return *v << shift;
}

std::optional<std::uint64_t> parse_cgroup_pids(std::string_view text) {
  if (text == "max") return kCgroupMax;
  const auto v = parse_decimal(text);
  if (!v || *v < 1 || *v > kPidMaxLimit) return std::nullopt;
  return v;
}

std::optional<CpuMax> parse_cgroup_cpu_max(std::string_view text, std::string* error) {
  CpuMax cpu;
  const std::size_t colon = text.find(':');
  const std::string_view quota = text.substr(0, colon);
  if (quota != "max") {
    const auto q = parse_decimal(quota);
    if (!q || *q < 1000 || *q > kMaxBytes) {
      *error =
          "cpu quota must be \"max\" or a number of microseconds >= 1000: " + std::string(quota);
      return std::nullopt;
    }
    cpu.quota = *q;
  }
  if (colon != std::string_view::npos) {
    const auto p = parse_decimal(text.substr(colon + 1));
    if (!p || *p < 1000 || *p > 1000000) {
      *error =
          "cpu period must be 1000..1000000 microseconds: " + std::string(text.substr(colon + 1));
      return std::nullopt;
    }
    cpu.period = *p;
  }
  return cpu;
}

std::optional<std::uint64_t> parse_cgroup_cpu_weight(std::string_view text) {
  const auto v = parse_decimal(text);
  if (!v || *v < 1 || *v > 10000) return std::nullopt;
  return v;
}

std::optional<std::string> parse_cgroup_io_max(std::string_view text, std::string* error) {
  const auto words = split_spaces(text);
  auto bad = [&](std::string why) -> std::optional<std::string> {
    *error = "\"" + std::string(text) + "\": " + std::move(why);
    return std::nullopt;
  };
  if (words.size() < 2) return bad("expected MAJ:MIN KEY=VALUE...");
  const std::size_t colon = words[0].find(':');
  if (colon == std::string_view::npos || !parse_decimal(words[0].substr(0, colon)) ||
      !parse_decimal(words[0].substr(colon + 1))) {
    return bad("the device must be MAJ:MIN (decimal numbers)");
  }
  constexpr std::array<std::string_view, 4> kKeys = {"rbps", "wbps", "riops", "wiops"};
  std::array<bool, kKeys.size()> seen{};
  std::string out(words[0]);
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::size_t eq = words[i].find('=');
    const std::string_view key = words[i].substr(0, eq);
    std::size_t k = 0;
    while (k < kKeys.size() && kKeys[k] != key) ++k;
    if (eq == std::string_view::npos || k == kKeys.size()) {
      return bad("unknown limit \"" + std::string(words[i]) + "\" (rbps, wbps, riops, wiops)");
    }
    if (seen[k]) return bad(std::string(key) + " given twice");
    seen[k] = true;
    const std::string_view value = words[i].substr(eq + 1);
    const auto v = parse_decimal(value);
    if (value != "max" && (!v || *v == 0)) {
      return bad(std::string(key) + " must be a positive number or \"max\"");
    }
    out.append(" ").append(words[i]);
  }
  return out;
}

bool valid_cgroup_parent(std::string_view path, std::string* error) {
  if (path.empty()) {
    *error = "the cgroup parent is empty";
    return false;
  }
  if (path.find('\0') != std::string_view::npos) {
    *error = "the cgroup parent contains a NUL byte";
    return false;
  }
  std::string_view rest = path.front() == '/' ? path.substr(1) : path;
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    if (part.empty() || part == "." || part == "..") {
      *error = "the cgroup parent \"" + std::string(path) +
               "\" may not have empty, \".\" or \"..\" components";
      return false;
    }
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  }
  return true;
}

std::string cgroup_value_text(std::uint64_t value) {
  return value == kCgroupMax ? "max" : std::to_string(value);
}

std::string cgroup_cpu_max_text(const CpuMax& cpu) {
  return cgroup_value_text(cpu.quota) + " " + std::to_string(cpu.period);
}

}  // namespace boxjail
