// SPDX-License-Identifier: Apache-2.0
// Step errors: for each setup step, the syscall that step makes first is denied with the
// harness's seccomp filter (EPERM, then EACCES), as root and as uid 65534, and through the setuid
// helper; then the host running out of fds, memory and mounts (ResourceFailures). boxjail must exit
// 1 and lead with ONE line, "boxjail: <rung> rung: <step>: ...: <strerror> (<ENAME>)", naming
// exactly that step and errno, followed only by indented cause/fix lines (and, as uid 65534, the
// next rung's attempt); its --report-fd JSON must name the same step and errno and attribute it
// to the caller's seccomp filter (the harness's). Nothing may be left behind: the host's mount
// table unchanged and no boxjail process alive.
//
// The filter is installed by the harness before it execs boxjail, so it also binds boxjail's
// startup: each rule is narrowed (by argument value where needed) so that the first call it
// hits is the one made by the step under test.
//
// Steps not covered, and why:
//   * wait-monitor: its failure is a recv() on the status channel; denying recv/poll would break
//     the monitor first.
//   * write-setgroups, write-uid-map, write-gid-map, limit-userns: plain write()s to /proc files;
//     seccomp cannot tell them from any other write (it sees the fd, not the path), and denying
//     write() altogether breaks everything earlier.
//   * resolve-sources: open() of the source path; seccomp cannot match a path.
//   * chmod: the engine calls fchmodat2 (Linux 6.6), which libseccomp 2.5.4 cannot name, and the
//     harness resolves syscalls by name; denying fchmodat2 is the only way to reach the step.
//   * assert-userns-disabled: it fails when unshare(CLONE_NEWUSER) *succeeds*; a denial makes it
//     pass.
//   * block-fd: a read() (too broad to deny), and bwrap ignores its errors; so does boxjail.
//   * keep-fds: fcntl/close_range, too broad to deny; its own failure (a --keep-fd that is not
//     open) is tested in runtime_interface_test.cpp, where the kernel gives it.
//   * rlimits: the kernel's own EPERM (a raise above the caller's hard limit) is tested in
//     rlimits_test.cpp on the userns and setuid rungs.
//   * cgroup: its errors are the kernel's own answers on cgroupfs (a parent not delegated, a
//     controller not offered, no cgroup v2), each tested in cgroup_test.cpp on every rung.
//   * host-user-userns: root's own unshare(CLONE_NEWUSER) after the mounts, which a filter that
//     denies it would also deny the userns rung's clone; host_user_test.cpp runs it.
//   * exec-label: needs SELinux; without it the spec is refused before any step runs.
//   * chdir: chdir() is also what the pivot steps call first, and its path argument cannot be
//     matched.
//   * exec: the harness itself must execve boxjail, so its filter cannot deny execve. Instead
//     boxjail installs a filter denying execve through --add-seccomp-fd, the last thing before
//     the exec: that is bwrap's own mechanism, and the failure is the exec step's.
//   * caller-fs-ids, limit-capabilities, unprivileged-setup, drop-privileges: steps of the setuid
//     rung only (StepErrorsSetuid below runs the other steps through the helper as uid 65534);
//     setfsuid and capset cannot be made to fail without also failing the helper's own checks,
//     and each is verified from the kernel's side in privilege_split_test.cpp (the status fields
//     of the setup process while it works, the attacks it must refuse) and on every setuid run
//     in ladder_test.cpp (the command's status fields).
//   * write-file via O_TRUNC and bind-data via O_RDWR|O_EXCL are matched on openat()'s flags.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/mount.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include <sstream>

#include "engine/steps.hpp"
#include "harness.hpp"

