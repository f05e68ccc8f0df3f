// SPDX-License-Identifier: Apache-2.0
// The jail against its own program (issue: pid 1 outside the seccomp filter, root-run jails acting
// as host root). The jailed program is the attacker: every process of the sandbox is in its
// reach, and so is every mount it was given. Each test reads the kernel's view from inside the
// jail or from the host, as root and as uid 65534 where both apply.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>
#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace {

namespace bt = boxjail::test;
using bt::RunOpts;
using bt::RunResult;
using bt::TempDir;

std::map<std::string, std::string> key_values(const std::string& out) {
  std::map<std::string, std::string> kv;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    const auto sep = line.find_first_of(":=");
    if (sep == std::string::npos) continue;
    std::string value = line.substr(sep + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    kv[line.substr(0, sep)] = value;
  }
  return kv;
}

// ---- Every process of the sandbox under every filter --------------------------------------------

enum class Filter { SeccompFd, Policy, AddSeccompFd };
enum class Holder { PidNamespace, SyncFd, LockFileNoPidNamespace };

struct PidOneCase {
  bool nobody;
  Filter filter;
  Holder holder;
};

std::string case_name(const PidOneCase& c) {
  static const char* kFilters[] = {"SeccompFd", "Policy", "AddSeccompFd"};
  static const char* kHolders[] = {"PidNs", "SyncFd", "LockFile"};
  return std::string(c.nobody ? "Nobody_" : "RootUserns_") + kFilters[static_cast<int>(c.filter)] +
         "_" + kHolders[static_cast<int>(c.holder)];
}

class PidOne : public ::testing::TestWithParam<PidOneCase> {};

TEST_P(PidOne, RunsUnderTheCommandsFiltersAndCannotBeTraced) {
  const PidOneCase c = GetParam();
  RunOpts o;
  o.as_nobody = c.nobody;
  o.private_run = true;  // the policy's compile cache stays off the host's /run
  std::vector<std::string> args = {"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"};
  if (!c.nobody) args.push_back("--unshare-user");  // the runtime's per-VM jail carries it
  switch (c.filter) {
    case Filter::SeccompFd:
      o.fd_data.emplace_back(3, bt::bpf_denying("keyctl", EPERM));
      args.insert(args.end(), {"--seccomp", "3"});
      break;
    case Filter::Policy:
      args.insert(args.end(), {"--seccomp-policy", "default"});
      break;
    case Filter::AddSeccompFd:
      o.fd_data.emplace_back(3, bt::bpf_denying("keyctl", EPERM));
      args.insert(args.end(), {"--add-seccomp-fd", "3"});
      break;
  }
  // The process that stays behind the command: pid 1 of a pid namespace, or (no pid namespace)
  // the command's parent, which holds the lock.
  std::string holder = "1";
  switch (c.holder) {
    case Holder::PidNamespace:
      args.push_back("--unshare-pid");
      break;
    case Holder::SyncFd:
      o.fd_data.emplace_back(4, "");
      args.insert(args.end(), {"--unshare-pid", "--sync-fd", "4"});
      break;
    case Holder::LockFileNoPidNamespace:
      args.insert(args.end(), {"--lock-file", "/etc/passwd"});
      holder = "$PPID";
      break;
  }
  // pid 1 installs its filters right after the fork, while the command starts (as bwrap's does;
  // it is non-dumpable from before the fork, so the command cannot act on it meanwhile): the
  // script waits up to 2 s for them before it looks.
  const std::string script =
      "h=" + holder +
      "; i=0; while ! grep -q '^Seccomp:.2' /proc/$h/status && [ $i -lt 200 ]; do"
      " sleep 0.01; i=$((i+1)); done;"
      " grep -E '^Seccomp(_filters)?:' /proc/$h/status | sed 's/^/holder-/';"
      " grep -E '^Seccomp(_filters)?:' /proc/$$/status | sed 's/^/command-/';"
      " [ \"$h\" != $$ ] && echo distinct=yes; " +
      bt::seccomp_probe_binary() + " ptrace:$h";
  args.insert(args.end(), {"sh", "-c", script});
  const RunResult r = bt::run(args, o);
  ASSERT_EQ(r.status, 0) << r.err;
  auto kv = key_values(r.out);
  EXPECT_EQ(kv["distinct"], "yes") << r.out;
  EXPECT_EQ(kv["command-Seccomp"], "2") << r.out;
  EXPECT_EQ(kv["holder-Seccomp"], "2") << "the process behind the command is not filtered\n"
                                       << r.out;
  if (kv.count("command-Seccomp_filters") != 0) {  // Linux 5.9+
    EXPECT_EQ(kv["holder-Seccomp_filters"], kv["command-Seccomp_filters"])
        << "it runs under fewer filters than the command\n"
        << r.out;
  }
  EXPECT_EQ(kv["ptrace"], "E1") << "the command can trace the process behind it\n" << r.out;
}

