// SPDX-License-Identifier: Apache-2.0
// The classic mount path (kernels before 5.12), as this kernel takes it when a seccomp filter
// answers the new mount API with ENOSYS: the choice is made once by probing and said by
// --version and doctor; a kernel with the new API but no mount_setattr (5.2 to 5.11) takes it too;
// a refused mount(2) names its step; the staging area never shows. (The whole jail, mount and
// differential suites also run on this path: ctest's "classic-mounts:" tests.)
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "harness.hpp"

namespace {

namespace bt = boxjail::test;

bt::RunOpts classic(bool nobody) {
  bt::RunOpts o;
  o.as_nobody = nobody;
  o.deny = bt::deny_new_mount_api();
  return o;
}

class ClassicMounts : public ::testing::TestWithParam<bool> {};

TEST_P(ClassicMounts, VersionAndDoctorSayWhichWayThisKernelMounts) {
  const bool nobody = GetParam();
  bt::RunOpts plain;
  plain.as_nobody = nobody;
  auto r = bt::run({"--version"}, plain);
  ASSERT_EQ(r.status, 0) << r.err;
  if (!bt::classic_mounts_forced()) {
    EXPECT_NE(r.out.find("mounts on this kernel: the new mount API"), std::string::npos) << r.out;
  }
  r = bt::run({"--version"}, classic(nobody));
  EXPECT_NE(r.out.find("mounts on this kernel: classic mount(2), staged: this kernel ("),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("has no new mount API (Linux 5.2+, mount_setattr 5.12+)"), std::string::npos)
      << r.out;
  // 5.2 to 5.11: the new API without mount_setattr, which a bind's flags need.
  bt::RunOpts no_setattr = plain;
  no_setattr.deny = {{"mount_setattr", ENOSYS}};
  r = bt::run({"--version"}, no_setattr);
  if (!bt::classic_mounts_forced()) {  // which denies all of the API
    EXPECT_NE(r.out.find("has no mount_setattr (Linux 5.12+)"), std::string::npos) << r.out;
  }
  r = bt::run({"doctor", "--json"}, classic(nobody));
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out << r.err;
  EXPECT_EQ(j["mounts"]["path"], "classic") << r.out;
  EXPECT_FALSE(j["kernel"].get<std::string>().empty());
}

// The core jails, on a kernel with the new API but not mount_setattr: classic mounts all the
// same (a read-only root, /proc, /dev, a tmpfs), and the read-only root refuses writes.
TEST_P(ClassicMounts, WithoutMountSetattrTheCoreJailRuns) {
  bt::RunOpts o;
  o.as_nobody = GetParam();
  o.deny = {{"mount_setattr", ENOSYS}};
  const auto r = bt::jail_sh({"--unshare-all", "--ro-bind", "/", "/", "--proc", "/proc", "--dev",
                              "/dev", "--tmpfs", "/tmp", "--"},
                             "touch /x 2>/dev/null && echo wrote; echo > /tmp/t && echo tmp; "
                             "test -c /dev/null && echo dev; test -d /proc/self && echo proc",
                             o);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "tmp\ndev\nproc\n");
}

