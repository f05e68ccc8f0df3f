// SPDX-License-Identifier: Apache-2.0
// boxjail-suid: the setuid-root helper of the ladder's setuid rung.
//
// The most dangerous program we ship, so it trusts nothing it is given:
//  - it checks its own installation (setuid root, writable by root only, no NO_NEW_PRIVS) first;
//  - it reads no configuration file and no environment variable (the environment is cleared
//    before anything else runs; in direct use it only becomes the command's environment);
//  - it parses the jail itself (JSON on --spec-fd, or bwrap's options), resolves it for its real
//    ids and applies the setuid rules (check_setuid_spec): what the caller asked for is re-checked
//    here, whatever `boxjail` already did;
//  - it never makes itself dumpable: the kernel made it non-dumpable at exec, so the caller
//    cannot ptrace it or open its /proc/PID/mem while it is root (CVE-2016-8659, CVE-2026-41163);
//    it stays so after the drop to the caller's ids, as the kernel resets it on that change too;
//  - it takes the caller's fs ids and cuts its capabilities to the privileged side's few at once;
//    every path and every piece of data the caller chose is handled by a process with the
//    caller's ids and no capability, which asks the privileged side for each mount (the privilege
//    split: src/engine/setuid_setup.hpp, docs/design.md); every privilege is dropped before exec,
//    and the drop verified (src/engine/privilege.cpp).
#include <boxjail/bwrap_args.hpp>
#include <boxjail/run.hpp>
#include <boxjail/spec_json.hpp>
#include <boxjail/validate.hpp>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "engine/cgroup.hpp"
#include "engine/privilege.hpp"
#include "frontend/report_events.hpp"
#include "sys/read_all.hpp"

extern char** environ;

namespace {

constexpr std::size_t kMaxSpec = 1 << 20;

// How the helper speaks. Installed (or linked) as `bwrap`, it is a drop-in for a setuid bwrap:
// bwrap's name, usage, --level-prefix and warnings, byte for byte.
struct Voice {
  std::string prog = "boxjail-suid";
  std::string invoked_as = "boxjail-suid";
  bool level_prefix = false;
  std::vector<std::string> warnings;  // whole lines, for stderr
};

boxjail::Error refusal(const std::string& why, const std::string& tag, int err = EPERM) {
  boxjail::Error e;
  e.step = "helper-check";
  e.rung = "setuid";
  e.err = err;
  e.message = why;
  e.evidence.emplace_back("helper.refusal", tag);
  return e;
}

// The helper's own installation: the conditions under which being setuid root is safe.
boxjail::result<void> check_installation() {
  const uid_t ruid = getuid();
  if (ruid != 0 && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1) {
    return refusal(
        "NO_NEW_PRIVS is set on the calling process, so the kernel ignored the setuid bit "
        "(systemd NoNewPrivileges=, docker --security-opt no-new-privileges, or a parent "
        "sandbox set it)",
        "no-new-privs");
  }
  struct stat st;
  if (stat("/proc/self/exe", &st) != 0) {
    return refusal("Can't stat /proc/self/exe", "no-proc", errno);
  }
  if (st.st_uid != 0 || (st.st_mode & S_ISUID) == 0) {
    return refusal(
        "not installed setuid root (owner uid " + std::to_string(st.st_uid) + ", mode " +
            [&] {
              char m[8];
              std::snprintf(m, sizeof m, "%04o", st.st_mode & 07777);
              return std::string(m);
            }() +
            ")",
        "not-setuid");
  }
  // Anyone who can rewrite this file owns every caller that runs it.
  if ((st.st_mode & S_IWOTH) != 0 || ((st.st_mode & S_IWGRP) != 0 && st.st_gid != 0)) {
    return refusal("its file is writable by someone other than root", "writable");
  }
  if (geteuid() != 0) {
    struct statvfs vfs;
    const bool nosuid = statvfs("/proc/self/exe", &vfs) == 0 && (vfs.f_flag & ST_NOSUID) != 0;
    return refusal(nosuid ? "it lies on a nosuid mount, so the setuid bit had no effect"
                          : "it is not running with euid 0",
                   nosuid ? "nosuid" : "not-setuid");
  }
  return boost::outcome_v2::success();
}

boxjail::result<std::string> read_spec_fd(int fd) {
  std::string text;
  const int err = boxjail::sys::read_all(fd, text, kMaxSpec);
  close(fd);
  if (err == EFBIG) return boxjail::make_error("parse-spec", "spec larger than 1 MiB");
  if (err != 0) return boxjail::sys_error("parse-spec", "read", "spec-fd", err, "Can't read spec");
  return text;
}

bool parse_fd(const std::string& s, int* out) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (errno != 0 || end == s.c_str() || *end != '\0' || v < 0 || v > 1 << 20) return false;
  *out = static_cast<int>(v);
  return true;
}