std::vector<PidOneCase> pid_one_cases() {
  std::vector<PidOneCase> cases;
  for (bool nobody : {false, true}) {
    for (Filter f : {Filter::SeccompFd, Filter::Policy, Filter::AddSeccompFd}) {
      for (Holder h : {Holder::PidNamespace, Holder::SyncFd, Holder::LockFileNoPidNamespace}) {
        cases.push_back({nobody, f, h});
      }
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Jail, PidOne, ::testing::ValuesIn(pid_one_cases()),
                         [](const ::testing::TestParamInfo<PidOneCase>& info) {
                           return case_name(info.param);
                         });

// ---- --die-with-parent when the caller dies at once ---------------------------------------------

// The live processes whose command line holds `text`.
std::vector<pid_t> processes_with(const std::string& text) {
  std::vector<pid_t> pids;
  DIR* d = opendir("/proc");
  while (dirent* e = d ? readdir(d) : nullptr) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::string cmdline = bt::read_file(std::string("/proc/") + e->d_name + "/cmdline");
    for (char& ch : cmdline) {
      if (ch == '\0') ch = ' ';
    }
    if (cmdline.find(text) != std::string::npos) pids.push_back(atoi(e->d_name));
  }
  if (d) closedir(d);
  return pids;
}

// In a forked caller of the test: uid and gid 65534, no groups, or the caller ends.
void become_nobody_or_exit() {
  if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 ||
      setresuid(65534, 65534, 65534) != 0) {
    _exit(2);
  }
}

class DieWithParent : public ::testing::TestWithParam<bool> {};

