// SPDX-License-Identifier: Apache-2.0
// The JSON spec on the command line: `boxjail run --spec SRC` (a runtime's way in) and
// `boxjail spec --from-args|--check` (migrating a runtime from bwrap's options).
#pragma once

#include <boxjail/bwrap_args.hpp>

#include <string>
#include <vector>

namespace boxjail::cli {

// `run --spec FILE|-|fd:N [--report-fd FD] [--config PATH] [--log-level LEVEL]` (args[0] is
// "run"): the Invocation the same options would make, its Spec read from the JSON. A spec
// without "env" gets `ctx.environ`.
result<Invocation> parse_run_args(const std::vector<std::string>& args, const ParseContext& ctx);

// `run`'s usage lines (for `run --help` and its errors).
const char* run_usage();

// `spec --from-args -- OPTIONS... COMMAND...` and `spec --check FILE|-|fd:N`; args[0] is "spec".
int spec_main(const std::vector<std::string>& args, const ParseContext& ctx);

}  // namespace boxjail::cli
