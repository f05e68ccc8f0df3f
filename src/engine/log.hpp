// SPDX-License-Identifier: Apache-2.0
// Logging: spdlog to stderr, set up only when asked for (--log-level). The check is one load, so
// a jail started without logging pays nothing for it on its start-up path.
#pragma once

#include <string>
#include <string_view>

namespace boxjail::log {

enum class Level { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4, Off = 6 };

// Parses "trace", "debug", "info", "warn", "error", "off". Returns false for anything else.
bool parse_level(std::string_view name, Level* out);

// Creates the stderr logger at this level (main calls it once, before run()); `json` writes one
// JSON object per line (log.format = "json").
void set_level(Level level, bool json = false);

bool enabled(Level level);
void write(Level level, std::string_view message);

}  // namespace boxjail::log

#define BOXJAIL_LOG(level, ...)                                           \
  do {                                                                    \
    if (::boxjail::log::enabled(::boxjail::log::Level::level)) {          \
      ::boxjail::log::write(::boxjail::log::Level::level, (__VA_ARGS__)); \
    }                                                                     \
  } while (0)
