// SPDX-License-Identifier: Apache-2.0
#include "diagnose/audit.hpp"

#include <cctype>
#include <cstdlib>

namespace boxjail::diag {
namespace {

constexpr std::string_view kDenied = "apparmor=\"DENIED\"";

// key=value and key="value with spaces" pairs, as the audit subsystem writes them.
std::map<std::string, std::string> parse_fields(std::string_view text) {
  std::map<std::string, std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const std::size_t eq = text.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string key(text.substr(i, eq - i));
    i = eq + 1;
    std::string value;
    if (i < text.size() && text[i] == '"') {
      const std::size_t end = text.find('"', i + 1);
      value = text.substr(i + 1, end == std::string_view::npos ? end : end - i - 1);
      i = end == std::string_view::npos ? text.size() : end + 1;
    } else {
      const std::size_t end = text.find(' ', i);
      value = text.substr(i, end == std::string_view::npos ? end : end - i);
      i = end == std::string_view::npos ? text.size() : end;
    }
    if (key.find(' ') == std::string::npos) out.emplace(std::move(key), std::move(value));
  }
  return out;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// /proc/123/uid_map -> /proc/[0-9]*/uid_map: the pid in the record is the failed attempt's.
std::string any_pid(const std::string& path) {
  if (!path.starts_with("/proc/")) return path;
  std::size_t end = 6;
  while (end < path.size() && std::isdigit(static_cast<unsigned char>(path[end]))) ++end;
  if (end == 6) return path;
  return "/proc/[0-9]*" + path.substr(end);
}

std::string field(const AuditRecord& r, const char* key) {
  auto it = r.fields.find(key);
  return it == r.fields.end() ? std::string() : it->second;
}

}  // namespace

std::vector<AuditRecord> apparmor_denials(std::string_view log, const std::set<long>& pids,
                                          std::uint64_t since_usec) {
  std::vector<AuditRecord> out;
  std::size_t pos = 0;
  while (pos < log.size()) {
    std::size_t end = log.find('\n', pos);
    if (end == std::string_view::npos) end = log.size();
    const std::string_view line = log.substr(pos, end - pos);
    pos = end + 1;
    const std::size_t at = line.find(kDenied);
    if (at == std::string_view::npos) continue;
    AuditRecord r;
    // The record's time: /dev/kmsg's header "PRIO,SEQ,USEC,FLAGS;" (continuation lines of a
    // record start with a blank and carry no header; they never hold an audit message), or
    // journalctl's "-o short-monotonic" prefix "[  SECONDS.MICROS]".
    const std::size_t semi = line.find(';');
    if (line.starts_with("[")) {
      const std::string stamp(line.substr(1, line.find(']') - 1));
      const std::size_t dot = stamp.find('.');
      if (dot != std::string::npos) {
        r.usec = std::strtoull(stamp.c_str(), nullptr, 10) * 1000000 +
                 std::strtoull(stamp.c_str() + dot + 1, nullptr, 10);
      }
    } else if (semi != std::string_view::npos && semi < at) {
      const std::string header(line.substr(0, semi));
      const std::size_t c1 = header.find(',');
      const std::size_t c2 = c1 == std::string::npos ? c1 : header.find(',', c1 + 1);
      if (c2 != std::string::npos) r.usec = std::strtoull(header.c_str() + c2 + 1, nullptr, 10);
    }
    if (r.usec < since_usec) continue;
    r.text = std::string(line.substr(at));
    r.fields = parse_fields(r.text);
    const long pid = std::strtol(field(r, "pid").c_str(), nullptr, 10);
    if (pids.count(pid) == 0) continue;
    out.push_back(std::move(r));
  }
  return out;
}

const AuditRecord* record_for_step(const std::vector<AuditRecord>& records, std::string_view step) {
  auto fits = [step](const AuditRecord& r) {
    const std::string op = field(r, "operation");
    const std::string name = field(r, "name");
    if (step == "clone-namespaces" || step == "nested-userns" || step == "lock-userns") {
      return op == "capable" || op == "userns_create";
    }
    if (step == "write-setgroups" || step == "write-uid-map" || step == "write-gid-map") {
      return name.ends_with("/setgroups") || name.ends_with("/uid_map") ||
             name.ends_with("/gid_map");
    }
    return op == "mount" || op == "remount" || op == "umount" || op == "pivotroot" ||
           op == "capable";
  };
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    if (fits(*it)) return &*it;
  }
  return records.empty() ? nullptr : &records.back();
}

std::string denied_what(const AuditRecord& r) {
  const std::string op = field(r, "operation");
  if (op == "capable") {
    const std::string cap = field(r, "capname");
    return "the capability " + cap + " (CAP_" + upper(cap) + ")";
  }
  if (op == "userns_create") return "creating a user namespace";
  if (op == "mount" || op == "remount" || op == "umount" || op == "pivotroot") {
    std::string what = op + " of " + field(r, "name");
    if (!field(r, "srcname").empty())
      what = op + " of " + field(r, "srcname") + " on " + field(r, "name");
    if (!field(r, "flags").empty()) what += " (flags \"" + field(r, "flags") + "\")";
    return what;
  }
  const std::string mask = field(r, "requested_mask");
  if (!mask.empty() && !field(r, "name").empty()) {
    return "\"" + mask + "\" access to " + field(r, "name");
  }
  return "the operation \"" + op + "\"";
}

std::optional<std::string> allowing_rule(const AuditRecord& r) {
  const std::string op = field(r, "operation");
  if (op == "capable" && !field(r, "capname").empty()) {
    return "capability " + field(r, "capname") + ",";
  }
  if (op == "userns_create") return std::string("userns,");
  if (op == "mount" || op == "remount") {
    std::string rule = "mount";
    std::string flags = field(r, "flags");
    std::erase(flags, ' ');
    if (!flags.empty()) rule += " options=(" + flags + ")";
    if (!field(r, "fstype").empty()) rule += " fstype=" + field(r, "fstype");
    if (!field(r, "srcname").empty()) rule += " " + field(r, "srcname");
    if (!field(r, "name").empty()) rule += " -> " + field(r, "name");
    return rule + ",";
  }
  if (op == "umount" && !field(r, "name").empty()) return "umount " + field(r, "name") + ",";
  if (op == "pivotroot") return std::string("pivot_root,");
  const std::string mask = field(r, "requested_mask");
  if (!mask.empty() && !field(r, "name").empty()) {
    return any_pid(field(r, "name")) + " " + mask + ",";
  }
  return std::nullopt;
}

}  // namespace boxjail::diag