// stderr and --error-fd are fds of the caller's choice, and a kernel file may check the writer's
// capabilities: every privilege is dropped for good before the first byte goes to either.
bool drop_before_writing() {
  return (geteuid() != 0 && getuid() != 0) ||
         boxjail::drop_privileges_to(getuid(), getgid(), "helper-check");
}

// The failure goes to stderr as one line, and to --error-fd as a record for `boxjail`'s ladder
// report (the caller's own fd: only our own failure is written to it).
int fail(const boxjail::Error& given, int error_fd, const Voice& voice = {}) {
  if (!drop_before_writing()) return 1;
  boxjail::Error e = given;
  e.rung = "setuid";
  e.level_prefix = voice.level_prefix;
  for (const auto& line : voice.warnings) std::fputs(line.c_str(), stderr);
  if (error_fd >= 0) {
    const std::string record = boxjail::serialize(e);
    (void)!write(error_fd, record.data(), record.size());
    close(error_fd);
  } else {
    std::fprintf(stderr, "%s\n", boxjail::format_error_line(voice.prog, e).c_str());
    if (e.usage) std::fputs(boxjail::usage_text(voice.invoked_as).c_str(), stderr);
  }
  return 1;
}

constexpr const char* kUsage =
    "usage: boxjail-suid [--error-fd FD] [--report-fd FD] [--ladder-mode MODE] [--probe] "
    "--spec-fd FD\n"
    "       boxjail-suid [--error-fd FD] [--probe] [BWRAP-OPTIONS...] [--] COMMAND [ARGS...]\n";

int usage() {
  if (drop_before_writing()) std::fputs(kUsage, stderr);
  return 1;
}

}  // namespace

