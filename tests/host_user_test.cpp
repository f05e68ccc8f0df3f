// SPDX-License-Identifier: Apache-2.0
// --host-user / --supplementary-group and the spec's "host_user": root runs a jail as a host user
// of its choosing, with exactly the groups asked for and no capability (what a VM's jail needs
// to open /dev/kvm through the kvm group and nothing else). Checked from the kernel's side:
// ids, groups, capability sets, and files whose mode lets only that group (or only root) in.
// Refused with a clear error for anyone but root, with a user namespace, with --cap-add.
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "harness.hpp"

namespace {

namespace bt = boxjail::test;

constexpr gid_t kGroup = 4242;  // a gid no one on the host has: only the jail's groups grant it

TEST(HostUser, RunsAsTheHostUserWithTheGroupsAskedForAndNoCapability) {
  if (getuid() != 0) GTEST_SKIP() << "needs root";
  bt::TempDir dir;
  const std::string group_file = dir.file("group-only", "group can read\n", 0640);
  const std::string root_file = dir.file("root-only", "secret\n", 0600);
  ASSERT_EQ(chown(group_file.c_str(), 0, kGroup), 0);
  const auto r =
      bt::run({"--host-user", "65534:65534", "--supplementary-group", std::to_string(kGroup),
               "--ro-bind", "/", "/", "--unshare-pid", "--proc", "/proc", "sh", "-c",
               "id -u; id -g; id -G; grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs)' "
               "/proc/self/status; cat " +
                   group_file + "; cat " + root_file +
                   " 2>/dev/null || echo denied; "
                   "ps -o user= -p 1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "65534\n65534\n65534 4242\n"
            "CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\n"
            "NoNewPrivs:\t1\n"
            "group can read\ndenied\nnobody\n");
}

// Without --supplementary-group the command has no supplementary group at all (not root's).
TEST(HostUser, NoGroupsUnlessAsked) {
  if (getuid() != 0) GTEST_SKIP() << "needs root";
  ASSERT_EQ(setgroups(1, &kGroup), 0) << "the test gives itself a group the jail must not keep";
  const auto r = bt::run({"--host-user", "65534", "--ro-bind", "/", "/", "sh", "-c", "id -G"});
  const gid_t none = 0;
  setgroups(0, &none);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "65534\n");
}

TEST(HostUser, ByNameFromTheHostsFiles) {
  if (getuid() != 0) GTEST_SKIP() << "needs root";
  const auto r = bt::run({"--host-user", "nobody", "--ro-bind", "/", "/", "id", "-un"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "nobody\n");
}

TEST(HostUser, ThroughASpec) {
  if (getuid() != 0) GTEST_SKIP() << "needs root";
  bt::RunOpts o;
  o.fd_data = {{9, R"({"version": "boxjail.spec/v1", "command": ["sh", "-c", "id -u; id -G"],
                      "env": ["PATH=/usr/bin:/bin"],
                      "ops": [{"kind": "bind", "source": "/", "dest": "/", "readonly": true}],
                      "host_user": {"uid": 65534, "gid": 65534, "groups": [4242, 4243]}})"}};
  const auto r = bt::run({"run", "--spec", "fd:9"}, o);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "65534\n65534 4242 4243\n");
  o.fd_data = {{9, R"({"version": "boxjail.spec/v1", "command": ["true"],
                      "host_user": {"uid": 65534}})"}};
  const auto bad = bt::run({"run", "--spec", "fd:9"}, o);
  EXPECT_EQ(bad.status, 1);
  EXPECT_EQ(bad.err, "boxjail: parse-spec: spec: /host_user/gid: missing\n");
}

TEST(HostUser, RefusedWhereItWouldGrantOrCannotHold) {
  struct Case {
    std::vector<std::string> args;
    bool nobody;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--host-user", "65534"},
       true,
       "boxjail: --host-user needs root: it chooses the host ids the command runs as"},
      {{"--host-user", "0:0"}, false, "boxjail: --host-user takes a user other than root"},
      {{"--host-user", "65534", "--unshare-user"},
       false,
       "boxjail: --host-user cannot be combined with a user namespace yet"},
      {{"--host-user", "65534", "--cap-add", "CAP_NET_RAW"},
       false,
       "boxjail: --host-user runs the command with no capability: drop --cap-add"},
      {{"--host-user", "no-such-user-h4"},
       false,
       "boxjail: --host-user no-such-user-h4: no such user in /etc/passwd"},
      {{"--host-user", "1:x"}, false, "boxjail: --host-user 1:x: UID:GID takes two numbers"},
      {{"--host-user", "65534", "--supplementary-group", "no-such-group-h4"},
       false,
       "boxjail: --supplementary-group no-such-group-h4: no such group in /etc/group"},
      {{"--supplementary-group", "4242"},
       false,
       "boxjail: --supplementary-group needs --host-user"},
  };
  for (const auto& c : cases) {
    if (getuid() != 0 && !c.nobody) continue;
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"--ro-bind", "/", "/", "touch", "/nonexistent/ran"});
    bt::RunOpts o;
    o.as_nobody = c.nobody;
    const auto r = bt::run(args, o);
    EXPECT_EQ(r.status, 1) << args[1];
    EXPECT_EQ(r.err.rfind(c.message, 0), 0u) << r.err;
  }
}

}  // namespace
