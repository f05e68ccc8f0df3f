// SPDX-License-Identifier: Apache-2.0
// Unit tests of resolve_spec(): bwrap's implications and post-parse rules, in bwrap's order.
#include <boxjail/bwrap_args.hpp>
#include <boxjail/validate.hpp>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

namespace {

using boxjail::Caller;
using boxjail::Spec;

const Caller kRoot{0, 0};
const Caller kUser{1000, 1000};

// A Spec as the bwrap parser builds it from `args` (COMMAND "true" appended).
Spec FromArgs(std::vector<std::string> args) {
  args.push_back("true");
  auto r = boxjail::parse_bwrap_args(args, {});
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? r.value().spec : Spec{};
}

Spec MustResolve(const Spec& spec, const Caller& caller) {
  auto r = boxjail::resolve_spec(spec, caller);
  if (!r) {
    ADD_FAILURE() << "unexpected error: " << r.error().message;
    return {};
  }
  return r.value();
}

std::string ErrorOf(const Spec& spec, const Caller& caller) {
  auto r = boxjail::resolve_spec(spec, caller);
  if (r) {
    ADD_FAILURE() << "expected an error";
    return "";
  }
  EXPECT_EQ(r.error().step, "validate-spec");
  EXPECT_EQ(r.error().err, 0);
  EXPECT_FALSE(r.error().usage);
  return r.error().message;
}

bool Exists(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0;
}

// What bwrap would decide for --unshare-user-try on this machine.
bool HostAllowsUserNamespaces() {
  if (!Exists("/proc/self/ns/user")) return false;
  std::ifstream enable("/sys/module/user_namespace/parameters/enable");
  std::string value;
  if (enable && std::getline(enable, value) && !value.empty() && value[0] == 'N') return false;
  std::ifstream max("/proc/sys/user/max_user_namespaces");
  return !(max && std::getline(max, value) && value == "0");
}

// --------------------------------------------------------------------------------------------
// Caller and implications.

TEST(ValidateCaller, CurrentCallerIsTheRealIds) {
  const Caller c = boxjail::current_caller();
  EXPECT_EQ(c.uid, ::getuid());
  EXPECT_EQ(c.gid, ::getgid());
  EXPECT_EQ(c.is_root(), ::getuid() == 0);
}

TEST(ValidateImplications, NonRootImpliesUnshareUser) {
  EXPECT_TRUE(MustResolve(FromArgs({}), kUser).unshare_user);
}

TEST(ValidateImplications, RootDoesNotImplyUnshareUser) {
  EXPECT_FALSE(MustResolve(FromArgs({}), kRoot).unshare_user);
}

TEST(ValidateImplications, UsernsFdPreventsTheImplication) {
  EXPECT_FALSE(MustResolve(FromArgs({"--userns", "3"}), kUser).unshare_user);
}

TEST(ValidateImplications, UnshareUserTryFollowsTheHost) {
  const Spec s = MustResolve(FromArgs({"--unshare-user-try"}), kRoot);
  EXPECT_EQ(s.unshare_user, HostAllowsUserNamespaces());
  EXPECT_FALSE(s.unshare_user_try);  // resolved into a definite request
}

TEST(ValidateImplications, UnshareAllForRoot) {
  const Spec s = MustResolve(FromArgs({"--unshare-all"}), kRoot);
  EXPECT_EQ(s.unshare_user, HostAllowsUserNamespaces());
  EXPECT_EQ(s.unshare_cgroup, Exists("/proc/self/ns/cgroup"));
  EXPECT_TRUE(s.unshare_ipc && s.unshare_pid && s.unshare_net && s.unshare_uts);
}

TEST(ValidateImplications, UnshareCgroupTryFollowsTheHost) {
  const Spec s = MustResolve(FromArgs({"--unshare-cgroup-try"}), kRoot);
  EXPECT_EQ(s.unshare_cgroup, Exists("/proc/self/ns/cgroup"));
  EXPECT_FALSE(s.unshare_cgroup_try);
}

TEST(ValidateImplications, ExplicitRequestsStay) {
  const Spec s = MustResolve(FromArgs({"--unshare-cgroup", "--unshare-user"}), kRoot);
  EXPECT_TRUE(s.unshare_cgroup);
  EXPECT_TRUE(s.unshare_user);
}

TEST(ValidateImplications, OtherFieldsPassThrough) {
  const Spec in = FromArgs({"--unshare-pid", "--as-pid-1", "--bind", "/a", "/b", "--chdir", "/c",
                            "--setenv", "A", "1", "--cap-add", "CAP_CHOWN"});
  const Spec out = MustResolve(in, kRoot);
  EXPECT_EQ(out.command, in.command);
  EXPECT_EQ(out.env, in.env);
  EXPECT_EQ(out.chdir, in.chdir);
  ASSERT_EQ(out.ops.size(), 1U);
  EXPECT_EQ(out.ops[0].source, "/a");
  EXPECT_EQ(out.caps.mask, in.caps.mask);
  EXPECT_TRUE(out.as_pid_1);
}

TEST(ValidateImplications, ResolvingTwiceIsStable) {
  const Spec once = MustResolve(FromArgs({"--unshare-all", "--uid", "5"}), kUser);
  const Spec twice = MustResolve(once, kUser);
  EXPECT_EQ(twice.unshare_user, once.unshare_user);
  EXPECT_EQ(twice.unshare_cgroup, once.unshare_cgroup);
}

// --------------------------------------------------------------------------------------------
// User namespace rules, checked before --unshare-user is implied.

TEST(ValidateUserns, UsernsBlockFdRequiresExplicitUnshareUser) {
  EXPECT_EQ(ErrorOf(FromArgs({"--userns-block-fd", "5", "--info-fd", "6"}), kRoot),
            "--userns-block-fd requires --unshare-user");
  // Even for a non-root caller, for whom --unshare-user would be implied: bwrap checks first.
  EXPECT_EQ(ErrorOf(FromArgs({"--userns-block-fd", "5", "--info-fd", "6"}), kUser),
            "--userns-block-fd requires --unshare-user");
}

TEST(ValidateUserns, UsernsBlockFdRequiresInfoFd) {
  EXPECT_EQ(ErrorOf(FromArgs({"--unshare-user", "--userns-block-fd", "5"}), kUser),
            "--userns-block-fd requires --info-fd");
  EXPECT_TRUE(
      MustResolve(FromArgs({"--unshare-user", "--userns-block-fd", "5", "--info-fd", "6"}), kUser)
          .unshare_user);
}

TEST(ValidateUserns, UsernsConflictsWithUnshareUser) {
  EXPECT_EQ(ErrorOf(FromArgs({"--userns", "3", "--unshare-user"}), kRoot),
            "--userns not compatible --unshare-user");
  EXPECT_EQ(ErrorOf(FromArgs({"--userns", "3", "--unshare-user-try"}), kRoot),
            "--userns not compatible --unshare-user-try");
  EXPECT_EQ(ErrorOf(FromArgs({"--userns", "3", "--unshare-all"}), kUser),
            "--userns not compatible --unshare-user-try");
}

TEST(ValidateUserns, DisableUsernsRequiresExplicitUnshareUser) {
  EXPECT_EQ(ErrorOf(FromArgs({"--disable-userns"}), kRoot),
            "--disable-userns requires --unshare-user");
  EXPECT_EQ(ErrorOf(FromArgs({"--disable-userns"}), kUser),
            "--disable-userns requires --unshare-user");
  // --unshare-user-try is not enough either.
  EXPECT_EQ(ErrorOf(FromArgs({"--disable-userns", "--unshare-all"}), kUser),
            "--disable-userns requires --unshare-user");
  EXPECT_TRUE(MustResolve(FromArgs({"--disable-userns", "--unshare-user"}), kUser).disable_userns);
}

TEST(ValidateUserns, DisableUsernsConflictsWithUsernsBlockFd) {
  EXPECT_EQ(ErrorOf(FromArgs({"--unshare-user", "--disable-userns", "--userns-block-fd", "5",
                              "--info-fd", "6"}),
                    kUser),
            "--disable-userns is not compatible with  --userns-block-fd");
}

// --------------------------------------------------------------------------------------------
// Identity and process rules, checked after the implications.

TEST(ValidateIdentity, UidNeedsAUserNamespace) {
  EXPECT_EQ(ErrorOf(FromArgs({"--uid", "5"}), kRoot),
            "Specifying --uid requires --unshare-user or --userns");
  EXPECT_TRUE(MustResolve(FromArgs({"--uid", "5", "--unshare-user"}), kRoot).uid);
  EXPECT_TRUE(MustResolve(FromArgs({"--uid", "5", "--userns", "3"}), kRoot).uid);
  // The caller's own id needs no mapping.
  EXPECT_TRUE(MustResolve(FromArgs({"--uid", "0"}), kRoot).uid);
  // Non-root: --unshare-user is implied, so any id is fine.
  EXPECT_TRUE(MustResolve(FromArgs({"--uid", "0"}), kUser).unshare_user);
}

TEST(ValidateIdentity, GidNeedsAUserNamespace) {
  EXPECT_EQ(ErrorOf(FromArgs({"--gid", "5"}), kRoot),
            "Specifying --gid requires --unshare-user or --userns");
  EXPECT_TRUE(MustResolve(FromArgs({"--gid", "5", "--unshare-user"}), kRoot).gid);
  EXPECT_TRUE(MustResolve(FromArgs({"--gid", "0"}), kRoot).gid);
  const Caller odd{0, 7};
  EXPECT_TRUE(MustResolve(FromArgs({"--gid", "7"}), odd).gid);
  EXPECT_EQ(ErrorOf(FromArgs({"--gid", "0"}), odd),
            "Specifying --gid requires --unshare-user or --userns");
}

TEST(ValidateIdentity, UidIsCheckedBeforeGid) {
  EXPECT_EQ(ErrorOf(FromArgs({"--gid", "5", "--uid", "5"}), kRoot),
            "Specifying --uid requires --unshare-user or --userns");
}

TEST(ValidateProcess, HostnameRequiresUts) {
  EXPECT_EQ(ErrorOf(FromArgs({"--hostname", "box"}), kUser),
            "Specifying --hostname requires --unshare-uts");
  EXPECT_EQ(MustResolve(FromArgs({"--hostname", "box", "--unshare-uts"}), kUser).hostname,
            std::optional<std::string>("box"));
}

TEST(ValidateProcess, AsPid1RequiresUnsharePid) {
  EXPECT_EQ(ErrorOf(FromArgs({"--as-pid-1"}), kUser),
            "Specifying --as-pid-1 requires --unshare-pid");
  EXPECT_TRUE(MustResolve(FromArgs({"--as-pid-1", "--unshare-pid"}), kUser).as_pid_1);
}

TEST(ValidateProcess, AsPid1AndLockFile) {
  EXPECT_EQ(ErrorOf(FromArgs({"--as-pid-1", "--unshare-pid", "--lock-file", "/l"}), kUser),
            "Specifying --as-pid-1 and --lock-file is not permitted");
  // The --unshare-pid requirement is reported first, as in bwrap.
  EXPECT_EQ(ErrorOf(FromArgs({"--as-pid-1", "--lock-file", "/l"}), kUser),
            "Specifying --as-pid-1 requires --unshare-pid");
}

TEST(ValidateOrder, UserNamespaceRulesComeBeforeIdentityRules) {
  EXPECT_EQ(ErrorOf(FromArgs({"--disable-userns", "--uid", "5", "--hostname", "h"}), kRoot),
            "--disable-userns requires --unshare-user");
  EXPECT_EQ(ErrorOf(FromArgs({"--uid", "5", "--hostname", "h"}), kRoot),
            "Specifying --uid requires --unshare-user or --userns");
}

TEST(ValidateErrors, CarryLevelPrefix) {
  auto plain = boxjail::resolve_spec(FromArgs({"--hostname", "h"}), kRoot);
  ASSERT_FALSE(plain);
  EXPECT_FALSE(plain.error().level_prefix);
  auto prefixed = boxjail::resolve_spec(FromArgs({"--level-prefix", "--hostname", "h"}), kRoot);
  ASSERT_FALSE(prefixed);
  EXPECT_TRUE(prefixed.error().level_prefix);
}

}  // namespace