namespace {

using boxjail::test::Deny;
using boxjail::test::ReportFile;
using boxjail::test::RunOpts;
using boxjail::test::RunResult;
namespace step = boxjail::step;

enum class Who { Both, Root, Nobody };

struct StepCase {
  std::string name;               // test name
  std::string_view step;          // the step the error must name
  Deny deny;                      // err is filled in by the test
  std::vector<std::string> args;  // options; the command is appended
  std::vector<std::pair<int, std::string>> fd_data = {};
  Who who = Who::Both;
  std::vector<std::string> command = {"/bin/true"};
};

void PrintTo(const StepCase& c, std::ostream* os) { *os << c.name; }

// Deny `syscall` only when argument `index` equals `value` (compared on its low 32 bits).
Deny deny_arg(const char* syscall, int index, unsigned long long value,
              unsigned long long mask = 0xffffffffULL) {
  Deny d;
  d.syscall = syscall;
  d.arg_index = index;
  d.mask = mask;
  d.value = value & mask;
  return d;
}

Deny deny_all(const char* syscall) {
  Deny d;
  d.syscall = syscall;
  return d;
}

// cBPF: a single "return ALLOW", for the --seccomp step (its installation is what is denied).
std::string allow_all_program() {
  const unsigned char insn[8] = {0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x7f};
  return std::string(reinterpret_cast<const char*>(insn), sizeof insn);
}

// cBPF from libseccomp: allow everything but execve, which fails with `err`.
std::string deny_execve_program(int err) { return boxjail::test::bpf_denying("execve", err); }

const std::vector<std::string> kRoRoot = {"--ro-bind", "/", "/"};

std::vector<std::string> with_root(std::vector<std::string> extra) {
  extra.insert(extra.begin(), kRoRoot.begin(), kRoRoot.end());
  return extra;
}

std::vector<StepCase> step_cases() {
  const unsigned kProcAttrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  return {
      // Monitor side.
      {"JoinUserns", step::kJoinUserns, deny_all("setns"), with_root({"--userns", "3"}), {{3, ""}}},
      // Root only: for uid 65534 --pidns implies a new user namespace, which boxjail refuses up
      // front (validate.cpp) instead of reaching this step.
      {"JoinPidns",
       step::kJoinPidns,
       deny_all("setns"),
       with_root({"--pidns", "3"}),
       {{3, ""}},
       Who::Root},
      // The engine's one clone3 creates the namespaces; a denial is that step's, never a
      // "fork" or anything else.
      {"CloneNamespaces", step::kCloneNamespaces, deny_all("clone3"), kRoRoot},
      {"CloneNamespacesUserns", step::kCloneNamespaces, deny_all("clone3"),
       with_root({"--unshare-user", "--unshare-pid"})},
      // Child side, in order.
      {"LoopbackUp", step::kLoopbackUp, deny_all("ioctl"), with_root({"--unshare-net"})},
      {"SetHostname", step::kSetHostname, deny_all("sethostname"),
       with_root({"--unshare-uts", "--hostname", "h4"})},
      // The first mount(2) call is the MS_SLAVE|MS_REC of "/".
      {"MakeRootRslave", step::kMakeRootRslave, deny_all("mount"), kRoRoot},
      // The first fsopen is the base tmpfs.
      {"MountBaseTmpfs", step::kMountBaseTmpfs, deny_all("fsopen"), kRoRoot},
      {"PivotRoot", step::kPivotRoot, deny_all("pivot_root"), kRoRoot},
      {"BindMount", step::kBindMount, deny_all("open_tree"), kRoRoot},
      // Nothing before --remount-ro calls mount_setattr when no bind comes first.
      {"RemountRo",
       step::kRemountRo,
       deny_all("mount_setattr"),
       {"--tmpfs", "/tmp", "--remount-ro", "/tmp"}},
      // Without a pid namespace --proc binds the host's /proc: the first open_tree.
      {"MountProcBind", step::kMountProc, deny_all("open_tree"), {"--proc", "/proc"}},
      // With one it mounts a procfs: the only fsmount with nosuid|nodev|noexec.
      {"MountProcNew",
       step::kMountProc,
       deny_arg("fsmount", 2, kProcAttrs),
       {"--unshare-pid", "--proc", "/proc"}},
      // --dev binds the host's device nodes: the first open_tree.
      {"MountDev", step::kMountDev, deny_all("open_tree"), {"--dev", "/dev"}},
      // --perms 0700 gives the missing parent mode 0700: the first mkdirat with that mode.
      {"MountTmpfs",
       step::kMountTmpfs,
       deny_arg("mkdirat", 2, 0700),
       {"--perms", "0700", "--tmpfs", "/a/tmp"}},
      // mqueue is the only filesystem mounted without attributes.
      {"MountMqueue",
       step::kMountMqueue,
       deny_arg("fsmount", 2, 0),
       {"--unshare-ipc", "--mqueue", "/mq"}},
      {"MakeDir",
       step::kMakeDir,
       deny_arg("mkdirat", 2, 0700),
       {"--perms", "0700", "--dir", "/a/b"}},
      {"WriteFile",
       step::kWriteFile,
       deny_arg("openat", 2, O_CREAT | O_TRUNC, O_CREAT | O_TRUNC),
       {"--file", "3", "/f"},
       {{3, "data"}}},
      {"BindData",
       step::kBindData,
       deny_arg("openat", 2, O_CREAT | O_EXCL | O_RDWR, O_CREAT | O_EXCL | O_ACCMODE),
       {"--bind-data", "3", "/f"},
       {{3, "data"}}},
      {"MakeSymlink", step::kMakeSymlink, deny_all("symlinkat"), {"--symlink", "usr/bin", "/bin"}},
      // overlayfs's "userxattr" is the only flag-type fsconfig without --dev.
      {"MountOverlay",
       step::kMountOverlay,
       deny_arg("fsconfig", 1, FSCONFIG_SET_FLAG),
       {"--overlay-src", "/usr", "--tmp-overlay", "/usr"}},
      {"DetachOldRoot", step::kDetachOldRoot, deny_all("umount2"), kRoRoot},
      {"JoinUserns2",
       step::kJoinUserns2,
       deny_all("setns"),
       with_root({"--userns2", "3"}),
       {{3, ""}}},
      // devpts needed uid 0 mapped; the sandbox uid is then mapped in a nested namespace.
      {"NestedUserns", step::kNestedUserns, deny_all("unshare"),
       with_root({"--unshare-user", "--uid", "5", "--gid", "5", "--dev", "/dev"})},
      {"NestedUsernsImplied",
       step::kNestedUserns,
       deny_all("unshare"),
       with_root({"--dev", "/dev"}),
       {},
       Who::Nobody},
      // A root jail that keeps CAP_SYS_ADMIN runs in a user namespace of its own.
      {"LockUserns", step::kLockUserns, deny_all("unshare"), kRoRoot, {}, Who::Root},
      {"LockFiles", step::kLockFiles, deny_arg("fcntl", 1, F_SETLK),
       with_root({"--lock-file", "/etc/hostname"})},
      {"DropCapabilities", step::kDropCapabilities, deny_all("capset"), kRoRoot},
      {"NewSession", step::kNewSession, deny_all("setsid"), with_root({"--new-session"})},
      {"NoNewPrivs", step::kNoNewPrivs, deny_arg("prctl", 0, PR_SET_NO_NEW_PRIVS), kRoRoot},
      // glibc's fork() is clone(2); the namespaces used clone3.
      {"ForkCommand", step::kForkCommand, deny_all("clone"), with_root({"--unshare-pid"})},
      {"Seccomp",
       step::kSeccomp,
       deny_arg("prctl", 0, PR_SET_SECCOMP),
       with_root({"--seccomp", "3"}),
       {{3, allow_all_program()}}},
  };
}

// First line "boxjail: <rung> rung: <step>: <anything>: <strerror(err)> (<ENAME>)"; every
// other line is indented detail or another rung's attempt.
void expect_step_report(const RunResult& r, std::string_view step_name, int err, bool nobody,
                        const std::string& report) {
  EXPECT_EQ(r.status, 1) << r.err;
  const std::string rung = nobody ? "userns" : "root";
  const std::string prefix = "boxjail: " + rung + " rung: " + std::string(step_name) + ": ";
  const std::string suffix = std::string(": ") + strerror(err) + " (" + strerrorname_np(err) + ")";
  const std::string first = r.err.substr(0, r.err.find('\n'));
  EXPECT_EQ(first.rfind(prefix, 0), 0u) << "expected step " << step_name << ", got:\n" << r.err;
  ASSERT_GE(first.size(), suffix.size()) << r.err;
  EXPECT_EQ(first.substr(first.size() - suffix.size()), suffix) << r.err;
  std::istringstream lines(r.err.substr(first.size() + 1));
  for (std::string line; std::getline(lines, line);) {
    EXPECT_TRUE(line.rfind("  ", 0) == 0 || line.rfind("boxjail: setuid rung: ", 0) == 0)
        << "unexpected line: " << line << "\nin:\n"
        << r.err;
  }
  EXPECT_EQ(r.out, "");
  const auto j = boxjail::test::report_summary(report);
  ASSERT_FALSE(j.is_discarded()) << report;
  ASSERT_GE(j["attempts"].size(), 1u) << report;
  const auto& a = j["attempts"][0];
  EXPECT_EQ(a["rung"], rung) << report;
  EXPECT_EQ(a["step"], std::string(step_name)) << report;
  EXPECT_EQ(a["errno"], err) << report;
  EXPECT_EQ(a["errno_name"], strerrorname_np(err)) << report;
  // The harness's own filter is the cause of a denied privileged step, and the evidence says so;
  // for the other steps no rule may guess (a wrong cause is worse than none).
  EXPECT_EQ(a["cause_id"], a["denial"] == true ? "caller-seccomp" : "unknown") << report;
  EXPECT_EQ(j["rung"], nullptr) << report;
}

void expect_nothing_left(const std::string& mounts_before) {
  EXPECT_EQ(boxjail::test::host_mountinfo(), mounts_before) << "mounts left behind on the host";
  EXPECT_EQ(boxjail::test::count_processes_of(boxjail::test::boxjail_binary()), 0)
      << "boxjail processes left behind";
}

class StepErrors : public ::testing::TestWithParam<std::tuple<StepCase, bool, int>> {};

TEST_P(StepErrors, OneLineNamingTheStep) {
  const auto& [c, nobody, err] = GetParam();
  if ((c.who == Who::Root && nobody) || (c.who == Who::Nobody && !nobody)) {
    GTEST_SKIP() << "case is for " << (nobody ? "root" : "uid 65534") << " only";
  }
  const std::string mounts_before = boxjail::test::host_mountinfo();
  RunOpts o;
  o.as_nobody = nobody;
  o.fd_data = c.fd_data;
  Deny d = c.deny;
  d.err = err;
  o.deny = {d};
  ReportFile report;
  o.keep_fds = {report.fd};
  std::vector<std::string> args = {"--report-fd", std::to_string(report.fd)};
  args.insert(args.end(), c.args.begin(), c.args.end());
  args.insert(args.end(), c.command.begin(), c.command.end());
  RunResult r = boxjail::test::run(args, o);
  expect_step_report(r, c.step, err, nobody, report.text());
  expect_nothing_left(mounts_before);
}

INSTANTIATE_TEST_SUITE_P(StepErrors, StepErrors,
                         ::testing::Combine(::testing::ValuesIn(step_cases()), ::testing::Bool(),
                                            ::testing::Values(EPERM, EACCES)),
                         [](const ::testing::TestParamInfo<std::tuple<StepCase, bool, int>>& info) {
                           return std::get<0>(info.param).name +
                                  (std::get<1>(info.param) ? "_Nobody" : "_Root") +
                                  (std::get<2>(info.param) == EPERM ? "_EPERM" : "_EACCES");
                         });

// The exec step: execve is denied by a filter boxjail itself installs last (--add-seccomp-fd),
// since the harness cannot deny the execve that starts boxjail.
class StepErrorsExec : public ::testing::TestWithParam<std::tuple<bool, int>> {};

TEST_P(StepErrorsExec, OneLineNamingTheStep) {
  const auto& [nobody, err] = GetParam();
  for (const auto& extra : std::vector<std::vector<std::string>>{{}, {"--unshare-pid"}}) {
    const std::string mounts_before = boxjail::test::host_mountinfo();
    RunOpts o;
    o.as_nobody = nobody;
    o.fd_data = {{3, deny_execve_program(err)}};
    ReportFile report;
    o.keep_fds = {report.fd};
    std::vector<std::string> args = {"--report-fd", std::to_string(report.fd)};
    const auto root_args = with_root(extra);
    args.insert(args.end(), root_args.begin(), root_args.end());
    args.insert(args.end(), {"--add-seccomp-fd", "3", "/bin/true"});
    RunResult r = boxjail::test::run(args, o);
    // boxjail's own --add-seccomp-fd filter, not the caller's, denied execve: no rule applies.
    const auto j = report.summary();
    ASSERT_FALSE(j.is_discarded()) << report.text();
    EXPECT_EQ(j["attempts"][0]["step"], std::string(step::kExec));
    EXPECT_EQ(j["attempts"][0]["errno"], err);
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err.rfind(std::string("boxjail: ") + (nobody ? "userns" : "root") +
                              " rung: exec: execvp /bin/true: ",
                          0),
              0u)
        << r.err;
    EXPECT_NE(r.err.find("execvp /bin/true"), std::string::npos) << r.err;
    expect_nothing_left(mounts_before);
  }
}

