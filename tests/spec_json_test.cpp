// SPDX-License-Identifier: Apache-2.0
// Unit tests of the JSON form of a Spec: lossless round trips, and a strict reader that names
// the offending key of every malformed input (the setuid helper reads untrusted specs).
#include <boxjail/bwrap_args.hpp>
#include <boxjail/spec_json.hpp>

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace {

using boxjail::MountOp;
using boxjail::OpKind;
using boxjail::Spec;
using nlohmann::json;

void ExpectOpEq(const MountOp& a, const MountOp& b, size_t i) {
  SCOPED_TRACE("op " + std::to_string(i));
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.dest, b.dest);
  EXPECT_EQ(a.fd, b.fd);
  EXPECT_EQ(a.readonly, b.readonly);
  EXPECT_EQ(a.devices, b.devices);
  EXPECT_EQ(a.allow_missing, b.allow_missing);
  EXPECT_EQ(a.perms, b.perms);
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.overlay_sources, b.overlay_sources);
  EXPECT_EQ(a.overlay_upper, b.overlay_upper);
  EXPECT_EQ(a.overlay_work, b.overlay_work);
}

// Field by field, so that a field both the writer and the reader forget still shows up.
void ExpectSpecEq(const Spec& a, const Spec& b) {
  EXPECT_EQ(a.command, b.command);
  EXPECT_EQ(a.argv0, b.argv0);
  EXPECT_EQ(a.env, b.env);
  EXPECT_EQ(a.unshare_user, b.unshare_user);
  EXPECT_EQ(a.unshare_user_try, b.unshare_user_try);
  EXPECT_EQ(a.unshare_ipc, b.unshare_ipc);
  EXPECT_EQ(a.unshare_pid, b.unshare_pid);
  EXPECT_EQ(a.unshare_net, b.unshare_net);
  EXPECT_EQ(a.unshare_uts, b.unshare_uts);
  EXPECT_EQ(a.unshare_cgroup, b.unshare_cgroup);
  EXPECT_EQ(a.unshare_cgroup_try, b.unshare_cgroup_try);
  EXPECT_EQ(a.userns_fd, b.userns_fd);
  EXPECT_EQ(a.userns2_fd, b.userns2_fd);
  EXPECT_EQ(a.pidns_fd, b.pidns_fd);
  EXPECT_EQ(a.disable_userns, b.disable_userns);
  EXPECT_EQ(a.assert_userns_disabled, b.assert_userns_disabled);
  EXPECT_EQ(a.uid, b.uid);
  EXPECT_EQ(a.gid, b.gid);
  EXPECT_EQ(a.hostname, b.hostname);
  EXPECT_EQ(a.chdir, b.chdir);
  EXPECT_EQ(a.lock_files, b.lock_files);
  EXPECT_EQ(a.sync_fd, b.sync_fd);
  EXPECT_EQ(a.block_fd, b.block_fd);
  EXPECT_EQ(a.userns_block_fd, b.userns_block_fd);
  EXPECT_EQ(a.info_fd, b.info_fd);
  EXPECT_EQ(a.json_status_fd, b.json_status_fd);
  EXPECT_EQ(a.new_session, b.new_session);
  EXPECT_EQ(a.die_with_parent, b.die_with_parent);
  EXPECT_EQ(a.as_pid_1, b.as_pid_1);
  EXPECT_EQ(a.caps.specified, b.caps.specified);
  EXPECT_EQ(a.caps.mask, b.caps.mask);
  EXPECT_EQ(a.exec_label, b.exec_label);
  EXPECT_EQ(a.file_label, b.file_label);
  EXPECT_EQ(a.seccomp_fd, b.seccomp_fd);
  EXPECT_EQ(a.add_seccomp_fds, b.add_seccomp_fds);
  EXPECT_EQ(a.seccomp_policy, b.seccomp_policy);
  ASSERT_EQ(a.ops.size(), b.ops.size());
  for (size_t i = 0; i < a.ops.size(); ++i) ExpectOpEq(a.ops[i], b.ops[i], i);
  EXPECT_EQ(a.level_prefix, b.level_prefix);
  EXPECT_EQ(a.pid_file, b.pid_file);
  EXPECT_EQ(a.keep_fds, b.keep_fds);
  EXPECT_EQ(a.handover, b.handover);
  ASSERT_EQ(a.host_user.has_value(), b.host_user.has_value());
  if (a.host_user) {
    EXPECT_EQ(a.host_user->uid, b.host_user->uid);
    EXPECT_EQ(a.host_user->gid, b.host_user->gid);
    EXPECT_EQ(a.host_user->groups, b.host_user->groups);
  }
  ASSERT_EQ(a.rlimits.size(), b.rlimits.size());
  for (size_t i = 0; i < a.rlimits.size(); ++i) {
    EXPECT_EQ(a.rlimits[i].resource, b.rlimits[i].resource);
    EXPECT_EQ(a.rlimits[i].soft, b.rlimits[i].soft);
    EXPECT_EQ(a.rlimits[i].hard, b.rlimits[i].hard);
  }
  ASSERT_EQ(a.uid_ranges.size(), b.uid_ranges.size());
  for (size_t i = 0; i < a.uid_ranges.size(); ++i) {
    EXPECT_EQ(a.uid_ranges[i].inside, b.uid_ranges[i].inside);
    EXPECT_EQ(a.uid_ranges[i].outside, b.uid_ranges[i].outside);
    EXPECT_EQ(a.uid_ranges[i].count, b.uid_ranges[i].count);
  }
  ASSERT_EQ(a.gid_ranges.size(), b.gid_ranges.size());
  ASSERT_EQ(a.cgroup.has_value(), b.cgroup.has_value());
  if (a.cgroup) {
    EXPECT_EQ(a.cgroup->parent, b.cgroup->parent);
    EXPECT_EQ(a.cgroup->memory_max, b.cgroup->memory_max);
    EXPECT_EQ(a.cgroup->memory_swap_max, b.cgroup->memory_swap_max);
    EXPECT_EQ(a.cgroup->pids_max, b.cgroup->pids_max);
    ASSERT_EQ(a.cgroup->cpu_max.has_value(), b.cgroup->cpu_max.has_value());
    if (a.cgroup->cpu_max) {
      EXPECT_EQ(a.cgroup->cpu_max->quota, b.cgroup->cpu_max->quota);
      EXPECT_EQ(a.cgroup->cpu_max->period, b.cgroup->cpu_max->period);
    }
    EXPECT_EQ(a.cgroup->cpu_weight, b.cgroup->cpu_weight);
    EXPECT_EQ(a.cgroup->io_max, b.cgroup->io_max);
  }
}

