// SPDX-License-Identifier: Apache-2.0
#include "cli/report.hpp"

#include <cstring>

#include "engine/error_json.hpp"

namespace boxjail::cli {

std::vector<DiagnosedFailure> diagnose_failures(const LadderResult& result, const Config& config,
                                                HostFacts* facts_out) {
  // The helper is described whenever one is configured: whether a fix about it is already in
  // effect depends on it, as on the mode.
  EvidenceRoots roots;
  roots.setuid_helper = config.setuid_helper;
  HostFacts host = collect_host_facts(roots);
  host.facts.push_back(Fact{"ladder.mode", std::string(to_string(config.mode)),
                            config.path.empty() ? "built-in default" : config.path});
  std::vector<DiagnosedFailure> out;
  for (const auto& e : result.failures) {
    HostFacts facts = host;
    add_child_evidence(facts, e);
    add_audit_evidence(facts, e);
    DiagnosedFailure f;
    for (const auto& fact : facts.facts) {
      if (fact.name.starts_with("audit.")) f.audit.push_back(fact);
    }
    f.error = e;
    f.denial = is_denial(e) || e.step == "helper-check" || e.step == "helper-exec";
    f.diagnosis = diagnose(e.rung, e, facts);
    out.push_back(std::move(f));
  }
  if (facts_out) *facts_out = std::move(host);
  return out;
}

std::string failure_text(const std::string& prog, const DiagnosedFailure& f, bool level_prefix) {
  const Error& e = f.error;
  Error first = e;
  first.level_prefix = level_prefix;
  std::string line = format_error_line(prog, first) + "\n";
  if (first.err == 0 || first.rung.empty()) return line;
  if (!f.denial && !f.diagnosis.known) return line;
  if (f.diagnosis.known) {
    line += "  cause: " + f.diagnosis.cause + "\n";
    for (std::size_t i = 0; i < f.diagnosis.fixes.size(); ++i) {
      line += (i == 0 ? "  fix:   " : "     or: ") + f.diagnosis.fixes[i] + "\n";
    }
  } else {
    line += "  cause: unknown: no rule matched what was observed; checked:\n";
    for (const auto& c : f.diagnosis.checked) line += "         " + c + "\n";
  }
  // The kernel's own record of the denial, or why it could not be read and how to see it.
  auto audit = [&f](std::string_view name) -> const Fact* {
    for (const auto& a : f.audit) {
      if (a.name == name) return &a;
    }
    return nullptr;
  };
  if (const Fact* record = audit("audit.apparmor")) {
    line += "  kernel: " + record->value + "\n";
  } else if (const Fact* log = audit("audit.log");
             log && f.diagnosis.rule.find("apparmor") != std::string::npos) {
    line += "  kernel log: " + log->value +
            (log->value.starts_with("read")
                 ? " (AppArmor logs a denied capability once per profile and CPU, and not at all "
                   "for a `deny` rule without `audit`)"
                 : "; `sudo dmesg | grep 'apparmor=\"DENIED\"'` (or `journalctl -k` for "
                   "members of adm or systemd-journal) shows the kernel's record") +
            "\n";
  }
  for (const auto& [k, v] : e.evidence) {
    if (k == "ladder.no_retry") line += "  not retried on the next rung: " + v + "\n";
  }
  return line;
}

nlohmann::json failure_json(const DiagnosedFailure& f) {
  nlohmann::json j = error_json(f.error);
  j["rung"] = f.error.rung;
  j["denial"] = f.denial;
  j["cause_known"] = f.diagnosis.known;
  j["cause_id"] = f.diagnosis.rule;
  j["cause"] = f.diagnosis.cause;
  j["fixes"] = f.diagnosis.fixes;
  j["checked"] = f.diagnosis.checked;
  nlohmann::json audit = nlohmann::json::object();
  for (const auto& a : f.audit) audit[a.name.substr(6)] = a.value;
  j["audit"] = audit;
  return j;
}

nlohmann::json facts_json(const HostFacts& facts) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : facts.facts) {
    out.push_back({{"name", f.name}, {"value", f.value}, {"source", f.source}});
  }
  return out;
}

nlohmann::json ladder_report_json(const LadderResult& result, const Config& config,
                                  const std::vector<DiagnosedFailure>& failures,
                                  const HostFacts* facts) {
  nlohmann::json j;
  j["boxjail"] = BOXJAIL_VERSION;
  j["ladder_mode"] = std::string(to_string(config.mode));
  j["config"] = config.path;
  if (result.status) {
    j["result"] = "ran";
    j["rung"] = result.rung;
    j["exit_status"] = *result.status;
  } else {
    j["result"] = !failures.empty() && failures.back().denial ? "refused" : "failed";
    j["rung"] = nullptr;
    j["exit_status"] = nullptr;
  }
  j["attempts"] = nlohmann::json::array();
  for (const auto& f : failures) j["attempts"].push_back(failure_json(f));
  if (facts) j["facts"] = facts_json(*facts);
  return j;
}

}  // namespace boxjail::cli
