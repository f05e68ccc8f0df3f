// SPDX-License-Identifier: Apache-2.0
// The boxjail binary: parse bwrap's command line, resolve it, run it, print what went wrong.
// Only this file decides exit statuses and prints.
#include <boxjail/bwrap_args.hpp>
#include <boxjail/config.hpp>
#include <boxjail/ladder.hpp>
#include <boxjail/validate.hpp>

#include "cli/completion.hpp"
#include "cli/doctor.hpp"
#include "cli/report.hpp"
#include "cli/spec_cmd.hpp"

#include "engine/cgroup.hpp"
#include "engine/identity.hpp"
#include "engine/log.hpp"
#include "engine/seccomp_policy.hpp"
#include "engine/slim_monitor.hpp"
#include "frontend/report_events.hpp"
#include "sys/read_all.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

extern char** environ;

namespace {

// bwrap prints "bwrap: " whatever argv[0] is; we print our own name, except when installed or
// linked under the name bwrap, where callers may match bwrap's messages byte for byte.
std::string program_name(const char* argv0) {
  const char* base = std::strrchr(argv0, '/');
  base = base ? base + 1 : argv0;
  return std::strcmp(base, "bwrap") == 0 ? "bwrap" : "boxjail";
}

std::string read_text(const std::string& path) {
  std::string text;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  (void)boxjail::sys::read_all(fd, text);  // the caller checks what it got
  close(fd);
  return text;
}

int report(const std::string& prog, const std::string& invoked_as, const boxjail::Error& e) {
  std::fprintf(stderr, "%s\n", boxjail::format_error_line(prog, e).c_str());
  if (e.usage) std::fputs(boxjail::usage_text(invoked_as).c_str(), stderr);
  return 1;
}

constexpr const char* kSeccompUsage =
    "usage: boxjail seccomp check POLICY\n"
    "       boxjail seccomp compile POLICY -o FILE\n"
    "       boxjail seccomp pfc POLICY\n"
    "       boxjail seccomp precompile DIR\n"
    "POLICY is a name in " BOXJAIL_SECCOMP_DIR " or a path to a JSON policy.\n";

// `boxjail seccomp ...`: check, compile or show a policy without running anything.
int seccomp_main(const std::vector<std::string>& args) {
  auto fail = [](const boxjail::Error& e) {
    std::fprintf(stderr, "%s\n", boxjail::format_error_line("boxjail", e).c_str());
    return 1;
  };
  const std::string verb = args.size() > 1 ? args[1] : "";
  if (verb == "--help" || verb == "help") {
    std::fputs(kSeccompUsage, stdout);
    return 0;
  }
  if (verb == "precompile") {
    if (args.size() != 3) {
      std::fputs(kSeccompUsage, stderr);
      return 1;
    }
    auto done = boxjail::precompile_seccomp_policies(args[2]);
    return done ? 0 : fail(done.error());
  }
  std::string output;
  bool have_output = false;
  std::vector<std::string> operands;
  for (std::size_t i = 2; i < args.size(); ++i) {
    if (args[i] == "-o" && verb == "compile" && i + 1 < args.size()) {
      output = args[++i];
      have_output = true;
    } else {
      operands.push_back(args[i]);
    }
  }
  const bool known = verb == "check" || verb == "compile" || verb == "pfc";
  if (!known || operands.size() != 1 || (verb == "compile" && !have_output)) {
    std::fputs(kSeccompUsage, stderr);
    return 1;
  }
  auto path = boxjail::resolve_seccomp_policy_path(operands[0]);
  if (!path) return fail(path.error());
  if (verb == "check") {
    const std::string text = read_text(path.value());
    if (text.empty() && access(path.value().c_str(), R_OK) != 0) {
      return fail(boxjail::sys_error("seccomp-policy", "open", path.value(), errno,
                                     "Can't open seccomp policy " + path.value()));
    }
    const auto errors = boxjail::check_seccomp_policy(text, path.value());
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", boxjail::describe(e).c_str());
    if (!errors.empty()) return 1;
    std::printf("%s: ok\n", path.value().c_str());
    return 0;
  }
  auto policy = boxjail::load_seccomp_policy(path.value());
  if (!policy) return fail(policy.error());
  auto out = verb == "pfc" ? boxjail::seccomp_policy_pfc(policy.value())
                           : boxjail::compile_seccomp_policy(policy.value());
  if (!out) return fail(out.error());
  if (verb == "pfc" || output == "-") {
    std::fwrite(out.value().data(), 1, out.value().size(), stdout);
    return 0;
  }
  const int fd = open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const std::string& bytes = out.value();
  if (fd < 0 || write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()) ||
      close(fd) != 0) {
    return fail(
        boxjail::sys_error("seccomp-policy", "write", output, errno, "Can't write " + output));
  }
  return 0;
}

