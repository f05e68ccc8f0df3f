// SPDX-License-Identifier: Apache-2.0
// --pid-file: the jailed command's pid as the caller sees it (not the monitor's, not pid 1's),
// written atomically when it starts; as root, as uid 65534 (the userns rung) and on the setuid
// rung, with and without a pid namespace. Checked from the host: the pid's /proc entry is the
// command's, its NSpid says it is pid 2 of the jail's pid namespace where there is one.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace {

namespace bt = boxjail::test;

struct PidFileCase {
  const char* name;
  bool nobody;
  bool setuid_rung;
  bool pid_namespace;
};

class PidFile : public ::testing::TestWithParam<PidFileCase> {};

TEST_P(PidFile, HoldsTheCommandsPid) {
  const PidFileCase& c = GetParam();
  bt::TempDir dir;
  ASSERT_EQ(chmod(dir.path().c_str(), 0777), 0);  // the caller (uid 65534) writes it
  const std::string pid_file = dir.path() + "/jail.pid";
  const std::string marker = "pidfile-" + std::string(c.name);
  std::vector<std::string> args;
  if (c.setuid_rung) {
    args = {"--config", bt::ladder_config(dir, "setuid", bt::setuid_helper_binary())};
  }
  args.insert(args.end(), {"--pid-file", pid_file, "--ro-bind", "/", "/"});
  if (c.pid_namespace) args.insert(args.end(), {"--unshare-pid", "--proc", "/proc"});
  // The command waits on stdin, so the test reads the file while it runs.
  args.insert(args.end(), {"sh", "-c", "read x; echo " + marker});
  bt::RunOpts o;
  o.as_nobody = c.nobody;
  auto jail = bt::spawn(args, o);
  std::string text;
  for (int i = 0; i < 500 && text.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    text = bt::read_file(pid_file);
  }
  ASSERT_FALSE(text.empty()) << "no pid file";
  ASSERT_EQ(text.back(), '\n');
  const std::string pid = text.substr(0, text.size() - 1);
  // The file is written when the command's process sends its last record, right before its
  // execve: the new image may take a moment to show in /proc.
  std::string cmdline;
  for (int i = 0; i < 200 && cmdline.find(marker) == std::string::npos; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    cmdline = bt::read_file("/proc/" + pid + "/cmdline");
  }
  EXPECT_NE(cmdline.find("read x; echo " + marker), std::string::npos)
      << "pid " << pid << " runs " << cmdline;
  const std::string status = bt::read_file("/proc/" + pid + "/status");
  const auto nspid = status.find("NSpid:\t" + pid);
  ASSERT_NE(nspid, std::string::npos) << status;
  const std::string nspid_line = status.substr(nspid, status.find('\n', nspid) - nspid);
  if (c.pid_namespace) {
    // The command, not pid 1 (2 in the jail's pid namespace; 3 on the setuid rung, whose setup
    // process took 2).
    const std::string inner = nspid_line.substr(nspid_line.rfind('\t') + 1);
    EXPECT_NE(nspid_line, "NSpid:\t" + pid) << "no pid namespace";
    EXPECT_EQ(inner, c.setuid_rung ? "3" : "2") << nspid_line;
  } else {
    EXPECT_EQ(nspid_line, "NSpid:\t" + pid);
  }
  // Only the file itself is left beside it: the temporary one was renamed over it.
  EXPECT_EQ(bt::read_file(pid_file), text);
  jail->write_stdin("\n");
  auto r = jail->wait();
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, marker + "\n");
}

INSTANTIATE_TEST_SUITE_P(Jail, PidFile,
                         ::testing::Values(PidFileCase{"Root", false, false, false},
                                           PidFileCase{"RootPidNs", false, false, true},
                                           PidFileCase{"Nobody", true, false, false},
                                           PidFileCase{"NobodyPidNs", true, false, true},
                                           PidFileCase{"SetuidRung", true, true, false},
                                           PidFileCase{"SetuidRungPidNs", true, true, true}),
                         [](const auto& info) { return std::string(info.param.name); });

// A pid file that cannot be written fails the jail, with the path, before the command runs on.
TEST(PidFileErrors, UnwritableDirectory) {
  const auto r = bt::run({"--pid-file", "/nonexistent-dir/jail.pid", "--ro-bind", "/", "/", "sh",
                          "-c", "sleep 5; echo ran"},
                         bt::RunOpts{.as_nobody = true});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("/nonexistent-dir/jail.pid"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(ENOENT)"), std::string::npos) << r.err;
}

}  // namespace
