// SPDX-License-Identifier: Apache-2.0
// The setuid rung's privilege split (issue: the helper wrote files with root's capabilities).
// Root builds and installs the helper (a root-owned mode-4755 copy); uid 65534 attacks it, as a
// local user would, directly and through `boxjail` with ladder.mode = "setuid". Each test reads
// the kernel's view: the victim's /proc files, the status fields of the process that does the
// work, the mounts the privileged side made.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <linux/mount.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/mount_broker.hpp"
#include "harness.hpp"

namespace {

namespace bt = boxjail::test;
using bt::RunOpts;
using bt::RunResult;
using bt::TempDir;

std::string proc_file(pid_t pid, const std::string& name) {
  return bt::read_file("/proc/" + std::to_string(pid) + "/" + name);
}

std::string status_line(pid_t pid, const std::string& field) {
  const std::string s = proc_file(pid, "status");
  const auto at = s.find("\n" + field + ":");
  if (at == std::string::npos) return "";
  return s.substr(at + 1, s.find('\n', at + 1) - at - 1);
}

// The process holds the caller's ids everywhere (real, effective, saved, fs) and no capability
// in any set.
void expect_caller_without_capabilities(pid_t pid, const std::string& what) {
  EXPECT_EQ(status_line(pid, "Uid"), "Uid:\t65534\t65534\t65534\t65534") << what;
  EXPECT_EQ(status_line(pid, "Gid"), "Gid:\t65534\t65534\t65534\t65534") << what;
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    EXPECT_EQ(status_line(pid, set), std::string(set) + ":\t0000000000000000") << what;
  }
}

// A process of the test that waits until killed: root, uid 65534, or uid 65534 in a user
// namespace of its own (whose maps nobody has written yet: the uid_map attack's victim).
class Victim {
 public:
  enum class Kind { Root, Nobody, NobodyInUserns };
  explicit Victim(Kind kind) {
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      close(ready[0]);
      if (kind != Kind::Root &&
          (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 ||
           setresuid(65534, 65534, 65534) != 0)) {
        _exit(2);
      }
      // Dumpable, as a process the caller started itself is: its /proc files are the caller's
      // (the change of ids above made them root's).
      if (kind != Kind::Root) prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
      if (kind == Kind::NobodyInUserns && unshare(CLONE_NEWUSER) != 0) _exit(3);
      (void)!write(ready[1], "r", 1);
      for (;;) pause();
    }
    close(ready[1]);
    char c;
    ok_ = read(ready[0], &c, 1) == 1;
    close(ready[0]);
  }
  ~Victim() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Victim(const Victim&) = delete;
  Victim& operator=(const Victim&) = delete;
  pid_t pid() const { return pid_; }
  bool ok() const { return ok_; }

 private:
  pid_t pid_ = -1;
  bool ok_ = false;
};

// ---- Capability-checked kernel files: the helper must not write them for the caller ----------

struct Attack {
  const char* name;
  Victim::Kind victim;
  const char* file;  // under /proc/VICTIM/
  const char* data;  // what the caller asks the helper to write there
};

const Attack kAttacks[] = {
    // Host root for the victim: every host uid mapped into its namespace.
    {"UidMap", Victim::Kind::NobodyInUserns, "uid_map", "0 0 4294967295\n"},
    {"GidMap", Victim::Kind::NobodyInUserns, "gid_map", "0 0 4294967295\n"},
    // Another user's process: CAP_SYS_NICE decides.
    {"TimerslackOfRoot", Victim::Kind::Root, "timerslack_ns", "1\n"},
    // The caller's own processes: below what an unprivileged user may set.
    {"Autogroup", Victim::Kind::Nobody, "autogroup", "-20\n"},
    // (CAP_SYS_RESOURCE: a helper that kept it wrote this; where root's own bounding set lacks
    // it, as on some CI machines, the case still checks the refusal.)
    {"OomScoreAdj", Victim::Kind::Nobody, "oom_score_adj", "-1000\n"},
};

