// SPDX-License-Identifier: Apache-2.0
// How a ladder's outcome is shown: the stderr lines (step line, then cause and fixes) and the JSON
// report for --report-fd, log.format = "json" and `doctor --json`. Diagnosis happens here, only
// after a failure: a jail that starts pays nothing for it.
#pragma once

#include <boxjail/config.hpp>
#include <boxjail/diagnose.hpp>
#include <boxjail/ladder.hpp>

#include <nlohmann/json.hpp>

#include <string>

namespace boxjail::cli {

struct DiagnosedFailure {
  Error error;
  bool denial = false;
  Diagnosis diagnosis;
  // The kernel log's account of this attempt (audit.log, audit.apparmor, audit.denied,
  // audit.rule), each as read; empty when the attempt named no process.
  std::vector<Fact> audit;
};

// Diagnoses every failure of `result` against freshly collected host facts.
std::vector<DiagnosedFailure> diagnose_failures(const LadderResult& result, const Config& config,
                                                HostFacts* facts_out);

// "boxjail: userns rung: <step>: <syscall> <path>: <message>: <strerror> (<ENAME>)", then
// "  cause: ..." and "  fix:   ..." lines for a denial. Errors without errno (bad options) keep
// their single bwrap-style line.
std::string failure_text(const std::string& prog, const DiagnosedFailure& f, bool level_prefix);

nlohmann::json failure_json(const DiagnosedFailure& f);
nlohmann::json facts_json(const HostFacts& facts);

// The whole --report-fd object.
nlohmann::json ladder_report_json(const LadderResult& result, const Config& config,
                                  const std::vector<DiagnosedFailure>& failures,
                                  const HostFacts* facts);

}  // namespace boxjail::cli