MountOp Op(OpKind kind, std::string source, std::string dest) {
  MountOp op;
  op.kind = kind;
  op.source = std::move(source);
  op.dest = std::move(dest);
  return op;
}

// Every field away from its default, every op kind, and strings that are not UTF-8.
Spec FullSpec() {
  Spec s;
  s.command = {"/bin/sh", "-c", "echo \"hi\" \\ \xff\xfe", "\xc3\xa9t\xc3\xa9"};
  s.argv0 = "sh\x80";
  s.env = {"PATH=/usr/bin", "EMPTY=", "LATIN1=caf\xe9"};
  s.unshare_user = true;
  s.unshare_user_try = true;
  s.unshare_ipc = true;
  s.unshare_pid = true;
  s.unshare_net = true;
  s.unshare_uts = true;
  s.unshare_cgroup = true;
  s.unshare_cgroup_try = true;
  s.userns_fd = 3;
  s.userns2_fd = 4;
  s.pidns_fd = 5;
  s.disable_userns = true;
  s.assert_userns_disabled = true;
  s.uid = 0;
  s.gid = 4294967294u;
  s.hostname = "box";
  s.chdir = "/work dir";
  s.lock_files = {"/a.lock", "/b.lock"};
  s.sync_fd = 6;
  s.block_fd = 7;
  s.userns_block_fd = 8;
  s.info_fd = 9;
  s.json_status_fd = 2147483647;
  s.new_session = true;
  s.die_with_parent = true;
  s.as_pid_1 = true;
  s.caps.specified = true;
  s.caps.mask = 0xffffffffffffffffull;
  s.exec_label = "system_u:system_r:container_t:s0";
  s.file_label = "system_u:object_r:container_file_t:s0";
  s.seccomp_fd = 10;
  s.add_seccomp_fds = {11, 12, 0};
  s.seccomp_policy = "default";
  s.level_prefix = true;
  s.pid_file = "/run/box.pid";
  s.keep_fds = std::vector<int>{3, 2147483647};
  s.handover = true;
  s.rlimits = {{RLIMIT_CPU, 0, RLIM_INFINITY}, {RLIMIT_NOFILE, 1024, 4096}};
  s.host_user = boxjail::HostIdentity{1000, 4294967294u, {994, 4242}};
  s.uid_ranges = {{1, 100000, 65536}, {70000, 300000, 10}};
  s.gid_ranges = {{1, 200000, 10}};
  s.cgroup.emplace();
  s.cgroup->parent = "/jails";
  s.cgroup->memory_max = 64u << 20;
  s.cgroup->memory_swap_max = boxjail::kCgroupMax;
  s.cgroup->pids_max = 64;
  s.cgroup->cpu_max = boxjail::CpuMax{50000, 200000};
  s.cgroup->cpu_weight = 50;
  s.cgroup->io_max = {"8:0 rbps=1048576 wiops=max"};

  MountOp bind = Op(OpKind::Bind, "/usr", "/usr");
  bind.readonly = true;
  bind.devices = true;
  bind.allow_missing = true;
  s.ops.push_back(bind);
  MountOp bind_fd = Op(OpKind::BindFd, "", "/fd");
  bind_fd.fd = 13;
  s.ops.push_back(bind_fd);
  s.ops.push_back(Op(OpKind::RemountRo, "", "/usr"));
  s.ops.push_back(Op(OpKind::Proc, "", "/proc"));
  s.ops.push_back(Op(OpKind::Dev, "", "/dev"));
  MountOp tmpfs = Op(OpKind::Tmpfs, "", "/tmp");
  tmpfs.perms = 01777;
  tmpfs.size = 0x7fffffffffffffffull;  // bwrap's largest --size
  s.ops.push_back(tmpfs);
  s.ops.push_back(Op(OpKind::Mqueue, "", "/dev/mqueue"));
  MountOp dir = Op(OpKind::Dir, "", "/d\xff");
  dir.perms = 0;
  s.ops.push_back(dir);
  MountOp file = Op(OpKind::File, "", "/etc/passwd");
  file.fd = 14;
  file.perms = 0644;
  s.ops.push_back(file);
  MountOp data = Op(OpKind::BindData, "", "/etc/group");
  data.fd = 15;
  data.readonly = true;
  data.perms = 07777;
  s.ops.push_back(data);
  s.ops.push_back(Op(OpKind::Symlink, "usr/lib", "/lib"));
  MountOp chmod = Op(OpKind::Chmod, "", "/tmp");
  chmod.perms = 0700;
  s.ops.push_back(chmod);
  MountOp overlay = Op(OpKind::Overlay, "", "/o");
  overlay.overlay_sources = {"/lower1", "/lower\xfe"};
  overlay.overlay_upper = "/upper";
  overlay.overlay_work = "/work";
  s.ops.push_back(overlay);
  MountOp tmp_overlay = Op(OpKind::TmpOverlay, "", "/t");
  tmp_overlay.overlay_sources = {"/lower"};
  s.ops.push_back(tmp_overlay);
  MountOp ro_overlay = Op(OpKind::RoOverlay, "", "/r");
  ro_overlay.overlay_sources = {"/l1", "/l2", "/l3"};
  s.ops.push_back(ro_overlay);
  return s;
}

