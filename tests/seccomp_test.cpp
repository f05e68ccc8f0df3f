// SPDX-License-Identifier: Apache-2.0
// --seccomp-policy, the shipped policies and `boxjail seccomp check|compile|pfc`. A probe program
// (seccomp_probe.cpp) issues each denied call inside a jail, as root and as uid 65534, and the
// tests assert the errno or the signal the policy gives it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boxjail/bwrap_args.hpp>

#include "engine/seccomp_policy.hpp"
#include "harness.hpp"

namespace {

using boxjail::test::RunOpts;

// Every run here may compile a policy, and as root the compile cache lives in /run: give each run
// a private /run so the host's is never written.
boxjail::test::RunResult run_private(const std::vector<std::string>& args, RunOpts o = {}) {
  o.private_run = true;
  return boxjail::test::run(args, o);
}
using boxjail::test::RunResult;
using boxjail::test::TempDir;

const std::string kSource = BOXJAIL_SOURCE_DIR;

const std::string& probe() { return boxjail::test::seccomp_probe_binary(); }

std::map<std::string, std::string> parse_probe(const std::string& out) {
  std::map<std::string, std::string> results;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) results[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return results;
}

// The calls default.json denies (probe names), all with its errnoRet (EPERM).
const std::vector<std::string> kDeniedByDefault = {"keyctl",
                                                   "add_key",
                                                   "request_key",
                                                   "kexec_load",
                                                   "kexec_file_load",
                                                   "bpf",
                                                   "perf_event_open",
                                                   "userfaultfd",
                                                   "syslog",
                                                   "uselib",
                                                   "acct",
                                                   "quotactl",
                                                   "mount",
                                                   "umount2",
                                                   "pivot_root",
                                                   "fsopen",
                                                   "fsconfig",
                                                   "fsmount",
                                                   "fspick",
                                                   "open_tree",
                                                   "move_mount",
                                                   "mount_setattr",
                                                   "unshare_user",
                                                   "clone_user",
                                                   "personality_noaslr",
                                                   "personality_bit31",
                                                   "reboot",
                                                   "init_module",
                                                   "finit_module",
                                                   "delete_module",
                                                   "open_by_handle_at",
                                                   "ioperm",
                                                   "settimeofday",
                                                   "ioctl_tiocsti",
                                                   "ioctl_tiocsti_high",
                                                   "ioctl_tiocsti_high2",
                                                   "ioctl_tioclinux",
                                                   "ioctl_tioclinux_high",
                                                   "x32_keyctl"};
// What default.json leaves alone (the harmless personalities, unshare without a user namespace,
// ioctls other than TIOCSTI/TIOCLINUX).
const std::vector<std::string> kAllowedByDefault = {"unshare_ipc",       "personality_linux32",
                                                    "personality_query", "ioctl_fionread",
                                                    "eventfd",           "getpid"};

enum class User { Root, Nobody };

class SeccompByUser : public ::testing::TestWithParam<User> {
 protected:
  RunOpts opts() const {
    RunOpts o;
    o.as_nobody = GetParam() == User::Nobody;
    return o;
  }
  std::map<std::string, std::string> probe_in_jail(const std::vector<std::string>& policy_args,
                                                   RunOpts o) {
    std::vector<std::string> args = {"--ro-bind", "/", "/", "--dev", "/dev"};
    args.insert(args.end(), policy_args.begin(), policy_args.end());
    args.push_back(probe());
    const RunResult r = run_private(args, o);
    EXPECT_EQ(r.status, 0) << r.err;
    return parse_probe(r.out);
  }
};

std::string user_name(const ::testing::TestParamInfo<User>& info) {
  return info.param == User::Root ? "root" : "nobody";
}

INSTANTIATE_TEST_SUITE_P(SeccompUser, SeccompByUser, ::testing::Values(User::Root, User::Nobody),
                         user_name);

// Whether this kernel takes `int $0x80` from a 64-bit process (SIGSEGV when IA32 emulation is off).
bool int80_enabled(const std::map<std::string, std::string>& results) {
  const auto it = results.find("int80_getpid");
  return it != results.end() && it->second == "OK";
}

TEST_P(SeccompByUser, DefaultPolicyDeniesEachCall) {
  auto got = probe_in_jail({"--seccomp-policy", "default"}, opts());
  for (const auto& name : kDeniedByDefault) EXPECT_EQ(got[name], "E1") << name;
  for (const auto& name : kAllowedByDefault) EXPECT_EQ(got[name], "OK") << name;
  EXPECT_EQ(got["clone3"], "E38");  // ENOSYS: the C library falls back to clone
  if (int80_enabled(got)) {
    EXPECT_EQ(got["int80_keyctl"], "E1") << "the 32-bit entry point bypasses the filter";
  } else {
    EXPECT_EQ(got["int80_getpid"], "SIG11");  // checked through the exported filter instead
  }
}

// The same policy with a distinctive errno: proves the filter, not a missing privilege, refused.
TEST_P(SeccompByUser, DeniedCallsFailWithThePolicysErrno) {
  auto policy = nlohmann::json::parse(boxjail::test::read_file(kSource + "/seccomp/default.json"));
  for (auto& rule : policy["syscalls"]) {
    if (rule["errnoRet"] == 1) rule["errnoRet"] = 4000;
  }
  TempDir dir;
  const std::string path = dir.file("distinct.json", policy.dump(), 0644);
  auto got = probe_in_jail({"--seccomp-policy", path}, opts());
  for (const auto& name : kDeniedByDefault) EXPECT_EQ(got[name], "E4000") << name;
  for (const auto& name : kAllowedByDefault) EXPECT_EQ(got[name], "OK") << name;
  if (int80_enabled(got)) {
    EXPECT_EQ(got["int80_keyctl"], "E4000");
  }
}

TEST_P(SeccompByUser, KillActionKillsTheCaller) {
  TempDir dir;
  const std::string path = dir.file("kill.json", R"({
    "defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [
      {"names": ["keyctl"], "action": "SCMP_ACT_KILL_PROCESS"},
      {"names": ["bpf"], "action": "SCMP_ACT_TRAP"},
      {"names": ["ioctl"], "action": "SCMP_ACT_KILL",
       "args": [{"index": 1, "value": 4294967295, "valueTwo": 21522, "op": "SCMP_CMP_MASKED_EQ"}]}
    ]})");
  auto got = probe_in_jail({"--seccomp-policy", path}, opts());
  EXPECT_EQ(got["keyctl"], "SIG31");
  EXPECT_EQ(got["bpf"], "SIG31");
  EXPECT_EQ(got["ioctl_tiocsti"], "SIG31");
  EXPECT_EQ(got["ioctl_tiocsti_high"], "SIG31");
  EXPECT_EQ(got["getpid"], "OK");
  if (int80_enabled(got)) {
    EXPECT_EQ(got["int80_keyctl"], "SIG31");
  }
}

