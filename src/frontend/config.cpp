// SPDX-License-Identifier: Apache-2.0
// The operator's TOML configuration.
#include <boxjail/cgroup_limits.hpp>
#include <boxjail/config.hpp>

#include "engine/log.hpp"
#include "sys/fd.hpp"
#include "sys/read_all.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>

// This is the only translation unit that includes toml++, so its configuration macros are set
// here, once, right before the include: header-only (the static boxjail cannot link the shared
// library) and without exceptions (parse errors come back as a value, so no toml++ exception type
// can escape into callers that only expect result<>).
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#define TOML_ENABLE_FORMATTERS 0
#include <toml++/toml.h>

#ifndef BOXJAIL_DEFAULT_SETUID_HELPER
#error "BOXJAIL_DEFAULT_SETUID_HELPER must be defined by the build (CMakeLists.txt)"
#endif

namespace boxjail {

const char* const kDefaultSetuidHelper = BOXJAIL_DEFAULT_SETUID_HELPER;
const char* const kDefaultConfigPath = "/etc/boxjail/config.toml";

std::string_view to_string(LadderMode mode) {
  switch (mode) {
    case LadderMode::Auto:
      return "auto";
    case LadderMode::Userns:
      return "userns";
    case LadderMode::Setuid:
      return "setuid";
  }
  return "auto";
}

namespace {

constexpr const char* kStep = "config";
// A config is a handful of lines; the cap only keeps `--config /dev/zero` from eating memory.
constexpr std::size_t kMaxConfigSize = 1 << 20;

Config defaults() {
  Config c;
  c.setuid_helper = kDefaultSetuidHelper;
  return c;
}

// Values are echoed into a terminal: escape anything that is not printable ASCII so a config
// cannot smuggle control sequences into the operator's error output.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string join_quoted(std::span<const std::string_view> names) {
  std::string out;
  for (auto n : names) out += (out.empty() ? "" : ", ") + quote(n);
  return out;
}

std::string join(std::span<const std::string_view> names) {
  std::string out;
  for (auto n : names) (out += out.empty() ? "" : ", ") += n;
  return out;
}

const char* type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

class Parser {
 public:
  explicit Parser(const std::string& path) : path_(path.empty() ? "config" : path) {}

  Error error(const toml::source_region& where, const std::string& text) const {
    Error e = make_error(kStep, path_ + ":" + std::to_string(where.begin.line) + ": " + text);
    e.path = path_;
    return e;
  }