namespace {

// The setuid helper's own rules (check_setuid_spec), one refusal at a time: each request alone
// is refused for an unprivileged caller, with step "setuid-policy" and the reason named; root may
// ask for all of them (the helper gives root nothing it does not have). A jail of the runtime's
// kind passes.
TEST(ValidateSetuid, EveryRuleRefusesItsRequestAlone) {
  const Caller caller{.uid = 1000, .gid = 1000, .via_setuid_helper = true};
  const Caller root{.uid = 0, .gid = 0, .via_setuid_helper = true};
  Spec ok;
  ok.unshare_user = true;
  ok.unshare_uts = true;
  ok.hostname = "vm";
  ok.uid = 0;
  ok.gid = 0;
  ok.ops.push_back({.kind = boxjail::OpKind::Tmpfs, .dest = "/tmp"});
  ASSERT_TRUE(boxjail::check_setuid_spec(ok, caller)) << "the runtime's kind of jail";
  struct Case {
    const char* what;  // in the refusal's message
    void (*change)(Spec&);
  };
  const Case cases[] = {
      {"--cap-add",
       [](Spec& s) {
         s.caps.specified = true;
         s.caps.mask = 1ULL << 13;
       }},
      {"--userns:", [](Spec& s) { s.userns_fd = 3; }},
      {"--uid-range/--gid-range",
       [](Spec& s) {
         s.uid_ranges.push_back({1, 100000, 10});
       }},
      {"--uid-range/--gid-range",
       [](Spec& s) {
         s.gid_ranges.push_back({1, 100000, 10});
       }},
      {"--userns2", [](Spec& s) { s.userns2_fd = 3; }},
      {"--pidns", [](Spec& s) { s.pidns_fd = 3; }},
      {"--userns-block-fd", [](Spec& s) { s.userns_block_fd = 3; }},
      {"--uid other than your own",
       [](Spec& s) {
         s.unshare_user = false;
         s.uid = 0;
         s.gid.reset();
       }},
      {"--gid other than your own",
       [](Spec& s) {
         s.unshare_user = false;
         s.uid.reset();
         s.gid = 0;
       }},
      {"--hostname without --unshare-uts", [](Spec& s) { s.unshare_uts = false; }},
      {"--exec-label/--file-label", [](Spec& s) { s.exec_label = "x"; }},
      {"--exec-label/--file-label", [](Spec& s) { s.file_label = "x"; }},
      {"overlay mounts",
       [](Spec& s) { s.ops.push_back({.kind = boxjail::OpKind::Overlay, .dest = "/o"}); }},
      {"overlay mounts",
       [](Spec& s) { s.ops.push_back({.kind = boxjail::OpKind::TmpOverlay, .dest = "/o"}); }},
      {"overlay mounts",
       [](Spec& s) { s.ops.push_back({.kind = boxjail::OpKind::RoOverlay, .dest = "/o"}); }},
      {"--size", [](Spec& s) { s.ops[0].size = 4096; }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    Spec s = ok;
    c.change(s);
    const auto refused = boxjail::check_setuid_spec(s, caller);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().step, "setuid-policy");
    EXPECT_NE(refused.error().message.find(c.what), std::string::npos) << refused.error().message;
    EXPECT_TRUE(boxjail::check_setuid_spec(s, root)) << "root is refused nothing";
  }
  // Its own ids without a user namespace are the caller's to ask for.
  Spec own = ok;
  own.unshare_user = false;
  own.uid = 1000;
  own.gid = 1000;
  EXPECT_TRUE(boxjail::check_setuid_spec(own, caller));
}

}  // namespace