constexpr const char* kSubcommandsHelp =
    "\n"
    "Subcommands (each takes --help):\n"
    "    run --spec FILE|-|fd:N       Run the jail a JSON spec describes (boxjail.spec/v1)\n"
    "    spec --from-args -- OPTIONS  Print the JSON spec these options make\n"
    "    doctor [-- OPTIONS]          Say which rung of the ladder works here, and why not\n"
    "    seccomp check|compile|pfc    Check or compile a seccomp policy file\n"
    "    completion bash|zsh          Print a shell completion script\n"
    "\n"
    "Manual pages: boxjail(1), boxjail-suid(8), boxjail.toml(5).\n";

// A jail whose command still runs after this long is presumed long-lived (a VM's): its monitor
// sheds the setup image. Short jails (a build step, a test) never pay for the re-exec.
constexpr int kShedAfterMs = 20;

// The operator's config: --config, else $BOXJAIL_CONFIG (both must exist), else the default
// path (optional). Read by this front end only; the setuid helper never reads it.
boxjail::result<boxjail::Config> operator_config(const std::string& given) {
  if (!given.empty()) return boxjail::load_config(given, true);
  const char* env = std::getenv("BOXJAIL_CONFIG");
  if (env && *env) return boxjail::load_config(env, true);
  return boxjail::load_config(boxjail::kDefaultConfigPath, false);
}

}  // namespace

