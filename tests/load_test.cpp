// SPDX-License-Identifier: Apache-2.0
// Load: 500 jails back to back and 64 at once, as root and as uid 65534. Every one starts, runs
// its command in namespaces of its own and exits with that command's status; afterwards nothing
// is left: no fd of the caller, no mount of the host, no process of any jail, no child of the
// caller (zombie or not), no temp file. (Performance under load is bench/'s, not this test's.)
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "harness.hpp"

namespace {

using boxjail::test::RunOpts;
using boxjail::test::RunResult;

std::set<std::string> entries(const std::string& dir) {
  std::set<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) out.insert(e->d_name);
  closedir(d);
  return out;
}

// Processes whose command line holds `marker` (each jail's command carries it as $0).
int processes_with(const std::string& marker) {
  int count = 0;
  for (const auto& pid : entries("/proc")) {
    if (pid.empty() || pid[0] < '0' || pid[0] > '9') continue;
    const std::string cmdline = boxjail::test::read_file("/proc/" + pid + "/cmdline");
    if (cmdline.find(marker) != std::string::npos) ++count;
  }
  return count;
}

// What a jail could leave behind on the host, as this process sees it.
struct HostState {
  std::set<std::string> fds;
  std::string mounts;
  std::set<std::string> tmp;  // /tmp, but the harness's own temp files (other tests run alongside)
};

// The /tmp entries a jail could leave: boxjail's own names (its base tmpfs holds newroot/ and
// scratch/, bind-data files and overlay dirs), but not what the harness makes for this test or a
// parallel one (ctest -j2), nor anybody else's (a compiler's, a shell's: /tmp is shared).
bool could_be_a_jails(const std::string& name) {
  for (const char* harness :
       {"boxjail-test-", "boxjail-bin-", "boxjail-diag-", "boxjail-host-file"}) {
    if (name.rfind(harness, 0) == 0) return false;
  }
  for (const char* ours :
       {"boxjail", "newroot", "oldroot", "scratch", "bind-data-", "tmp-overlay-"}) {
    if (name.rfind(ours, 0) == 0) return true;
  }
  return false;
}

HostState host_state() {
  HostState s;
  s.fds = entries("/proc/self/fd");
  s.mounts = boxjail::test::host_mountinfo();
  for (const auto& e : entries("/tmp")) {
    if (could_be_a_jails(e)) s.tmp.insert(e);
  }
  return s;
}

class Load : public ::testing::TestWithParam<bool> {
 protected:
  bool nobody() const { return GetParam(); }
  RunOpts opts() const {
    RunOpts o;
    o.as_nobody = nobody();
    return o;
  }
  // A jail with every namespace, /proc, /dev and a tmpfs, whose command exits with `status`.
  std::vector<std::string> jail(int status) const {
    return {"--unshare-all",
            "--ro-bind",
            "/",
            "/",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--tmpfs",
            "/tmp",
            "--",
            "/bin/sh",
            "-c",
            "test -d /proc/1 && exit " + std::to_string(status),
            marker_};
  }
  void SetUp() override {
    (void)boxjail::test::boxjail_binary();  // its copy in /tmp is made once, on first use
    before_ = host_state();
  }
  void ExpectNothingLeft() {
    EXPECT_EQ(processes_with(marker_), 0) << "jail processes left";
    errno = 0;
    EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1) << "a child of the caller is left";
    EXPECT_EQ(errno, ECHILD);
    const HostState after = host_state();
    EXPECT_EQ(after.fds, before_.fds) << "fds of the caller";
    EXPECT_EQ(after.mounts, before_.mounts) << "mounts of the host";
    EXPECT_EQ(after.tmp, before_.tmp) << "temp files";
  }
  const std::string marker_ = "boxjail-load-" + std::to_string(getpid());
  HostState before_;
};

TEST_P(Load, FiveHundredJailsBackToBack) {
  for (int i = 0; i < 500; ++i) {
    const RunResult r = boxjail::test::run(jail(i % 7), opts());
    ASSERT_EQ(r.status, i % 7) << "jail " << i << ": " << r.err;
    ASSERT_EQ(r.err, "") << "jail " << i;
  }
  ExpectNothingLeft();
}

TEST_P(Load, SixtyFourJailsAtOnce) {
  std::vector<std::unique_ptr<boxjail::test::Spawned>> jails;
  for (int i = 0; i < 64; ++i) {
    // Each waits for its stdin to close, so all 64 are up at the same time.
    auto args = jail(i % 7);
    args.back() = marker_;
    args[args.size() - 2] = "read -r _; test -d /proc/1 && exit " + std::to_string(i % 7);
    jails.push_back(boxjail::test::spawn(args, opts()));
  }
  for (int i = 0; i < 64; ++i) {
    const RunResult r = jails[static_cast<std::size_t>(i)]->wait(120);
    EXPECT_EQ(r.status, i % 7) << "jail " << i << ": " << r.err;
    EXPECT_EQ(r.err, "") << "jail " << i;
  }
  jails.clear();
  ExpectNothingLeft();
}

INSTANTIATE_TEST_SUITE_P(Load, Load, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Nobody" : "Root";
                         });

}  // namespace