class PrivilegeSplitAttack
    : public ::testing::TestWithParam<std::tuple<Attack, bool /* through boxjail */>> {
 protected:
  void SetUp() override { mounts_before_ = bt::host_mountinfo(); }
  void TearDown() override {
    EXPECT_EQ(bt::host_mountinfo(), mounts_before_) << "mounts left behind on the host";
    EXPECT_EQ(bt::count_processes_of(bt::setuid_helper_binary()), 0) << "helper left running";
  }
  TempDir dir_;
  std::string mounts_before_;
};

TEST_P(PrivilegeSplitAttack, KernelFileIsNotWrittenForTheCaller) {
  const auto& [attack, through_boxjail] = GetParam();
  Victim victim(attack.victim);
  ASSERT_TRUE(victim.ok()) << "victim did not start";
  const std::string target = "/proc/" + std::to_string(victim.pid()) + "/" + attack.file;
  struct stat st;
  if (stat(target.c_str(), &st) != 0) GTEST_SKIP() << target << " does not exist on this kernel";
  const std::string before = bt::read_file(target);

  // The host's /proc bound (no pid namespace), so the victim is in sight; --file writes there.
  std::vector<std::string> args = {"--bind", "/", "/",    "--proc", "/proc",
                                   "--file", "3", target, "true"};
  RunOpts o{.as_nobody = true, .fd_data = {{3, attack.data}}};
  if (through_boxjail) {
    args.insert(args.begin(),
                {"--config", bt::ladder_config(dir_, "setuid", bt::setuid_helper_binary())});
  } else {
    o.program = bt::setuid_helper_binary();
  }
  const RunResult r = bt::run(args, o);
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("write-file: "), std::string::npos) << r.err;
  EXPECT_TRUE(r.err.find("Operation not permitted") != std::string::npos ||
              r.err.find("Permission denied") != std::string::npos)
      << r.err;
  EXPECT_EQ(bt::read_file(target), before) << target << " was changed";
  if (attack.victim == Victim::Kind::NobodyInUserns) {
    EXPECT_EQ(bt::read_file(target), "") << "the victim's namespace got a map";
  }
}

INSTANTIATE_TEST_SUITE_P(Setuid, PrivilegeSplitAttack,
                         ::testing::Combine(::testing::ValuesIn(kAttacks), ::testing::Bool()),
                         [](const ::testing::TestParamInfo<std::tuple<Attack, bool>>& info) {
                           return std::string(std::get<0>(info.param).name) +
                                  (std::get<1>(info.param) ? "_ThroughBoxjail" : "_Direct");
                         });

// ---- Who does the work ------------------------------------------------------------------------

pid_t parent_of(pid_t pid) {
  const std::string line = status_line(pid, "PPid");
  return line.empty() ? -1 : atoi(line.c_str() + 5);
}

// The pids whose /proc/PID/syscall says they are blocked in read(fd), for fd in `fds`. (The
// test runs as root, which may read every process's syscall file.)
std::string fd_target(const std::string& proc_dir, int fd) {
  char buf[128] = {};
  const std::string link = proc_dir + "/fd/" + std::to_string(fd);
  const ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// The boxjail process blocked reading this test's own pipe (the same pipe inode as our `fd`, not
// merely the same fd number: tests running beside this one block on fds of theirs too).
std::optional<pid_t> blocked_reading(int fd) {
  const std::string ours = fd_target("/proc/self", fd);
  DIR* d = opendir("/proc");
  std::optional<pid_t> found;
  while (dirent* e = d ? readdir(d) : nullptr) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const pid_t pid = atoi(e->d_name);
    if (pid == getpid()) continue;
    const std::string comm = proc_file(pid, "comm");
    if (comm.rfind("boxjail", 0) != 0) continue;
    char expect[32];
    snprintf(expect, sizeof expect, "0 0x%x ", fd);  // read(2) is 0 on x86-64
    if (proc_file(pid, "syscall").rfind(expect, 0) == 0 &&
        fd_target("/proc/" + std::to_string(pid), fd) == ours) {
      found = pid;
    }
  }
  if (d) closedir(d);
  return found;
}

