// SPDX-License-Identifier: Apache-2.0
#include "engine/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace boxjail::log {
namespace {

// The level is process state that a fork copies, which is what the child's log lines need.
Level current = Level::Off;

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

void set_level(Level level) {
  current = level;
  if (level == Level::Off) return;
  auto logger = spdlog::stderr_logger_st("boxjail");
  logger->set_pattern("boxjail[%P] %l: %v");
  logger->set_level(to_spdlog(level));
  spdlog::set_default_logger(logger);
}

bool enabled(Level level) { return current != Level::Off && level >= current; }

void write(Level level, std::string_view message) { spdlog::log(to_spdlog(level), "{}", message); }

}  // namespace boxjail::log
