// SPDX-License-Identifier: Apache-2.0
#include "cli/spec_cmd.hpp"

#include <boxjail/spec_json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "engine/log.hpp"
#include "sys/fd.hpp"
#include "sys/read_all.hpp"

namespace boxjail::cli {
namespace {

constexpr const char* kStep = "parse-spec";
// As --args: a spec carries arguments and an environment, never bulk data (files come as fds).
constexpr std::size_t kMaxSpecBytes = 16 << 20;

constexpr const char* kRunUsage =
    "usage: boxjail run --spec FILE|-|fd:N [--report-fd FD] [--config PATH] [--log-level LEVEL]";
constexpr const char* kSpecUsage =
    "usage: boxjail spec --from-args -- [OPTIONS...] COMMAND [ARGS...]\n"
    "       boxjail spec --check FILE|-|fd:N\n";

Error usage_error(const std::string& message) {
  Error e = make_error("parse-args", message);
  return e;
}

// FILE, "-" (stdin) or "fd:N" (an inherited fd, read to EOF and closed: a runtime hands the
// spec over a pipe or a sealed memfd and nothing of it reaches the command).
result<std::string> read_spec_text(const std::string& source) {
  int fd = -1;
  UniqueFd opened;
  if (source == "-") {
    fd = STDIN_FILENO;
  } else if (source.starts_with("fd:")) {
    const auto n = parse_nonnegative_int(source.substr(3));
    if (!n) return make_error(kStep, "Invalid fd: " + source.substr(3));
    fd = *n;
  } else {
    opened.reset(open(source.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!opened) return sys_error(kStep, "open", source, errno, "Can't open spec " + source);
    fd = opened.get();
  }
  std::string text;
  const int err = sys::read_all(fd, text, kMaxSpecBytes);
  if (source.starts_with("fd:")) close(fd);
  if (err == EFBIG) {
    return sys_error(kStep, "read", source, err,
                     "The spec is larger than " + std::to_string(kMaxSpecBytes >> 20) + " MiB");
  }
  if (err != 0) return sys_error(kStep, "read", source, err, "Can't read spec " + source);
  return text;
}

}  // namespace

const char* run_usage() { return kRunUsage; }

result<Invocation> parse_run_args(const std::vector<std::string>& args, const ParseContext& ctx) {
  Invocation inv;
  std::string source;
  bool have_source = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "--help") {
      inv.action = Action::Help;
      return inv;
    }
    const bool known = a == "--spec" || a == "--report-fd" || a == "--config" || a == "--log-level";
    if (!known) {
      return usage_error("Unknown option " + a + " (the jail's options go in the spec)\n" +
                         kRunUsage);
    }
    if (!has_value) return usage_error(a + " takes an argument\n" + kRunUsage);
    const std::string& v = args[++i];
    if (a == "--spec") {
      if (have_source) return usage_error("--spec given twice");
      source = v;
      have_source = true;
    } else if (a == "--report-fd") {
      const auto fd = parse_nonnegative_int(v);
      if (!fd) return usage_error("Invalid fd: " + v);
      inv.report_fd = *fd;
    } else if (a == "--config") {
      inv.config_path = v;
    } else {
      // The same check as the bwrap-style option's: a typo is an error, not silence.
      log::Level level;
      if (!log::parse_level(v, &level)) {
        return usage_error("Invalid --log-level " + v + " (trace, debug, info, warn, error, off)");
      }
      inv.log_level = v;
    }
  }
  if (!have_source) return usage_error(std::string("--spec is required\n") + kRunUsage);
  BOOST_OUTCOME_TRY(text, read_spec_text(source));
  SpecReadOptions options;
  options.inherited_env = &ctx.environ;
  BOOST_OUTCOME_TRY(spec, spec_from_json(text, options));
  inv.spec = std::move(spec);
  return inv;
}

int spec_main(const std::vector<std::string>& args, const ParseContext& ctx) {
  auto fail = [](const Error& e) {
    std::fprintf(stderr, "%s\n", format_error_line("boxjail", e).c_str());
    return 1;
  };
  const std::string verb = args.size() > 1 ? args[1] : "";
  if (verb == "--help") {
    std::fputs(kSpecUsage, stdout);
    return 0;
  }
  if (verb == "--check" && args.size() == 3) {
    auto text = read_spec_text(args[2]);
    if (!text) return fail(text.error());
    auto spec = spec_from_json(text.value());
    if (!spec) return fail(spec.error());
    std::printf("%s: ok\n", args[2].c_str());
    return 0;
  }
  if (verb == "--from-args") {
    std::vector<std::string> options(args.begin() + 2, args.end());
    if (!options.empty() && options.front() == "--") options.erase(options.begin());
    auto parsed = parse_bwrap_args(options, ctx);
    if (!parsed) return fail(parsed.error());
    const Invocation& inv = parsed.value();
    if (inv.action != Action::Run) {
      std::fputs(kSpecUsage, stderr);
      return 1;
    }
    for (const auto& w : inv.warnings) std::fprintf(stderr, "boxjail: %s\n", w.text.c_str());
    // Options of boxjail's own invocation are not part of a jail: they stay options of `run`.
    if (inv.report_fd >= 0 || !inv.config_path.empty() || !inv.log_level.empty()) {
      std::fputs(
          "boxjail: --report-fd, --config and --log-level are not part of the spec: give them "
          "to `boxjail run --spec`\n",
          stderr);
    }
    std::printf("%s\n", spec_to_json(inv.spec, true).c_str());
    return 0;
  }
  std::fputs(kSpecUsage, stderr);
  return 1;
}

}  // namespace boxjail::cli