INSTANTIATE_TEST_SUITE_P(StepErrors, StepErrorsExec,
                         ::testing::Combine(::testing::Bool(), ::testing::Values(EPERM, EACCES)),
                         [](const ::testing::TestParamInfo<std::tuple<bool, int>>& info) {
                           return std::string(std::get<0>(info.param) ? "Nobody" : "Root") +
                                  (std::get<1>(info.param) == EPERM ? "_EPERM" : "_EACCES");
                         });

// ---- Resource failures --------------------------------------------------------------------
// Not a denial but the host running out: of fds (a low RLIMIT_NOFILE, set by util-linux's
// prlimit right before boxjail starts), of memory for a new process (clone3 answers ENOMEM), of
// mounts (the kernel's fs.mount-max gives ENOSPC; a host-wide sysctl, so the filter answers as it
// would). Each ends with exit 1 and one line naming the step and the errno, and nothing left.

// "boxjail: <rung> rung: <step>: <syscall> ...: <message> (<ENAME>)" with a step boxjail names
// (or "boxjail: config: ...", the one step before any rung, which also needs an fd). The errno
// is named once, at the end.
void expect_resource_failure(const RunResult& r, const std::string& rung, int err) {
  EXPECT_EQ(r.status, 1) << r.err;
  const std::string first = r.err.substr(0, r.err.find('\n'));
  // Out of memory in the monitor (before or after the rung's attempt) has no rung: "memory".
  const bool config =
      first.rfind("boxjail: config: ", 0) == 0 || first.rfind("boxjail: memory: ", 0) == 0;
  const std::string prefix = config ? "boxjail: " : "boxjail: " + rung + " rung: ";
  ASSERT_EQ(first.rfind(prefix, 0), 0u) << r.err;
  const std::string step_name =
      first.substr(prefix.size(), first.find(':', prefix.size()) - prefix.size());
  const bool known = step_name == "monitor" || step_name == "config" || step_name == "memory" ||
                     std::any_of(step::kOrder.begin(), step::kOrder.end(),
                                 [&](const auto& info) { return info.name == step_name; });
  EXPECT_TRUE(known) << "not a step: " << step_name << " in " << r.err;
  const std::string name = std::string("(") + strerrorname_np(err) + ")";
  ASSERT_GE(first.size(), name.size()) << r.err;
  EXPECT_EQ(first.substr(first.size() - name.size()), name) << r.err;
  EXPECT_EQ(first.find(name), first.size() - name.size()) << "named twice: " << first;
}

