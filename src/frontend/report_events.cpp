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