Spec MustRead(const std::string& text) {
  auto r = boxjail::spec_from_json(text);
  if (!r) {
    ADD_FAILURE() << "unexpected error: " << r.error().message << "\n  in " << text;
    return {};
  }
  return r.value();
}

TEST(SpecJsonTest, RoundTripsEveryField) {
  const Spec s = FullSpec();
  const std::string text = boxjail::spec_to_json(s);
  const Spec back = MustRead(text);
  ExpectSpecEq(s, back);
  EXPECT_EQ(boxjail::spec_to_json(back), text);
}

TEST(SpecJsonTest, WritesEveryKeyAndTheVersion) {
  const json j = json::parse(boxjail::spec_to_json(FullSpec()));
  EXPECT_EQ(j.at("version"), "boxjail.spec/v1");
  for (const char* key : {"command",
                          "argv0",
                          "env",
                          "unshare_user",
                          "unshare_user_try",
                          "unshare_ipc",
                          "unshare_pid",
                          "unshare_net",
                          "unshare_uts",
                          "unshare_cgroup",
                          "unshare_cgroup_try",
                          "userns_fd",
                          "userns2_fd",
                          "pidns_fd",
                          "disable_userns",
                          "assert_userns_disabled",
                          "uid",
                          "gid",
                          "hostname",
                          "chdir",
                          "lock_files",
                          "sync_fd",
                          "block_fd",
                          "userns_block_fd",
                          "info_fd",
                          "json_status_fd",
                          "new_session",
                          "die_with_parent",
                          "as_pid_1",
                          "caps",
                          "exec_label",
                          "file_label",
                          "seccomp_fd",
                          "add_seccomp_fds",
                          "seccomp_policy",
                          "ops",
                          "level_prefix",
                          "pid_file",
                          "keep_fds",
                          "handover",
                          "rlimits",
                          "host_user",
                          "cgroup",
                          "uid_ranges",
                          "gid_ranges"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j.size(), 46u);
  EXPECT_EQ(j["gid_ranges"], json::parse(R"([{"inside": 1, "outside": 200000, "count": 10}])"));
  EXPECT_EQ(j["cgroup"], json::parse(R"({"parent": "/jails", "memory_max": 67108864,
                                         "memory_swap_max": "max", "pids_max": 64,
                                         "cpu_max": {"quota": 50000, "period": 200000},
                                         "cpu_weight": 50,
                                         "io_max": ["8:0 rbps=1048576 wiops=max"]})"));
  EXPECT_EQ(j["rlimits"], json::parse(R"({"CPU": {"soft": 0, "hard": "unlimited"},
                                          "NOFILE": {"soft": 1024, "hard": 4096}})"));
  const std::vector<std::string> kinds = {
      "bind", "bind-fd",   "remount-ro", "proc",  "dev",     "tmpfs",       "mqueue",    "dir",
      "file", "bind-data", "symlink",    "chmod", "overlay", "tmp-overlay", "ro-overlay"};
  ASSERT_EQ(j.at("ops").size(), kinds.size());
  for (size_t i = 0; i < kinds.size(); ++i) EXPECT_EQ(j["ops"][i]["kind"], kinds[i]);
  EXPECT_EQ(j["ops"][5]["perms"], 01777);
  EXPECT_EQ(j["caps"], json::array({"ALL"}));
}

TEST(SpecJsonTest, NonUtf8StringsAreHex) {
  const json j = json::parse(boxjail::spec_to_json(FullSpec()));
  EXPECT_EQ(j["argv0"], json({{"hex", "736880"}}));
  EXPECT_EQ(j["env"][2], json({{"hex", "4c4154494e313d636166e9"}}));
  EXPECT_EQ(j["command"][3], "\xc3\xa9t\xc3\xa9");  // valid UTF-8 stays a plain string
  EXPECT_EQ(j["ops"][7]["dest"], json({{"hex", "2f64ff"}}));
  // The reader takes hex anywhere a string goes.
  const Spec s =
      MustRead(R"({"version":"boxjail.spec/v1","command":[{"hex":"2f62696e2f74727565"}]})");
  EXPECT_EQ(s.command, std::vector<std::string>{"/bin/true"});
}

TEST(SpecJsonTest, OptionalFieldsAbsentWhenUnset) {
  Spec s;
  s.command = {"true"};
  const json j = json::parse(boxjail::spec_to_json(s));
  // Defaults are left out, "env" excepted: absent, `run --spec` would inherit its own.
  for (const char* key : {"argv0", "uid", "gid", "hostname", "chdir", "exec_label", "file_label",
                          "seccomp_policy", "pid_file", "unshare_user", "sync_fd", "info_fd",
                          "caps", "keep_fds", "lock_files", "add_seccomp_fds", "ops", "handover"}) {
    EXPECT_FALSE(j.contains(key)) << key;
  }
  EXPECT_EQ(j.size(), 3u) << j.dump();  // version, command, env
  EXPECT_EQ(j.at("env"), json::array());
  // An empty keep list is not the default: it closes every fd but 0-2.
  s.keep_fds = std::vector<int>{};
  EXPECT_EQ(json::parse(boxjail::spec_to_json(s)).at("keep_fds"), json::array());
  s.keep_fds.reset();
  MountOp op;
  op.dest = "/x";
  s.ops.push_back(op);
  const json j2 = json::parse(boxjail::spec_to_json(s));
  EXPECT_FALSE(j2["ops"][0].contains("perms"));
  EXPECT_FALSE(j2["ops"][0].contains("size"));
  EXPECT_FALSE(j2["ops"][0].contains("fd"));  // a bind has none
  EXPECT_FALSE(j2["ops"][0].contains("readonly"));
  ExpectSpecEq(s, MustRead(j2.dump()));
}

TEST(SpecJsonTest, MinimalInputTakesDefaults) {
  const Spec s =
      MustRead(R"({"version": "boxjail.spec/v1", "command": ["true"], "ops": [{"kind": "proc",
                              "dest": "/proc"}]})");
  Spec expected;
  expected.command = {"true"};
  expected.ops.push_back(Op(OpKind::Proc, "", "/proc"));
  ExpectSpecEq(expected, s);
}