// The caller dies while boxjail is still reading its options (--args from a pipe the test
// holds), i.e. after boxjail started and before it armed the parent-death signal: the window
// where the kernel's signal can no longer come. Deterministic: the test sees boxjail blocked in
// that read (/proc/PID/syscall) before it kills the caller, then lets it go on.
TEST_P(DieWithParent, CallerGoneBeforeTheSignalWasArmedEndsTheJail) {
  const bool nobody = GetParam();
  const std::string mounts_before = bt::host_mountinfo();
  const std::string marker = nobody ? "8761" : "8762";
  const std::string& boxjail = bt::boxjail_binary();
  std::string options;
  for (const std::string& a :
       {std::string("--die-with-parent"), std::string("--unshare-pid"), std::string("--ro-bind"),
        std::string("/"), std::string("/"), std::string("--proc"), std::string("/proc")}) {
    options += a + '\0';
  }
  for (int i = 0; i < 20; ++i) {
    int args[2], report[2];
    ASSERT_EQ(pipe(args), 0);
    ASSERT_EQ(pipe2(report, O_CLOEXEC), 0);
    const pid_t caller = fork();
    ASSERT_GE(caller, 0);
    if (caller == 0) {
      if (nobody) become_nobody_or_exit();
      const pid_t jail = fork();
      if (jail == 0) {
        close(args[1]);
        if (dup2(args[0], 3) != 3) _exit(126);
        const char* argv[] = {boxjail.c_str(), "--args", "3", "sleep", marker.c_str(), nullptr};
        execv(argv[0], const_cast<char* const*>(argv));
        _exit(127);
      }
      (void)!write(report[1], &jail, sizeof jail);
      pause();
      _exit(0);
    }
    close(args[0]);
    close(report[1]);
    pid_t jail = -1;
    ASSERT_EQ(read(report[0], &jail, sizeof jail), static_cast<ssize_t>(sizeof jail));
    close(report[0]);
    const std::string syscall_file = "/proc/" + std::to_string(jail) + "/syscall";
    bool reading = false;
    for (int spin = 0; spin < 2000 && !reading; ++spin) {
      reading = bt::read_file(syscall_file).rfind("0 0x3 ", 0) == 0;  // read(3, ...)
      if (!reading) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_TRUE(reading) << "boxjail never blocked reading --args";
    kill(caller, SIGKILL);
    waitpid(caller, nullptr, 0);
    EXPECT_EQ(write(args[1], options.data(), options.size()), static_cast<ssize_t>(options.size()));
    close(args[1]);
  }
  size_t left = 0;
  for (int i = 0; i < 50 && (left = processes_with("sleep " + marker).size()) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(left, 0u) << "jails outlived their caller";
  EXPECT_EQ(bt::count_processes_of(boxjail), 0) << "boxjail outlived its caller";
  // A failed run must not leave them on the host: the command's end ends each jail.
  for (pid_t pid : processes_with("sleep " + marker)) kill(pid, SIGKILL);
  EXPECT_EQ(bt::host_mountinfo(), mounts_before);
}

// The race as a runtime meets it: the caller starts the jail and dies within its first
// milliseconds, at a different moment each round (0 to 3 ms, spread over the start-up: while
// boxjail loads, while it clones, while the child sets up, after the exec). A caller that dies
// before boxjail's first instruction is one boxjail cannot know of (its parent is already the
// reaper when it starts, as for a service started by init), so the caller does what
// docs/security.md tells a runtime to do: its pre-exec hook arms PR_SET_PDEATHSIG (kept across
// the exec) and checks its parent. 200 rounds; 5 s later no jail and no boxjail may be left,
// nor a mount on the host.
TEST_P(DieWithParent, CallerDyingAtAnyMomentOfTheStartEndsTheJail) {
  const bool nobody = GetParam();
  const std::string mounts_before = bt::host_mountinfo();
  const std::string marker = nobody ? "8763" : "8764";
  const std::string& boxjail = bt::boxjail_binary();
  for (int i = 0; i < 200; ++i) {
    const pid_t caller = fork();
    ASSERT_GE(caller, 0);
    if (caller == 0) {
      if (nobody) become_nobody_or_exit();
      const pid_t self = getpid();
      if (fork() == 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != self) _exit(3);
        const char* argv[] = {boxjail.c_str(),
                              "--die-with-parent",
                              "--unshare-pid",
                              "--ro-bind",
                              "/",
                              "/",
                              "--proc",
                              "/proc",
                              "sleep",
                              marker.c_str(),
                              nullptr};
        execv(argv[0], const_cast<char* const*>(argv));
        _exit(127);
      }
      usleep(static_cast<useconds_t>((i * 15) % 3000));
      _exit(0);
    }
    waitpid(caller, nullptr, 0);
  }
  std::this_thread::sleep_for(std::chrono::seconds(5));
  const auto left = processes_with("sleep " + marker);
  EXPECT_EQ(left.size(), 0u) << "jails outlived their caller";
  EXPECT_EQ(bt::count_processes_of(boxjail), 0) << "boxjail outlived its caller";
  for (pid_t pid : left) kill(pid, SIGKILL);
  EXPECT_EQ(bt::host_mountinfo(), mounts_before);
}

// On the setuid rung the kernel clears the parent-death signal with the credentials at each
// drop: every process that drops arms it again. The caller is killed once the command runs (its
// pid from --pid-file): the jail must end, on the setuid rung with and without a user namespace.
TEST(DieWithParentSetuidRung, EndsTheJailAfterThePrivilegeDrop) {
  for (const bool userns : {false, true}) {
    SCOPED_TRACE(userns ? "--unshare-user" : "no user namespace");
    bt::TempDir dir;
    ASSERT_EQ(chmod(dir.path().c_str(), 0777), 0);
    const std::string config = bt::ladder_config(dir, "setuid", bt::setuid_helper_binary());
    const std::string pid_file = dir.path() + "/jail.pid";
    const std::string& boxjail = bt::boxjail_binary();
    const pid_t caller = fork();
    ASSERT_GE(caller, 0);
    if (caller == 0) {
      become_nobody_or_exit();
      if (fork() == 0) {
        std::vector<const char*> argv = {boxjail.c_str(), "--config",       config.c_str(),
                                         "--pid-file",    pid_file.c_str(), "--die-with-parent"};
        if (userns) argv.push_back("--unshare-user");
        for (const char* a :
             {"--unshare-pid", "--ro-bind", "/", "/", "--proc", "/proc", "sleep", "8765"}) {
          argv.push_back(a);
        }
        argv.push_back(nullptr);
        execv(argv[0], const_cast<char* const*>(argv.data()));
        _exit(127);
      }
      pause();
      _exit(0);
    }
    std::string pid;
    for (int i = 0; i < 500 && pid.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      pid = bt::read_file(pid_file);
    }
    ASSERT_FALSE(pid.empty()) << "the jail never started";
    pid.pop_back();
    kill(caller, SIGKILL);
    waitpid(caller, nullptr, 0);
    bool gone = false;
    for (int i = 0; i < 500 && !gone; ++i) {
      gone = kill(std::stoi(pid), 0) != 0;
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(gone) << "the command outlived its caller";
    for (pid_t p : processes_with("sleep 8765")) kill(p, SIGKILL);
  }
}

INSTANTIATE_TEST_SUITE_P(Jail, DieWithParent, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Nobody" : "Root";
                         });

// ---- A jail run by root: the kernel's knobs stay the host's -----------------------------------

struct RootJail {
  const char* name;
  std::vector<std::string> args;
  bool keeps_caps;  // the command keeps CAP_SYS_ADMIN over its mount namespace
};

const RootJail kRootJails[] = {
    {"Plain", {}, true},
    {"PidNs", {"--unshare-pid"}, true},
    {"CapDropAll", {"--unshare-pid", "--cap-drop", "ALL"}, false},
    {"UsernsUid1000CapDropAll",
     {"--unshare-user", "--unshare-pid", "--uid", "1000", "--cap-drop", "ALL"},
     false},
    {"UsernsCapAddAll", {"--unshare-user", "--cap-add", "ALL"}, true},
    {"CapAddAll", {"--unshare-pid", "--cap-add", "ALL"}, true},
    {"UsernsDefaultCaps", {"--unshare-user"}, true},
};

// Runs a root jail that attacks the host sysctl `path` (whose value was `before`); `after` gets
// the value it left, and the host gets `before` back should it have changed.
RunResult run_restoring_sysctl(const std::vector<std::string>& args, const std::string& path,
                               const std::string& before, std::string& after) {
  const RunResult r = bt::run(args);
  after = bt::read_file(path);
  if (after != before) {
    const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      (void)!write(fd, before.data(), before.size());
      close(fd);
    }
  }
  return r;
}