  result<Config> parse(std::string_view text) {
    // ASCII only, checked before toml++ sees the text: Debian 12's toml++ (3.3.0) classifies some
    // non-ASCII characters outside strings by reaching __builtin_unreachable() (undefined
    // behaviour; found by tests/fuzz/config_fuzz.cpp with "eS\u0459ev"). Every key and value
    // boxjail reads is ASCII, and a string can still carry any character as \uXXXX.
    std::size_t line = 1;
    std::size_t column = 1;
    for (const char c : text) {
      if (static_cast<unsigned char>(c) >= 0x80) {
        char byte[8];
        std::snprintf(byte, sizeof byte, "0x%02x", static_cast<unsigned char>(c));
        Error e = make_error(kStep, path_ + ":" + std::to_string(line) + ":" +
                                        std::to_string(column) + ": non-ASCII byte " + byte +
                                        ": the config is ASCII; write other characters in "
                                        "strings as \\uXXXX escapes");
        e.path = path_;
        return e;
      }
      if (c == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    toml::parse_result parsed = toml::parse(text, path_);
    if (!parsed) {
      const toml::parse_error& pe = parsed.error();
      Error e = make_error(kStep, path_ + ":" + std::to_string(pe.source().begin.line) + ":" +
                                      std::to_string(pe.source().begin.column) + ": " +
                                      std::string(pe.description()));
      e.path = path_;
      return e;
    }
    Config config = defaults();
    config.path = path_;
    for (auto&& [key, node] : parsed.table()) {
      const std::string name(key.str());
      if (name != "ladder" && name != "log" && name != "seccomp" && name != "cgroup") {
        if (node.is_table()) {
          return error(key.source(), "unknown table " + quote("[" + name + "]") +
                                         " (accepted tables: " + kTables + ")");
        }
        return error(key.source(),
                     "unknown key " + quote(name) + " (keys belong in the tables " + kTables + ")");
      }
      const toml::table* table = node.as_table();
      if (table == nullptr) {
        return error(key.source(), name + ": expected a table, got " + type_name(node.type()) +
                                       " (accepted tables: " + kTables + ")");
      }
      if (name == "ladder") {
        BOXJAIL_TRY(ladder(*table, &config));
      } else if (name == "log") {
        BOXJAIL_TRY(log_table(*table, &config));
      } else if (name == "seccomp") {
        BOXJAIL_TRY(seccomp(*table, &config));
      } else {
        BOXJAIL_TRY(cgroup(*table, &config));
      }
    }
    return config;
  }

 private:
  static constexpr const char* kTables = "[ladder], [log], [seccomp], [cgroup]";

  // Every value is a string. A NUL would silently cut a path short when it reaches the kernel,
  // so it is refused here rather than truncated later.
  result<std::string> string_value(const toml::node& node, const std::string& name,
                                   const std::string& accepted) const {
    const auto* s = node.as_string();
    if (s == nullptr) {
      return error(node.source(),
                   name + ": expected a string (" + accepted + "), got " + type_name(node.type()));
    }
    const std::string& v = s->get();
    if (v.find('\0') != std::string::npos) {
      return error(node.source(), name + ": " + quote(v) + " contains a NUL character");
    }
    return v;
  }

  Error not_one_of(const toml::node& node, const std::string& name, const std::string& value,
                   std::span<const std::string_view> accepted) const {
    return error(node.source(),
                 name + ": " + quote(value) + " is not one of " + join_quoted(accepted));
  }

  Error unknown_key(const toml::key& key, const std::string& table,
                    std::span<const std::string_view> accepted) const {
    return error(key.source(), "unknown key " + quote(table + "." + std::string(key.str())) +
                                   " (accepted keys in [" + table + "]: " + join(accepted) + ")");
  }

  result<void> ladder(const toml::table& table, Config* config) const {
    static constexpr std::string_view kKeys[] = {"mode", "setuid_helper"};
    static constexpr std::string_view kModes[] = {"auto", "userns", "setuid"};
    for (auto&& [key, node] : table) {
      if (key.str() == "mode") {
        auto v = string_value(node, "ladder.mode", join_quoted(kModes));
        if (!v) return std::move(v).error();
        if (v.value() == "auto") {
          config->mode = LadderMode::Auto;
        } else if (v.value() == "userns") {
          config->mode = LadderMode::Userns;
        } else if (v.value() == "setuid") {
          config->mode = LadderMode::Setuid;
        } else {
          return not_one_of(node, "ladder.mode", v.value(), kModes);
        }
      } else if (key.str() == "setuid_helper") {
        // Only absolute: a relative path would resolve against whatever directory the caller
        // happens to run boxjail from. (The helper's safety does not rest on this choice: a
        // user config may name any program, which then runs with no more privilege than theirs
        // unless it is itself setuid.)
        auto v = string_value(node, "ladder.setuid_helper", "an absolute path");
        if (!v) return std::move(v).error();
        if (v.value().empty() || v.value().front() != '/') {
          return error(node.source(),
                       "ladder.setuid_helper: " + quote(v.value()) + " is not an absolute path");
        }
        config->setuid_helper = v.value();
      } else {
        return unknown_key(key, "ladder", kKeys);
      }
    }
    return boost::outcome_v2::success();
  }

  result<void> log_table(const toml::table& table, Config* config) const {
    static constexpr std::string_view kKeys[] = {"level", "format"};
    // The names log::parse_level() accepts; checked against it below so the two cannot drift.
    static constexpr std::string_view kLevels[] = {"off",  "error", "warn",
                                                   "info", "debug", "trace"};
    static constexpr std::string_view kFormats[] = {"text", "json"};
    for (auto&& [key, node] : table) {
      if (key.str() == "level") {
        auto v = string_value(node, "log.level", join_quoted(kLevels));
        if (!v) return std::move(v).error();
        log::Level level = log::Level::Off;
        if (!log::parse_level(v.value(), &level)) {
          return not_one_of(node, "log.level", v.value(), kLevels);
        }
        // Config::log_level: "" means off, as it does for --log-level.
        config->log_level = level == log::Level::Off ? std::string() : v.value();
      } else if (key.str() == "format") {
        auto v = string_value(node, "log.format", join_quoted(kFormats));
        if (!v) return std::move(v).error();
        if (v.value() != "text" && v.value() != "json") {
          return not_one_of(node, "log.format", v.value(), kFormats);
        }
        config->log_format = v.value();
      } else {
        return unknown_key(key, "log", kKeys);
      }
    }
    return boost::outcome_v2::success();
  }

  result<void> seccomp(const toml::table& table, Config* config) const {
    static constexpr std::string_view kKeys[] = {"default_policy"};
    for (auto&& [key, node] : table) {
      if (key.str() == "default_policy") {
        auto v = string_value(node, "seccomp.default_policy", "a policy name or a path");
        if (!v) return std::move(v).error();
        if (v.value().empty()) {
          return error(node.source(),
                       "seccomp.default_policy: must not be empty (a policy name or a path)");
        }
        config->default_policy = v.value();
      } else {
        return unknown_key(key, "seccomp", kKeys);
      }
    }
    return boost::outcome_v2::success();
  }

  result<void> cgroup(const toml::table& table, Config* config) const {
    static constexpr std::string_view kKeys[] = {"parent"};
    for (auto&& [key, node] : table) {
      if (key.str() == "parent") {
        auto v = string_value(node, "cgroup.parent", "a cgroup path");
        if (!v) return std::move(v).error();
        std::string why;
        if (!valid_cgroup_parent(v.value(), &why))
          return error(node.source(), "cgroup.parent: " + why);
        config->cgroup_parent = v.value();
      } else {
        return unknown_key(key, "cgroup", kKeys);
      }
    }
    return boost::outcome_v2::success();
  }

  std::string path_;
};

}  // namespace

result<Config> parse_config(std::string_view text, const std::string& path) {
  return Parser(path).parse(text);
}

result<Config> load_config(const std::string& path, bool must_exist) {
  const std::string message = "Can't read config " + path;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    const int err = errno;
    if (err == ENOENT && !must_exist) return defaults();
    return sys_error(kStep, "open", path, err, message);
  }
  std::string text;
  if (const int err = sys::read_all(fd.get(), text, kMaxConfigSize); err != 0) {
    return sys_error(kStep, "read", path, err, message);
  }
  return parse_config(text, path);
}

}  // namespace boxjail
