// SPDX-License-Identifier: Apache-2.0
// Diagnosis: why a setup step was denied, and how to fix it.
//
// Two halves, both read-only (nothing here changes the system):
//  - collect_host_facts() reads /proc and /sys (under roots given as parameters, so tests hand it
//    fake trees) and returns named facts, each saying which file it came from;
//  - diagnose() maps (rung, step, errno, facts) to a cause and fixes through one table of rules.
//    When no rule matches, the cause is "unknown" and the report lists what was checked: a wrong
//    cause is worse than none.
#pragma once

#include <boxjail/error.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxjail {

// One observed fact. `name` is a stable key (see docs/troubleshooting.md), `source` the file it
// was read from (or "stat <path>", "child" for facts the sandbox child gathered).
struct Fact {
  std::string name;
  std::string value;
  std::string source;
};

struct HostFacts {
  std::vector<Fact> facts;
  const Fact* find(std::string_view name) const;
  // The value of a fact, or nullopt when it was not observed (file absent or unreadable).
  std::optional<std::string> get(std::string_view name) const;
};

// Where the collector looks. Tests point these at fake trees.
struct EvidenceRoots {
  std::string proc = "/proc";
  std::string sys = "/sys";
  std::string self = "self";       // the /proc entry of the process to describe ("self" or a pid)
  std::string setuid_helper;       // the helper's path, when the ladder may use it ("" = not asked)
  std::string parent;              // the /proc entry of the caller ("" = this process's parent)
  std::string kmsg = "/dev/kmsg";  // the kernel log, for add_audit_evidence
  // The journal's reader, tried when the kernel log is not readable (members of adm or
  // systemd-journal may read the kernel's messages there).
  std::string journalctl = "/usr/bin/journalctl";
};

HostFacts collect_host_facts(const EvidenceRoots& roots = {});

// Adds the facts a failed Error carried from the sandbox child (Error::evidence, e.g. the
// AppArmor label inside the new user namespace) to `facts`, with source "child".
void add_child_evidence(HostFacts& facts, const Error& e);

// Adds what the kernel log says about a failed attempt: AppArmor's audit records made by the
// attempt's processes (the pids in Error::evidence "pid.*") since this process started, as
// "audit.*" facts (the record, what it denied, the rule that would allow it), or "audit.log"
// saying why the log could not be read. Failure path only: it reads the whole kernel log.
void add_audit_evidence(HostFacts& facts, const Error& e, const EvidenceRoots& roots = {});

struct Diagnosis {
  bool known = false;  // a rule matched
  std::string rule;    // the rule's stable id, "unknown" when none matched
  std::string cause;   // one or more sentences, facts substituted
  std::vector<std::string> fixes;
  std::vector<std::string> checked;  // "name = value (source)" for every fact consulted
};

// `rung` is "root", "userns" or "setuid" ("" when not run by the ladder).
Diagnosis diagnose(std::string_view rung, const Error& e, const HostFacts& facts);

// The rule ids, in table order (docs/troubleshooting.md lists each; a test checks it).
std::vector<std::string> diagnosis_rule_ids();

// An AppArmor profile that grants `userns,` to `binary_path` (the real path of boxjail).
std::string apparmor_profile(const std::string& binary_path);

}  // namespace boxjail
