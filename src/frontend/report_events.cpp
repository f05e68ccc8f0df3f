// SPDX-License-Identifier: Apache-2.0
#include "frontend/report_events.hpp"

#include <unistd.h>

#include <cerrno>
#include <string>

namespace boxjail::report {

nlohmann::ordered_json event(std::string_view name) {
  nlohmann::ordered_json j;
  j["report"] = kReportVersion;
  j["event"] = name;
  return j;
}

nlohmann::ordered_json attempt(std::string_view rung, std::string_view ladder_mode) {
  auto j = event("attempt");
  j["rung"] = rung;
  j["ladder_mode"] = ladder_mode;
  return j;
}

nlohmann::ordered_json started(std::string_view rung, const Started& s) {
  auto j = event("started");
  j["rung"] = rung;
  j["pid"] = s.pid;
  j["sandbox_pid"] = s.sandbox_pid;
  nlohmann::ordered_json ns = nlohmann::ordered_json::object();
  for (const auto& [name, ino] : s.namespaces) ns[name] = ino;
  j["namespaces"] = std::move(ns);
  j["handover"] = s.handover;
  if (!s.cgroup.empty()) j["cgroup"] = s.cgroup;
  return j;
}

nlohmann::ordered_json cgroup_end(const CgroupUsage& u) {
  auto j = event("cgroup");
  j["path"] = u.path;
  auto optional = [&j](const char* key, const std::optional<std::uint64_t>& v) {
    if (v) {
      j[key] = *v;
    } else {
      j[key] = nullptr;
    }
  };
  optional("memory_peak", u.memory_peak);
  optional("cpu_usage_usec", u.cpu_usage_usec);
  optional("oom_kills", u.oom_kills);
  optional("pids_max_hits", u.pids_max_hits);
  j["removed"] = u.removed;
  return j;
}

nlohmann::ordered_json exit(int status) {
  auto j = event("exit");
  j["exit_status"] = status;
  return j;
}

void write_line(int fd, const nlohmann::ordered_json& line) {
  if (fd < 0) return;
  // Strings in these lines come from the kernel or from an Error whose text may hold bytes that
  // are not UTF-8 (a path): replaced, never a throw that would lose the report.
  const std::string text =
      line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace boxjail::report