class HostRootJail : public ::testing::TestWithParam<RootJail> {};

TEST_P(HostRootJail, CannotWriteTheHostsSysctls) {
  const RootJail& c = GetParam();
  const std::string burst = "/proc/sys/kernel/printk_ratelimit_burst";
  const std::string pattern = "/proc/sys/kernel/core_pattern";
  const std::string burst_before = bt::read_file(burst);
  const std::string pattern_before = bt::read_file(pattern);
  ASSERT_FALSE(burst_before.empty());
  std::vector<std::string> args = {"--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"};
  args.insert(args.end(), c.args.begin(), c.args.end());
  // core_pattern gets its own value back: harmless should the write go through.
  const std::string script =
      "echo 35 > " + burst +
      " 2>/dev/null; echo burst=$?; "
      "cat " +
      pattern + " > /dev/null; printf '%s\n' \"$(cat " + pattern + ")\" > " + pattern +
      " 2>/dev/null; echo pattern=$?; "
      "awk '$5 == \"/proc/sys\" || $5 == \"/proc/sysrq-trigger\" || $5 == \"/proc/fs\" "
      "{ split($6, o, \",\"); print \"ro\" $5 \"=\" o[1] }' /proc/self/mountinfo";
  args.insert(args.end(), {"sh", "-c", script});
  std::string burst_after;
  const RunResult r = run_restoring_sysctl(args, burst, burst_before, burst_after);
  ASSERT_EQ(r.status, 0) << r.err;
  auto kv = key_values(r.out);
  EXPECT_NE(kv["burst"], "0") << r.out;
  EXPECT_NE(kv["pattern"], "0") << r.out;
  EXPECT_EQ(burst_after, burst_before) << "the jail changed the host's sysctl";
  EXPECT_EQ(bt::read_file(pattern), pattern_before);
  EXPECT_EQ(kv["ro/proc/sys"], "ro") << r.out;
  EXPECT_EQ(kv["ro/proc/fs"], "ro") << r.out;
  if (access("/proc/sysrq-trigger", F_OK) == 0) {
    EXPECT_EQ(kv["ro/proc/sysrq-trigger"], "ro") << r.out;
  }
}

