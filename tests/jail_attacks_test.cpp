// SPDX-License-Identifier: Apache-2.0
// Attacks from inside the jail, as root and as uid 65534, each of which must fail:
//  * pushing input into the caller's terminal (TIOCSTI), with --new-session or under the
//    default seccomp policy; without either the kernel's own switch decides (docs/security.md);
//  * reaching the host's processes and mount namespace through /proc (pid 1's root, a host
//    pid);
//  * signalling a process outside the jail's pid namespace.
// (Symlinks planted in the sandbox tree are mounts_test.cpp's MountsSymlinkSafety; the setuid
// helper's own attack surface is setuid_attacks_test.cpp's.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "harness.hpp"

namespace {

namespace bt = boxjail::test;

class JailAttacks : public ::testing::TestWithParam<bool> {
 protected:
  bool nobody() const { return GetParam(); }
  bt::RunOpts opts() const {
    bt::RunOpts o;
    o.as_nobody = nobody();
    return o;
  }
};

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// TIOCSTI on the jail's stdin, a pty `script` gives the whole run: "pushed" or "refused ERRNO".
std::string tiocsti_in_jail(const std::vector<std::string>& options, const bt::RunOpts& base) {
  std::string cmd = bt::boxjail_binary();
  for (const auto& a : options) cmd += " " + shell_quote(a);
  cmd += " --ro-bind / / --dev /dev -- /usr/bin/perl -e " +
         shell_quote(
             "my $c = 'x'; "
             "print(ioctl(STDIN, 0x5412, $c) ? \"pushed\\n\" : \"refused \" . ($!+0) . \"\\n\")");
  bt::RunOpts o = base;
  o.program = "/usr/bin/script";
  const auto r = bt::run({"-qec", cmd, "/dev/null"}, o);
  if (r.out.find("pushed") != std::string::npos) return "pushed";
  const auto at = r.out.find("refused ");
  if (at == std::string::npos) return "no answer: " + r.out + r.err;
  return r.out.substr(at, r.out.find_first_of("\r\n", at) - at);
}

TEST_P(JailAttacks, TiocstiCannotReachTheCallersTerminal) {
  if (access("/usr/bin/script", X_OK) != 0 || access("/usr/bin/perl", X_OK) != 0) {
    GTEST_SKIP() << "needs util-linux's script and perl";
  }
  // A new session: the pty is no longer the jail's controlling terminal (EPERM), on any kernel.
  EXPECT_EQ(tiocsti_in_jail({"--new-session"}, opts()), "refused 1");
  // The shipped default policy refuses the ioctl itself.
  EXPECT_EQ(tiocsti_in_jail({"--seccomp-policy", "default"}, opts()), "refused 1");
  // Neither: the kernel decides, as for bwrap. dev.tty.legacy_tiocsti = 0 (6.2+) refuses a caller
  // without CAP_SYS_ADMIN in the initial user namespace (EIO); where it reads 1, or is missing
  // (older kernels), the push works: what docs/security.md and doctor warn about.
  const std::string legacy = bt::read_file("/proc/sys/dev/tty/legacy_tiocsti");
  const std::string plain = tiocsti_in_jail({}, opts());
  if (legacy == "0\n" && nobody()) {
    EXPECT_EQ(plain, "refused 5");
  } else if (legacy != "0\n") {
    EXPECT_EQ(plain, "pushed");
  }
}

// Without a pid namespace the jail sees the host's /proc, but not through pid 1 into the host's
// root or mount namespace: the kernel's ptrace rule (uid 65534 is not init's owner) answers
// EACCES. (Its mountinfo is world-readable on the host too: no secret.) With a pid namespace
// /proc holds the jail's processes alone, and its pid 1, boxjail's reaper, is not dumpable: its
// root is out of reach as well.
TEST_P(JailAttacks, HostRootAndMountNamespaceAreOutOfReachThroughProc) {
  if (!nobody()) GTEST_SKIP() << "a root jail keeps root's capabilities, as bwrap's does";
  const std::string probe =
      "ls /proc/1/root/ >/dev/null 2>&1 && echo root-reached; "
      "readlink /proc/1/ns/mnt >/dev/null 2>&1 && echo ns-reached; "
      "readlink /proc/1/cwd >/dev/null 2>&1 && echo cwd-reached; echo done";
  const auto host = bt::jail_sh(
      {"--unshare-user", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"}, probe, opts());
  ASSERT_EQ(host.status, 0) << host.err;
  EXPECT_EQ(host.out, "done\n");
  const auto own =
      bt::jail_sh({"--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"},
                  "echo $(ls /proc | grep -c '^[0-9]') processes; " + probe, opts());
  ASSERT_EQ(own.status, 0) << own.err;
  EXPECT_EQ(own.out.substr(own.out.find('\n') + 1), "done\n");
  EXPECT_LE(std::stoi(own.out), 6) << own.out;  // the reaper, sh, and the probe's children
}

// From a pid namespace the jail can name no process outside it: the test's own pid (large, so no
// jail process has it) is unknown there, and a kill of it fails with ESRCH.
TEST_P(JailAttacks, NoProcessOutsideThePidNamespaceCanBeSignalled) {
  const std::string me = std::to_string(getpid());
  const auto r = bt::jail_sh({"--unshare-pid", "--ro-bind", "/", "/", "--proc", "/proc"},
                             "kill -0 " + me + " 2>&1 && echo signalled; test -e /proc/" + me +
                                 " && echo visible; kill -0 1 && echo own-pid-1",
                             opts());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("signalled"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("visible"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("own-pid-1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("No such process"), std::string::npos) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Jail, JailAttacks, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Nobody" : "Root";
                         });

}  // namespace