static int checked_main(int argc, char** argv) {
  // The monitor of a long-lived jail, re-executed to shed the setup image: nothing else runs.
  if (argc > 1 && std::strcmp(argv[1], boxjail::kSlimMonitorFlag) == 0) {
    return boxjail::slim_monitor_main(argc, argv);
  }
  const std::string prog = program_name(argc > 0 ? argv[0] : "boxjail");
  // bwrap's usage line names argv[0] exactly as it was given.
  const std::string invoked_as = argc > 0 ? argv[0] : "boxjail";
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  // boxjail's own subcommands; under the name bwrap they stay commands to run, as in bwrap.
  if (prog != "bwrap" && !args.empty() && args[0] == "seccomp") return seccomp_main(args);
  if (prog != "bwrap" && !args.empty() && args[0] == "doctor") {
    return boxjail::cli::doctor_main(args);
  }
  if (prog != "bwrap" && !args.empty() && args[0] == "completion") {
    return boxjail::cli::completion_main(args);
  }
  boxjail::ParseContext ctx;
  for (char** e = environ; e && *e; ++e) ctx.environ.emplace_back(*e);
  if (getuid() == 0) ctx.initial_caps = boxjail::effective_caps();
  const bool subcommands = prog != "bwrap" && !args.empty();
  if (subcommands && args[0] == "spec") return boxjail::cli::spec_main(args, ctx);

  // The same Invocation from bwrap's options or from `run --spec`: one path from here on.
  const bool from_spec = subcommands && args[0] == "run";
  auto parsed =
      from_spec ? boxjail::cli::parse_run_args(args, ctx) : boxjail::parse_bwrap_args(args, ctx);
  if (!parsed) {
    const auto& e = parsed.error();
    if (e.usage && e.message.empty()) {
      std::fputs(boxjail::usage_text(invoked_as).c_str(), stderr);
      return 1;
    }
    return report(prog, invoked_as, e);
  }
  auto& inv = parsed.value();
  // The report is ours, not the command's.
  if (inv.report_fd >= 0) fcntl(inv.report_fd, F_SETFD, FD_CLOEXEC);
  for (const auto& w : inv.warnings) {
    std::fprintf(stderr, "%s%s: %s\n", w.level_prefix ? "<4>" : "", prog.c_str(), w.text.c_str());
  }
  if (inv.action == boxjail::Action::Help) {
    if (from_spec) {
      std::printf("%s\n", boxjail::cli::run_usage());
    } else {
      std::fputs(boxjail::usage_text(invoked_as).c_str(), stdout);
      // bwrap's --help ends with its options; boxjail's goes on with what bwrap lacks.
      if (prog != "bwrap") std::fputs(kSubcommandsHelp, stdout);
    }
    return 0;
  }
  if (inv.action == boxjail::Action::Version) {
    std::fputs(boxjail::version_text(prog).c_str(), stdout);
    return 0;
  }
  auto config = operator_config(inv.config_path);
  if (!config) return report(prog, invoked_as, config.error());
  const boxjail::Config& cfg = config.value();
  const bool json_output = cfg.log_format == "json";
  const std::string& level_name = inv.log_level.empty() ? cfg.log_level : inv.log_level;
  if (!level_name.empty()) {
    boxjail::log::Level level;
    if (boxjail::log::parse_level(level_name, &level)) boxjail::log::set_level(level, json_output);
  }
  boxjail::Spec& spec = inv.spec;
  // seccomp.default_policy covers jails that name no filter of their own; unset by default, so a
  // plain bwrap command line behaves as with bwrap.
  if (cfg.default_policy && !spec.seccomp_policy && spec.seccomp_fd < 0 &&
      spec.add_seccomp_fds.empty()) {
    spec.seccomp_policy = cfg.default_policy;
  }
  if (spec.cgroup && spec.cgroup->parent.empty() && cfg.cgroup_parent) {
    spec.cgroup->parent = *cfg.cgroup_parent;
  }

  boxjail::LadderOptions options;
  options.mode = cfg.mode;
  options.setuid_helper = cfg.setuid_helper;
  options.report_status = prog != "bwrap";
  // The slim monitor would not write the report's last lines: a reported jail keeps its image.
  options.shed_after_ms = inv.report_fd >= 0 ? -1 : kShedAfterMs;
  // --report-fd: "boxjail.report/v1" lines as things happen (docs/spec.md). A failure is
  // diagnosed when it happens, once: its line now, and the summary at the end reuses it.
  const int report_fd = inv.report_fd;
  std::vector<boxjail::cli::DiagnosedFailure> diagnosed;
  boxjail::HostFacts facts;
  const std::string mode(boxjail::to_string(cfg.mode));
  if (report_fd >= 0) {
    namespace report = boxjail::report;
    options.report_fd = report_fd;
    // The cgroup's line (the monitor's notes on stderr go with it, as they would without one).
    options.on_cgroup_end = [report_fd](const boxjail::CgroupUsage& usage) {
      boxjail::print_cgroup_notes(usage);
      report::write_line(report_fd, report::cgroup_end(usage));
    };
    options.on_attempt = [&](boxjail::Rung r) {
      report::write_line(report_fd, report::attempt(boxjail::to_string(r), mode));
    };
    options.on_started = [&](boxjail::Rung r, const boxjail::Started& s) {
      report::write_line(report_fd, report::started(boxjail::to_string(r), s));
    };
    options.on_failure = [&](const boxjail::Error& e) {
      boxjail::LadderResult one;
      one.failures.push_back(e);
      auto f = boxjail::cli::diagnose_failures(one, cfg, &facts);
      auto line = report::event("failed");
      line.update(nlohmann::ordered_json(boxjail::cli::failure_json(f.front())));
      report::write_line(report_fd, line);
      diagnosed.push_back(std::move(f.front()));
    };
  }
  const boxjail::LadderResult outcome = boxjail::run_ladder(spec, options);
  if (report_fd >= 0) {
    namespace report = boxjail::report;
    if (outcome.status && !spec.handover)
      report::write_line(report_fd, report::exit(*outcome.status));
    auto end = report::event("end");
    end.update(nlohmann::ordered_json(boxjail::cli::ladder_report_json(
        outcome, cfg, diagnosed, outcome.status ? nullptr : &facts)));
    report::write_line(report_fd, end);
    close(report_fd);
  }
  if (outcome.status) return *outcome.status;
  const boxjail::Error& first = outcome.failures.front();
  if (prog == "bwrap" && report_fd < 0) {
    // A drop-in: bwrap's one line, byte for byte, for the rung a bwrap would have used.
    boxjail::Error e = first;
    e.level_prefix = spec.level_prefix;
    return report(prog, invoked_as, e);
  }
  if (report_fd < 0) diagnosed = boxjail::cli::diagnose_failures(outcome, cfg, &facts);
  if (prog == "bwrap") {
    boxjail::Error e = first;
    e.level_prefix = spec.level_prefix;
    return report(prog, invoked_as, e);
  }
  if (json_output) {
    std::fprintf(stderr, "%s\n",
                 boxjail::cli::ladder_report_json(outcome, cfg, diagnosed, &facts)
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                     .c_str());
  } else {
    for (const auto& f : diagnosed) {
      std::fputs(boxjail::cli::failure_text(prog, f, spec.level_prefix).c_str(), stderr);
    }
  }
  if (first.usage) std::fputs(boxjail::usage_text(invoked_as).c_str(), stderr);
  return 1;
}

// No exception may leave main: a failed allocation (an input too large for the memory left) or a
// library's throw ends boxjail with its cause on stderr, never with an abort.
// Out of memory, the line is written without allocating: the name is argv[0]'s last component
// as it stands (bwrap or boxjail), the rest a constant.
int main(int argc, char** argv) {
  const char* name = argc > 0 && argv[0] ? argv[0] : "boxjail";
  if (const char* slash = std::strrchr(name, '/')) name = slash + 1;
  try {
    return checked_main(argc, argv);
  } catch (const std::bad_alloc&) {
    std::fputs(name, stderr);
    std::fputs(": memory: malloc: Out of memory: Cannot allocate memory (ENOMEM)\n", stderr);
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: internal error: %s\n", name, e.what());
    return 1;
  }
}