static int checked_main(int argc, char** argv) {
  // Before anything can read it: the environment is the caller's, so it configures nothing
  // here. A copy is kept only as the command's environment in direct (bwrap options) use.
  std::vector<std::string> caller_env;
  for (char** e = environ; e && *e; ++e) caller_env.emplace_back(*e);
  clearenv();

  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  Voice voice;
  if (argc > 0) {
    const std::string argv0 = argv[0];
    const std::string base = argv0.substr(argv0.rfind('/') + 1);
    if (base == "bwrap") {
      voice.prog = "bwrap";
      voice.invoked_as = argv0;
    }
  }
  int error_fd = -1;
  int spec_fd = -1;
  int report_fd = -1;  // the caller's --report-fd: the "started" line, written unprivileged
  bool probe = false;
  std::string ladder_mode;  // reported in --json-status-fd only; configures nothing
  std::size_t i = 0;
  for (; i < args.size(); ++i) {
    if (args[i] == "--error-fd" && i + 1 < args.size()) {
      if (!parse_fd(args[++i], &error_fd)) break;
    } else if (args[i] == "--spec-fd" && i + 1 < args.size()) {
      if (!parse_fd(args[++i], &spec_fd)) break;
    } else if (args[i] == "--ladder-mode" && i + 1 < args.size()) {
      ladder_mode = args[++i];
      if (ladder_mode != "auto" && ladder_mode != "setuid") break;
    } else if (args[i] == "--report-fd" && i + 1 < args.size()) {
      if (!parse_fd(args[++i], &report_fd)) break;
    } else if (args[i] == "--probe") {
      probe = true;
    } else {
      break;
    }
  }
  if (error_fd >= 0) fcntl(error_fd, F_SETFD, FD_CLOEXEC);
  if (report_fd >= 0) fcntl(report_fd, F_SETFD, FD_CLOEXEC);
  if (auto ok = check_installation(); !ok) return fail(ok.error(), error_fd);
  // Before the helper reads anything of the caller's: its files only as the caller, and of
  // root's capabilities only those its privileged side calls for (docs/design.md).
  // (Root calling it directly gets the root rung, as from `boxjail`: nothing to split.)
  if (getuid() != 0) {
    if (auto ok = boxjail::assume_caller_fs_ids(getuid(), getgid()); !ok) {
      return fail(ok.error(), error_fd);
    }
    if (auto ok = boxjail::keep_only_setup_capabilities(); !ok) return fail(ok.error(), error_fd);
  }

  boxjail::Spec spec;
  if (spec_fd >= 0) {
    if (i != args.size()) {
      return usage();
    }
    auto text = read_spec_fd(spec_fd);
    if (!text) return fail(text.error(), error_fd);
    auto parsed = boxjail::spec_from_json(text.value());
    if (!parsed) return fail(parsed.error(), error_fd);
    spec = std::move(parsed).value();
  } else {
    if (i == args.size()) {
      return usage();
    }
    boxjail::ParseContext ctx;
    ctx.environ = std::move(caller_env);
    auto parsed = boxjail::parse_bwrap_args({args.begin() + static_cast<long>(i), args.end()}, ctx);
    if (!parsed) {
      voice.level_prefix = parsed.error().level_prefix;
      return fail(parsed.error(), error_fd, voice);
    }
    for (const auto& w : parsed.value().warnings) {
      voice.warnings.push_back(std::string(w.level_prefix ? "<4>" : "") + voice.prog + ": " +
                               w.text + "\n");
    }
    voice.level_prefix = parsed.value().spec.level_prefix;
    if (parsed.value().action == boxjail::Action::Help) {
      if (!drop_before_writing()) return 1;
      std::fputs(boxjail::usage_text(voice.invoked_as).c_str(), stdout);
      return 0;
    }
    if (parsed.value().action == boxjail::Action::Version) {
      if (!drop_before_writing()) return 1;
      std::fputs(boxjail::version_text(voice.prog).c_str(), stdout);
      return 0;
    }
    if (parsed.value().action != boxjail::Action::Run) return usage();
    spec = std::move(parsed.value().spec);
  }

  boxjail::Caller caller = boxjail::current_caller();  // real ids: the caller's
  caller.via_setuid_helper = true;
  auto resolved = boxjail::resolve_spec(std::move(spec), caller);
  if (!resolved) return fail(resolved.error(), error_fd, voice);
  if (auto allowed = boxjail::check_setuid_spec(resolved.value(), caller); !allowed) {
    return fail(allowed.error(), error_fd, voice);
  }
  boxjail::RunOptions options;
  options.setuid_helper = true;
  options.probe = probe;
  if (!ladder_mode.empty()) {
    options.status_rung = "setuid";
    options.status_ladder_mode = ladder_mode;
  }
  // The monitor writes the warnings once it has dropped every privilege; a failure before that
  // writes them with its own line (fail()).
  options.stderr_after_drop = voice.warnings;
  bool warned = false;
  options.stderr_after_drop_written = &warned;
  // Called by the monitor after its drop (RunOptions::on_started): no privilege writes to it.
  if (report_fd >= 0) {
    options.on_started = [report_fd](const boxjail::Started& s) {
      boxjail::report::write_line(report_fd, boxjail::report::started("setuid", s));
    };
    // The jail ended: the monitor, long without privilege, says what its cgroup saw (without a
    // report, run() prints the notes itself).
    options.on_cgroup_end = [report_fd](const boxjail::CgroupUsage& usage) {
      boxjail::print_cgroup_notes(usage);
      boxjail::report::write_line(report_fd, boxjail::report::cgroup_end(usage));
    };
  }
  auto status = boxjail::run(resolved.value(), options);
  if (!status) {
    if (warned) voice.warnings.clear();
    return fail(status.error(), error_fd, voice);
  }
  return status.value();
}

// No exception may leave main: a failed allocation (an input too large for the memory left) or a
// library's throw ends the helper with its cause on stderr, after every privilege is gone, never
// with an abort and a core of a setuid process.
int main(int argc, char** argv) {
  try {
    return checked_main(argc, argv);
  } catch (const std::bad_alloc&) {
    if (drop_before_writing()) {
      std::fputs("boxjail-suid: memory: malloc: Out of memory: Cannot allocate memory (ENOMEM)\n",
                 stderr);
    }
    return 1;
  } catch (const std::exception& e) {
    if (drop_before_writing()) std::fprintf(stderr, "boxjail-suid: internal error: %s\n", e.what());
    return 1;
  }
}
