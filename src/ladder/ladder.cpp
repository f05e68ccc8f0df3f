// SPDX-License-Identifier: Apache-2.0
// The ladder's rules: which rungs, when to climb, and when climbing would be visible.
#include <boxjail/ladder.hpp>
#include <boxjail/run.hpp>
#include <boxjail/validate.hpp>

#include <cerrno>

#include "engine/steps.hpp"
#include "ladder/setuid_rung.hpp"

namespace boxjail {
namespace {

bool one_of(std::string_view s, std::initializer_list<std::string_view> set) {
  for (auto x : set) {
    if (s == x) return true;
  }
  return false;
}

// Filesystem steps fail for privilege only in the mount calls themselves; their mkdir/open of a
// destination fails the same way on every rung (the setuid rung's setup process has the caller's
// ids, and a refusal by its privileged side names the call "mount-broker").
bool mount_family(std::string_view syscall) {
  return syscall.find("mount") != std::string_view::npos || syscall == "open_tree" ||
         syscall == "fsopen" || syscall == "fsconfig" || syscall == "pivot_root" ||
         syscall.starts_with("umount");
}

// Index of a step in the engine's order; steps outside it (monitor-side checks) sort first.
std::size_t order_of(std::string_view step_name) {
  for (std::size_t i = 0; i < step::kOrder.size(); ++i) {
    if (step::kOrder[i].name == step_name) return i;
  }
  return 0;
}

}  // namespace

std::string_view to_string(Rung rung) {
  switch (rung) {
    case Rung::Root:
      return "root";
    case Rung::Userns:
      return "userns";
    case Rung::Setuid:
      return "setuid";
  }
  return "?";
}

std::vector<Rung> rungs_for(LadderMode mode, bool caller_is_root) {
  if (caller_is_root) return {Rung::Root};
  switch (mode) {
    case LadderMode::Auto:
      return {Rung::Userns, Rung::Setuid};
    case LadderMode::Userns:
      return {Rung::Userns};
    case LadderMode::Setuid:
      return {Rung::Setuid};
  }
  return {};
}

bool is_denial(const Error& e) {
  const int err = e.err;
  const bool permission = err == EPERM || err == EACCES;
  const bool limit = err == ENOSPC || err == EUSERS;
  // A nested step ("nested-userns/write-uid-map") counts as the nested step.
  const std::string_view step = std::string_view(e.step).substr(0, e.step.find('/'));
  if (step == step::kCloneNamespaces) {
    // EINVAL/ENOSYS: a kernel built without user namespaces, or a filter faking that.
    return permission || limit || err == EINVAL || err == ENOSYS;
  }
  // The maps: only the kernel refusing the write itself. Reading /etc/subuid or running
  // newuidmap (--uid-range) fails the same on every rung.
  if (one_of(step, {step::kWriteSetgroups, step::kWriteUidMap, step::kWriteGidMap}) &&
      e.syscall != "write") {
    return false;
  }
  if (one_of(step, {step::kWriteSetgroups, step::kWriteUidMap, step::kWriteGidMap,
                    step::kLoopbackUp, step::kSetHostname, step::kMakeRootRslave,
                    step::kMountBaseTmpfs, step::kPivotRoot, step::kDetachOldRoot,
                    step::kNestedUserns, step::kLimitUserns, step::kDropCapabilities})) {
    return permission || limit;
  }
  if (one_of(step, {step::kBindMount, step::kRemountRo, step::kMountProc, step::kMountDev,
                    step::kMountTmpfs, step::kMountMqueue})) {
    return (permission || limit) && mount_family(e.syscall);
  }
  return false;
}

bool retry_is_safe(const Error& e, const Spec& spec, std::string* why_not) {
  auto no = [why_not](const char* why) {
    if (why_not) *why_not = why;
    return false;
  };
  const std::string_view step = std::string_view(e.step).substr(0, e.step.find('/'));
  // Failures before the child exists consumed nothing the caller gave us.
  if (step == step::kCloneNamespaces) return true;
  if (spec.info_fd >= 0 || spec.json_status_fd >= 0) {
    return no("--info-fd/--json-status-fd already carry the failed attempt's pid");
  }
  if (!spec.add_seccomp_fds.empty()) return no("the --add-seccomp-fd programs were read");
  if (spec.userns_block_fd >= 0) return no("--userns-block-fd was consumed");
  // --file and --bind-data read their fds while the filesystem operations run.
  bool reads_fds = false;
  for (const auto& op : spec.ops) {
    reads_fds |= op.kind == OpKind::File || op.kind == OpKind::BindData;
  }
  if (reads_fds && order_of(step) >= order_of(step::kBindMount)) {
    return no("a --file/--bind-data fd may have been read");
  }
  return true;
}

result<int> run_rung(Rung rung, const Spec& spec, const LadderOptions& options) {
  if (rung == Rung::Setuid) return run_setuid_rung(spec, options);
  Spec asked = spec;
  Caller caller = current_caller();
  // doctor probes the userns rung as root too: only an explicit --unshare-user does that.
  if (rung == Rung::Userns && caller.is_root() && spec.userns_fd == -1) asked.unshare_user = true;
  BOOST_OUTCOME_TRY(resolved, resolve_spec(std::move(asked), caller));
  RunOptions run_options;
  run_options.probe = options.probe;
  run_options.shed_after_ms = options.shed_after_ms;
  if (options.report_status) {
    run_options.status_rung = std::string(to_string(rung));
    run_options.status_ladder_mode = std::string(to_string(options.mode));
  }
  if (options.on_started) {
    run_options.on_started = [&](const Started& s) { options.on_started(rung, s); };
  }
  run_options.on_cgroup_end = options.on_cgroup_end;
  return run(resolved, run_options);
}

LadderResult run_ladder(const Spec& spec, const LadderOptions& options) {
  LadderResult out;
  const auto rungs = rungs_for(options.mode, current_caller().is_root());
  for (std::size_t i = 0; i < rungs.size(); ++i) {
    if (options.on_attempt) options.on_attempt(rungs[i]);
    auto r = run_rung(rungs[i], spec, options);
    if (r) {
      out.status = r.value();
      out.rung = std::string(to_string(rungs[i]));
      return out;
    }
    Error e = std::move(r).error();
    if (e.rung.empty()) e.rung = std::string(to_string(rungs[i]));
    const bool last = i + 1 == rungs.size();
    std::string why_not;
    const bool climb = !last && is_denial(e) && retry_is_safe(e, spec, &why_not);
    if (!last && is_denial(e) && !climb) {
      e.evidence.emplace_back("ladder.no_retry", why_not);
    }
    if (options.on_failure) options.on_failure(e);
    out.failures.push_back(std::move(e));
    if (!climb) break;
  }
  return out;
}

}  // namespace boxjail