// Every read-only mount stays read-only and every cover stays, whether the command holds
// CAP_SYS_ADMIN or not: with it, it runs in its lock user namespace, so its mounts belong to a
// namespace it has no capability over, and the copies it makes (unshare -m, or a new user
// namespace of its own with unshare -Urm) are locked by the kernel. A fresh procfs, which would
// have no covers, needs capabilities over the pid namespace's owner, which it never has.
TEST_P(HostRootJail, MountsStayLocked) {
  const RootJail& c = GetParam();
  TempDir dir;
  const std::string victim = dir.file("victim", "host\n", 0644);
  std::vector<std::string> args = {"--ro-bind", "/",         "/",    "--proc",
                                   "/proc",     "--dev",     "/dev", "--tmpfs",
                                   "/mnt",      "--ro-bind", victim, "/mnt/victim"};
  args.insert(args.end(), c.args.begin(), c.args.end());
  const std::string attacks =
      "mount -o remount,rw /proc/sys; echo remount-sys=$?; "
      "umount /proc/sys; echo umount-sys=$?; "
      "umount -l /proc/sys; echo lazy-umount-sys=$?; "
      "mount -o remount,rw,bind /mnt/victim; echo remount-victim=$?; "
      "echo jail > /mnt/victim; echo write-victim=$?; ";
  const std::string script =
      "grep CapEff /proc/self/status; " + attacks + "for u in -m -Urm; do unshare $u sh -c '" +
      "umount /proc/sys || exit 1; echo 35 > /proc/sys/kernel/printk_ratelimit_burst' ; "
      "echo copy$u-umount-sys=$?; "
      "unshare $u sh -c 'mount -o remount,rw,bind /mnt/victim && echo jail > /mnt/victim'; "
      "echo copy$u-remount-victim=$?; "
      "unshare $u sh -c 'mount -t tmpfs t /mnt && mkdir /mnt/p && "
      "mount -t proc proc /mnt/p'; echo copy$u-new-proc=$?; done";
  args.insert(args.end(), {"sh", "-c", script});
  const std::string burst = "/proc/sys/kernel/printk_ratelimit_burst";
  const std::string burst_before = bt::read_file(burst);
  std::string burst_after;
  const RunResult r = run_restoring_sysctl(args, burst, burst_before, burst_after);
  ASSERT_EQ(r.status, 0) << r.err;
  auto kv = key_values(r.out);
  // The case is what it says: a command that keeps CAP_SYS_ADMIN (bit 21) really holds it.
  const unsigned long long cap_eff = std::stoull(kv["CapEff"], nullptr, 16);
  EXPECT_EQ((cap_eff >> 21) & 1, c.keeps_caps ? 1u : 0u) << r.out;
  for (const char* k :
       {"remount-sys", "umount-sys", "lazy-umount-sys", "remount-victim", "write-victim",
        "copy-m-umount-sys", "copy-m-remount-victim", "copy-m-new-proc", "copy-Urm-umount-sys",
        "copy-Urm-remount-victim", "copy-Urm-new-proc"}) {
    ASSERT_TRUE(kv.count(k)) << k << "\n" << r.out;
    EXPECT_NE(kv[k], "0") << k << "\n" << r.out << r.err;
  }
  EXPECT_EQ(bt::read_file(victim), "host\n");
  EXPECT_EQ(burst_after, burst_before) << "the jail changed the host's sysctl";
}

