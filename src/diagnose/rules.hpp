// SPDX-License-Identifier: Apache-2.0
// The diagnosis rules as data: which failures (rung, step, errno) and which facts point at which
// cause. diagnose.cpp only evaluates this table; adding a cause means adding a row here and a
// section in docs/troubleshooting.md (a test checks both lists agree).
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace boxjail::diag {

enum class Op { Equals, NotEquals, Exists, Absent, Contains, StartsWith, EndsWith, NotEmpty };

// A test on one fact. A fact that was not observed satisfies only Absent: no other condition
// holds on missing evidence, so a rule never fires on what nobody saw.
// Names starting with "error." test the failed Error itself rather than a fact
// ("error.errno" is its errno name, e.g. "ENOENT"); they are not listed as checked facts.
struct Condition {
  std::string_view fact;
  Op op;
  std::string_view value;
};

struct Rule {
  std::string_view id;  // stable; a heading in docs/troubleshooting.md
  // The rungs it applies to; empty = any. Skipped when the rung is unknown (a bwrap-style run
  // outside the ladder), where the conditions alone decide.
  std::vector<std::string_view> rungs;
  std::vector<std::string_view> steps;  // step names or group names (step_group); empty = any
  std::vector<int> errnos;              // empty = any
  std::vector<Condition> all;           // every one must hold
  std::vector<Condition> any;           // at least one must hold (empty = no such requirement)
  // Templates: {step} {syscall} {path} {errno} {rung} come from the Error, {computed} names see
  // diagnose.cpp, any other {name} is a fact's value; "{name|text}" gives the text to use when
  // the value is empty or was not observed.
  std::string_view cause;
  std::vector<std::string_view> fixes;
};

// The table, most specific first: the first matching rule wins.
const std::vector<Rule>& rule_table();

// The steps a group name stands for, or nullptr when `name` is not a group.
std::optional<std::span<const std::string_view>> step_group(std::string_view name);

// Whether `rule` covers `step` (its names and the members of its groups).
bool rule_covers_step(const Rule& rule, std::string_view step);

// The step names used by the table, groups expanded (for the test that they all exist).
std::vector<std::string_view> rule_step_names();

// Placeholder keys of a template, in order ("{a|b}" gives "a").
std::vector<std::string_view> template_keys(std::string_view text);

}  // namespace boxjail::diag