// A mount(2) refused at each kind of mount names the step that made it, with the call.
TEST_P(ClassicMounts, RefusedMountNamesTheStep) {
  const bool nobody = GetParam();
  const std::string rung = nobody ? "userns" : "root";
  struct Case {
    const char* step;
    bt::Deny deny;
    std::vector<std::string> args;
  };
  // Told apart by mount(2)'s flags (its fourth argument): the base tmpfs is the first mount with
  // nosuid and nodev alone; a bind is staged, remounted with its flags (MS_REMOUNT), then moved
  // onto its destination (MS_MOVE).
  constexpr unsigned long kKinds = MS_NOSUID | MS_NODEV | MS_BIND | MS_SLAVE | MS_REMOUNT | MS_MOVE;
  const std::vector<Case> cases = {
      {"mount-base-tmpfs",
       {"mount", EPERM, 3, kKinds, MS_NOSUID | MS_NODEV},
       {"--ro-bind", "/", "/", "true"}},
      {"bind-mount", {"mount", EPERM, 3, MS_REMOUNT, MS_REMOUNT}, {"--ro-bind", "/", "/", "true"}},
      {"bind-mount", {"mount", EPERM, 3, MS_MOVE, MS_MOVE}, {"--ro-bind", "/", "/", "true"}},
      {"mount-tmpfs", {"mount", EPERM, 3, MS_MOVE, MS_MOVE}, {"--tmpfs", "/", "true"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.step);
    bt::RunOpts o = classic(nobody);
    o.deny.push_back(c.deny);
    const auto r = bt::run(c.args, o);
    EXPECT_EQ(r.status, 1) << r.err;
    const std::string first = r.err.substr(0, r.err.find('\n'));
    EXPECT_EQ(first.rfind("boxjail: " + rung + " rung: " + c.step + ": mount ", 0), 0u) << r.err;
    EXPECT_NE(first.find("(EPERM)"), std::string::npos) << r.err;
  }
}

// The staging directory lives in the base tmpfs beside newroot: never in the jail, never on the
// host's /tmp (the base covers it in the jail's mount namespace only).
TEST_P(ClassicMounts, TheStagingAreaNeverShows) {
  bt::TempDir dir;
  const auto r = bt::jail_sh(
      {"--ro-bind", "/", "/", "--bind", dir.path(), "/mnt", "--tmpfs", "/tmp", "--"},
      "ls -a / /tmp | grep -c staging; grep -c staging /proc/self/mountinfo", classic(GetParam()));
  EXPECT_EQ(r.out, "0\n0\n") << r.err;
  EXPECT_EQ(bt::read_file("/proc/self/mountinfo").find("staging"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Jail, ClassicMounts, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return std::string(i.param ? "Nobody" : "Root");
                         });

}  // namespace

namespace {

// The calls a kernel of each older release lacks (each answering ENOSYS, as there): Ubuntu
// 20.04's 5.4 has the new mount API but none of the later calls; RHEL 8's 4.18 not even that.
std::vector<bt::Deny> kernel_without(const std::vector<const char*>& calls) {
  std::vector<bt::Deny> out;
  for (const char* c : calls) out.push_back({c, ENOSYS});
  return out;
}

struct OlderKernel {
  const char* name;
  std::vector<const char*> missing;
};

class OlderKernels : public ::testing::TestWithParam<std::tuple<OlderKernel, bool>> {};

// The core jails and the setuid rung's, with every call the release lacks answering ENOSYS: the
// engine takes its older way for each (classic mounts, the path walk, access through the fd's
// magic link, fds closed one by one, clone(2)) and the jails run as on a new kernel.
TEST_P(OlderKernels, CoreJailsRun) {
  const auto& [kernel, nobody] = GetParam();
  bt::RunOpts o;
  o.as_nobody = nobody;
  o.deny = kernel_without(kernel.missing);
  const std::string script =
      "touch /x 2>/dev/null && echo wrote; echo > /tmp/t && echo tmp; test -c /dev/null && "
      "echo dev; test -d /proc/self && echo proc; ls /proc/self/fd | tr '\\n' ' '";
  const std::vector<std::string> jail = {"--unshare-all", "--ro-bind", "/",     "/",
                                         "--proc",        "/proc",     "--dev", "/dev",
                                         "--tmpfs",       "/tmp",      "--"};
  // The reference: the same jail on this kernel as it is. The fds the command holds are the
  // test's own that it passed down; none of boxjail's may be added on the older way.
  bt::RunOpts now;
  now.as_nobody = nobody;
  const std::string expected = bt::jail_sh(jail, script, now).out;
  ASSERT_EQ(expected.rfind("tmp\ndev\nproc\n", 0), 0u) << expected;
  auto r = bt::jail_sh(jail, script, o);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, expected) << r.err;
  if (!nobody) return;
  bt::TempDir dir;
  o.deny = kernel_without(kernel.missing);
  r = bt::jail_sh(
      {"--config", bt::ladder_config(dir, "setuid", bt::setuid_helper_binary()), "--ro-bind", "/",
       "/", "--unshare-pid", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--"},
      script, o);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, expected) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Jail, OlderKernels,
    ::testing::Combine(
        ::testing::Values(
            OlderKernel{"Linux5_10", {"mount_setattr"}},
            OlderKernel{"Linux5_4", {"mount_setattr", "openat2", "faccessat2", "close_range"}},
            OlderKernel{"Linux4_18",
                        {"mount_setattr", "open_tree", "move_mount", "fsopen", "fsconfig",
                         "fsmount", "fspick", "openat2", "faccessat2", "close_range", "clone3",
                         "statx", "pidfd_open", "pidfd_send_signal"}}),
        ::testing::Bool()),
    [](const ::testing::TestParamInfo<std::tuple<OlderKernel, bool>>& i) {
      return std::string(std::get<0>(i.param).name) + (std::get<1>(i.param) ? "_Nobody" : "_Root");
    });

}  // namespace