TEST_P(SeccompByUser, VmmPolicyAllowsKvmAndDeniesTheRest) {
  auto got = probe_in_jail({"--seccomp-policy", "vmm"}, opts());
  for (const auto& name : kDeniedByDefault) EXPECT_EQ(got[name], "E1") << name;
  EXPECT_EQ(got["ioctl_kvm"], "E25");  // allowed: /dev/null answers ENOTTY
  EXPECT_EQ(got["ioctl_fionread"], "OK");
  EXPECT_EQ(got["eventfd"], "OK");
  EXPECT_EQ(got["io_uring_setup"], "E38");
  EXPECT_EQ(got["personality_query"], "E1");  // not in the allow list
  EXPECT_EQ(got["clone3"], "E38");
}

TEST_P(SeccompByUser, NoPolicyNamedNoFilter) {
  auto got = probe_in_jail({}, opts());
  EXPECT_EQ(got["ioctl_tiocsti_high"], "E25");  // ENOTTY from /dev/null: nothing filtered
  EXPECT_EQ(got["clone3"], "E22");
  EXPECT_EQ(got["keyctl"], "E95");
}

TEST_P(SeccompByUser, CompiledProgramWorksWithDebiansBwrap) {
  if (!boxjail::test::bwrap_available()) GTEST_SKIP() << "no /usr/bin/bwrap";
  TempDir dir;
  const std::string out = dir.path() + "/default.bpf";
  RunResult c = run_private({"seccomp", "compile", "default", "-o", out});
  ASSERT_EQ(c.status, 0) << c.err;
  const std::string bpf = boxjail::test::read_file(out);
  ASSERT_FALSE(bpf.empty());
  EXPECT_EQ(bpf.size() % 8, 0U);
  RunOpts o = opts();
  o.use_bwrap = true;
  o.fd_data = {{3, bpf}};
  RunResult r = run_private({"--ro-bind", "/", "/", "--dev", "/dev", "--seccomp", "3", probe()}, o);
  if (r.status != 0 && r.err.find("setting up uid map") != std::string::npos)
    GTEST_SKIP() << "bwrap cannot run here: " << r.err;
  ASSERT_EQ(r.status, 0) << r.err;
  auto got = parse_probe(r.out);
  for (const auto& name : kDeniedByDefault) EXPECT_EQ(got[name], "E1") << name;
  for (const auto& name : kAllowedByDefault) EXPECT_EQ(got[name], "OK") << name;
  EXPECT_EQ(got["clone3"], "E38");
}

