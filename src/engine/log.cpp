// SPDX-License-Identifier: Apache-2.0
#include "engine/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>

namespace boxjail::log {
namespace {

// The level is process state that a fork copies, which is what the child's log lines need.
Level current = Level::Off;
bool json_lines = false;

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

spdlog::level::level_enum to_spdlog(Level l) {
  return static_cast<spdlog::level::level_enum>(static_cast<int>(l));
}

}  // namespace

bool parse_level(std::string_view name, Level* out) {
  static constexpr std::pair<std::string_view, Level> kNames[] = {
      {"trace", Level::Trace}, {"debug", Level::Debug}, {"info", Level::Info},
      {"warn", Level::Warn},   {"error", Level::Error}, {"off", Level::Off}};
  for (const auto& [n, l] : kNames) {
    if (n == name) {
      *out = l;
      return true;
    }
  }
  return false;
}

void set_level(Level level, bool json) {
  current = level;
  json_lines = json;
  if (level == Level::Off) return;
  auto logger = spdlog::stderr_logger_st("boxjail");
  // JSON lines: the message is escaped by write() below, the rest of the pattern is plain.
  logger->set_pattern(json ? R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","pid":%P,"level":"%l","msg":"%v"})"
                           : "boxjail[%P] %l: %v",
                      spdlog::pattern_time_type::utc);
  logger->set_level(to_spdlog(level));
  spdlog::set_default_logger(logger);
}

bool enabled(Level level) { return current != Level::Off && level >= current; }

void write(Level level, std::string_view message) {
  if (json_lines) {
    spdlog::log(to_spdlog(level), "{}", json_escape(message));
  } else {
    spdlog::log(to_spdlog(level), "{}", message);
  }
}

}  // namespace boxjail::log
