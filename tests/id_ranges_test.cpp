// SPDX-License-Identifier: Apache-2.0
// --uid-range / --gid-range and the spec's "uid_ranges"/"gid_ranges": subordinate ids that
// /etc/subuid and /etc/subgid grant the caller, mapped by Debian's real newuidmap/newgidmap into
// the jail's user namespace besides its own id. Checked from the kernel's side: the maps, and a
// file the jail chowns to a subordinate id as the host sees it. A range the files do not grant is
// refused before anything starts, naming the file and its lines for the user.
//
// The tests never edit the host's /etc: the harness bind-mounts their own subuid and subgid over
// it in a private mount namespace, which newuidmap (run by boxjail from there) reads too.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "harness.hpp"

namespace {

namespace bt = boxjail::test;

bool mapper_installed() {
  struct stat st;
  return stat("/usr/bin/newuidmap", &st) == 0 && (st.st_mode & S_ISUID) != 0 &&
         stat("/usr/bin/newgidmap", &st) == 0 && (st.st_mode & S_ISUID) != 0;
}

class IdRanges : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!mapper_installed()) {
      GTEST_SKIP() << "newuidmap/newgidmap (Debian package uidmap, installed by "
                      "scripts/deps.sh) are not installed setuid here";
    }
    struct stat st;
    if (stat("/etc/subuid", &st) != 0 || stat("/etc/subgid", &st) != 0) {
      GTEST_SKIP() << "/etc/subuid or /etc/subgid does not exist here: the test binds its own "
                      "over them and will not create host files";
    }
  }
  // uid 65534 ("nobody"), granted 100000..165535 and 200000..265535.
  bt::RunOpts nobody(const std::string& subuid = "nobody:100000:65536\n",
                     const std::string& subgid = "65534:200000:65536\n") const {
    bt::RunOpts o;
    o.as_nobody = true;
    o.host_files = {{"/etc/subuid", subuid}, {"/etc/subgid", subgid}};
    return o;
  }
};

TEST_F(IdRanges, TheGrantedRangesAreMappedBesideTheJailsOwnId) {
  bt::TempDir dir;
  ASSERT_EQ(chown(dir.path().c_str(), 65534, 65534), 0);
  const auto r = bt::run({"--ro-bind", "/", "/", "--uid", "0", "--gid", "0", "--uid-range",
                          "1:100000:1000", "--gid-range", "1:200000:10", "--cap-add", "CAP_CHOWN",
                          "--bind", dir.path(), "/mnt", "sh", "-c",
                          "cat /proc/self/uid_map /proc/self/gid_map | tr -s ' '; touch /mnt/f && "
                          "chown 5:7 /mnt/f && stat -c %u:%g /mnt/f"},
                         nobody());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            " 0 65534 1\n 1 100000 1000\n 0 65534 1\n 1 200000 10\n"
            "5:7\n");
  // The kernel's view from the host: inside 5 is subordinate uid 100004, inside 7 gid 200006.
  struct stat st;
  ASSERT_EQ(stat((dir.path() + "/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 100004u);
  EXPECT_EQ(st.st_gid, 200006u);
}

TEST_F(IdRanges, ThroughASpec) {
  bt::RunOpts o = nobody();
  o.fd_data = {{9, R"({"version": "boxjail.spec/v1", "command": ["cat", "/proc/self/uid_map"],
                      "env": ["PATH=/usr/bin:/bin"],
                      "ops": [{"kind": "bind", "source": "/", "dest": "/", "readonly": true}],
                      "uid_ranges": [{"inside": 100, "outside": 165000, "count": 536}]})"}};
  const auto r = bt::run({"run", "--spec", "fd:9"}, o);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("100     165000        536"), std::string::npos) << r.out;
}

// Adjacent lines add up, as newuidmap takes them; the report's diagnosis names the file.
TEST_F(IdRanges, AdjacentGrantsAddUp) {
  const std::string lines = "nobody:100000:10\nnobody:100010:10\n";
  const auto r =
      bt::run({"--ro-bind", "/", "/", "--uid-range", "1:100005:10", "cat", "/proc/self/uid_map"},
              nobody(lines));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("1     100005         10"), std::string::npos) << r.out;
  bt::ReportFile report;
  bt::RunOpts o = nobody(lines);
  o.keep_fds = {report.fd};
  const auto past = bt::run({"--report-fd", std::to_string(report.fd), "--ro-bind", "/", "/",
                             "--uid-range", "1:100005:20", "true"},
                            o);
  EXPECT_EQ(past.status, 1);
  const auto summary = report.summary();
  ASSERT_EQ(summary["attempts"].size(), 1u) << report.text();  // no climb to the setuid rung
  EXPECT_EQ(summary["attempts"][0]["cause_id"], "subid-not-granted") << report.text();
}