TEST(SpecJsonTest, RoundTripsABwrapCommandLine) {
  boxjail::ParseContext ctx;
  ctx.environ = {"PATH=/usr/bin:/bin", "HOME=/home/u"};
  auto inv = boxjail::parse_bwrap_args(
      {"--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
       "--unshare-all", "--die-with-parent", "--setenv", "A", "B", "--", "true"},
      ctx);
  ASSERT_TRUE(inv) << inv.error().message;
  const Spec& s = inv.value().spec;
  ASSERT_EQ(s.ops.size(), 4u);
  const std::string text = boxjail::spec_to_json(s);
  const Spec back = MustRead(text);
  ExpectSpecEq(s, back);
  EXPECT_EQ(boxjail::spec_to_json(back), text);
  EXPECT_EQ(back.command, std::vector<std::string>{"true"});
  EXPECT_TRUE(back.die_with_parent);
  EXPECT_TRUE(back.unshare_net);
  EXPECT_EQ(back.ops[0].kind, OpKind::Bind);
  EXPECT_TRUE(back.ops[0].readonly);
}

struct Malformed {
  std::string name;
  std::string text;
  std::string message;  // the whole message after "spec: "
};

// `extra` merged into a valid minimal spec (a null value removes the key).
std::string With(const json& extra) {
  json j = {{"version", "boxjail.spec/v1"}, {"command", {"true"}}};
  for (const auto& [k, v] : extra.items()) {
    if (v.is_null()) {
      j.erase(k);
    } else {
      j[k] = v;
    }
  }
  return j.dump();
}