// The 32-bit and x32 entry points are in the filter, and an unknown architecture is killed:
// checked on libseccomp's own rendering of the filter, so it holds on kernels without IA32.
TEST(SeccompArch, FilterCoversEveryEntryPointAndKillsUnknownArch) {
  auto policy = boxjail::load_seccomp_policy("default");
  ASSERT_TRUE(policy) << policy.error().message;
  auto pfc = boxjail::seccomp_policy_pfc(policy.value());
  ASSERT_TRUE(pfc) << pfc.error().message;
  const std::string& text = pfc.value();
#if defined(__x86_64__)
  EXPECT_NE(text.find("# filter for arch x86_64 "), std::string::npos) << text;
  EXPECT_NE(text.find("# filter for arch x86 "), std::string::npos) << text;
  EXPECT_NE(text.find("# filter for arch x32 "), std::string::npos) << text;
  // keyctl is denied in the x86 section under its 32-bit number (288).
  const auto x86 = text.find("# filter for arch x86 ");
  const auto x32 = text.find("# filter for arch x32 ");
  const auto keyctl32 = text.find("filter for syscall \"keyctl\" (288)", x86);
  EXPECT_TRUE(keyctl32 != std::string::npos && keyctl32 < x32) << text;
#endif
  EXPECT_NE(text.find("# invalid architecture action\naction KILL_PROCESS;"), std::string::npos)
      << text;
  // The policy without "architectures" gets the same coverage: it is boxjail's, not the file's.
  auto bare = boxjail::parse_seccomp_policy(R"({"defaultAction": "SCMP_ACT_ALLOW"})", "bare.json");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare.value().arches.size(), policy.value().arches.size());
}

