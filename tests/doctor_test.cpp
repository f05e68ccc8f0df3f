// SPDX-License-Identifier: Apache-2.0
// `boxjail doctor`: each rung is probed with a real jail (namespaces, maps, mounts, pivot_root,
// proc, devpts), so a host where unshare() works but mounting does not is reported unusable.
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <string>
#include <vector>

#include "harness.hpp"

namespace {

using boxjail::test::Deny;
using boxjail::test::RunOpts;
using boxjail::test::RunResult;
using boxjail::test::TempDir;
namespace bt = boxjail::test;

class Doctor : public ::testing::Test {
 protected:
  void SetUp() override { mounts_before_ = bt::host_mountinfo(); }
  void TearDown() override {
    EXPECT_EQ(bt::host_mountinfo(), mounts_before_) << "mounts left behind on the host";
    EXPECT_EQ(bt::count_processes_of(bt::boxjail_binary()), 0) << "boxjail left running";
  }
  std::string config(const std::string& mode, const std::string& helper) {
    return bt::ladder_config(dir_, mode, helper);
  }
  // Runs `doctor --json` and returns (exit status, the JSON).
  std::pair<int, nlohmann::json> doctor(const std::string& cfg, RunOpts o) {
    RunResult r = bt::run({"doctor", "--json", "--config", cfg}, o);
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
    return {r.status, j};
  }
  static const nlohmann::json& rung(const nlohmann::json& j, const std::string& name) {
    for (const auto& r : j["rungs"]) {
      if (r["rung"] == name) return r;
    }
    static const nlohmann::json none;
    return none;
  }
  TempDir dir_;
  std::string mounts_before_;
};

// `doctor --help` is help, not a usage error (the top-level --help says each subcommand takes it),
// and names the profile's optional binary.
TEST(DoctorUsage, HelpGoesToStdoutWithStatusZero) {
  const RunResult r = boxjail::test::run({"doctor", "--help"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("boxjail doctor --apparmor-profile [BINARY]"), std::string::npos) << r.out;
  const RunResult bad = boxjail::test::run({"doctor", "--nope"});
  EXPECT_EQ(bad.status, 1);
  EXPECT_EQ(bad.out, "");
  EXPECT_NE(bad.err.find("usage: boxjail doctor"), std::string::npos) << bad.err;
}

// A packager's build writes the profile for the installed path; any other operand is refused.
TEST(DoctorUsage, AppArmorProfileForAGivenBinary) {
  const RunResult r = boxjail::test::run({"doctor", "--apparmor-profile", "/usr/bin/boxjail"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("\nprofile boxjail /usr/bin/boxjail flags=(unconfined) {\n  userns,\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(boxjail::test::run({"doctor", "--apparmor-profile", "relative"}).status, 1);
}

TEST_F(Doctor, RootUsesTheRootRung) {
  auto [status, j] = doctor(config("auto", "/nonexistent/boxjail-suid"), {});
  EXPECT_EQ(status, 0) << j.dump(2);
  EXPECT_EQ(j["usable"], true);
  EXPECT_EQ(j["rung"], "root");
  EXPECT_EQ(rung(j, "root")["result"], "ok");
  // The missing helper is named, with its evidence.
  EXPECT_EQ(rung(j, "setuid")["result"], "failed");
  EXPECT_EQ(rung(j, "setuid")["failure"]["errno_name"], "ENOENT");
  EXPECT_FALSE(j["facts"].empty());
  // Its jails act as host root: said, with where to read what that means.
  ASSERT_FALSE(j["warnings"].empty()) << j.dump(2);
  EXPECT_NE(j["warnings"][0].get<std::string>().find("run as host root"), std::string::npos);
}

TEST_F(Doctor, UnprivilegedUsernsRungWorksHere) {
  auto [status, j] = doctor(config("userns", "/nonexistent/boxjail-suid"), {.as_nobody = true});
  EXPECT_EQ(status, 0) << j.dump(2);
  // No host-root warning for an unprivileged caller (the TIOCSTI one follows the host's switch).
  for (const auto& w : j["warnings"]) {
    EXPECT_EQ(w.get<std::string>().find("host root"), std::string::npos) << j.dump(2);
  }
  EXPECT_EQ(j["rung"], "userns");
  EXPECT_EQ(rung(j, "root")["result"], "skipped");
  EXPECT_EQ(rung(j, "setuid")["result"], "skipped");
}

// unshare() is allowed, mount() is not: a bare-unshare probe would call this host fine.
TEST_F(Doctor, IsNotFooledByAWorkingUnshare) {
  for (int err : {EPERM, EACCES}) {
    RunOpts o{.as_nobody = true, .deny = {Deny{"mount", err}}};
    auto [status, j] = doctor(config("userns", "/nonexistent/boxjail-suid"), o);
    EXPECT_EQ(status, 2) << j.dump(2);
    EXPECT_EQ(j["usable"], false);
    const auto& failure = rung(j, "userns")["failure"];
    EXPECT_EQ(failure["step"], "make-root-rslave") << j.dump(2);
    EXPECT_EQ(failure["errno"], err);
    EXPECT_EQ(failure["cause_id"], "caller-seccomp");
  }
}

// The harness's seccomp filter denies user namespaces to the helper too (a filter is inherited
// across the setuid exec, unlike the kernel switches and AppArmor's restriction, which spare a
// setuid-root creator: the VM stage covers those), so the jail probed here makes none.
TEST_F(Doctor, FindsTheSetuidRungWhenUserNamespacesAreDenied) {
  RunOpts o{.as_nobody = true, .deny = bt::deny_user_namespaces(EPERM)};
  auto doctor_of = [&](const std::string& cfg) {
    RunResult r = bt::run({"doctor", "--json", "--config", cfg, "--", "--ro-bind", "/", "/",
                           "--proc", "/proc", "--dev", "/dev", "true"},
                          o);
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
    return std::pair<int, nlohmann::json>{r.status, j};
  };
  auto [status, j] = doctor_of(config("auto", bt::setuid_helper_binary()));
  EXPECT_EQ(status, 0) << j.dump(2);
  EXPECT_EQ(j["rung"], "setuid");
  EXPECT_EQ(rung(j, "userns")["failure"]["step"], "clone-namespaces");
  EXPECT_EQ(rung(j, "setuid")["result"], "ok");
  // userns only: nothing can run.
  auto [status2, j2] = doctor_of(config("userns", bt::setuid_helper_binary()));
  EXPECT_EQ(status2, 2) << j2.dump(2);
}

TEST_F(Doctor, NamesAMaskedProc) {
  auto [status, j] =
      doctor(config("userns", "/nonexistent/boxjail-suid"), {.as_nobody = true, .mask_proc = true});
  EXPECT_EQ(status, 2) << j.dump(2);
  const auto& failure = rung(j, "userns")["failure"];
  EXPECT_EQ(failure["step"], "mount-proc");
  EXPECT_EQ(failure["cause_id"], "masked-proc");
}

TEST_F(Doctor, TextTableAndVerdict) {
  RunResult r = bt::run({"doctor", "--config", config("userns", "/nonexistent/boxjail-suid")},
                        {.as_nobody = true});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("RUNG    RESULT"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nuserns  ok"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("host facts:\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("verdict: jails can run here, on the userns rung"), std::string::npos);
}

TEST_F(Doctor, PrintsAnAppArmorProfileForItsRealPath) {
  RunResult r = bt::run({"doctor", "--apparmor-profile"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("userns,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(bt::boxjail_binary()), std::string::npos) << r.out;
}

TEST_F(Doctor, UsageAndConfigErrorsExitOne) {
  EXPECT_EQ(bt::run({"doctor", "--bogus"}).status, 1);
  EXPECT_EQ(bt::run({"doctor", "--config", dir_.path() + "/missing.toml"}).status, 1);
}

}  // namespace

// `doctor -- OPTIONS` probes the jail the caller will really run, and its verdict is what that
// jail then does: the same exit (0 or not) and the same rung, as uid 65534 with the helper
// installed, for a jail that runs, one the host refuses, and one only some rungs take.
class DoctorAgrees : public Doctor,
                     public ::testing::WithParamInterface<std::pair<const char*, int>> {};

TEST_P(DoctorAgrees, WithTheJailItProbes) {
  struct Case {
    std::string mode;
    std::vector<std::string> jail;
  };
  const std::vector<Case> cases = {
      {"auto", {"--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"}},
      {"auto", {"--ro-bind", "/nonexistent-source", "/x", "true"}},
      // The setuid rung makes no user namespace yet: refused there, whatever the userns rung does.
      {"setuid", {"--unshare-user", "--ro-bind", "/", "/", "true"}},
      {"setuid", {"--ro-bind", "/", "/", "true"}},
  };
  const auto& c = cases[static_cast<std::size_t>(GetParam().second)];
  RunOpts o;
  o.as_nobody = true;
  const std::string cfg = config(c.mode, bt::setuid_helper_binary());
  std::vector<std::string> args = {"doctor", "--json", "--config", cfg, "--"};
  args.insert(args.end(), c.jail.begin(), c.jail.end());
  const RunResult probe = bt::run(args, o);
  auto j = nlohmann::json::parse(probe.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << probe.out << probe.err;
  std::vector<std::string> real_args = {"--config", cfg, "--report-fd", "1"};
  real_args.insert(real_args.end(), c.jail.begin(), c.jail.end());
  const RunResult real = bt::run(real_args, o);
  auto report = boxjail::test::report_summary(real.out);
  ASSERT_FALSE(report.is_discarded()) << real.out << real.err;
  EXPECT_EQ(j["usable"], real.status == 0) << j.dump(2) << "\n" << real.err;
  EXPECT_EQ(probe.status == 0, real.status == 0);
  EXPECT_EQ(j["rung"], report["rung"]) << j.dump(2) << "\n" << report.dump(2);
}

INSTANTIATE_TEST_SUITE_P(Doctor, DoctorAgrees,
                         ::testing::Values(std::pair<const char*, int>{"Runs", 0},
                                           std::pair<const char*, int>{"MissingSource", 1},
                                           std::pair<const char*, int>{"SetuidRefusesUserns", 2},
                                           std::pair<const char*, int>{"SetuidRuns", 3}),
                         [](const auto& info) { return std::string(info.param.first); });

// doctor reports the kernel's TIOCSTI switch: a warning exactly when it reads 1 on this host
// (read here, not assumed), as root and as uid 65534.
TEST_F(Doctor, WarnsOfLegacyTiocsti) {
  const std::string value = bt::read_file("/proc/sys/dev/tty/legacy_tiocsti");
  for (const bool nobody : {false, true}) {
    RunOpts o;
    o.as_nobody = nobody;
    auto [status, j] = doctor(config("userns", "/nonexistent/boxjail-suid"), o);
    bool warned = false;
    for (const auto& w : j["warnings"]) {
      if (w.get<std::string>().rfind("dev.tty.legacy_tiocsti = 1", 0) == 0) warned = true;
    }
    EXPECT_EQ(warned, value == "1\n") << j["warnings"].dump();
  }
}