// The op with what its kind requires filled in where `op` leaves it out.
std::string WithOp(json op) {
  const std::string kind = op.value("kind", "");
  auto fill = [&op](const char* key, const json& value) {
    if (!op.contains(key)) op[key] = value;
  };
  fill("dest", "/x");
  if (kind == "bind" || kind == "symlink") fill("source", "/s");
  if (kind == "bind-fd" || kind == "file" || kind == "bind-data") fill("fd", 3);
  if (kind == "chmod") fill("perms", 0755);
  if (kind == "overlay" || kind == "tmp-overlay" || kind == "ro-overlay") {
    fill("overlay_sources", {"/l1", "/l2"});
  }
  if (kind == "overlay") {
    fill("overlay_upper", "/u");
    fill("overlay_work", "/w");
  }
  return With({{"ops", json::array({op})}});
}

TEST(SpecJsonTest, RejectsMalformedInput) {
  const std::string fd_range = "(-1..2147483647)";
  const std::vector<Malformed> cases = {
      {"not json", "{", ""},
      {"trailing garbage", R"({"version":"boxjail.spec/v1","command":["true"]} x)", ""},
      {"huge float", R"({"version":"boxjail.spec/v1","command":["true"],"sync_fd":1e400})", ""},
      {"root not object", "[]", "must be an object"},
      {"missing version", With({{"version", nullptr}}),
       "/version: missing (must be \"boxjail.spec/v1\")"},
      {"version 1", With({{"version", 1}}), "/version: must be \"boxjail.spec/v1\", not 1"},
      {"version v2", With({{"version", "boxjail.spec/v2"}}),
       "/version: must be \"boxjail.spec/v1\", not \"boxjail.spec/v2\""},
      {"unknown key", With({{"bogus", 1}}), "unknown key \"bogus\" (accepted: "},
      {"unknown key with slash", With({{"a/b\u001b", 1}}), "unknown key \"a/b\\u001b\""},
      {"missing command", With({{"command", nullptr}}), "/command: missing"},
      {"empty command", With({{"command", json::array()}}), "/command: must not be empty"},
      {"empty command[0]", With({{"command", {""}}}), "/command/0: must not be empty"},
      {"command string", With({{"command", "true"}}), "/command: must be an array of strings"},
      {"command number", With({{"command", {"true", 1}}}), "/command/1: must be a string"},
      {"NUL in env", With({{"env", {std::string("A=\0", 3)}}}), "/env/0: contains a NUL byte"},
      {"cgroup not object", With({{"cgroup", 1}}), "/cgroup: must be an object"},
      {"uid_ranges object", With({{"uid_ranges", json::object()}}),
       "/uid_ranges: must be an array of ranges"},
      {"uid_ranges no count", With({{"uid_ranges", {{{"inside", 1}, {"outside", 2}}}}}),
       "/uid_ranges/0/count: missing"},
      {"gid_ranges count 0",
       With({{"gid_ranges", {{{"inside", 1}, {"outside", 2}, {"count", 0}}}}}),
       "/gid_ranges/0/count: 0 is out of range (1..4294967294)"},
      {"gid_ranges past the end",
       With({{"gid_ranges", {{{"inside", 4294967290u}, {"outside", 2}, {"count", 10}}}}}),
       "/gid_ranges/0: the range ends past 4294967294"},
      {"uid_ranges unknown key",
       With({{"uid_ranges", {{{"inside", 1}, {"outside", 2}, {"count", 3}, {"x", 1}}}}}),
       "/uid_ranges/0: unknown key \"x\""},
      {"cgroup unknown key", With({{"cgroup", {{"memory", 1}}}}),
       "/cgroup: unknown key \"memory\""},
      {"cgroup parent dots", With({{"cgroup", {{"parent", "/a/../b"}}}}),
       "/cgroup/parent: the cgroup parent \"/a/../b\" may not have empty"},
      {"cgroup parent number", With({{"cgroup", {{"parent", 1}}}}),
       "/cgroup/parent: must be a string"},
      {"cgroup parent NUL", With({{"cgroup", {{"parent", std::string("/a\0b", 4)}}}}),
       "/cgroup/parent: contains a NUL byte"},
      {"memory_max suffix", With({{"cgroup", {{"memory_max", "12M"}}}}),
       "/cgroup/memory_max: must be an integer or \"max\""},
      {"memory_max negative", With({{"cgroup", {{"memory_max", -1}}}}),
       "/cgroup/memory_max: -1 is out of range"},
      {"pids_max 0", With({{"cgroup", {{"pids_max", 0}}}}),
       "/cgroup/pids_max: 0 is out of range (1..4194304)"},
      {"cpu_max no quota", With({{"cgroup", {{"cpu_max", {{"period", 100000}}}}}}),
       "/cgroup/cpu_max/quota: missing"},
      {"cpu_max period", With({{"cgroup", {{"cpu_max", {{"quota", "max"}, {"period", 5}}}}}}),
       "/cgroup/cpu_max/period: 5 is out of range (1000..1000000)"},
      {"cpu_weight", With({{"cgroup", {{"cpu_weight", 10001}}}}),
       "/cgroup/cpu_weight: 10001 is out of range (1..10000)"},
      {"io_max line", With({{"cgroup", {{"io_max", {"8:0 rbps=0"}}}}}),
       "/cgroup/io_max/0: \"8:0 rbps=0\": rbps must be a positive number or \"max\""},
      {"NUL in hex", With({{"chdir", {{"hex", "2f00"}}}}), "/chdir: contains a NUL byte"},
      {"odd hex", With({{"chdir", {{"hex", "2f0"}}}}), "/chdir/hex: odd number of hex digits"},
      {"upper-case hex", With({{"chdir", {{"hex", "2F"}}}}),
       "/chdir/hex: not a lower-case hex digit at 0"},
      {"hex extra key", With({{"chdir", {{"hex", "2f"}, {"x", 1}}}}),
       "/chdir: unknown key \"x\" (accepted: hex)"},
      {"hex missing", With({{"chdir", json::object()}}), "/chdir/hex: missing"},
      {"null optional", R"({"version":"boxjail.spec/v1","command":["true"],"argv0":null})",
       "/argv0: must be a string"},
      {"bool as int", With({{"unshare_net", 1}}), "/unshare_net: must be true or false"},
      {"fd -2", With({{"sync_fd", -2}}), "/sync_fd: -2 is out of range " + fd_range},
      {"fd too big", With({{"info_fd", 2147483648ll}}),
       "/info_fd: 2147483648 is out of range " + fd_range},
      {"fd float", With({{"block_fd", 3.0}}), "/block_fd: must be an integer " + fd_range},
      {"uid negative", With({{"uid", -1}}), "/uid: -1 is out of range (0..4294967294)"},
      {"uid -1 as unsigned", With({{"uid", 4294967295ll}}),
       "/uid: 4294967295 is out of range (0..4294967294)"},
      {"gid too big", With({{"gid", 4294967296ll}}),
       "/gid: 4294967296 is out of range (0..4294967294)"},
      {"caps not array", With({{"caps", 1}}), "/caps: must be an array of capability names"},
      {"caps object", With({{"caps", {{"mask", 1}}}}),
       "/caps: must be an array of capability names"},
      {"caps unknown", With({{"caps", {"CAP_NET_RAW", "CAP_BOGUS"}}}),
       "/caps/1: unknown capability \"CAP_BOGUS\""},
      {"caps number", With({{"caps", {12}}}), "/caps/0: must be a capability name"},
      {"caps ALL with others", With({{"caps", {"CAP_NET_RAW", "ALL"}}}),
       "/caps/1: \"ALL\" must be the only entry"},
      {"keep fd 2", With({{"keep_fds", {3, 2}}}), "/keep_fds/1: 2 is out of range (3..2147483647)"},
      {"keep fds not array", With({{"keep_fds", 3}}), "/keep_fds: must be an array of fds"},
      {"handover string", With({{"handover", "yes"}}), "/handover: must be true or false"},
      {"rlimits array", With({{"rlimits", {1}}}), "/rlimits: must be an object of limits by name"},
      {"host_user number", With({{"host_user", 1000}}), "/host_user: must be an object"},
      {"host_user name", With({{"host_user", {{"uid", "kvm"}, {"gid", 1}}}}),
       "/host_user/uid: must be an integer"},
      {"host_user uid -1", With({{"host_user", {{"uid", 4294967295ll}, {"gid", 1}}}}),
       "/host_user/uid: 4294967295 is out of range"},
      {"host_user group word", With({{"host_user", {{"uid", 1}, {"gid", 1}, {"groups", {"kvm"}}}}}),
       "/host_user/groups/0: must be an integer"},
      {"host_user extra", With({{"host_user", {{"uid", 1}, {"gid", 1}, {"name", "x"}}}}),
       "/host_user: unknown key \"name\" (accepted: uid, gid, groups)"},
      {"rlimit unknown", With({{"rlimits", {{"FILES", {{"soft", 1}, {"hard", 1}}}}}}),
       "/rlimits/FILES: unknown limit \"FILES\""},
      {"rlimit no hard", With({{"rlimits", {{"NOFILE", {{"soft", 1}}}}}}),
       "/rlimits/NOFILE/hard: missing"},
      {"rlimit negative", With({{"rlimits", {{"NOFILE", {{"soft", -1}, {"hard", 1}}}}}}),
       "/rlimits/NOFILE/soft: -1 is out of range"},
      {"rlimit word", With({{"rlimits", {{"NOFILE", {{"soft", "lots"}, {"hard", 1}}}}}}),
       "/rlimits/NOFILE/soft: must be an integer"},
      {"rlimit extra key", With({{"rlimits", {{"CORE", {{"soft", 0}, {"hard", 0}, {"max", 0}}}}}}),
       "/rlimits/CORE: unknown key \"max\" (accepted: soft, hard)"},
      {"seccomp fd -1", With({{"add_seccomp_fds", {3, -1}}}),
       "/add_seccomp_fds/1: -1 is out of range (0..2147483647)"},
      {"seccomp fds not array", With({{"add_seccomp_fds", 3}}),
       "/add_seccomp_fds: must be an array of fds"},
      {"ops not array", With({{"ops", json::object()}}), "/ops: must be an array of objects"},
      {"op not object", With({{"ops", {1}}}), "/ops/0: must be an object"},
      {"op kind missing", WithOp({{"dest", "/x"}}), "/ops/0/kind: missing"},
      {"op kind unknown", WithOp({{"kind", "bindd"}}),
       "/ops/0/kind: unknown op kind \"bindd\" (accepted: bind, bind-fd, "},
      {"op unknown key", WithOp({{"kind", "bind"}, {"sauce", "/x"}}),
       "/ops/0: unknown key \"sauce\" for kind \"bind\" (accepted: kind, dest, source, "
       "readonly, devices, allow_missing)"},
      {"size on a bind", WithOp({{"kind", "bind"}, {"size", 4096}}),
       "/ops/0: unknown key \"size\" for kind \"bind\""},
      {"fd on a proc", WithOp({{"kind", "proc"}, {"fd", 3}}),
       "/ops/0: unknown key \"fd\" for kind \"proc\""},
      {"bind without source", With({{"ops", {{{"kind", "bind"}, {"dest", "/x"}}}}}),
       "/ops/0/source: missing"},
      {"file without fd", With({{"ops", {{{"kind", "file"}, {"dest", "/x"}}}}}),
       "/ops/0/fd: missing"},
      {"op without dest", With({{"ops", {{{"kind", "proc"}}}}}), "/ops/0/dest: missing"},
      {"chmod without perms", With({{"ops", {{{"kind", "chmod"}, {"dest", "/x"}}}}}),
       "/ops/0/perms: missing"},
      {"ro-overlay one layer", WithOp({{"kind", "ro-overlay"}, {"overlay_sources", {"/a"}}}),
       "/ops/0/overlay_sources: needs at least 2 layers"},
      {"size zero", WithOp({{"kind", "tmpfs"}, {"size", 0}}),
       "/ops/0/size: 0 is out of range (1..9223372036854775807)"},
      {"perms too big", WithOp({{"kind", "dir"}, {"perms", 4096}}),
       "/ops/0/perms: 4096 is out of range (0..4095)"},
      {"perms negative", WithOp({{"kind", "dir"}, {"perms", -1}}),
       "/ops/0/perms: -1 is out of range (0..4095)"},
      {"size negative", WithOp({{"kind", "tmpfs"}, {"size", -1}}),
       "/ops/0/size: -1 is out of range (1..9223372036854775807)"},
      {"op fd -1", WithOp({{"kind", "file"}, {"fd", -1}}),
       "/ops/0/fd: -1 is out of range (0..2147483647)"},
      {"op readonly string", WithOp({{"kind", "bind"}, {"readonly", "yes"}}),
       "/ops/0/readonly: must be true or false"},
      {"overlay source number", WithOp({{"kind", "overlay"}, {"overlay_sources", {"/a", 2}}}),
       "/ops/0/overlay_sources/1: must be a string"},
      {"op NUL dest", WithOp({{"kind", "dir"}, {"dest", std::string("/a\0b", 4)}}),
       "/ops/0/dest: contains a NUL byte"},
      {"duplicate top key",
       R"({"version":"boxjail.spec/v1","command":["true"],"command":["false"]})",
       "duplicate key \"command\""},
      {"duplicate op key",
       R"({"version":"boxjail.spec/v1","command":["true"],"ops":[{"kind":"proc"},{"kind":"dir","dest":"/a","dest":"/b"}]})",
       "/ops/1: duplicate key \"dest\""},
      {"duplicate key under a hostile key",
       R"({"version":"boxjail.spec/v1","\u001b[2J":{"a":1,"a":2}})",
       "/\\u001b[2J: duplicate key \"a\""},
      {"too deep",
       R"({"version":"boxjail.spec/v1","command":["true"],"ops":[{"overlay_sources":[[[[[[]]]]]]}]})",
       "/ops/0/overlay_sources/0/0/0/0/0: nested deeper than the spec format allows"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name + ": " + c.text);
    auto r = boxjail::spec_from_json(c.text);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().step, "parse-spec");
    const std::string& m = r.error().message;
    if (c.message.empty()) {
      EXPECT_TRUE(m.starts_with("spec: invalid JSON: ")) << m;
    } else {
      EXPECT_TRUE(m.starts_with("spec: " + c.message)) << m;
    }
  }
}