TEST(SeccompCli, CheckAcceptsTheShippedPolicies) {
  for (const char* name : {"default", "vmm", "default.json"}) {
    RunResult r = run_private({"seccomp", "check", name});
    EXPECT_EQ(r.status, 0) << name << ": " << r.err;
    EXPECT_NE(r.out.find(": ok"), std::string::npos) << r.out;
  }
  RunResult r = run_private({"seccomp", "check", kSource + "/seccomp/vmm.json"});
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST(SeccompCli, EveryShippedRuleHasAComment) {
  for (const char* name : {"default", "vmm"}) {
    auto j = nlohmann::json::parse(
        boxjail::test::read_file(kSource + "/seccomp/" + std::string(name) + ".json"));
    for (const auto& rule : j["syscalls"]) {
      EXPECT_TRUE(rule.contains("comment") && !rule["comment"].get<std::string>().empty())
          << name << ": " << rule.dump();
    }
  }
}

TEST(SeccompCli, UsageErrorsExitOne) {
  EXPECT_EQ(run_private({"seccomp"}).status, 1);
  EXPECT_EQ(run_private({"seccomp", "frobnicate", "default"}).status, 1);
  EXPECT_EQ(run_private({"seccomp", "compile", "default"}).status, 1);  // no -o
  RunResult r = run_private({"seccomp", "check", "nosuchpolicy"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("no seccomp policy named \"nosuchpolicy\""), std::string::npos) << r.err;
  r = run_private({"--ro-bind", "/", "/", "--seccomp-policy", "nosuchpolicy", "true"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("seccomp-policy: no seccomp policy named"), std::string::npos) << r.err;
}

struct Malformed {
  const char* what;
  const char* json;
  const char* expected;  // in the error line, after "FILE: "
};

const Malformed kMalformed[] = {
    {"invalid JSON", R"({"defaultAction": )", "invalid JSON"},
    {"not an object", R"([1, 2])", "must be a JSON object"},
    {"missing default", R"({"syscalls": []})", "missing \"defaultAction\""},
    {"unknown default action", R"({"defaultAction": "SCMP_ACT_PERMIT"})",
     "/defaultAction: unknown action \"SCMP_ACT_PERMIT\" (known: SCMP_ACT_KILL,"},
    {"unknown rule action",
     R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["bpf"], "action": "DENY"}]})",
     "/syscalls/0/action: unknown action \"DENY\""},
    {"notify", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["bpf"],
       "action": "SCMP_ACT_NOTIFY"}]})",
     "/syscalls/0/action: unknown action \"SCMP_ACT_NOTIFY\" (no notification listener"},
    {"unknown syscall",
     R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read", "opne"],
       "action": "SCMP_ACT_ERRNO"}]})",
     "/syscalls/0/names/1: unknown syscall \"opne\" (closest known names: open"},
    {"bad operator", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["ioctl"],
       "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 5, "op": "SCMP_CMP_MASKED"}]}]})",
     "/syscalls/0/args/0/op: unknown operator \"SCMP_CMP_MASKED\" (known: SCMP_CMP_NE,"},
    {"argument index", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["ioctl"],
       "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 5, "op": "SCMP_CMP_EQ"}]}]})",
     "/syscalls/0/args/0/index: argument index 6 (0..5)"},
    {"negative value", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["ioctl"],
       "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": -1, "op": "SCMP_CMP_EQ"}]}]})",
     "/syscalls/0/args/0/value: must be a non-negative integer"},
    {"errno for allow", R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"],
       "action": "SCMP_ACT_ALLOW", "errnoRet": 1}]})",
     "/syscalls/0/errnoRet: \"errnoRet\" given for SCMP_ACT_ALLOW"},
    {"errno range", R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 70000})",
     "/defaultErrnoRet: errno 70000 out of range"},
    {"unknown key", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscall": []})",
     "/syscall: unknown key \"syscall\""},
    {"unknown arch", R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_Z80"]})",
     "/architectures/0: unknown architecture \"SCMP_ARCH_Z80\""},
    {"unknown flag",
     R"({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_FAST"]})",
     "/flags/0: unknown flag \"SECCOMP_FILTER_FLAG_FAST\""},
    {"names not a list", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": "read",
       "action": "SCMP_ACT_ERRNO"}]})",
     "/syscalls/0/names: must be an array of syscall names"},
    {"conflicting actions", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
       {"names": ["read"], "action": "SCMP_ACT_ERRNO"},
       {"names": ["write", "read"], "action": "SCMP_ACT_KILL"}]})",
     "/syscalls/1: \"read\" already has a different action at /syscalls/0"},
    {"missing names", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{
       "action": "SCMP_ACT_ERRNO"}]})",
     "/syscalls/0: missing \"names\""},
};

TEST(SeccompCli, MalformedPoliciesGiveTheDocumentedErrorAndExitOne) {
  TempDir dir;
  for (const auto& m : kMalformed) {
    const std::string path = dir.file("bad.json", m.json);
    RunResult r = run_private({"seccomp", "check", path});
    EXPECT_EQ(r.status, 1) << m.what;
    EXPECT_NE(r.err.find(path + ": " + m.expected), std::string::npos) << m.what << ": " << r.err;
    // The same policy named on a jail's command line stops it before anything runs.
    r = run_private({"--ro-bind", "/", "/", "--seccomp-policy", path, "echo", "ran"});
    EXPECT_EQ(r.status, 1) << m.what;
    EXPECT_EQ(r.out, "") << m.what;
    EXPECT_NE(r.err.find("boxjail: seccomp-policy: " + path + ": " + m.expected), std::string::npos)
        << m.what << ": " << r.err;
  }
}

TEST(SeccompCli, CheckReportsEveryProblem) {
  TempDir dir;
  const std::string path = dir.file("two.json", R"({"defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [{"names": ["keyctll"], "action": "SCMP_ACT_ERRNO"},
                 {"names": ["bpf"], "action": "SCMP_ACT_ERRNO",
                  "args": [{"index": 0, "value": 1, "op": "EQ"}]}]})");
  RunResult r = run_private({"seccomp", "check", path});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("/syscalls/0/names/0: unknown syscall \"keyctll\" (closest known names: "
                       "keyctl"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("/syscalls/1/args/0/op: unknown operator \"EQ\""), std::string::npos)
      << r.err;
}

