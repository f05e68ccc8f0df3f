// SPDX-License-Identifier: Apache-2.0
// --rlimit NAME=SOFT[:HARD] and the spec's "rlimits": the command's limits as /proc/self/limits
// shows them, a limit hit for real (SIGXFSZ, EMFILE), a raise above the caller's own hard limit
// refused by the kernel on every rung (named step, EPERM), and bad values refused before anything
// starts. As root and as uid 65534.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "harness.hpp"

namespace {

namespace bt = boxjail::test;

class Rlimits : public ::testing::TestWithParam<bool> {
 protected:
  bt::RunOpts opts() const {
    bt::RunOpts o;
    o.as_nobody = GetParam();
    return o;
  }
};

// Whether this process holds CAP_SYS_RESOURCE (bit 24 of CapEff).
bool has_sys_resource() {
  const std::string status = bt::read_file("/proc/self/status");
  const auto at = status.find("CapEff:\t");
  if (at == std::string::npos) return false;
  const unsigned long long eff = std::stoull(status.substr(at + 8, 16), nullptr, 16);
  return (eff >> 24) & 1;
}

// The limit line of /proc/self/limits for `what` ("Max open files"), its columns squeezed.
std::string limits_line(const std::string& what) {
  return "grep '^" + what + "' /proc/self/limits | tr -s ' '";
}

TEST_P(Rlimits, SetInTheCommand) {
  const auto r =
      bt::run({"--rlimit", "NOFILE=64:128", "--rlimit", "CORE=0", "--rlimit", "NOFILE=32:100",
               "--rlimit", "STACK=unlimited", "--ro-bind", "/", "/", "sh", "-c",
               limits_line("Max open files") + "; " + limits_line("Max core file size") + "; " +
                   limits_line("Max stack size")},
              opts());
  ASSERT_EQ(r.status, 0) << r.err;
  // The last --rlimit of a resource wins; STACK "unlimited" only where the caller's hard limit
  // is (as uid 65534 the harness's is, both are inherited from root's).
  EXPECT_EQ(r.out,
            "Max open files 32 100 files \n"
            "Max core file size 0 0 bytes \n"
            "Max stack size unlimited unlimited bytes \n");
}

TEST_P(Rlimits, HitForReal) {
  // FSIZE: the write past the limit gets SIGXFSZ, the jail's status says so (128 + 25).
  const auto big = bt::run({"--rlimit", "FSIZE=10", "--ro-bind", "/", "/", "--dev", "/dev",
                            "--tmpfs", "/tmp", "sh", "-c", "head -c 100 /dev/zero > /tmp/x"},
                           opts());
  EXPECT_EQ(big.status, 128 + SIGXFSZ) << big.err;
  // NOFILE: no fd at or above the limit (high enough for whatever the caller left open).
  const auto fds =
      bt::run({"--rlimit", "NOFILE=64", "--ro-bind", "/", "/", "--dev", "/dev", "sh", "-c",
               "exec 9</dev/null && echo 9-ok; (exec 70</dev/null) 2>/dev/null || "
               "echo 70-refused"},
              opts());
  EXPECT_EQ(fds.status, 0) << fds.err;
  EXPECT_EQ(fds.out, "9-ok\n70-refused\n");
}

// Above the caller's own hard limit: the kernel refuses (CAP_SYS_RESOURCE counts only in the
// host's user namespace), and the step says which limit. Root may raise it.
TEST_P(Rlimits, RaiseAboveTheCallersHardLimit) {
  // prlimit starts boxjail with a hard limit of 100, which asks for 200.
  bt::RunOpts o = opts();
  o.program = "/usr/bin/prlimit";
  const auto r = bt::run({"--nofile=100:100", bt::boxjail_binary(), "--rlimit", "NOFILE=200",
                          "--ro-bind", "/", "/", "sh", "-c", limits_line("Max open files")},
                         o);
  // Root raises it where it holds CAP_SYS_RESOURCE (some machines' root lacks it in its
  // bounding set: then root is refused like anyone).
  if (GetParam() || !has_sys_resource()) {
    EXPECT_EQ(r.status, 1) << r.err;
    const std::string rung = GetParam() ? "userns" : "root";
    EXPECT_EQ(r.err.rfind("boxjail: " + rung +
                              " rung: rlimits: setrlimit NOFILE: Can't raise the hard "
                              "limit of NOFILE above the caller's own: Operation not permitted "
                              "(EPERM)\n",
                          0),
              0u)
        << r.err;
    EXPECT_EQ(r.out, "");
  } else {
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "Max open files 200 200 files \n");
  }
}

