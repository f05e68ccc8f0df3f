// SPDX-License-Identifier: Apache-2.0
#include "cli/doctor.hpp"

#include <boxjail/bwrap_args.hpp>
#include <boxjail/config.hpp>
#include <boxjail/diagnose.hpp>
#include <boxjail/ladder.hpp>
#include <boxjail/validate.hpp>

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "cli/report.hpp"
#include "sys/kernel_features.hpp"

namespace boxjail::cli {
namespace {

constexpr int kUsable = 0;
constexpr int kUsageError = 1;
constexpr int kNotUsable = 2;

constexpr const char* kUsage =
    "usage: boxjail doctor [--json] [--config PATH] [-- JAIL OPTIONS... COMMAND...]\n"
    "       boxjail doctor --apparmor-profile [BINARY]\n";

// What a real jail does, step for step; in probe mode the child exits 0 where it would exec.
// Without jail options of the caller's, this one: every namespace (a user namespace included, as
// the runtimes' jails have), a hostname, /proc, /dev, a tmpfs and a directory.
constexpr const char* kProbeArgs[] = {
    "--unshare-all", "--hostname", "boxjail-doctor", "--tmpfs", "/tmp", "--proc",     "/proc",
    "--dev",         "/dev",       "--dir",          "/probe",  "--",   "/probe/none"};

struct Row {
  Rung rung;
  std::string result;  // "ok", "failed", "skipped"
  std::string why_skipped;
  std::optional<DiagnosedFailure> failure;
};

bool allowed(Rung rung, LadderMode mode, bool root) {
  if (rung == Rung::Root) return root;
  if (rung == Rung::Userns) return mode != LadderMode::Setuid;
  return mode != LadderMode::Userns;
}

std::string skip_reason(Rung rung, LadderMode mode) {
  if (rung == Rung::Root) return "caller is not root";
  return "ladder.mode = " + std::string(to_string(mode));
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s + " ";
}

}  // namespace

int doctor_main(const std::vector<std::string>& args) {
  bool json = false;
  bool profile = false;
  std::string profile_for;  // the binary the profile attaches to; this one by default
  std::string config_path;
  // `-- OPTIONS`: the jail the caller will really run (a runtime's own argv), probed on every
  // rung: a verdict about another jail says nothing about this one.
  std::optional<std::vector<std::string>> jail_args;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--") {
      jail_args.emplace(args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (args[i] == "--help") {
      std::fputs(kUsage, stdout);
      return kUsable;
    }
    if (args[i] == "--json") {
      json = true;
    } else if (args[i] == "--apparmor-profile") {
      profile = true;
      // A packager's build names the path the binary will be installed at.
      if (i + 1 < args.size() && !args[i + 1].empty() && args[i + 1][0] == '/') {
        profile_for = args[++i];
      }
    } else if (args[i] == "--config" && i + 1 < args.size()) {
      config_path = args[++i];
    } else {
      std::fputs(kUsage, stderr);
      return kUsageError;
    }
  }
  if (profile && !profile_for.empty()) {
    std::fputs(apparmor_profile(profile_for).c_str(), stdout);
    return kUsable;
  }
  if (profile) {
    char real[PATH_MAX];
    if (realpath("/proc/self/exe", real) == nullptr) {
      std::perror("boxjail: doctor: realpath /proc/self/exe");
      return kUsageError;
    }
    std::fputs(apparmor_profile(real).c_str(), stdout);
    return kUsable;
  }
  const char* env = std::getenv("BOXJAIL_CONFIG");
  if (config_path.empty() && env && *env) config_path = env;
  auto config =
      config_path.empty() ? load_config(kDefaultConfigPath, false) : load_config(config_path, true);
  if (!config) {
    std::fprintf(stderr, "%s\n", format_error_line("boxjail", config.error()).c_str());
    return kUsageError;
  }
  const Config& cfg = config.value();

  auto parsed = parse_bwrap_args(
      jail_args ? *jail_args
                : std::vector<std::string>(std::begin(kProbeArgs), std::end(kProbeArgs)),
      ParseContext{});
  if (!parsed) {
    std::fprintf(stderr, "%s\n", format_error_line("boxjail", parsed.error()).c_str());
    return kUsageError;
  }
  const Spec& probe = parsed.value().spec;
  const bool root = current_caller().is_root();
  LadderOptions options;
  options.mode = cfg.mode;
  options.setuid_helper = cfg.setuid_helper;
  options.probe = true;
  options.report_status = false;

  std::vector<Row> rows;
  LadderResult failed;  // every failure, for one diagnosis pass
  for (Rung rung : {Rung::Root, Rung::Userns, Rung::Setuid}) {
    Row row{rung, "skipped", "", std::nullopt};
    if (!allowed(rung, cfg.mode, root)) {
      row.why_skipped = skip_reason(rung, cfg.mode);
    } else {
      auto r = run_rung(rung, probe, options);
      if (r && r.value() == 0) {
        row.result = "ok";
      } else {
        row.result = "failed";
        Error e =
            r ? make_error("probe", "the probe exited with status " + std::to_string(r.value()))
              : std::move(r).error();
        if (e.rung.empty()) e.rung = std::string(to_string(rung));
        failed.failures.push_back(std::move(e));
      }
    }
    rows.push_back(std::move(row));
  }
  HostFacts facts;
  auto diagnosed = diagnose_failures(failed, cfg, &facts);
  if (failed.failures.empty()) {
    EvidenceRoots roots;
    roots.setuid_helper = cfg.setuid_helper;
    facts = collect_host_facts(roots);
  }
  std::size_t next = 0;
  for (auto& row : rows) {
    if (row.result == "failed") row.failure = diagnosed[next++];
  }
  // The rung real jails would use: root alone for root, else the ladder's order.
  std::optional<Rung> usable;
  for (Rung rung : rungs_for(cfg.mode, root)) {
    for (const auto& row : rows) {
      if (!usable && row.rung == rung && row.result == "ok") usable = rung;
    }
  }

  // A root caller's jails act as host uid 0: what they can still do to the host is in
  // docs/security.md; a dedicated unprivileged identity per jail is the safe way.
  std::vector<std::string> warnings;
  if (usable && *usable == Rung::Root) {
    warnings.emplace_back(
        "jails started by this caller run as host root (uid 0): /proc's kernel knobs are "
        "covered read-only and every mount is locked against the jail, but files are reached "
        "with root's rights and capabilities kept without CAP_SYS_ADMIN act on the host; run "
        "jails as a dedicated unprivileged user (docs/security.md)");
  }

  // TIOCSTI pushes bytes into a terminal's input queue. A jail that shares the caller's terminal
  // (no --new-session) can type into the caller's shell where the kernel still allows it to
  // anyone with the terminal open (docs/security.md); bwrap is the same.
  if (auto tiocsti = facts.get("sysctl.dev.tty.legacy_tiocsti"); tiocsti && *tiocsti == "1") {
    warnings.emplace_back(
        "dev.tty.legacy_tiocsti = 1: a jail that shares the caller's terminal can push input "
        "into it with TIOCSTI; run jails with --new-session, or under --seccomp-policy default, "
        "which refuses TIOCSTI and TIOCLINUX (docs/security.md)");
  }

  if (json) {
    nlohmann::json j;
    j["boxjail"] = BOXJAIL_VERSION;
    j["warnings"] = warnings;
    j["config"] = cfg.path;
    j["ladder_mode"] = std::string(to_string(cfg.mode));
    j["setuid_helper"] = cfg.setuid_helper;
    j["caller_uid"] = getuid();
    j["kernel"] = sys::kernel_release();
    j["mounts"] = {{"path", sys::kernel_has_mount_setattr() ? "new-mount-api" : "classic"},
                   {"description", sys::mount_path_description()}};
    j["usable"] = usable.has_value();
    j["rung"] = usable ? nlohmann::json(std::string(to_string(*usable))) : nlohmann::json();
    j["rungs"] = nlohmann::json::array();
    for (const auto& row : rows) {
      nlohmann::json r;
      r["rung"] = std::string(to_string(row.rung));
      r["result"] = row.result;
      if (!row.why_skipped.empty()) r["reason"] = row.why_skipped;
      if (row.failure) r["failure"] = failure_json(*row.failure);
      j["rungs"].push_back(std::move(r));
    }
    j["facts"] = facts_json(facts);
    std::printf("%s\n", j.dump(2).c_str());
    return usable ? kUsable : kNotUsable;
  }

  std::printf("boxjail doctor: config %s, ladder.mode = %s, setuid helper %s, caller uid %u\n",
              cfg.path.empty() ? "(none: built-in defaults)" : cfg.path.c_str(),
              std::string(to_string(cfg.mode)).c_str(), cfg.setuid_helper.c_str(), getuid());
  std::printf("mounts on this kernel: %s\n\n", sys::mount_path_description().c_str());
  std::printf("%s%s%s%s%s\n", pad("RUNG", 7).c_str(), pad("RESULT", 8).c_str(),
              pad("STEP", 18).c_str(), pad("ERRNO", 7).c_str(), "CAUSE");
  for (const auto& row : rows) {
    const Error* e = row.failure ? &row.failure->error : nullptr;
    std::string cause = row.why_skipped;
    if (row.failure) cause = row.failure->diagnosis.rule;
    std::printf("%s%s%s%s%s\n", pad(std::string(to_string(row.rung)), 7).c_str(),
                pad(row.result, 8).c_str(), pad(e ? e->step : "-", 18).c_str(),
                pad(e && e->err ? errno_name(e->err) : "-", 7).c_str(),
                cause.empty() ? "-" : cause.c_str());
  }
  for (const auto& row : rows) {
    if (!row.failure) continue;
    std::printf("\n%s", failure_text("boxjail", *row.failure, false).c_str());
  }
  std::printf("\nhost facts:\n");
  for (const auto& f : facts.facts) {
    std::printf("  %s = %s  (%s)\n", f.name.c_str(), f.value.c_str(), f.source.c_str());
  }
  for (const auto& w : warnings) std::printf("\nwarning: %s\n", w.c_str());
  if (usable) {
    std::printf("\nverdict: jails can run here, on the %s rung\n",
                std::string(to_string(*usable)).c_str());
  } else {
    std::printf("\nverdict: jails cannot run here with ladder.mode = %s (see the causes above)\n",
                std::string(to_string(cfg.mode)).c_str());
  }
  return usable ? kUsable : kNotUsable;
}

}  // namespace boxjail::cli
