// SPDX-License-Identifier: Apache-2.0
// The slim monitor: once the command has run for a while, the monitor re-executes itself with
// only the supervision loop. Same pid, same name; signals still reach the command, the status
// still reaches --json-status-fd, the exit status is still the command's.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "harness.hpp"

namespace {

namespace bt = boxjail::test;

std::string cmdline_of(pid_t pid) {
  std::string s = bt::read_file("/proc/" + std::to_string(pid) + "/cmdline");
  for (char& c : s) {
    if (c == '\0') c = ' ';
  }
  return s;
}

// Waits until the monitor has re-executed itself (it does so 20 ms into the command's run) and
// has taken back its name (exec'ing /proc/self/exe names a process "exe" until then).
bool became_slim(pid_t pid) {
  for (int i = 0; i < 500; ++i) {
    if (cmdline_of(pid).find("--internal-slim-monitor") != std::string::npos &&
        bt::read_file("/proc/" + std::to_string(pid) + "/comm") == "boxjail\n") {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

class SlimMonitor : public ::testing::TestWithParam<bool> {};

TEST_P(SlimMonitor, ForwardsSignalsAndReportsTheStatus) {
  const bool nobody = GetParam();
  for (const bool pidns : {false, true}) {
    SCOPED_TRACE(pidns ? "--unshare-pid" : "no pid namespace");
    int json[2];
    ASSERT_EQ(pipe2(json, O_CLOEXEC), 0);
    std::vector<std::string> args = {"--ro-bind", "/", "/", "--json-status-fd",
                                     std::to_string(json[1])};
    if (pidns) args.push_back("--unshare-pid");
    // The command answers once it runs, then waits for SIGTERM and exits 42 on it.
    args.insert(args.end(),
                {"sh", "-c", "trap 'exit 42' TERM; echo up; while :; do sleep 0.05; done"});
    auto jail = bt::spawn(args, {.as_nobody = nobody, .keep_fds = {json[1]}});
    close(json[1]);
    ASSERT_EQ(jail->read_line(), "up");
    ASSERT_TRUE(became_slim(jail->pid())) << cmdline_of(jail->pid());
    // No setup fd crossed into the new image: the status channel (a socket) is gone, the
    // signalfd is the only anonymous inode, and the status fd is still there.
    bool json_seen = false;
    for (const auto& e :
         std::filesystem::directory_iterator("/proc/" + std::to_string(jail->pid()) + "/fd")) {
      const std::string target = std::filesystem::read_symlink(e.path()).string();
      EXPECT_EQ(target.rfind("socket:", 0), std::string::npos) << e.path() << " -> " << target;
      if (target.rfind("anon_inode:", 0) == 0) {
        EXPECT_EQ(target, "anon_inode:[signalfd]");
      }
      json_seen |= e.path().filename() == std::to_string(json[1]);
    }
    EXPECT_TRUE(json_seen);
    ASSERT_EQ(jail->send_signal(SIGTERM), 0);
    const auto r = jail->wait();
    EXPECT_EQ(r.status, 42) << r.err;
    std::string status;
    char buf[512];
    ssize_t n;
    while ((n = read(json[0], buf, sizeof buf)) > 0) status.append(buf, static_cast<size_t>(n));
    close(json[0]);
    EXPECT_NE(status.find("\"child-pid\""), std::string::npos) << status;
    EXPECT_NE(status.find("{ \"exit-code\": 42 }\n"), std::string::npos) << status;
  }
}

INSTANTIATE_TEST_SUITE_P(SlimMonitor, SlimMonitor, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Nobody" : "Root"; });

// The monitor keeps the caller's environment, whatever the command's is: a jail without a
// status fd or a pid namespace runs its setup in the monitor's memory (clone3 with CLONE_VM, see
// spawn_sandbox), where the child points environ at the command's environment before execve;
// the monitor must take its own back, and the slim monitor's re-exec passes it on.
TEST_P(SlimMonitor, KeepsTheCallersEnvironment) {
  const bool nobody = GetParam();
  auto jail =
      bt::spawn({"--ro-bind", "/", "/", "--clearenv", "--setenv", "IN_JAIL", "1", "sh", "-c",
                 "echo \"up $IN_JAIL ${CALLER_MARK:-none}\"; while :; do sleep 0.05; done"},
                {.as_nobody = nobody, .env = {{"CALLER_MARK", "outside"}}});
  ASSERT_EQ(jail->read_line(), "up 1 none");
  ASSERT_TRUE(became_slim(jail->pid())) << cmdline_of(jail->pid());
  std::string env = bt::read_file("/proc/" + std::to_string(jail->pid()) + "/environ");
  for (char& c : env) {
    if (c == '\0') c = '\n';
  }
  EXPECT_NE(env.find("CALLER_MARK=outside\n"), std::string::npos) << env;
  EXPECT_EQ(env.find("IN_JAIL="), std::string::npos) << env;
  ASSERT_EQ(jail->send_signal(SIGTERM), 0);
  const auto r = jail->wait();
  EXPECT_EQ(r.status, 128 + SIGTERM) << r.err;
}

// A short jail never re-executes (the exit status of `true`, straight from the setup image).
TEST(SlimMonitorShort, QuickCommandsKeepTheirMonitor) {
  const auto r = bt::run({"--ro-bind", "/", "/", "sh", "-c", "exit 3"});
  EXPECT_EQ(r.status, 3);
}

}  // namespace

// The slim monitor's entry point is reachable by anyone who runs boxjail: given a fd that is no
// signalfd (stdin at EOF here) or a pid that is not its child, it refuses at once instead of
// polling a dead fd for ever (it spun at 100 % CPU).
TEST(SlimMonitorEntry, RefusesWhatIsNotItsOwn) {
  for (const bool nobody : {false, true}) {
    boxjail::test::RunOpts o;
    o.as_nobody = nobody;
    o.timeout_sec = 10;
    const auto r = boxjail::test::run({"--internal-slim-monitor", "1", "1", "0", "-1"}, o);
    EXPECT_EQ(r.status, 255) << r.err;
    EXPECT_NE(r.err.find("not for direct use"), std::string::npos) << r.err;
  }
}