std::optional<pid_t> wait_blocked_reading(int fd) {
  for (int i = 0; i < 1000; ++i) {
    if (auto pid = blocked_reading(fd)) return pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

struct Pipe {
  Pipe() {
    int p[2];
    if (pipe2(p, O_CLOEXEC) == 0) {
      read_end = p[0];
      write_end = p[1];
    }
  }
  ~Pipe() {
    if (read_end >= 0) close(read_end);
    if (write_end >= 0) close(write_end);
  }
  void finish(const std::string& data) {
    EXPECT_EQ(write(write_end, data.data(), data.size()), static_cast<ssize_t>(data.size()));
    close(write_end);
    write_end = -1;
  }
  int read_end = -1, write_end = -1;
};

#if defined(__x86_64__)
TEST(PrivilegeSplit, EveryPathAndDataOperationRunsAsTheCallerWithoutCapabilities) {
  const std::string mounts_before = bt::host_mountinfo();
  TempDir dir;
  const std::string config = bt::ladder_config(dir, "setuid", bt::setuid_helper_binary());
  Pipe file_data, bind_data, block;
  // Each kind of operation that touches a path, in command-line order, around two that read the
  // caller's data from a pipe the test holds: the process blocked on the first pipe and then on
  // the second ran everything in between, and everything before.
  const std::vector<std::string> args = {
      "--config",
      config,
      "--ro-bind",
      "/",
      "/",
      "--unshare-pid",
      "--proc",
      "/proc",
      "--dev",
      "/dev",
      "--tmpfs",
      "/tmp",
      "--dir",
      "/tmp/a",
      "--symlink",
      "a",
      "/tmp/l",
      "--perms",
      "0700",
      "--dir",
      "/tmp/b",
      "--chmod",
      "0750",
      "/tmp/b",
      "--file",
      std::to_string(file_data.read_end),
      "/tmp/a/f",
      "--dir",
      "/tmp/c",
      "--bind-data",
      std::to_string(bind_data.read_end),
      "/tmp/c/d",
      "--lock-file",
      "/tmp/a/f",
      "--block-fd",
      std::to_string(block.read_end),
      "sh",
      "-c",
      "cat /tmp/a/f /tmp/c/d; readlink /tmp/l; stat -c %a /tmp/b"};
  auto jail = bt::spawn(
      args,
      {.as_nobody = true, .keep_fds = {file_data.read_end, bind_data.read_end, block.read_end}});

  const auto setup = wait_blocked_reading(file_data.read_end);
  ASSERT_TRUE(setup) << "nothing blocked reading the --file data";
  EXPECT_EQ(proc_file(*setup, "comm"), "boxjail-setup\n");
  expect_caller_without_capabilities(*setup, "while reading --file data");
  // Meanwhile its parent, the privileged side, holds only CAP_SYS_ADMIN and what the final drop
  // needs (CAP_SETGID, CAP_SETUID, CAP_SETPCAP), an empty bounding set and the caller's fs uid;
  // the monitor above it holds nothing.
  const pid_t privileged = parent_of(*setup);
  EXPECT_EQ(status_line(privileged, "Uid"), "Uid:\t65534\t0\t0\t65534");
  EXPECT_EQ(status_line(privileged, "CapPrm"), "CapPrm:\t00000000002001c0");
  EXPECT_EQ(status_line(privileged, "CapEff"), "CapEff:\t00000000002001c0");
  EXPECT_EQ(status_line(privileged, "CapBnd"), "CapBnd:\t0000000000000000");
  const pid_t monitor = parent_of(privileged);
  for (int i = 0; i < 500 && status_line(monitor, "CapPrm") != "CapPrm:\t0000000000000000"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  expect_caller_without_capabilities(monitor, "the helper's monitor");
  file_data.finish("file\n");

  const auto setup_again = wait_blocked_reading(bind_data.read_end);
  ASSERT_TRUE(setup_again) << "nothing blocked reading the --bind-data data";
  EXPECT_EQ(*setup_again, *setup) << "a different process read the --bind-data data";
  expect_caller_without_capabilities(*setup_again, "while reading --bind-data data");
  bind_data.finish("data\n");

  // The lock is taken after the privilege drop, by the process that then waits at --block-fd.
  const auto holder = wait_blocked_reading(block.read_end);
  ASSERT_TRUE(holder) << "nothing blocked at --block-fd";
  expect_caller_without_capabilities(*holder, "the lock holder at --block-fd");
  EXPECT_NE(bt::read_file("/proc/locks").find(" " + std::to_string(*holder) + " "),
            std::string::npos)
      << "no lock held by " << *holder << ":\n"
      << bt::read_file("/proc/locks");
  block.finish("x");

  const RunResult r = jail->wait();
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "file\ndata\na\n750\n");
  EXPECT_EQ(bt::host_mountinfo(), mounts_before);
  EXPECT_EQ(bt::count_processes_of(bt::setuid_helper_binary()), 0) << "helper left running";
}

// ---- Stalling and killing the helper -----------------------------------------------------------
// The caller controls when the helper's waits end (the data of --file, --block-fd) and may signal
// every process of the run (each has the caller's real uid): at each wait it stops one of them
// for a while, or sends it SIGTERM or SIGKILL. What must hold, by bwrap's rules where it has them
// and by the helper's own where privilege is at stake:
//  * a stopped process resumes and the jail finishes as asked;
//  * SIGTERM to boxjail or the helper's monitor ends the setup (the monitor ends the sandbox,
//    whatever its namespaces); to a setup process it is that process's default action, except
//    where the kernel ignores it (a pid namespace's init, from outside);
//  * SIGKILL of a process of the setup ends the jail; of a monitor after the privilege drop, the
//    sandbox goes on unless --die-with-parent (as bwrap's does); but the privileged stage never
//    outlives the helper's monitor, asked or not;
//  * either way, every process of the run ends and no mount is left on the host.

enum class Wait { File, BlockFd };
enum class Game { StopThenContinue, Terminate, Kill };
enum class Role { Setup, Sandbox, HelperMonitor, Boxjail };

struct StallCase {
  Wait wait;
  Role role;
  Game game;
  bool pidns;
  bool die_with_parent;
};

std::string stall_case_name(const ::testing::TestParamInfo<StallCase>& info) {
  static const char* const kRole[] = {"Setup", "Sandbox", "HelperMonitor", "Boxjail"};
  static const char* const kGame[] = {"StopThenContinue", "Terminate", "Kill"};
  const StallCase& c = info.param;
  return std::string(c.wait == Wait::File ? "File_" : "BlockFd_") +
         kRole[static_cast<int>(c.role)] + "_" + kGame[static_cast<int>(c.game)] +
         (c.pidns ? "_Pidns" : "") + (c.die_with_parent ? "_DieWithParent" : "");
}

// Whether the jail ends at once (true) or goes on until the caller's waits end (false).
bool ends_at_once(const StallCase& c) {
  switch (c.game) {
    case Game::StopThenContinue:
      return false;
    case Game::Terminate:
      return !(c.role == Role::Sandbox && c.pidns);
    case Game::Kill:
      if (c.role == Role::Setup || c.role == Role::Sandbox) return true;
      if (c.role == Role::HelperMonitor && c.wait == Wait::File) return true;
      return c.die_with_parent;
  }
  return false;
}

// Signals `pid` as the caller would: from a process of uid 65534.
bool signal_as_caller(pid_t pid, int sig) {
  const pid_t killer = fork();
  if (killer == 0) {
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) _exit(2);
    _exit(kill(pid, sig) == 0 ? 0 : 1);
  }
  int st = 0;
  return waitpid(killer, &st, 0) == killer && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

// Whether the process behind `pidfd` has ended (a zombie counts: it runs nothing).
bool ended(int pidfd, int timeout_ms) {
  pollfd p{pidfd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) == 1;
}

class HelperStall : public ::testing::TestWithParam<StallCase> {};

TEST_P(HelperStall, StalledResumesKilledLeavesNothing) {
  const StallCase& c = GetParam();
  const std::string mounts_before = bt::host_mountinfo();
  TempDir dir;
  const std::string config = bt::ladder_config(dir, "setuid", bt::setuid_helper_binary());
  Pipe file_data, block;
  std::vector<std::string> args = {"--config", config, "--ro-bind", "/", "/", "--tmpfs", "/tmp"};
  if (c.pidns) args.insert(args.end(), {"--unshare-pid", "--proc", "/proc"});
  if (c.die_with_parent) args.emplace_back("--die-with-parent");
  args.insert(args.end(), {"--file", std::to_string(file_data.read_end), "/tmp/f", "--block-fd",
                           std::to_string(block.read_end), "cat", "/tmp/f"});
  auto jail = bt::spawn(
      args,
      {.as_nobody = true, .keep_fds = {file_data.read_end, block.read_end}, .private_run = true});
  if (c.wait == Wait::BlockFd) {
    ASSERT_TRUE(wait_blocked_reading(file_data.read_end)) << "never read the --file data";
    file_data.finish("data\n");
  }
  const auto blocked =
      wait_blocked_reading(c.wait == Wait::File ? file_data.read_end : block.read_end);
  ASSERT_TRUE(blocked) << "nothing blocked at the wait";
  // The run's processes at this wait, from the blocked one up to the test's own child; each is
  // watched through a pidfd taken now, so that a reused pid cannot pass for it later.
  std::vector<pid_t> chain;
  for (pid_t p = *blocked; p > 1 && p != getpid(); p = parent_of(p)) chain.push_back(p);
  const std::vector<Role> roles =
      c.wait == Wait::File
          ? std::vector<Role>{Role::Setup, Role::Sandbox, Role::HelperMonitor, Role::Boxjail}
          : std::vector<Role>{Role::Sandbox, Role::HelperMonitor, Role::Boxjail};
  ASSERT_EQ(chain.size(), roles.size()) << "not the processes this test knows";
  EXPECT_EQ(proc_file(chain.back(), "comm"), "boxjail\n");
  std::vector<int> pidfds;
  for (pid_t p : chain) {
    pidfds.push_back(static_cast<int>(syscall(SYS_pidfd_open, p, 0)));
    ASSERT_GE(pidfds.back(), 0);
  }
  const auto at = std::find(roles.begin(), roles.end(), c.role);
  ASSERT_NE(at, roles.end());
  const pid_t target = chain[static_cast<size_t>(at - roles.begin())];
  const auto finish_waits = [&] {
    if (c.wait == Wait::File) file_data.finish("data\n");
    block.finish("x");
  };

  if (c.game == Game::StopThenContinue) {
    ASSERT_TRUE(signal_as_caller(target, SIGSTOP));
    finish_waits();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ASSERT_TRUE(signal_as_caller(target, SIGCONT));
    const RunResult r = jail->wait(30);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "data\n");
  } else if (ends_at_once(c)) {
    // The waits stay unfinished: the jail ends without them.
    ASSERT_TRUE(signal_as_caller(target, c.game == Game::Kill ? SIGKILL : SIGTERM));
    const RunResult r = jail->wait(10);
    EXPECT_EQ(r.err.find("harness: timeout"), std::string::npos) << "the jail did not end";
    EXPECT_NE(r.status, 0) << "the jail went on without the process the caller ended";
    EXPECT_EQ(r.out, "");
    for (size_t i = 0; i < pidfds.size(); ++i) {
      EXPECT_TRUE(ended(pidfds[i], 5000)) << "process " << chain[i] << " still runs";
    }
    finish_waits();
  } else {
    ASSERT_TRUE(signal_as_caller(target, c.game == Game::Kill ? SIGKILL : SIGTERM));
    EXPECT_FALSE(ended(pidfds[0], 300)) << "the blocked process ended";
    finish_waits();
    const RunResult r = jail->wait(10);
    EXPECT_EQ(r.err.find("harness: timeout"), std::string::npos) << "the jail did not end";
    EXPECT_EQ(r.out, "data\n") << "the command did not run";
  }
  for (size_t i = 0; i < pidfds.size(); ++i) {
    EXPECT_TRUE(ended(pidfds[i], 5000)) << "process " << chain[i] << " still runs";
    close(pidfds[i]);
  }
  EXPECT_EQ(bt::host_mountinfo(), mounts_before);
}

std::vector<StallCase> stall_cases() {
  std::vector<StallCase> out;
  for (const Wait wait : {Wait::File, Wait::BlockFd}) {
    for (const Role role : {Role::Setup, Role::Sandbox, Role::HelperMonitor, Role::Boxjail}) {
      if (wait == Wait::BlockFd && role == Role::Setup) continue;  // done by then
      for (const Game game : {Game::StopThenContinue, Game::Terminate, Game::Kill}) {
        for (const bool pidns : {true, false}) {
          out.push_back({wait, role, game, pidns, false});
          if (game == Game::Kill) out.push_back({wait, role, game, pidns, true});
        }
      }
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(PrivilegeSplit, HelperStall, ::testing::ValuesIn(stall_cases()),
                         stall_case_name);
#endif

// ---- Bind sources by fd ----------------------------------------------------------------------

TEST(PrivilegeSplit, RoBindFdOfAnUnreadableFileIsRefusedAsItsPathIs) {
  TempDir dir;
  const std::string secret = dir.file("secret", "root only\n", 0600);
  const std::string config = bt::ladder_config(dir, "setuid", bt::setuid_helper_binary());
  const int fd = open(secret.c_str(), O_PATH | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  for (bool through_boxjail : {false, true}) {
    for (const char* option : {"--ro-bind-fd", "--bind-fd"}) {
      std::vector<std::string> args = {option, std::to_string(fd), "/secret", "cat", "/secret"};
      RunOpts o{.as_nobody = true, .keep_fds = {fd}};
      if (through_boxjail) {
        args.insert(args.begin(), {"--config", config});
      } else {
        o.program = bt::setuid_helper_binary();
      }
      const RunResult r = bt::run(args, o);
      EXPECT_EQ(r.status, 1) << option << ": " << r.out << r.err;
      EXPECT_NE(r.err.find("resolve-sources: "), std::string::npos) << r.err;
      EXPECT_NE(r.err.find("Can't read source path"), std::string::npos) << r.err;
      EXPECT_EQ(r.out.find("root only"), std::string::npos) << r.out;
    }
  }
  close(fd);
}

// ---- The privileged side's own rules ------------------------------------------------------------

// The privileged side is tested with requests no honest setup process makes, as a compromised
// one might: served by a process with the helper's ids (real uid 65534, effective 0) in a private
// mount namespace, which the test joins for the time of the test (fds of another mount
// namespace are refused by the kernel itself) and leaves again.
class MountBroker : public ::testing::Test {
 protected:
  void SetUp() override {
    mounts_before_ = bt::host_mountinfo();
    own_ns_ = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(own_ns_, 0);
    int sv[2], ready[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
    server_ = fork();
    if (server_ == 0) {
      close(sv[0]);
      close(ready[0]);
      if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) ||
          setresuid(65534, 0, 0) != 0 || write(ready[1], "r", 1) != 1) {
        _exit(2);
      }
      boxjail::DirectMounter direct;
      auto base = boxjail::serve_mount_requests(sv[1], direct);
      _exit(base ? 0 : 1);
    }
    close(sv[1]);
    close(ready[1]);
    sock_ = sv[0];
    char c;
    ASSERT_EQ(read(ready[0], &c, 1), 1);
    close(ready[0]);
    const int ns =
        open(("/proc/" + std::to_string(server_) + "/ns/mnt").c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(ns, 0);
    joined_ = setns(ns, CLONE_NEWNS) == 0;
    close(ns);
    ASSERT_TRUE(joined_) << strerror(errno);
  }
  void TearDown() override {
    if (joined_) {
      EXPECT_EQ(setns(own_ns_, CLONE_NEWNS), 0) << strerror(errno);
    }
    close(own_ns_);
    if (sock_ >= 0) close(sock_);
    if (server_ > 0) {
      kill(server_, SIGKILL);
      waitpid(server_, nullptr, 0);
    }
    EXPECT_EQ(bt::host_mountinfo(), mounts_before_) << "the server's mounts reached the host";
  }
  // Ends the service; the server's exit status (0: it returned the base).
  int finish(boxjail::MountBrokerClient& client) {
    client.done();
    int status = 0;
    waitpid(server_, &status, 0);
    server_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string server_mountinfo() { return proc_file(server_, "mountinfo"); }

  TempDir dir_;
  std::string mounts_before_;
  int own_ns_ = -1;
  bool joined_ = false;
  pid_t server_ = -1;
  int sock_ = -1;
};

int open_path(const std::string& p) { return open(p.c_str(), O_PATH | O_CLOEXEC); }

TEST_F(MountBroker, RefusesWhatAUserNamespaceWouldNotAllow) {
  boxjail::MountBrokerClient client(sock_);
  mkdir((dir_.path() + "/target").c_str(), 0755);
  mkdir((dir_.path() + "/src").c_str(), 0755);
  const boxjail::UniqueFd target(open_path(dir_.path() + "/target"));
  const boxjail::UniqueFd src(open_path(dir_.path() + "/src"));
  const std::string secret = dir_.file("secret", "x", 0600);
  const boxjail::UniqueFd secret_fd(open_path(secret));
  const boxjail::UniqueFd file_target(open_path(dir_.file("file-target", "")));
  // (The base covers /tmp, where the temp dir may be: its fds were opened before.)
  boxjail::UniqueFd base;
  ASSERT_EQ(client.make_base(&base).err, 0);
  EXPECT_EQ(client.make_base(&base).err, EPERM) << "a second base";

  // A source the caller can neither read nor write.
  auto call = client.bind(secret_fd.get(), file_target.get(), false, 0);
  EXPECT_EQ(call.err, EACCES);
  EXPECT_STREQ(call.syscall, "faccessat2");
  // A directory without its submounts.
  EXPECT_EQ(client.bind(src.get(), target.get(), false, 0).err, EPERM);
  // Attributes the rung never asks for (idmapped mounts).
  EXPECT_EQ(client.bind(src.get(), target.get(), true, MOUNT_ATTR_IDMAP).err, EPERM);
  // Filesystems and options outside the closed set.
  EXPECT_EQ(client.mount_fs({"overlay", {{"lowerdir", "/usr"}}, 0}, target.get(), nullptr).err,
            EPERM);
  EXPECT_EQ(client.mount_fs({"tmpfs", {{"size", "1g"}}, 0}, target.get(), nullptr).err, EPERM);
  EXPECT_EQ(client.mount_fs({"tmpfs", {{"mode", "../x"}}, 0}, target.get(), nullptr).err, EPERM);
  EXPECT_EQ(client.mount_fs({"devpts", {{"mode", "620"}}, 0}, target.get(), nullptr).err, EPERM)
      << "devpts without newinstance is the host's";
  EXPECT_EQ(client.mount_fs({"sysfs", {}, 0}, target.get(), nullptr).err, EPERM);
  // Taking a flag away, or setting another than read-only.
  EXPECT_EQ(client.set_attr(target.get(), MOUNT_ATTR_NOSUID).err, EPERM);
  EXPECT_EQ(server_mountinfo().find(dir_.path() + "/target "), std::string::npos)
      << "a refused request was performed:\n"
      << server_mountinfo();

  // What it does serve gets nosuid (and nodev for a new filesystem) whatever was asked.
  ASSERT_EQ(client.bind(src.get(), target.get(), true, 0).err, 0);
  boxjail::UniqueFd root;
  ASSERT_EQ(client.mount_fs({"tmpfs", {{"mode", "0755"}}, 0}, target.get(), &root).err, 0);
  EXPECT_TRUE(root);
  const std::string info = server_mountinfo();
  size_t mounts = 0;
  for (size_t at = info.find(" " + dir_.path() + "/target "); at != std::string::npos;
       at = info.find(" " + dir_.path() + "/target ", at + 1)) {
    const std::string line = info.substr(at, info.find('\n', at) - at);
    EXPECT_NE(line.find("nosuid"), std::string::npos) << line;
    ++mounts;
  }
  EXPECT_EQ(mounts, 2u) << info;
  EXPECT_EQ(finish(client), 0);
}
}  // namespace
