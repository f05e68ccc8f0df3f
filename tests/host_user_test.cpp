// SPDX-License-Identifier: Apache-2.0
// --host-user / --supplementary-group and the spec's "host_user": root runs a jail as a host user
// of its choosing, with exactly the groups asked for and no capability (what a VM's jail needs
// to open /dev/kvm through the kvm group and nothing else). Checked from the kernel's side:
// ids, groups, capability sets, and files whose mode lets only that group (or only root) in.
// With --unshare-user the same host user and groups, seen from the host (ps), while inside the
// namespace maps exactly those (the sandbox ids, --uid/--gid if given, onto the host user's).
// Refused with a clear error for anyone but root, with --userns/--uid 0, with --cap-add.
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>
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

// In a user namespace of its own: the kernel's view from the host (the process's real ids and
// groups in /proc/PID/status) and from inside (the maps, the ids, setgroups, the capabilities),
// a file only the group may read, one only root may read; with /dev (devpts) and a pid namespace.
TEST(HostUser, InAUserNamespaceOfItsOwn) {
  if (getuid() != 0) GTEST_SKIP() << "needs root";
  bt::TempDir dir;
  const std::string group_file = dir.file("group-only", "group can read\n", 0640);
  const std::string root_file = dir.file("root-only", "secret\n", 0600);
  ASSERT_EQ(chown(group_file.c_str(), 0, kGroup), 0);
  bt::ReportFile report;
  bt::RunOpts o;
  o.keep_fds = {report.fd};
  auto jail =
      bt::spawn({"--host-user", "65534:65534", "--supplementary-group", std::to_string(kGroup),
                 "--unshare-user", "--unshare-pid", "--ro-bind", "/", "/", "--proc", "/proc",
                 "--dev", "/dev", "--report-fd", std::to_string(report.fd), "sh", "-c",
                 "echo $$ > /dev/null; cat /proc/self/uid_map /proc/self/gid_map "
                 "/proc/self/setgroups; id -u; id -G; grep -E '^(CapEff|CapPrm|CapBnd)' "
                 "/proc/self/status; cat " +
                     group_file + "; cat " + root_file +
                     " 2>/dev/null || echo denied; stat -L -c %i /proc/self/ns/user; "
                     "echo ready; read x; exit 0"},
                o);
  std::string out;
  for (auto line = jail->read_line(); line && *line != "ready"; line = jail->read_line()) {
    out += *line + "\n";
  }
  // From the host: the jail's processes are the host user's, with exactly its groups.
  const std::string jail_pid = std::to_string(report.events().at(1).value("pid", 0));
  const std::string status = bt::read_file("/proc/" + jail_pid + "/status");
  EXPECT_NE(status.find("Uid:\t65534\t65534\t65534\t65534\n"), std::string::npos) << status;
  EXPECT_NE(status.find("Gid:\t65534\t65534\t65534\t65534\n"), std::string::npos) << status;
  EXPECT_NE(status.find("Groups:\t4242 \n"), std::string::npos) << status;
  jail->close_stdin();
  const auto r = jail->wait();
  ASSERT_EQ(r.status, 0) << r.err;
  // uid_map: 65534 -> 65534; gid_map: 65534 and the group onto themselves; setgroups allowed
  // (the child set exactly the groups); no capability.
  std::istringstream lines(out);
  std::vector<std::string> l;
  for (std::string line; std::getline(lines, line);) l.push_back(line);
  ASSERT_EQ(l.size(), 12u) << out;
  auto squeeze = [](std::string s) {
    std::istringstream in(s);
    std::string w, o2;
    while (in >> w) o2 += (o2.empty() ? "" : " ") + w;
    return o2;
  };
  EXPECT_EQ(squeeze(l[0]), "65534 65534 1");
  EXPECT_EQ(squeeze(l[1]), "65534 65534 1");
  EXPECT_EQ(squeeze(l[2]), "4242 4242 1");
  EXPECT_EQ(l[3], "allow");
  EXPECT_EQ(l[4], "65534");
  EXPECT_EQ(l[5], "65534 4242");
  EXPECT_EQ(l[6], "CapPrm:\t0000000000000000");
  EXPECT_EQ(l[7], "CapEff:\t0000000000000000");
  EXPECT_EQ(l[8], "CapBnd:\t0000000000000000");
  EXPECT_EQ(l[9], "group can read");
  EXPECT_EQ(l[10], "denied");
  // The report names the namespace the command runs in, not the one it was cloned in.
  struct stat own;
  ASSERT_EQ(stat("/proc/self/ns/user", &own), 0);
  EXPECT_NE(l[11], std::to_string(own.st_ino));
  const auto events = report.events();
  const auto& ns = events.at(1)["namespaces"];
  ASSERT_TRUE(ns.contains("user")) << ns;
  EXPECT_EQ(std::to_string(ns["user"].get<unsigned long long>()), l[11]);
}

// --uid/--gid name the ids inside; the host sees the host user's.
TEST(HostUser, InAUserNamespaceWithOtherIdsInside) {
  if (getuid() != 0) GTEST_SKIP() << "needs root";
  const auto r = bt::run({"--host-user", "65534:65534", "--unshare-user", "--uid", "5", "--gid",
                          "6", "--ro-bind", "/", "/", "sh", "-c",
                          "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map | tr -s ' '"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "5\n6\n 5 65534 1\n 6 65534 1\n");
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
      {{"--host-user", "65534", "--unshare-user", "--uid", "0"},
       false,
       "boxjail: --host-user runs the command without privilege: --uid 0 would make it root of "
       "its user namespace"},
      {{"--host-user", "65534", "--unshare-user", "--disable-userns"},
       false,
       "boxjail: --host-user cannot be combined with --disable-userns or "
       "--assert-userns-disabled yet"},
      {{"--host-user", "65534", "--userns", "0"},
       false,
       "boxjail: --host-user cannot be combined with --userns, --userns2 or --userns-block-fd"},
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