TEST_F(IdRanges, ARangeNotGrantedIsRefusedNamingTheFileAndItsLines) {
  const auto r =
      bt::run({"--ro-bind", "/", "/", "--uid-range", "1:300000:10", "touch", "/nonexistent/ran"},
              nobody("root:300000:10\nnobody:100000:65536\n"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("write-uid-map: --uid-range 1:300000:10: /etc/subuid grants nobody (uid "
                       "65534) no range holding 300000..300009 (its lines for this user: 2: "
                       "nobody:100000:65536)"),
            std::string::npos)
      << r.err;
  // Past the end of a grant.
  const auto end =
      bt::run({"--ro-bind", "/", "/", "--gid-range", "1:265000:537", "true"}, nobody());
  EXPECT_EQ(end.status, 1);
  EXPECT_NE(end.err.find("write-gid-map: --gid-range 1:265000:537: /etc/subgid grants nobody (uid "
                         "65534) no range holding 265000..265536"),
            std::string::npos)
      << end.err;
  // No line at all.
  const auto none =
      bt::run({"--ro-bind", "/", "/", "--uid-range", "1:100000:10", "true"}, nobody("", ""));
  EXPECT_EQ(none.status, 1);
  EXPECT_NE(none.err.find("(it has no line for this user: add one, e.g. with `usermod "
                          "--add-subuids START-END nobody`)"),
            std::string::npos)
      << none.err;
}

TEST_F(IdRanges, RequestsThatCannotHoldAreRefusedBeforeAnythingStarts) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--uid-range", "1:100000"}, "--uid-range \"1:100000\": expected INSIDE:OUTSIDE:COUNT"},
      {{"--uid-range", "1:100000:0"}, "COUNT must be at least 1"},
      {{"--gid-range", "4294967290:1:10"}, "both ranges end at 4294967294 at most"},
      {{"--uid-range", "65530:100000:10"},
       "the uid range 65530:100000:10 covers the jail's own uid 65534 inside"},
      {{"--uid-range", "1:100000:10", "--uid-range", "5:100100:10"},
       "the uid ranges 1:100000:10 and 5:100100:10 overlap"},
      {{"--uid-range", "1:100000:10", "--dev", "/dev"},
       "--dev with --uid-range/--gid-range needs uid and gid 0 mapped inside"},
      {{"--uid-range", "1:100000:10", "--unshare-user", "--disable-userns"},
       "--uid-range/--gid-range cannot be combined with --disable-userns yet"},
  };
  for (const auto& [extra, message] : cases) {
    std::vector<std::string> args = {"--ro-bind", "/", "/"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"touch", "/nonexistent/ran"});
    const auto r = bt::run(args, nobody());
    EXPECT_EQ(r.status, 1) << extra[1];
    EXPECT_NE(r.err.find(message), std::string::npos) << extra[1] << ": " << r.err;
  }
  // Root maps a host user with --host-user; the setuid rung's namespace is root's, which
  // newuidmap would refuse to map for the caller.
  const auto root = bt::run({"--ro-bind", "/", "/", "--uid-range", "1:100000:10", "true"});
  EXPECT_EQ(root.status, 1);
  EXPECT_NE(root.err.find("root maps a host user with --host-user instead"), std::string::npos)
      << root.err;
  bt::TempDir tmp;
  const std::string config = bt::ladder_config(tmp, "setuid", bt::setuid_helper_binary());
  const auto suid = bt::run({"--config", config, "--unshare-user", "--ro-bind", "/", "/",
                             "--uid-range", "1:100000:10", "true"},
                            nobody());
  EXPECT_EQ(suid.status, 1);
  EXPECT_NE(suid.err.find("the setuid helper refuses --uid-range/--gid-range"), std::string::npos)
      << suid.err;
}

}  // namespace
