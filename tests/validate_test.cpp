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