// The lock namespace of a root jail without --unshare-user maps every host id onto itself: files
// keep their owners, and root still reaches a file only another uid may read (as in bwrap), while
// the namespace itself is not the host's.
TEST(HostRootLockNamespace, KeepsOwnersAndRootsReach) {
  TempDir dir;
  const std::string secret = dir.file("secret", "only 1000\n", 0600);
  ASSERT_EQ(chown(secret.c_str(), 1000, 1000), 0);
  const RunResult r = bt::run({"--ro-bind", "/", "/", "sh", "-c",
                               "stat -c %u:%g " + secret + "; cat " + secret +
                                   "; cat /proc/self/uid_map /proc/self/gid_map | tr -s ' '; "
                                   "readlink /proc/self/ns/user"});
  ASSERT_EQ(r.status, 0) << r.err;
  char host_ns[64] = {};
  ASSERT_GT(readlink("/proc/self/ns/user", host_ns, sizeof host_ns - 1), 0);
  const auto newline = r.out.rfind('\n', r.out.size() - 2);
  ASSERT_NE(newline, std::string::npos) << r.out;
  EXPECT_EQ(r.out.substr(0, newline + 1),
            "1000:1000\nonly 1000\n 0 0 4294967295\n 0 0 4294967295\n");
  const std::string jail_ns = r.out.substr(newline + 1);
  EXPECT_EQ(jail_ns.rfind("user:[", 0), 0u) << r.out;
  EXPECT_NE(jail_ns, std::string(host_ns) + "\n");
}

INSTANTIATE_TEST_SUITE_P(Jail, HostRootJail, ::testing::ValuesIn(kRootJails),
                         [](const ::testing::TestParamInfo<RootJail>& info) {
                           return std::string(info.param.name);
                         });

// ---- Error records of any length ---------------------------------------------------------------

class LongErrorRecord : public ::testing::TestWithParam<bool> {};

TEST_P(LongErrorRecord, ArrivesWithItsStepAndErrno) {
  std::string path;
  while (path.size() < 100 * 1024) path += "/" + std::string(200, 'd');
  RunOpts o;
  o.as_nobody = GetParam();
  const RunResult r =
      bt::run({"--ro-bind", "/", "/", "--tmpfs", "/tmp", "--dir", "/tmp" + path, "true"}, o);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.find("malformed"), std::string::npos) << r.err.substr(0, 300);
  EXPECT_NE(r.err.find(std::string(" rung: make-dir: ")), std::string::npos)
      << r.err.substr(0, 300);
  EXPECT_NE(r.err.find("(ENAMETOOLONG)"), std::string::npos) << r.err.substr(r.err.size() - 300);
  EXPECT_LT(r.err.size(), 70000u);
}

INSTANTIATE_TEST_SUITE_P(Jail, LongErrorRecord, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Nobody" : "Root";
                         });

}  // namespace