TEST_P(Rlimits, SetuidRungCannotRaiseEither) {
  if (!GetParam()) GTEST_SKIP() << "root takes the root rung";
  bt::TempDir dir;
  const std::string config = bt::ladder_config(dir, "setuid", bt::setuid_helper_binary());
  bt::RunOpts o = opts();
  o.program = "/usr/bin/prlimit";
  const auto r = bt::run({"--nofile=100:100", bt::boxjail_binary(), "--config", config, "--rlimit",
                          "NOFILE=200", "--ro-bind", "/", "/", "true"},
                         o);
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("setuid rung: rlimits: setrlimit NOFILE: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(EPERM)"), std::string::npos) << r.err;
  // Lowering is the caller's right there too.
  const auto low =
      bt::run({"--nofile=100:100", bt::boxjail_binary(), "--config", config, "--rlimit",
               "NOFILE=50", "--ro-bind", "/", "/", "sh", "-c", limits_line("Max open files")},
              o);
  EXPECT_EQ(low.status, 0) << low.err;
  EXPECT_EQ(low.out, "Max open files 50 50 files \n");
}

TEST_P(Rlimits, BadValuesStartNothing) {
  for (const auto& [arg, message] : std::vector<std::pair<std::string, std::string>>{
           {"NOFILE", "--rlimit takes NAME=SOFT[:HARD]"},
           {"FILES=3", "--rlimit: unknown limit FILES (CPU, FSIZE, "},
           {"nofile=3", "--rlimit: unknown limit nofile"},
           {"NOFILE=-1", "--rlimit NOFILE=-1: a limit is a number of 0 or more, or \"unlimited\""},
           {"NOFILE=3:", "--rlimit NOFILE=3:: a limit is a number"},
           {"NOFILE=18446744073709551615", "a limit is a number"},
           {"NOFILE=8:4", "--rlimit NOFILE=8:4: the soft limit is above the hard one"},
       }) {
    SCOPED_TRACE(arg);
    const auto r = bt::run({"--rlimit", arg, "--ro-bind", "/", "/", "touch", "/tmp/never"}, opts());
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err.rfind("boxjail: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
  }
}

// The spec's form: the same limits, and its own errors by JSON pointer.
TEST_P(Rlimits, ThroughASpec) {
  bt::RunOpts o = opts();
  o.fd_data = {{9, R"({"version": "boxjail.spec/v1", "command": ["sh", "-c", ")" +
                       limits_line("Max open files") + R"("],
                      "env": ["PATH=/usr/bin:/bin"],
                      "ops": [{"kind": "bind", "source": "/", "dest": "/", "readonly": true}],
                      "rlimits": {"NOFILE": {"soft": 16, "hard": 32}}})"}};
  const auto r = bt::run({"run", "--spec", "fd:9"}, o);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "Max open files 16 32 files \n");
  o.fd_data = {{9, R"({"version": "boxjail.spec/v1", "command": ["true"],
                      "rlimits": {"NOFILE": {"soft": 64, "hard": 32}}})"}};
  const auto bad = bt::run({"run", "--spec", "fd:9"}, o);
  EXPECT_EQ(bad.status, 1);
  EXPECT_EQ(bad.err,
            "boxjail: parse-spec: spec: /rlimits/NOFILE: the soft limit is above the hard one\n");
}

INSTANTIATE_TEST_SUITE_P(Jail, Rlimits, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? "Nobody" : "Root";
                         });

}  // namespace
