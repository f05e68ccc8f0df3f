// SPDX-License-Identifier: Apache-2.0
// The fallback ladder: root, then an unprivileged user namespace, then the setuid helper, then
// refuse. Each rung runs the same engine; a rung is left only for a denial that the next rung
// could get past, and only when trying it left nothing behind.
#pragma once

#include <boxjail/config.hpp>
#include <boxjail/error.hpp>
#include <boxjail/run.hpp>
#include <boxjail/spec.hpp>

#include <functional>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxjail {

enum class Rung { Root, Userns, Setuid };

std::string_view to_string(Rung rung);

struct LadderOptions {
  LadderMode mode = LadderMode::Auto;
  std::string setuid_helper;  // path of boxjail-suid
  bool probe = false;         // doctor: setup only, exit 0 where the command would run
  bool report_status = true;  // name rung and mode in --json-status-fd (false under "bwrap")
  int shed_after_ms = -1;     // RunOptions::shed_after_ms (the CLI sets it)
  // The report's events, as they happen: a rung is tried, its command runs (in the setuid rung
  // the helper itself writes that line to `report_fd`), its attempt failed.
  std::function<void(Rung)> on_attempt;
  std::function<void(Rung, const Started&)> on_started;
  std::function<void(const Error&)> on_failure;
  // The jail's cgroup, once emptied (the setuid helper writes its own, like "started").
  std::function<void(const CgroupUsage&)> on_cgroup_end;
  int report_fd = -1;
};

struct LadderResult {
  std::optional<int> status;    // the jail ran: its exit status
  std::string rung;             // the rung that ran it ("" when none did)
  std::vector<Error> failures;  // one per rung tried and failed, in order, each with Error::rung
};

// The rungs a caller may climb under `mode`, in order. A caller with CAP_SYS_ADMIN in the initial
// user namespace (root) gets the root rung alone: no other rung could do more for it.
std::vector<Rung> rungs_for(LadderMode mode, bool caller_is_root);

// Runs `spec` (as parsed: not yet resolved; each rung resolves it for its own caller) up the
// ladder.
LadderResult run_ladder(const Spec& spec, const LadderOptions& options);

// Runs one rung only (doctor walks them all, whatever the outcome of the others).
result<int> run_rung(Rung rung, const Spec& spec, const LadderOptions& options);

// A failure that another rung might get past: a permission or namespace-limit errno in a step
// that needs privilege (creating namespaces, writing id maps, mounting, pivoting...). A missing
// bind source or a bad option fails the same on every rung.
bool is_denial(const Error& e);

// Whether trying the next rung has no visible effect: nothing was written to a status fd and no
// caller fd was consumed by the failed attempt. `why_not` says what was, otherwise.
bool retry_is_safe(const Error& e, const Spec& spec, std::string* why_not);

}  // namespace boxjail