class ResourceFailures : public ::testing::TestWithParam<bool> {};

// A run as root or uid 65534 in which every `syscall` fails with `err`.
RunOpts failing(bool nobody, const char* syscall, int err) {
  RunOpts o;
  o.as_nobody = nobody;
  Deny d = deny_all(syscall);
  d.err = err;
  o.deny = {d};
  return o;
}

// Every limit from "stdio only" up: each run either works or fails cleanly at one step; the
// sweep passes through the status channel, the clone, the base tmpfs, the binds and /proc.
TEST_P(ResourceFailures, OutOfFdsAtEveryStep) {
  if (access("/usr/bin/prlimit", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/prlimit (util-linux)";
  if (boxjail::test::sanitized_build()) {
    GTEST_SKIP() << "the sanitizer runtime needs fds of its own (the loader opens libasan, UBSan's "
                    "vptr check a pipe): the release build's run of this test is the one that "
                    "counts";
  }
  const bool nobody = GetParam();
  const std::string mounts_before = boxjail::test::host_mountinfo();
  std::set<std::string> failed_at;
  bool ran = false;
  for (int limit = 3; limit <= 24; ++limit) {
    SCOPED_TRACE("RLIMIT_NOFILE " + std::to_string(limit));
    RunOpts o;
    o.as_nobody = nobody;
    o.program = "/usr/bin/prlimit";
    RunResult r =
        boxjail::test::run({"--nofile=" + std::to_string(limit), boxjail::test::boxjail_binary(),
                            "--unshare-all", "--ro-bind", "/", "/", "--proc", "/proc", "--dev",
                            "/dev", "--tmpfs", "/tmp", "--", "/bin/sh", "-c", "echo ran"},
                           o);
    if (r.status == 0) {
      EXPECT_EQ(r.out, "ran\n");
      ran = true;
      continue;
    }
    expect_resource_failure(r, nobody ? "userns" : "root", EMFILE);
    failed_at.insert(r.err.substr(0, r.err.find(':', r.err.find("rung: ") + 6)));
    expect_nothing_left(mounts_before);
  }
  EXPECT_TRUE(ran) << "no limit up to 24 fds let the jail run";
  EXPECT_GE(failed_at.size(), 4u) << "the sweep met fewer steps than expected";
}

TEST_P(ResourceFailures, OutOfMemoryForTheClone) {
  const bool nobody = GetParam();
  const std::string mounts_before = boxjail::test::host_mountinfo();
  const RunOpts o = failing(nobody, "clone3", ENOMEM);
  RunResult r = boxjail::test::run(with_root({"--unshare-pid", "/bin/true"}), o);
  expect_resource_failure(r, nobody ? "userns" : "root", ENOMEM);
  EXPECT_NE(r.err.find(std::string(step::kCloneNamespaces) + ": clone3"), std::string::npos)
      << r.err;
  // Running out of memory is no reason to try the setuid helper.
  EXPECT_EQ(r.err.find("setuid rung"), std::string::npos) << r.err;
  expect_nothing_left(mounts_before);
}

// The address space too small for what the run allocates (RLIMIT_AS, set by prlimit): from the
// lowest limit at which boxjail's main runs at all (below it glibc's static start-up fails, before
// any code of boxjail's: found by --version, which allocates next to nothing) up to one that lets
// the jail run, every run works or fails with one "memory" line, never an abort or a crash.
TEST_P(ResourceFailures, OutOfAddressSpace) {
  if (access("/usr/bin/prlimit", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/prlimit (util-linux)";
  if (boxjail::test::sanitized_build()) {
    GTEST_SKIP() << "ASan reserves terabytes of shadow memory: no RLIMIT_AS lets it start";
  }
  const bool nobody = GetParam();
  const std::string mounts_before = boxjail::test::host_mountinfo();
  RunOpts o;
  o.as_nobody = nobody;
  o.program = "/usr/bin/prlimit";
  const auto limited = [&](long kib, std::vector<std::string> args) {
    args.insert(args.begin(),
                {"--as=" + std::to_string(kib * 1024), boxjail::test::boxjail_binary()});
    return boxjail::test::run(args, o);
  };
  long floor = 1024;
  while (floor < 64 * 1024 && limited(floor, {"--version"}).status != 0) floor += 64;
  ASSERT_LT(floor, 64 * 1024) << "boxjail --version never ran";
  bool ran = false;
  int failed = 0;
  for (long kib = floor + 64; kib <= floor + 64 * 48 && !ran; kib += 64) {
    SCOPED_TRACE("RLIMIT_AS " + std::to_string(kib) + " KiB");
    const RunResult r =
        limited(kib, {"--unshare-all", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
                      "--tmpfs", "/tmp", "--", "/bin/sh", "-c", "echo ran"});
    if (r.status == 0) {
      EXPECT_EQ(r.out, "ran\n");
      ran = true;
      continue;
    }
    expect_resource_failure(r, nobody ? "userns" : "root", ENOMEM);
    ++failed;
    expect_nothing_left(mounts_before);
  }
  EXPECT_TRUE(ran) << "no limit up to 3 MiB above the floor let the jail run";
  EXPECT_GE(failed, 1) << "the sweep never ran out of memory in boxjail";
}

// Memory for the sandbox's stack refused (mmap answers ENOMEM): the engine clones fork-like
// instead and malloc falls back to brk, so the jail runs. (The userns rung's jail without a pid
// namespace is one whose child would share the monitor's memory on a stack of its own.) The command
// is boxjail's own static binary: a dynamic one's loader cannot map its libraries without mmap
// (ld.so then crashes).
TEST_P(ResourceFailures, NoMmapForTheStack) {
  const bool nobody = GetParam();
  const std::string mounts_before = boxjail::test::host_mountinfo();
  const RunOpts o = failing(nobody, "mmap", ENOMEM);
  if (boxjail::test::sanitized_build()) GTEST_SKIP() << "ASan cannot start without mmap";
  RunResult r = boxjail::test::run(with_root({boxjail::test::boxjail_binary(), "--version"}), o);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("boxjail ", 0), 0u) << r.out;
  expect_nothing_left(mounts_before);
}

TEST_P(ResourceFailures, OutOfMountsAtTheFirstMount) {
  const bool nobody = GetParam();
  const std::string mounts_before = boxjail::test::host_mountinfo();
  const RunOpts o = failing(nobody, "move_mount", ENOSPC);
  RunResult r = boxjail::test::run(with_root({"/bin/true"}), o);
  expect_resource_failure(r, nobody ? "userns" : "root", ENOSPC);
  // As bwrap says it: the limit that bites is fs.mount-max, not a full disk.
  EXPECT_NE(r.err.find(": Limit exceeded; check that /proc/sys/fs/mount-max is sufficient, "
                       "typically 100000 (ENOSPC)\n"),
            std::string::npos)
      << r.err;
  expect_nothing_left(mounts_before);
}

INSTANTIATE_TEST_SUITE_P(StepErrors, ResourceFailures, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Nobody" : "Root";
                         });

// ---- The setuid rung ------------------------------------------------------------------------
// The same denials, met by the setuid helper (uid 65534, ladder.mode = "setuid"): the filter the
// harness installs binds the helper too (a filter survives a setuid exec when the installer held
// CAP_SYS_ADMIN). The line names the setuid rung and the step.
class StepErrorsSetuid : public ::testing::TestWithParam<std::tuple<StepCase, int>> {};

TEST_P(StepErrorsSetuid, OneLineNamingTheStep) {
  const auto& [c, err] = GetParam();
  const std::string mounts_before = boxjail::test::host_mountinfo();
  boxjail::test::TempDir dir;
  const std::string config =
      boxjail::test::ladder_config(dir, "setuid", boxjail::test::setuid_helper_binary());
  RunOpts o;
  o.as_nobody = true;
  o.fd_data = c.fd_data;
  Deny d = c.deny;
  d.err = err;
  o.deny = {d};
  std::vector<std::string> args = {"--config", config};
  args.insert(args.end(), c.args.begin(), c.args.end());
  args.insert(args.end(), c.command.begin(), c.command.end());
  RunResult r = boxjail::test::run(args, o);
  EXPECT_EQ(r.status, 1) << r.err;
  const std::string prefix = "boxjail: setuid rung: " + std::string(c.step) + ": ";
  EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << "expected step " << c.step << ", got:\n" << r.err;
  const std::string first = r.err.substr(0, r.err.find('\n'));
  const std::string suffix = std::string(": ") + strerror(err) + " (" + strerrorname_np(err) + ")";
  ASSERT_GE(first.size(), suffix.size()) << r.err;
  EXPECT_EQ(first.substr(first.size() - suffix.size()), suffix) << r.err;
  EXPECT_EQ(r.out, "");
  expect_nothing_left(mounts_before);
  EXPECT_EQ(boxjail::test::count_processes_of(boxjail::test::setuid_helper_binary()), 0)
      << "helper processes left behind";
}

// The steps the helper runs itself, with a user namespace (the runtime's kind of jail) where
// the step needs one.
std::vector<StepCase> setuid_cases() {
  std::vector<StepCase> out;
  for (const auto& c : step_cases()) {
    for (const char* name : {"CloneNamespaces", "CloneNamespacesUserns",
                             "LoopbackUp",      "SetHostname",
                             "MakeRootRslave",  "MountBaseTmpfs",
                             "PivotRoot",       "BindMount",
                             "RemountRo",       "MountProcNew",
                             "MountDev",        "MountTmpfs",
                             "MakeDir",         "WriteFile",
                             "BindData",        "MakeSymlink",
                             "DetachOldRoot",   "NewSession",
                             "NoNewPrivs",      "Seccomp"}) {
      if (c.name == name) out.push_back(c);
    }
  }
  // fork(2) is first met by boxjail starting the helper, whose own steps come after.
  out.push_back({"HelperFork", "helper-exec", deny_all("clone"), kRoRoot});
  return out;
}

INSTANTIATE_TEST_SUITE_P(StepErrors, StepErrorsSetuid,
                         ::testing::Combine(::testing::ValuesIn(setuid_cases()),
                                            ::testing::Values(EPERM, EACCES)),
                         [](const ::testing::TestParamInfo<std::tuple<StepCase, int>>& info) {
                           return std::get<0>(info.param).name +
                                  (std::get<1>(info.param) == EPERM ? "_EPERM" : "_EACCES");
                         });

// bwrap's wording of a refused user namespace guesses the cause (Debian's switch): under the
// name bwrap it stays byte for byte; under boxjail's own name the first line states only what
// failed, and a hint about that switch appears only when the diagnosis read it as 0.
TEST(StepErrorsWording, BwrapsCloneHintOnlyUnderItsName) {
  boxjail::test::RunOpts o;
  o.as_nobody = true;
  Deny d = deny_all("clone3");
  d.err = EPERM;
  o.deny = {d};
  o.argv0 = "bwrap";
  const auto as_bwrap = boxjail::test::run({"--ro-bind", "/", "/", "true"}, o);
  EXPECT_EQ(as_bwrap.err,
            "bwrap: No permissions to creating new namespace, likely because the kernel does not "
            "allow non-privileged user namespaces. On e.g. debian this can be enabled with "
            "'sysctl kernel.unprivileged_userns_clone=1'.: Operation not permitted\n");
  o.argv0.clear();
  const auto as_boxjail = boxjail::test::run({"--ro-bind", "/", "/", "true"}, o);
  EXPECT_EQ(as_boxjail.status, 1);
  EXPECT_EQ(as_boxjail.err.rfind("boxjail: userns rung: clone-namespaces: clone3: No permissions "
                                 "to creating new namespace: Operation not permitted (EPERM)\n",
                                 0),
            0u)
      << as_boxjail.err;
  const std::string sysctl = boxjail::test::read_file("/proc/sys/kernel/unprivileged_userns_clone");
  if (sysctl.rfind("0", 0) != 0) {
    EXPECT_EQ(as_boxjail.err.find("unprivileged_userns_clone=1"), std::string::npos)
        << as_boxjail.err;
  }
}
// Every step this file cannot reach is named in the comment at the top; this keeps the two
// lists honest: a step added to steps.hpp must be covered here or listed there.
TEST(StepErrorsCoverage, EveryStepIsTestedOrExplained) {
  std::vector<std::string_view> covered{step::kExec};
  for (const auto& c : step_cases()) covered.push_back(c.step);
  const std::vector<std::string_view> explained = {step::kWaitMonitor,
                                                   step::kWriteSetgroups,
                                                   step::kWriteUidMap,
                                                   step::kWriteGidMap,
                                                   step::kResolveSources,
                                                   step::kChmod,
                                                   step::kLimitUserns,
                                                   step::kAssertUsernsDisabled,
                                                   step::kBlockFd,
                                                   step::kExecLabel,
                                                   step::kChdir,
                                                   step::kCallerFsIds,
                                                   step::kLimitCapabilities,
                                                   step::kUnprivilegedSetup,
                                                   step::kDropPrivileges,
                                                   step::kKeepFds,
                                                   step::kRlimits,
                                                   step::kCgroup,
                                                   step::kHostUserUserns};
  for (const auto& info : step::kOrder) {
    const bool is_covered = std::find(covered.begin(), covered.end(), info.name) != covered.end();
    const bool is_explained =
        std::find(explained.begin(), explained.end(), info.name) != explained.end();
    EXPECT_TRUE(is_covered || is_explained) << "step " << info.name << " is neither tested nor "
                                            << "explained in step_errors_test.cpp";
    EXPECT_FALSE(is_covered && is_explained) << "step " << info.name << " is both";
  }
}

}  // namespace