TEST(SpecJsonTest, EnvAbsentInheritsOnlyWhenAsked) {
  const std::string text = R"({"version":"boxjail.spec/v1","command":["true"]})";
  EXPECT_TRUE(MustRead(text).env.empty());
  const std::vector<std::string> mine = {"A=1", "B=2"};
  boxjail::SpecReadOptions options;
  options.inherited_env = &mine;
  auto r = boxjail::spec_from_json(text, options);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value().env, mine);
  auto empty = boxjail::spec_from_json(
      R"({"version":"boxjail.spec/v1","command":["true"],"env":[]})", options);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty.value().env.empty());
}

TEST(SpecJsonTest, CapabilitiesByName) {
  const Spec s = MustRead(
      R"({"version":"boxjail.spec/v1","command":["true"],"caps":["CAP_NET_RAW","cap_chown","sys_admin","12"]})");
  EXPECT_TRUE(s.caps.specified);
  EXPECT_EQ(s.caps.mask, (1ull << 13) | (1ull << 0) | (1ull << 21) | (1ull << 12));
  EXPECT_EQ(json::parse(boxjail::spec_to_json(s)).at("caps"),
            json::array({"CAP_CHOWN", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SYS_ADMIN"}));
  const Spec none = MustRead(R"({"version":"boxjail.spec/v1","command":["true"],"caps":[]})");
  EXPECT_TRUE(none.caps.specified);
  EXPECT_EQ(none.caps.mask, 0u);
}

TEST(SpecJsonTest, EveryOpKindNameIsAccepted) {
  for (const char* kind :
       {"bind", "bind-fd", "remount-ro", "proc", "dev", "tmpfs", "mqueue", "dir", "file",
        "bind-data", "symlink", "chmod", "overlay", "tmp-overlay", "ro-overlay"}) {
    auto r = boxjail::spec_from_json(WithOp({{"kind", kind}, {"dest", "/x"}}));
    EXPECT_TRUE(r) << kind << ": " << (r ? "" : r.error().message);
  }
}

}  // namespace
