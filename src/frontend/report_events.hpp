// SPDX-License-Identifier: Apache-2.0
// The --report-fd stream, "boxjail.report/v1" (docs/spec.md): one JSON object per line, written
// as things happen. The lines every process of a jail may write are built here (the setuid
// helper writes "started" itself, once it holds no privilege); the CLI adds the failures and
// the summary (src/cli/report.cpp).
#pragma once

#include <boxjail/run.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace boxjail::report {

inline constexpr const char* kReportVersion = "boxjail.report/v1";

// {"report": "boxjail.report/v1", "event": NAME}, for the caller to add to.
nlohmann::ordered_json event(std::string_view name);

nlohmann::ordered_json attempt(std::string_view rung, std::string_view ladder_mode);
nlohmann::ordered_json started(std::string_view rung, const Started& s);
// The sandbox ended with bwrap's exit status (the code, or 128+N for a signal N: as with bwrap,
// a command that exits with 130 and one killed by SIGINT look the same).
nlohmann::ordered_json exit(int status);

// After the jail ended: what its cgroup saw ("event": "cgroup"), written before "exit".
nlohmann::ordered_json cgroup_end(const CgroupUsage& usage);

// Writes one line; a reader gone away does not change the jail's outcome (its errors are ignored).
void write_line(int fd, const nlohmann::ordered_json& line);

}  // namespace boxjail::report
