// SPDX-License-Identifier: Apache-2.0
// The boxjail binary: parse bwrap's command line, resolve it, run it, print what went wrong.
// Only this file decides exit statuses and prints.
#include <boxjail/bwrap_args.hpp>
#include <boxjail/run.hpp>
#include <boxjail/validate.hpp>

#include "engine/identity.hpp"
#include "engine/log.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

extern char** environ;

namespace {

// bwrap prints "bwrap: " whatever argv[0] is; we print our own name, except when installed or
// linked under the name bwrap, where callers may match bwrap's messages byte for byte.
std::string program_name(const char* argv0) {
  const char* base = std::strrchr(argv0, '/');
  base = base ? base + 1 : argv0;
  return std::strcmp(base, "bwrap") == 0 ? "bwrap" : "boxjail";
}

void print_version() {
  std::printf("boxjail %s\n", BOXJAIL_VERSION);
  std::printf("compatible with: bubblewrap 0.11.1 command line\n");
  std::printf("features: userns root clone3 openat2 mount-api overlay devpts signal-forwarding\n");
}

int report(const std::string& prog, const std::string& invoked_as, const boxjail::Error& e) {
  std::fprintf(stderr, "%s\n", boxjail::format_error_line(prog, e).c_str());
  if (e.usage) std::fputs(boxjail::usage_text(invoked_as).c_str(), stderr);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string prog = program_name(argc > 0 ? argv[0] : "boxjail");
  // bwrap's usage line names argv[0] exactly as it was given.
  const std::string invoked_as = argc > 0 ? argv[0] : "boxjail";
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  boxjail::ParseContext ctx;
  for (char** e = environ; e && *e; ++e) ctx.environ.emplace_back(*e);
  if (getuid() == 0) ctx.initial_caps = boxjail::effective_caps();

  auto parsed = boxjail::parse_bwrap_args(args, ctx);
  if (!parsed) {
    const auto& e = parsed.error();
    if (e.usage && e.message.empty()) {
      std::fputs(boxjail::usage_text(invoked_as).c_str(), stderr);
      return 1;
    }
    return report(prog, invoked_as, e);
  }
  auto& inv = parsed.value();
  for (const auto& w : inv.warnings) {
    std::fprintf(stderr, "%s%s: %s\n", w.level_prefix ? "<4>" : "", prog.c_str(), w.text.c_str());
  }
  if (!inv.log_level.empty()) {
    boxjail::log::Level level;
    if (boxjail::log::parse_level(inv.log_level, &level)) boxjail::log::set_level(level);
  }
  if (inv.action == boxjail::Action::Help) {
    std::fputs(boxjail::usage_text(invoked_as).c_str(), stdout);
    return 0;
  }
  if (inv.action == boxjail::Action::Version) {
    print_version();
    return 0;
  }
  auto spec = boxjail::resolve_spec(std::move(inv.spec), boxjail::current_caller());
  if (!spec) return report(prog, invoked_as, spec.error());
  const bool level_prefix = spec.value().level_prefix;
  auto status = boxjail::run(spec.value());
  if (!status) {
    auto e = status.error();
    e.level_prefix = level_prefix;
    return report(prog, invoked_as, e);
  }
  return status.value();
}
