// SPDX-License-Identifier: Apache-2.0
// The bwrap-compatible command line front end: argv in, Spec out.
#pragma once

#include <boxjail/error.hpp>
#include <boxjail/spec.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxjail {

enum class Action { Run, Help, Version };

struct Invocation {
  Action action = Action::Run;
  Spec spec;
  // Warnings to print, in order, already worded as bwrap does ("Only the last --chdir option
  // will take effect"); `level_prefix` tells whether --level-prefix was in force when each arose.
  struct Warning {
    std::string text;
    bool level_prefix = false;
  };
  std::vector<Warning> warnings;
  std::string log_level;    // --log-level (boxjail's own): empty = logging off
  std::string config_path;  // --config (boxjail's own): empty = $BOXJAIL_CONFIG or the default
  int report_fd = -1;       // --report-fd (boxjail's own): the JSON report goes there
};

struct ParseContext {
  std::vector<std::string> environ;  // the caller's environment: --setenv etc. edit a copy
  // What --cap-add/--cap-drop start from: root's effective set (bwrap), none for anyone else.
  std::uint64_t initial_caps = 0;
};

// Parses bwrap's options (everything after argv[0]). Reads --args FDs. Errors carry bwrap's
// exact wording in Error::message with step "parse-args"; Error::usage asks for the usage text.
result<Invocation> parse_bwrap_args(const std::vector<std::string>& args, const ParseContext& ctx);

// The usage text, first line "usage: <prog> [OPTIONS...] [--] COMMAND [ARGS...]".
std::string usage_text(const std::string& prog);

// What --version prints, for boxjail and for the setuid helper alike. Under the name bwrap it is
// bwrap's own line for the command line boxjail implements ("bubblewrap 0.11.1"), which callers
// parse; boxjail's block otherwise.
std::string version_text(const std::string& prog = "boxjail");

// An fd, uid or gid as bwrap's options take it: decimal, not negative, within an int.
std::optional<int> parse_nonnegative_int(const std::string& text);

// A capability as --cap-add takes it: "CAP_NET_RAW" or "net_raw" in any case, or its number.
std::optional<unsigned> parse_capability(const std::string& text);

// The list of option names the parser accepts, for docs and tests (from the one option table).
std::vector<std::string> option_names();

// One row of the option table as --help, the man page test and the shell completions see it.
struct OptionInfo {
  std::string_view name;
  std::string_view metavar;  // the operands' names, one word each ("SRC DEST"); empty: none
  std::string_view help;     // '\n' where --help continues on a second line
  bool repeatable;           // may be given more than once (--help, --version, --argv0 may not)
};
std::vector<OptionInfo> option_table();

}  // namespace boxjail