TEST(SeccompPolicy, DockerConditionalEntries) {
  // A rule that needs a capability is left out (a sandbox is assumed to hold none); one that
  // excludes a capability applies.
  auto p = boxjail::parse_seccomp_policy(R"({"defaultAction": "SCMP_ACT_ERRNO",
    "archMap": [{"architecture": "SCMP_ARCH_X86_64",
                 "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
    "syscalls": [
      {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
      {"names": ["write"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
      {"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.0"}}
    ]})",
                                         "docker.json");
  ASSERT_TRUE(p) << p.error().message;
  std::set<std::string> names;
  for (const auto& rule : p.value().rules) names.insert(rule.names.begin(), rule.names.end());
  EXPECT_EQ(names, (std::set<std::string>{"read", "write"}));
  EXPECT_TRUE(boxjail::compile_seccomp_policy(p.value()));
}

TEST(SeccompPolicy, ConditionsOnOneArgumentAreAlternatives) {
  // runc's reading, which default.json's personality rule relies on.
  auto p = boxjail::parse_seccomp_policy(R"({"defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ERRNO",
                  "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                           {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}]})",
                                         "alt.json");
  ASSERT_TRUE(p);
  auto pfc = boxjail::seccomp_policy_pfc(p.value());
  ASSERT_TRUE(pfc) << pfc.error().message;
  EXPECT_NE(pfc.value().find("== 1"), std::string::npos) << pfc.value();
  EXPECT_NE(pfc.value().find("== 2"), std::string::npos) << pfc.value();
}

}  // namespace

namespace {

TEST(SeccompParse, PolicyOptionIsBoxjailsOwnAndLastWins) {
  boxjail::ParseContext ctx;
  auto r = boxjail::parse_bwrap_args({"--seccomp-policy", "vmm", "true"}, ctx);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().spec.seccomp_policy, "vmm");
  r = boxjail::parse_bwrap_args({"--seccomp-policy", "vmm", "--seccomp-policy", "default", "true"},
                                ctx);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value().spec.seccomp_policy, "default");
  ASSERT_EQ(r.value().warnings.size(), 1U);
  EXPECT_EQ(r.value().warnings[0].text, "Only the last --seccomp-policy option will take effect");
  r = boxjail::parse_bwrap_args({"true"}, ctx);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r.value().spec.seccomp_policy);  // no policy unless asked
  EXPECT_NE(boxjail::usage_text("boxjail").find("    --seccomp-policy POLICY"), std::string::npos);
}

}  // namespace

namespace {

// A policy found by name must be writable by nobody but root or the caller: one another user
// owns, or its group or others may write, is refused (it would choose the filter of every jail
// naming it).
TEST(SeccompCache, APolicyFoundByNameMustBeTheCallersOrRoots) {
  TempDir dir;
  const std::string path = dir.file("p.json", R"({"defaultAction":"SCMP_ACT_ALLOW"})");
  EXPECT_TRUE(boxjail::trusted_policy_file(path)) << "root's, 0644";
  for (const mode_t mode : {0664, 0646, 0666}) {
    ASSERT_EQ(chmod(path.c_str(), mode), 0);
    const auto r = boxjail::trusted_policy_file(path);
    ASSERT_FALSE(r) << std::oct << mode;
    EXPECT_NE(r.error().message.find("refusing a policy writable by others"), std::string::npos);
  }
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  ASSERT_EQ(chown(path.c_str(), 12345, 0), 0);
  EXPECT_FALSE(boxjail::trusted_policy_file(path)) << "another user's";
}

TEST(SeccompCache, HitReturnsTheSameProgramAndIgnoresUnsafeEntries) {
  // One byte more than the shipped policy: not among the precompiled entries the build wrote,
  // so the per-user cache is what answers.
  const std::string text = boxjail::test::read_file(kSource + "/seccomp/default.json") + "\n";
  auto fresh = boxjail::compile_seccomp_policy_text(text, "default.json", "");
  ASSERT_TRUE(fresh) << fresh.error().message;
  TempDir top;
  const std::string dir = top.path() + "/cache";
  auto first = boxjail::compile_seccomp_policy_text(text, "default.json", dir);  // stores
  ASSERT_TRUE(first);
  EXPECT_EQ(first.value(), fresh.value());
  struct stat st {};
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700U);
  std::vector<std::string> entries;
  for (const auto& e : std::filesystem::directory_iterator(dir)) entries.push_back(e.path());
  ASSERT_EQ(entries.size(), 1U);
  const std::string entry = entries[0];
  ASSERT_EQ(stat(entry.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);

  // A hit: the stored program is used (proved by tampering with it, as its owner may).
  std::string data = boxjail::test::read_file(entry);
  const std::string planted(8, '\0');
  {
    std::ofstream out(entry, std::ios::binary | std::ios::trunc);
    out << data.substr(0, data.size() - fresh.value().size()) << planted;
  }
  auto hit = boxjail::compile_seccomp_policy_text(text, "default.json", dir);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit.value(), planted);
  // Another policy text is another key: never the planted program.
  auto other = boxjail::compile_seccomp_policy_text(text + " ", "default.json", dir);
  ASSERT_TRUE(other);
  EXPECT_EQ(other.value(), fresh.value());

