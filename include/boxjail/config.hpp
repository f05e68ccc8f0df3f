// SPDX-License-Identifier: Apache-2.0
// The operator's configuration (TOML), read by the unprivileged front end only: the setuid helper
// never reads it (nor any environment variable).
#pragma once

#include <boxjail/error.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace boxjail {

enum class LadderMode { Auto, Userns, Setuid };

std::string_view to_string(LadderMode mode);

struct Config {
  // auto = userns, then setuid, then refuse. A caller with CAP_SYS_ADMIN (root) always takes the
  // root rung, whatever the mode.
  LadderMode mode = LadderMode::Auto;
  std::string setuid_helper;                  // default: kDefaultSetuidHelper
  std::string log_level;                      // "" = off (default), else a log::parse_level name
  std::string log_format = "text";            // "text" | "json"
  std::optional<std::string> default_policy;  // seccomp.default_policy: a name or a path
  // cgroup.parent: where a jail that asks for cgroup limits without --cgroup-parent gets its
  // cgroup (a cgroup v2 path, as --cgroup-parent takes it).
  std::optional<std::string> cgroup_parent;
  std::string path;  // the file it came from, "" for built-in defaults
};

// Where `cmake --install` puts the helper (libexec/boxjail/boxjail-suid under the prefix).
extern const char* const kDefaultSetuidHelper;
// /etc/boxjail/config.toml
extern const char* const kDefaultConfigPath;

// Parses TOML text. Unknown keys or tables, wrong types and bad values are errors whose message
// names the file, the line and the accepted values; Error::step is "config", Error::path the file.
result<Config> parse_config(std::string_view text, const std::string& path);

// Reads and parses `path`. When `must_exist` is false and the file does not exist, returns the
// defaults (Config::path empty); any other failure to read is an error.
result<Config> load_config(const std::string& path, bool must_exist);

}  // namespace boxjail
