// SPDX-License-Identifier: Apache-2.0
// The ladder, the setuid helper and the operator's config, end to end. The unprivileged caller
// is uid 65534; "user namespaces denied" is a seccomp filter the harness installs as root before
// the drop (clone3 answered with ENOSYS, as container runtimes do, so the engine falls back to
// clone(2), whose CLONE_NEWUSER flag the filter can see; unshare(CLONE_NEWUSER) denied too). The
// helper is a root-owned mode-4755 copy in a fresh mode-755 temp dir.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boxjail/bwrap_args.hpp>
#include <boxjail/spec_json.hpp>
#include <nlohmann/json.hpp>

#include <dirent.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace {

using boxjail::test::Deny;
using boxjail::test::RunOpts;
using boxjail::test::RunResult;
using boxjail::test::TempDir;
namespace bt = boxjail::test;

// What the command sees of its own privileges, and its mount namespace.
const std::vector<std::string> kIdentityCommand = {
    "sh", "-c",
    "grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status;"
    " readlink /proc/self/ns/mnt"};

const std::vector<std::string> kJail = {"--ro-bind", "/",     "/",     "--unshare-pid",
                                        "--proc",    "/proc", "--dev", "/dev"};

std::string host_ns(const char* name) {
  char buf[64] = {};
  const ssize_t n = readlink((std::string("/proc/self/ns/") + name).c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// The command ran unprivileged as the caller: uid/gid 65534, no groups, no capabilities in any
// set, NO_NEW_PRIVS, in a mount namespace of its own.
void expect_unprivileged_command(const std::string& out) {
  EXPECT_NE(out.find("Uid:\t65534\t65534\t65534\t65534\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Gid:\t65534\t65534\t65534\t65534\n"), std::string::npos) << out;
  const auto groups = out.find("Groups:");
  ASSERT_NE(groups, std::string::npos) << out;
  const std::string groups_line = out.substr(groups, out.find('\n', groups) - groups);
  EXPECT_EQ(groups_line.find_first_of("0123456789"), std::string::npos) << groups_line;
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    EXPECT_NE(out.find(std::string(set) + ":\t0000000000000000\n"), std::string::npos)
        << set << " not empty:\n"
        << out;
  }
  EXPECT_NE(out.find("NoNewPrivs:\t1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("mnt:["), std::string::npos) << out;
  EXPECT_EQ(out.find(host_ns("mnt")), std::string::npos) << "same mount namespace as the host";
}

using bt::ReportFile;

nlohmann::json json_of(const ReportFile& report) { return report.summary(); }

class Ladder : public ::testing::Test {
 protected:
  void SetUp() override { mounts_before_ = bt::host_mountinfo(); }
  void TearDown() override {
    EXPECT_EQ(bt::host_mountinfo(), mounts_before_) << "mounts left behind on the host";
    EXPECT_EQ(bt::count_processes_of(bt::boxjail_binary()), 0) << "boxjail left running";
    EXPECT_EQ(bt::count_processes_of(bt::setuid_helper_binary()), 0) << "helper left running";
  }
  std::string config(const std::string& mode, const std::string& extra = "") {
    return bt::ladder_config(dir_, mode, bt::setuid_helper_binary(), extra);
  }
  RunResult jail(const std::string& config_path, RunOpts o, const ReportFile* report,
                 std::vector<std::string> extra = {},
                 const std::vector<std::string>& command = kIdentityCommand) {
    std::vector<std::string> args = {"--config", config_path};
    if (report) {
      args.insert(args.end(), {"--report-fd", std::to_string(report->fd)});
      o.keep_fds.push_back(report->fd);
    }
    args.insert(args.end(), kJail.begin(), kJail.end());
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), command.begin(), command.end());
    return bt::run(args, o);
  }
  TempDir dir_;
  std::string mounts_before_;
};

class LadderDenied : public Ladder, public ::testing::WithParamInterface<int> {};

TEST_P(LadderDenied, AutoRunsTheJailOnTheSetuidRung) {
  const int err = GetParam();
  ReportFile report;
  RunOpts o{.as_nobody = true, .deny = bt::deny_user_namespaces(err)};
  RunResult r = jail(config("auto"), o, &report, {"--json-status-fd", "1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  // The status output names the rung and the mode.
  const std::string first = r.out.substr(0, r.out.find('\n'));
  const auto status = nlohmann::json::parse(first, nullptr, false);
  ASSERT_FALSE(status.is_discarded()) << r.out;
  EXPECT_EQ(status["boxjail-rung"], "setuid") << first;
  EXPECT_EQ(status["boxjail-ladder-mode"], "auto") << first;
  expect_unprivileged_command(r.out);
  // The userns attempt is on record, with its step and errno.
  const auto j = json_of(report);
  EXPECT_EQ(j["result"], "ran");
  EXPECT_EQ(j["rung"], "setuid");
  ASSERT_EQ(j["attempts"].size(), 1u) << j.dump();
  EXPECT_EQ(j["attempts"][0]["rung"], "userns");
  EXPECT_EQ(j["attempts"][0]["step"], "clone-namespaces");
  EXPECT_EQ(j["attempts"][0]["syscall"], "clone");
  EXPECT_EQ(j["attempts"][0]["errno"], err);
}

// The report stream of a climb: the userns attempt and its failure, then the setuid attempt and
// its "started" line, which the helper writes itself (after its monitor dropped every privilege)
// to the caller's --report-fd, then the exit and the summary.
TEST_P(LadderDenied, ReportStreamOfAClimbToTheSetuidRung) {
  ReportFile report;
  RunOpts o{.as_nobody = true, .deny = bt::deny_user_namespaces(GetParam())};
  RunResult r = jail(config("auto"), o, &report);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto events = report.events();
  std::vector<std::string> names;
  for (const auto& e : events) names.push_back(e.value("event", "?") + "/" + e.value("rung", ""));
  EXPECT_EQ(names, (std::vector<std::string>{"attempt/userns", "failed/userns", "attempt/setuid",
                                             "started/setuid", "exit/", "end/setuid"}))
      << report.text();
  ASSERT_EQ(events.size(), 6u);
  EXPECT_GT(events[3].value("pid", 0), 0);
  EXPECT_TRUE(events[3]["namespaces"].contains("mnt")) << events[3];
}

TEST_P(LadderDenied, UsernsModeRefusesWithTheReport) {
  const int err = GetParam();
  ReportFile report;
  RunOpts o{.as_nobody = true, .deny = bt::deny_user_namespaces(err)};
  RunResult r = jail(config("userns"), o, &report);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("boxjail: userns rung: clone-namespaces: clone: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(std::string("(") + strerrorname_np(err) + ")\n"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("\n  cause: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\n  fix:   "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("boxjail: setuid rung"), std::string::npos) << "setuid tried in userns mode";
  const auto j = json_of(report);
  EXPECT_EQ(j["result"], "refused");
  EXPECT_EQ(j["ladder_mode"], "userns");
  ASSERT_EQ(j["attempts"].size(), 1u) << j.dump();
  EXPECT_EQ(j["attempts"][0]["errno"], err);
  EXPECT_EQ(j["attempts"][0]["cause_id"], "caller-seccomp");
  EXPECT_FALSE(j["attempts"][0]["fixes"].empty());
}

TEST_P(LadderDenied, SetuidModeSkipsTheUsernsAttempt) {
  ReportFile report;
  RunOpts o{.as_nobody = true, .deny = bt::deny_user_namespaces(GetParam())};
  RunResult r = jail(config("setuid"), o, &report);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  expect_unprivileged_command(r.out);
  const auto j = json_of(report);
  EXPECT_EQ(j["rung"], "setuid");
  EXPECT_TRUE(j["attempts"].empty()) << j.dump();
}

INSTANTIATE_TEST_SUITE_P(Ladder, LadderDenied, ::testing::Values(EPERM, EACCES),
                         [](const auto& info) { return std::string(strerrorname_np(info.param)); });

// The denial comes later, inside the new user namespace, as with AppArmor's unprivileged_userns
// profile: here the kernel refuses a new procfs because the caller's /proc is masked.
TEST_F(Ladder, LaterDenialInTheUsernsRungClimbsToSetuid) {
  ReportFile report;
  RunOpts o{.as_nobody = true, .mask_proc = true};
  RunResult r = jail(config("auto"), o, &report);
  ASSERT_EQ(r.status, 0) << r.err;
  expect_unprivileged_command(r.out);
  const auto j = json_of(report);
  EXPECT_EQ(j["rung"], "setuid");
  ASSERT_EQ(j["attempts"].size(), 1u) << j.dump();
  EXPECT_EQ(j["attempts"][0]["step"], "mount-proc");
  EXPECT_EQ(j["attempts"][0]["errno"], EPERM);
  EXPECT_EQ(j["attempts"][0]["cause_id"], "masked-proc");
}

TEST_F(Ladder, LaterDenialRefusedInUsernsMode) {
  RunOpts o{.as_nobody = true, .mask_proc = true};
  RunResult r = jail(config("userns"), o, nullptr);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.rfind("boxjail: userns rung: mount-proc: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("(EPERM)\n  cause: "), std::string::npos) << r.err;
}

// Errors that would fail the same on every rung are not retried.
TEST_F(Ladder, MissingBindSourceIsNotRetried) {
  ReportFile report;
  RunOpts o{.as_nobody = true};
  RunResult r = jail(config("auto"), o, &report, {"--ro-bind", "/nonexistent-source", "/x"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.find("boxjail: setuid rung"), std::string::npos) << r.err;
  const auto j = json_of(report);
  ASSERT_EQ(j["attempts"].size(), 1u) << j.dump();
  EXPECT_EQ(j["attempts"][0]["step"], "resolve-sources");
  EXPECT_EQ(j["result"], "failed");
}

// With --json-status-fd written by a failed child, a retry would be visible: no climb.
TEST_F(Ladder, NoRetryOnceStatusWasWritten) {
  RunOpts o{.as_nobody = true, .mask_proc = true};
  RunResult r = jail(config("auto"), o, nullptr, {"--json-status-fd", "2"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("not retried on the next rung"), std::string::npos) << r.err;
}

TEST_F(Ladder, SetuidRungRefusesUnreadableBindSource) {
  const std::string secret = dir_.file("secret", "s3cret\n", 0600);
  const std::string open_file = dir_.file("open", "hello\n", 0644);
  RunOpts o{.as_nobody = true};
  RunResult r =
      jail(config("setuid"), o, nullptr, {"--ro-bind", secret, "/secret"}, {"cat", "/secret"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("boxjail: setuid rung: resolve-sources: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("(EACCES)"), std::string::npos) << r.err;
  r = jail(config("setuid"), o, nullptr, {"--tmpfs", "/mnt", "--ro-bind", open_file, "/mnt/open"},
           {"cat", "/mnt/open"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "hello\n");
}

TEST_F(Ladder, RootTakesTheRootRung) {
  ReportFile report;
  RunResult r = jail(config("setuid"), RunOpts{}, &report, {"--json-status-fd", "2"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("\"boxjail-rung\": \"root\""), std::string::npos) << r.err;
  EXPECT_EQ(json_of(report)["rung"], "root");
}

// ---- The helper, called directly --------------------------------------------------------------

struct Refusal {
  std::string name;
  std::vector<std::string> args;
};

class HelperRefuses : public Ladder, public ::testing::WithParamInterface<Refusal> {};

TEST_P(HelperRefuses, WhenCalledDirectly) {
  std::vector<std::string> args = {"--ro-bind", "/", "/"};
  args.insert(args.end(), GetParam().args.begin(), GetParam().args.end());
  args.insert(args.end(), {"sh", "-c", "echo ran"});
  RunOpts o{.as_nobody = true, .fd_data = {{3, ""}}, .program = bt::setuid_helper_binary()};
  RunResult r = bt::run(args, o);
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("boxjail-suid: ", 0), 0u) << r.err;
  EXPECT_TRUE(r.err.find("setuid helper refuses") != std::string::npos ||
              r.err.find("requires --unshare") != std::string::npos)
      << r.err;
  // The same request as a JSON spec on --spec-fd.
  boxjail::ParseContext ctx;
  auto parsed = boxjail::parse_bwrap_args(args, ctx);
  ASSERT_TRUE(parsed) << parsed.error().message;
  o.fd_data = {{3, ""}, {4, boxjail::spec_to_json(parsed.value().spec)}};
  r = bt::run({"--spec-fd", "4"}, o);
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(r.err.find("setuid helper refuses") != std::string::npos ||
              r.err.find("requires --unshare") != std::string::npos)
      << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Ladder, HelperRefuses,
    ::testing::Values(
        Refusal{"CapAdd", {"--cap-add", "CAP_NET_RAW"}}, Refusal{"Userns", {"--userns", "3"}},
        Refusal{"Userns2", {"--unshare-user", "--userns2", "3"}},
        Refusal{"Pidns", {"--pidns", "3"}},
        Refusal{"UsernsBlockFd", {"--unshare-user", "--userns-block-fd", "3", "--info-fd", "4"}},
        Refusal{"Overlay", {"--overlay-src", "/usr", "--tmp-overlay", "/usr"}},
        Refusal{"RoOverlay",
                {"--overlay-src", "/usr", "--overlay-src", "/bin", "--ro-overlay", "/usr"}},
        Refusal{"Size", {"--size", "4096", "--tmpfs", "/tmp"}},
        Refusal{"HostnameWithoutUts", {"--hostname", "x"}},
        // Refused by the helper's policy before anything could say "no SELinux here".
        Refusal{"ExecLabel", {"--exec-label", "system_u:system_r:unconfined_t:s0"}},
        Refusal{"FileLabel", {"--file-label", "system_u:object_r:tmp_t:s0"}},
        // Another id needs a user namespace of the jail's own to map it to the caller's.
        Refusal{"Uid", {"--uid", "0"}}, Refusal{"Gid", {"--gid", "0"}}),
    [](const auto& info) { return info.param.name; });

TEST_F(Ladder, HelperChecksItsOwnInstallation) {
  auto copy = [&](const std::string& name, mode_t mode) {
    const std::string p = dir_.path() + "/" + name;
    std::filesystem::copy_file(bt::setuid_helper_binary(), p);
    EXPECT_EQ(chmod(p.c_str(), mode), 0);
    return p;
  };
  const std::vector<std::string> args = {"--ro-bind", "/", "/", "true"};
  RunResult r = bt::run(args, {.as_nobody = true, .program = copy("plain", 0755)});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("helper-check: not installed setuid root"), std::string::npos) << r.err;
  r = bt::run(args, {.as_nobody = true, .program = copy("writable", 04757)});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("writable by someone other than root"), std::string::npos) << r.err;
  // Group-writable is refused unless the group is root's: a group of users could replace it.
  const std::string group_writable = copy("group-writable", 04775);
  ASSERT_EQ(chown(group_writable.c_str(), 0, 44), 0);
  ASSERT_EQ(chmod(group_writable.c_str(), 04775), 0);  // chown cleared the setuid bit
  r = bt::run(args, {.as_nobody = true, .program = group_writable});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("writable by someone other than root"), std::string::npos) << r.err;
  const std::string root_group_writable = copy("root-group-writable", 04775);
  r = bt::run(args, {.as_nobody = true, .program = root_group_writable});
  EXPECT_EQ(r.status, 0) << r.err;
  r = bt::run(args,
              {.as_nobody = true, .no_new_privs = true, .program = bt::setuid_helper_binary()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("NO_NEW_PRIVS"), std::string::npos) << r.err;
}

// The pids of live processes running `exe`.
std::vector<pid_t> pids_of(const std::string& exe) {
  std::vector<pid_t> pids;
  DIR* d = opendir("/proc");
  while (dirent* e = d ? readdir(d) : nullptr) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char target[4096];
    const std::string link = std::string("/proc/") + e->d_name + "/exe";
    const ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
    if (n > 0 && exe == std::string(target, static_cast<size_t>(n)))
      pids.push_back(atoi(e->d_name));
  }
  if (d) closedir(d);
  return pids;
}

// From a process of uid 65534 (the caller), tries to ptrace `pid`, open its memory and write
// into it. Returns the three errnos (0 = the attack worked).
std::vector<int> attack_as_caller(pid_t pid) {
  int p[2];
  if (pipe(p) != 0) return {};
  const pid_t child = fork();
  if (child == 0) {
    close(p[0]);
    int errs[3] = {0, 0, 0};
    if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 ||
        setresuid(65534, 65534, 65534) != 0) {
      _exit(2);
    }
    if (ptrace(PTRACE_ATTACH, pid, nullptr, nullptr) != 0) errs[0] = errno;
    const std::string mem = "/proc/" + std::to_string(pid) + "/mem";
    const int fd = open(mem.c_str(), O_RDWR);
    if (fd < 0) errs[1] = errno;
    char byte = 0;
    iovec local{&byte, 1}, remote{reinterpret_cast<void*>(0x400000), 1};
    if (process_vm_writev(pid, &local, 1, &remote, 1, 0) < 0) errs[2] = errno;
    (void)!write(p[1], errs, sizeof errs);
    _exit(0);
  }
  close(p[1]);
  int errs[3] = {-1, -1, -1};
  (void)!read(p[0], errs, sizeof errs);
  close(p[0]);
  waitpid(child, nullptr, 0);
  return {errs[0], errs[1], errs[2]};
}

std::string status_field(pid_t pid, const std::string& field) {
  const std::string s = bt::read_file("/proc/" + std::to_string(pid) + "/status");
  const auto at = s.find(field + ":");
  return at == std::string::npos ? "" : s.substr(at, s.find('\n', at) - at);
}

TEST_F(Ladder, HelperIsNotPtraceableByTheCaller) {
  // Held while fully privileged: the helper blocks reading its spec, euid 0.
  int spec_pipe[2];
  ASSERT_EQ(pipe2(spec_pipe, O_CLOEXEC), 0);
  {
    auto helper = bt::spawn(
        {"--spec-fd", std::to_string(spec_pipe[0])},
        {.as_nobody = true, .keep_fds = {spec_pipe[0]}, .program = bt::setuid_helper_binary()});
    close(spec_pipe[0]);
    // Until the exec of the helper took effect (before it, the harness's child is already
    // uid 65534 but not yet setuid). Its first act takes the caller's fs uid: euid 0, fsuid not.
    const std::string privileged = "Uid:\t65534\t0\t0\t65534";
    for (int i = 0; i < 500 && status_field(helper->pid(), "Uid") != privileged; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(status_field(helper->pid(), "Uid"), privileged);  // privileged now
    const auto errs = attack_as_caller(helper->pid());
    ASSERT_EQ(errs.size(), 3u);
    EXPECT_EQ(errs[0], EPERM) << "ptrace attach";
    EXPECT_EQ(errs[1], EACCES) << "open /proc/PID/mem";
    EXPECT_EQ(errs[2], EPERM) << "process_vm_writev";
    close(spec_pipe[1]);  // empty spec: the helper refuses and exits
    EXPECT_EQ(helper->wait().status, 1);
  }
  // Held at --block-fd, with the jail set up: neither the helper's monitor nor its child (now
  // dropped to the caller's ids by the kernel's non-dumpable rule) can be touched; with a user
  // namespace of the jail's own (root's) too.
  for (const bool userns : {false, true}) {
    SCOPED_TRACE(userns ? "--unshare-user" : "no user namespace");
    int block[2];
    ASSERT_EQ(pipe2(block, O_CLOEXEC), 0);
    std::vector<std::string> args = {"--config", config("setuid"), "--block-fd",
                                     std::to_string(block[0])};
    if (userns) args.push_back("--unshare-user");
    args.insert(args.end(), kJail.begin(), kJail.end());
    args.insert(args.end(), {"true"});
    auto jail = bt::spawn(args, {.as_nobody = true, .keep_fds = {block[0]}});
    close(block[0]);
    // The monitor and the sandbox child stay; the setup process comes and goes before the jail
    // reaches --block-fd: wait until just the two are left.
    std::vector<pid_t> helpers;
    for (int i = 0, stable = 0; i < 500 && stable < 5; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      auto now = pids_of(bt::setuid_helper_binary());
      stable = now == helpers && now.size() == 2 ? stable + 1 : 0;
      helpers = std::move(now);
    }
    ASSERT_EQ(helpers.size(), 2u) << "helper monitor and sandbox child";
    for (pid_t pid : helpers) {
      const auto errs = attack_as_caller(pid);
      ASSERT_EQ(errs.size(), 3u);
      EXPECT_EQ(errs[0], EPERM) << "ptrace attach of " << pid;
      EXPECT_EQ(errs[1], EACCES) << "open /proc/" << pid << "/mem";
      EXPECT_EQ(errs[2], EPERM) << "process_vm_writev " << pid;
    }
    ASSERT_EQ(write(block[1], "x", 1), 1);
    close(block[1]);
    EXPECT_EQ(jail->wait().status, 0);
  }
}

// ---- The operator's config --------------------------------------------------------------------

TEST_F(Ladder, BadConfigFailsBeforeAnythingStarts) {
  const std::string bad = dir_.file("bad.toml", "[ladder]\nmode = \"fast\"\n");
  RunResult r = bt::run({"--config", bad, "--ro-bind", "/", "/", "sh", "-c", "echo ran"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find(bad + ":2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\"auto\""), std::string::npos) << r.err;
  const std::string unknown = dir_.file("unknown.toml", "[ladder]\nmood = \"auto\"\n");
  r = bt::run({"--ro-bind", "/", "/", "sh", "-c", "echo ran"},
              {.env = {{"BOXJAIL_CONFIG", unknown}}});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("mood"), std::string::npos) << r.err;
  r = bt::run({"--config", dir_.path() + "/missing.toml", "--ro-bind", "/", "/", "true"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("missing.toml"), std::string::npos) << r.err;
}

TEST_F(Ladder, ConfigFromTheEnvironmentChoosesTheMode) {
  ReportFile report;
  RunOpts o{.as_nobody = true,
            .keep_fds = {report.fd},
            .deny = bt::deny_user_namespaces(EPERM),
            .env = {{"BOXJAIL_CONFIG", config("userns")}}};
  std::vector<std::string> args = {"--report-fd", std::to_string(report.fd)};
  args.insert(args.end(), kJail.begin(), kJail.end());
  args.push_back("true");
  RunResult r = bt::run(args, o);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(json_of(report)["ladder_mode"], "userns");
}

TEST_F(Ladder, DefaultSeccompPolicyAppliesToJailsWithoutOne) {
  const std::string cfg = config("auto", "[seccomp]\ndefault_policy = \"default\"\n");
  RunOpts o{.as_nobody = true, .private_run = true};
  RunResult r = jail(cfg, o, nullptr, {}, {"grep", "^Seccomp:", "/proc/self/status"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "Seccomp:\t2\n");
  r = jail(config("auto"), o, nullptr, {}, {"grep", "^Seccomp:", "/proc/self/status"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "Seccomp:\t0\n");
}

}  // namespace

namespace {

TEST_F(Ladder, LogFormatJsonPrintsTheReportAsJson) {
  const std::string cfg =
      dir_.file("json.toml", "[ladder]\nmode = \"userns\"\n[log]\nformat = \"json\"\n");
  RunOpts o{.as_nobody = true, .deny = bt::deny_user_namespaces(EACCES)};
  RunResult r = jail(cfg, o, nullptr, {}, {"true"});
  EXPECT_EQ(r.status, 1);
  ASSERT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  const auto j = nlohmann::json::parse(r.err, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.err;
  EXPECT_EQ(j["result"], "refused");
  EXPECT_EQ(j["attempts"][0]["step"], "clone-namespaces");
  EXPECT_EQ(j["attempts"][0]["errno_name"], "EACCES");
  // log.level from the config turns the step log on, one JSON object per line.
  const std::string debug =
      dir_.file("debug.toml", "[log]\nlevel = \"debug\"\nformat = \"json\"\n");
  r = jail(debug, RunOpts{.as_nobody = true}, nullptr, {}, {"true"});
  EXPECT_EQ(r.status, 0) << r.err;
  std::istringstream lines(r.err);
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    const auto entry = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(entry.is_discarded()) << line;
    EXPECT_EQ(entry["level"], "debug") << line;
  }
  EXPECT_GT(count, 0);
}

}  // namespace

namespace {

// `cmake --install` puts the helper in libexec/boxjail/, root-owned, mode 4755, and the shipped
// seccomp policies' precompiled entries next to the libraries; the installed helper runs a jail.
TEST(Install, HelperIsSetuidRootAndRuns) {
  TempDir prefix;
  const std::string cmd = std::string(BOXJAIL_CMAKE) + " --install " + BOXJAIL_BUILD_DIR +
                          " --prefix " + prefix.path() + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const std::string helper = prefix.path() + "/libexec/boxjail/boxjail-suid";
  struct stat st {};
  ASSERT_EQ(stat(helper.c_str(), &st), 0) << helper;
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_gid, 0u);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  EXPECT_FALSE(std::filesystem::is_empty(prefix.path() + "/lib/boxjail/seccomp-bpf"));
  RunResult r =
      bt::run({"--ro-bind", "/", "/", "id", "-u"}, {.as_nobody = true, .program = helper});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "65534\n");
}

}  // namespace

namespace {

// Through the setuid rung, boxjail stays the helper's parent: a signal to boxjail reaches the
// command (boxjail -> helper's monitor -> command), and the command's status comes back.
TEST_F(Ladder, SignalsReachTheCommandThroughTheSetuidRung) {
  std::vector<std::string> args = {"--config", config("setuid")};
  args.insert(args.end(), kJail.begin(), kJail.end());
  args.insert(args.end(),
              {"sh", "-c", "trap 'exit 42' TERM; echo up; while :; do sleep 0.05; done"});
  auto jail = bt::spawn(args, {.as_nobody = true});
  ASSERT_EQ(jail->read_line(), "up");
  ASSERT_EQ(jail->send_signal(SIGTERM), 0);
  const RunResult r = jail->wait();
  EXPECT_EQ(r.status, 42) << r.err;
}

}  // namespace

namespace {

// The kernel's view of the setuid rung's user namespace, read by the command.
const std::vector<std::string> kUsernsView = {
    "sh", "-c",
    "tr -s ' ' < /proc/self/uid_map; tr -s ' ' < /proc/self/gid_map;"
    " grep -E '^(Uid|Gid|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status;"
    " readlink /proc/self/ns/user /proc/self/ns/mnt"};

}  // namespace

// The runtime's per-VM jail and its preflight carry --unshare-user; on the setuid rung the helper
// makes the user namespace (bwrap's setuid mode): the monitor maps the caller's own ids (uid
// 65534 here, which is also the overflow id, so 0 stays unmapped), the command holds nothing
// and runs in its own user and mount namespaces.
TEST_F(Ladder, SetuidRungMakesTheUserNamespace) {
  const std::vector<std::string> per_vm = {"--unshare-user",
                                           "--unshare-pid",
                                           "--unshare-ipc",
                                           "--unshare-uts",
                                           "--die-with-parent",
                                           "--new-session",
                                           "--ro-bind",
                                           "/",
                                           "/",
                                           "--dev",
                                           "/dev",
                                           "--proc",
                                           "/proc",
                                           "--tmpfs",
                                           "/tmp",
                                           "--clearenv",
                                           "--setenv",
                                           "PATH",
                                           "/usr/bin:/bin",
                                           "--chdir",
                                           "/"};
  ReportFile report;
  RunOpts o{.as_nobody = true};
  o.keep_fds.push_back(report.fd);
  std::vector<std::string> args = {"--config", config("setuid"), "--report-fd",
                                   std::to_string(report.fd)};
  args.insert(args.end(), per_vm.begin(), per_vm.end());
  args.push_back("--");
  args.insert(args.end(), kUsernsView.begin(), kUsernsView.end());
  RunResult r = bt::run(args, o);
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string expected_head =
      " 65534 65534 1\n 65534 65534 1\nUid:\t65534\t65534\t65534\t65534\n"
      "Gid:\t65534\t65534\t65534\t65534\nCapPrm:\t0000000000000000\n"
      "CapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nCapAmb:\t0000000000000000\n"
      "NoNewPrivs:\t1\n";
  EXPECT_EQ(r.out.substr(0, expected_head.size()), expected_head) << r.out;
  EXPECT_EQ(r.out.find(host_ns("user")), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(host_ns("mnt")), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("user:["), std::string::npos) << r.out;
  EXPECT_NE(report.text().find("\"rung\":\"setuid\""), std::string::npos) << report.text();

  // The preflight.
  r = bt::run({"--config", config("setuid"), "--unshare-user", "--ro-bind", "/", "/", "--", "true"},
              {.as_nobody = true});
  EXPECT_EQ(r.status, 0) << r.err;
}

// Other ids inside map to the caller's own, and nothing else; --disable-userns leaves the command
// unable to make a user namespace, and the limit cannot be written back.
TEST_F(Ladder, SetuidRungUidGidAndDisableUserns) {
  RunResult r = bt::run({"--config", config("setuid"), "--unshare-user", "--uid", "5", "--gid", "6",
                         "--ro-bind", "/", "/", "--", "sh", "-c",
                         "tr -s ' ' < /proc/self/uid_map; tr -s ' ' < /proc/self/gid_map; id -u; "
                         "id -g"},
                        {.as_nobody = true});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, " 5 65534 1\n 6 65534 1\n5\n6\n");
  // uid 0 inside is the caller too, and holds nothing (becoming 0 there raises no capability).
  r = bt::run({"--config", config("setuid"), "--unshare-user", "--uid", "0", "--gid", "0",
               "--ro-bind", "/", "/", "--dev", "/dev", "--", "sh", "-c",
               "tr -s ' ' < /proc/self/uid_map; grep -E '^Cap(Prm|Eff|Bnd):' /proc/self/status"},
              {.as_nobody = true});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            " 0 65534 1\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n"
            "CapBnd:\t0000000000000000\n");
  // /dev/null is the host's, on a nodev mount in the jail: errors go to stdout.
  r = bt::run({"--config", config("setuid"), "--unshare-user", "--disable-userns", "--ro-bind", "/",
               "/", "--", "sh", "-c",
               "unshare -U true 2>&1; echo nested=$?; "
               "(echo 9 > /proc/sys/user/max_user_namespaces) 2>&1; echo write=$?; "
               "cat /proc/sys/user/max_user_namespaces"},
              {.as_nobody = true});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("nested=1\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("No space left on device"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("write=0"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.substr(r.out.size() - 2), "0\n") << r.out;
}

// Installed as `bwrap`, the helper is a drop-in for a setuid bwrap: bwrap's usage on --help,
// bwrap's prefix on its errors and warnings, and --level-prefix's syslog levels (points of
// bwrap's own test suite in setuid mode).
TEST_F(Ladder, HelperSpeaksAsBwrapUnderItsName) {
  RunOpts o{.as_nobody = true, .argv0 = "bwrap", .program = bt::setuid_helper_binary()};
  RunResult r = bt::run({"--help"}, o);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("usage: bwrap [OPTIONS...] [--] COMMAND [ARGS...]\n", 0), 0u) << r.out;
  r = bt::run({"--ro-bind", "/nonexistent-source", "/x", "true"}, o);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "bwrap: Can't find source path /nonexistent-source: No such file or directory\n");
  r = bt::run({"--level-prefix", "--ro-bind", "/nonexistent-source", "/x", "true"}, o);
  EXPECT_EQ(r.err,
            "<3>bwrap: Can't find source path /nonexistent-source: No such file or directory\n");
  r = bt::run({"--level-prefix", "--chdir", "/", "--chdir", "/tmp", "--ro-bind", "/", "/", "pwd"},
              o);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "<4>bwrap: Only the last --chdir option will take effect\n");
  EXPECT_EQ(r.out, "/tmp\n");
  // bwrap's own line, which callers parse (for the command line boxjail implements).
  r = bt::run({"--version"}, o);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "bubblewrap 0.11.1\n");
  // Each --add-seccomp-fd is closed once read: a fd named twice is EBADF the second time, and
  // the command does not inherit it (bwrap's test-seccomp.py).
  RunOpts twice = o;
  twice.fd_data = {{3, ""}};
  r = bt::run({"--ro-bind", "/", "/", "--add-seccomp-fd", "3", "--add-seccomp-fd", "3", "true"},
              twice);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "bwrap: Can't read seccomp data: Bad file descriptor\n");
  r = bt::run({"--ro-bind", "/", "/", "--add-seccomp-fd", "3", "true"}, twice);
  EXPECT_EQ(r.err,
            "bwrap: Unable to set up system call filtering as requested: prctl(PR_SET_SECCOMP) "
            "reported EINVAL. (Hint: this requires a kernel configured with CONFIG_SECCOMP and "
            "CONFIG_SECCOMP_FILTER.)\n");
  // Under its own name it keeps its own.
  o.argv0.clear();
  r = bt::run({"--ro-bind", "/nonexistent-source", "/x", "true"}, o);
  EXPECT_EQ(
      r.err.rfind("boxjail-suid: setuid rung: resolve-sources: open /nonexistent-source: ", 0), 0u)
      << r.err;
}

// The setuid rung keeps the caller's own supplementary groups (bwrap's setuid mode): dropping one
// would let the caller past a mode that denies that group (0604, the group's bits empty) and
// lose what a group grants (0640).
TEST_F(Ladder, SetuidRungKeepsTheCallersGroups) {
  const std::string denied = dir_.file("denied", "not for group 44\n", 0604);
  const std::string granted = dir_.file("granted", "for group 44\n", 0640);
  ASSERT_EQ(chown(denied.c_str(), 0, 44), 0);
  ASSERT_EQ(chown(granted.c_str(), 0, 44), 0);
  for (const bool userns : {false, true}) {
    SCOPED_TRACE(userns ? "--unshare-user" : "no user namespace");
    std::vector<std::string> args = {"--config", config("setuid")};
    if (userns) args.push_back("--unshare-user");
    args.insert(args.end(), {"--ro-bind", "/", "/", "--", "sh", "-c",
                             "grep '^Groups:' /proc/self/status; cat " + denied +
                                 " 2>&1 | grep -c '/denied: Permission denied'; cat " + granted});
    RunResult r = bt::run(args, {.as_nobody = true, .groups = {44}});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out,
              std::string(userns ? "Groups:\t65534 \n" : "Groups:\t44 \n") + "1\nfor group 44\n");
  }
}