  // An entry others could have written is ignored (and replaced): writable by its group, then
  // by everyone.
  for (const mode_t mode : {0620, 0666}) {
    {
      std::ofstream out(entry, std::ios::binary | std::ios::trunc);
      out << data.substr(0, data.size() - fresh.value().size()) << planted;
    }
    chmod(entry.c_str(), mode);
    auto unsafe = boxjail::compile_seccomp_policy_text(text, "default.json", dir);
    ASSERT_TRUE(unsafe);
    EXPECT_EQ(unsafe.value(), fresh.value()) << std::oct << mode;
  }
  // So is a directory its group or others can enter.
  for (const mode_t mode : {0750, 0755}) {
    {
      std::ofstream out(entry, std::ios::binary | std::ios::trunc);
      out << data.substr(0, data.size() - fresh.value().size()) << planted;
    }
    chmod(entry.c_str(), 0600);
    chmod(dir.c_str(), mode);
    auto open_dir = boxjail::compile_seccomp_policy_text(text, "default.json", dir);
    ASSERT_TRUE(open_dir);
    EXPECT_EQ(open_dir.value(), fresh.value()) << std::oct << mode;
  }
  // Errors are never cached.
  auto bad = boxjail::compile_seccomp_policy_text("{}", "bad.json", top.path() + "/cache2");
  EXPECT_FALSE(bad);
}

}  // namespace

namespace {

TEST(SeccompDocs, EverySyscallOfTheDefaultPolicyIsDocumented) {
  const std::string doc = boxjail::test::read_file(kSource + "/docs/seccomp.md");
  ASSERT_FALSE(doc.empty());
  auto j = nlohmann::json::parse(boxjail::test::read_file(kSource + "/seccomp/default.json"));
  for (const auto& rule : j["syscalls"]) {
    for (const auto& name : rule["names"]) {
      EXPECT_NE(doc.find("`" + name.get<std::string>() + "`"), std::string::npos) << name;
    }
  }
}

}  // namespace

namespace {

// The build and `cmake --install` precompile the shipped policies: each entry is the cache key
// (policy text, versions, kernel) followed by exactly the program `seccomp compile` produces.
TEST(SeccompCli, PrecompileWritesAnEntryPerShippedPolicy) {
  boxjail::test::TempDir dir;
  const std::string out = dir.path() + "/bpf";
  RunResult r = run_private({"seccomp", "precompile", out});
  ASSERT_EQ(r.status, 0) << r.err;
  std::vector<std::string> entries;
  for (const auto& e : std::filesystem::directory_iterator(out)) {
    entries.push_back(boxjail::test::read_file(e.path().string()));
    struct stat st {};
    ASSERT_EQ(stat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u) << e.path();
  }
  ASSERT_EQ(entries.size(), 2u);  // default.json, vmm.json
  for (const char* name : {"default", "vmm"}) {
    RunResult c = run_private({"seccomp", "compile", name, "-o", "-"});
    ASSERT_EQ(c.status, 0) << c.err;
    ASSERT_FALSE(c.out.empty());
    const bool found = std::any_of(entries.begin(), entries.end(), [&](const std::string& e) {
      return e.size() > c.out.size() &&
             e.compare(e.size() - c.out.size(), c.out.size(), c.out) == 0;
    });
    EXPECT_TRUE(found) << name;
  }
}

}  // namespace
