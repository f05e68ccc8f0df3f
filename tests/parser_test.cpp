// SPDX-License-Identifier: Apache-2.0
// Unit tests of the bwrap-compatible argv parser: every option, every repeat rule, every message.
#include <boxjail/bwrap_args.hpp>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

using boxjail::Action;
using boxjail::Invocation;
using boxjail::MountOp;
using boxjail::OpKind;
using boxjail::Spec;
using Args = std::vector<std::string>;

boxjail::result<Invocation> Parse(const Args& args, Args env = {}) {
  boxjail::ParseContext ctx;
  ctx.environ = std::move(env);
  return boxjail::parse_bwrap_args(args, ctx);
}

// Parses and expects success; on failure records the message and returns an empty Invocation.
Invocation MustParse(const Args& args, Args env = {}) {
  auto r = Parse(args, std::move(env));
  if (!r) {
    ADD_FAILURE() << "unexpected error: \"" << r.error().message << "\"";
    return {};
  }
  return std::move(r).value();
}

Spec MustSpec(const Args& args) { return MustParse(args).spec; }

// Parses and expects a parse error without errno; returns its message.
std::string ErrorOf(const Args& args) {
  auto r = Parse(args);
  if (r) {
    ADD_FAILURE() << "expected an error";
    return "";
  }
  EXPECT_EQ(r.error().step, "parse-args");
  EXPECT_EQ(r.error().err, 0);
  EXPECT_FALSE(r.error().usage);
  return r.error().message;
}

// Appends a COMMAND so that option lists parse as a full command line.
Args Cmd(Args args) {
  args.push_back("true");
  return args;
}

// The read end of a pipe already holding `data` (and closed for writing).
int PipeWith(const std::string& data) {
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  EXPECT_EQ(::write(fds[1], data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ::close(fds[1]);
  return fds[0];
}

bool FdIsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

void CloseIfOpen(int fd) {
  if (::fcntl(fd, F_GETFD) != -1) ::close(fd);
}

std::string Nul(const Args& parts, bool trailing = true) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    out += parts[i];
    if (trailing || i + 1 < parts.size()) out.push_back('\0');
  }
  return out;
}

// --------------------------------------------------------------------------------------------
// Command boundary, unknown options, --help, --version.

TEST(ParserGeneral, OptionsThenCommand) {
  Spec s = MustSpec({"--unshare-ipc", "ls", "-l", "--bind"});
  EXPECT_TRUE(s.unshare_ipc);
  EXPECT_EQ(s.command, (Args{"ls", "-l", "--bind"}));
}

TEST(ParserGeneral, DoubleDashEndsOptions) {
  Spec s = MustSpec({"--unshare-pid", "--", "--bind", "a", "b"});
  EXPECT_TRUE(s.unshare_pid);
  EXPECT_EQ(s.command, (Args{"--bind", "a", "b"}));
}

TEST(ParserGeneral, OnlyFirstDoubleDashIsConsumed) {
  EXPECT_EQ(MustSpec({"--", "--", "x"}).command, (Args{"--", "x"}));
}

TEST(ParserGeneral, FirstNonOptionIsCommand) {
  EXPECT_EQ(MustSpec({"cmd", "--unshare-ipc"}).command, (Args{"cmd", "--unshare-ipc"}));
  EXPECT_FALSE(MustSpec({"cmd", "--unshare-ipc"}).unshare_ipc);
}

TEST(ParserGeneral, EmptyArgumentIsACommand) {
  EXPECT_EQ(MustSpec({"", "x"}).command, (Args{"", "x"}));
}

TEST(ParserGeneral, NoCommandAsksForUsage) {
  for (const Args& args : {Args{}, Args{"--unshare-ipc"}, Args{"--"}, Args{"--bind", "a", "b"}}) {
    auto r = Parse(args);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().usage);
    EXPECT_EQ(r.error().step, "parse-args");
  }
}

TEST(ParserGeneral, UnknownOptions) {
  EXPECT_EQ(ErrorOf({"-x", "true"}), "Unknown option -x");
  EXPECT_EQ(ErrorOf({"-", "true"}), "Unknown option -");
  EXPECT_EQ(ErrorOf({"--bogus", "true"}), "Unknown option --bogus");
  // Exact strcmp only: no --opt=value, no abbreviations, no short forms.
  EXPECT_EQ(ErrorOf({"--chdir=/", "true"}), "Unknown option --chdir=/");
  EXPECT_EQ(ErrorOf({"--unshare-a", "true"}), "Unknown option --unshare-a");
  EXPECT_EQ(ErrorOf({"--BIND", "a", "b", "true"}), "Unknown option --BIND");
  EXPECT_EQ(ErrorOf({"-h"}), "Unknown option -h");
}

TEST(ParserGeneral, Help) {
  auto inv = MustParse({"--help"});
  EXPECT_EQ(inv.action, Action::Help);
  // --help ends parsing: what follows is never looked at.
  EXPECT_EQ(MustParse({"--help", "--bogus"}).action, Action::Help);
  EXPECT_EQ(MustParse({"--unshare-ipc", "--help", "--bind"}).action, Action::Help);
  // ...but what precedes it is.
  EXPECT_EQ(ErrorOf({"--bogus", "--help"}), "Unknown option --bogus");
}

TEST(ParserGeneral, Version) {
  EXPECT_EQ(MustParse({"--version"}).action, Action::Version);
  EXPECT_EQ(MustParse({"--version", "--bogus"}).action, Action::Version);
  EXPECT_EQ(MustParse({"--help", "--version"}).action, Action::Help);
  EXPECT_EQ(MustParse({"--version", "--help"}).action, Action::Version);
}

// --version: bwrap's line under the name bwrap (callers parse it), boxjail's block otherwise.
TEST(ParserVersion, BwrapsLineUnderItsName) {
  EXPECT_EQ(boxjail::version_text("bwrap"), "bubblewrap 0.11.1\n");
  EXPECT_EQ(boxjail::version_text("boxjail").rfind("boxjail ", 0), 0u);
  EXPECT_NE(boxjail::version_text().find("compatible with: bubblewrap 0.11.1 command line"),
            std::string::npos);
}

TEST(ParserGeneral, HelpKeepsEarlierWarnings) {
  auto inv = MustParse({"--chdir", "/", "--chdir", "/", "--help"});
  EXPECT_EQ(inv.action, Action::Help);
  ASSERT_EQ(inv.warnings.size(), 1U);
  EXPECT_EQ(inv.warnings[0].text, "Only the last --chdir option will take effect");
}

TEST(ParserGeneral, PlainRunHasNoWarnings) {
  auto inv = MustParse({"--unshare-all", "true"});
  EXPECT_EQ(inv.action, Action::Run);
  EXPECT_TRUE(inv.warnings.empty());
}

TEST(ParserGeneral, Argv0) {
  Spec s = MustSpec({"--argv0", "foo", "true"});
  ASSERT_TRUE(s.argv0);
  EXPECT_EQ(*s.argv0, "foo");
  EXPECT_FALSE(MustSpec({"true"}).argv0);
  EXPECT_EQ(MustSpec({"--argv0", "", "true"}).argv0, std::optional<std::string>(""));
}

TEST(ParserGeneral, LevelPrefixFlag) {
  EXPECT_TRUE(MustSpec({"--level-prefix", "true"}).level_prefix);
  EXPECT_TRUE(MustSpec({"--level-prefix", "--level-prefix", "true"}).level_prefix);
  EXPECT_FALSE(MustSpec({"true"}).level_prefix);
}

TEST(ParserGeneral, LevelPrefixAppliesFromWhereItIsParsed) {
  auto inv = MustParse({"--chdir", "a", "--chdir", "b", "--level-prefix", "--chdir", "c", "true"});
  ASSERT_EQ(inv.warnings.size(), 2U);
  EXPECT_FALSE(inv.warnings[0].level_prefix);
  EXPECT_TRUE(inv.warnings[1].level_prefix);
  EXPECT_EQ(inv.warnings[1].text, "Only the last --chdir option will take effect");
}

TEST(ParserGeneral, LevelPrefixMarksLaterErrorsOnly) {
  auto before = Parse({"--bogus", "--level-prefix", "true"});
  ASSERT_FALSE(before);
  EXPECT_FALSE(before.error().level_prefix);
  auto after = Parse({"--level-prefix", "--bogus", "true"});
  ASSERT_FALSE(after);
  EXPECT_TRUE(after.error().level_prefix);
  auto usage = Parse({"--level-prefix"});
  ASSERT_FALSE(usage);
  EXPECT_TRUE(usage.error().usage);
  EXPECT_TRUE(usage.error().level_prefix);
}

// --------------------------------------------------------------------------------------------
// The 9000-argument cap.

TEST(ParserArgCap, NineThousandArgumentsAreAccepted) {
  Args args(8999, "--new-session");
  args.push_back("true");
  EXPECT_TRUE(MustSpec(args).new_session);
}

TEST(ParserArgCap, CommandArgumentsCountToo) {
  Args args(9001, "x");
  EXPECT_EQ(ErrorOf(args), "Exceeded maximum number of arguments 9000");
  Args with_options(9000, "--new-session");
  with_options.push_back("true");
  EXPECT_EQ(ErrorOf(with_options), "Exceeded maximum number of arguments 9000");
}

TEST(ParserArgCap, ArgsFileContentsCount) {
  // 3 arguments on the command line ("--args", FD, "true") + 8997 in the file = 9000.
  const std::string file = Nul(Args(8997, "a"));
  int fd = PipeWith(file);
  auto ok = Parse({"--args", std::to_string(fd), "true"});
  CloseIfOpen(fd);
  // The file's first "a" is a non-option and ends the file; the count is still within the cap.
  EXPECT_TRUE(ok) << (ok ? "" : ok.error().message);

  fd = PipeWith(Nul(Args(8998, "a")));
  EXPECT_EQ(ErrorOf({"--args", std::to_string(fd), "true"}),
            "Exceeded maximum number of arguments 9000");
  CloseIfOpen(fd);
}

// --------------------------------------------------------------------------------------------
// --args FD.

TEST(ParserArgsFile, SplicesArgumentsInPlace) {
  const int fd = PipeWith(Nul({"--dir", "/b", "--setenv", "A", "1"}));
  Spec s = MustSpec({"--dir", "/a", "--args", std::to_string(fd), "--dir", "/c", "true"});
  ASSERT_EQ(s.ops.size(), 3U);
  EXPECT_EQ(s.ops[0].dest, "/a");
  EXPECT_EQ(s.ops[1].dest, "/b");
  EXPECT_EQ(s.ops[2].dest, "/c");
  EXPECT_EQ(s.env, (Args{"A=1"}));
  EXPECT_EQ(s.command, (Args{"true"}));
}

TEST(ParserArgsFile, ClosesTheFd) {
  const int fd = PipeWith(Nul({"--unshare-ipc"}));
  EXPECT_TRUE(MustSpec({"--args", std::to_string(fd), "true"}).unshare_ipc);
  EXPECT_FALSE(FdIsOpen(fd));
}

TEST(ParserArgsFile, TrailingNulIsOptional) {
  const int fd = PipeWith(Nul({"--chdir", "/x"}, /*trailing=*/false));
  EXPECT_EQ(MustSpec({"--args", std::to_string(fd), "true"}).chdir,
            std::optional<std::string>("/x"));
}

TEST(ParserArgsFile, EmptyStringsAreArguments) {
  const int fd = PipeWith(Nul({"--setenv", "A", "", "--setenv", "", "B"}));
  auto r = Parse({"--args", std::to_string(fd), "true"});
  // The second --setenv has an empty name, which setenv(3) refuses.
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "setenv failed");

  const int fd2 = PipeWith(Nul({"--setenv", "A", "", "--chdir", ""}));
  Spec s = MustSpec({"--args", std::to_string(fd2), "true"});
  EXPECT_EQ(s.env, (Args{"A="}));
  EXPECT_EQ(s.chdir, std::optional<std::string>(""));
}

TEST(ParserArgsFile, EmptyFileIsNoArguments) {
  const int fd = PipeWith("");
  Spec s = MustSpec({"--args", std::to_string(fd), "true"});
  EXPECT_TRUE(s.ops.empty());
  EXPECT_FALSE(FdIsOpen(fd));
}

TEST(ParserArgsFile, MayBeRepeated) {
  const int a = PipeWith(Nul({"--dir", "/1"}));
  const int b = PipeWith(Nul({"--dir", "/2"}));
  Spec s = MustSpec({"--args", std::to_string(a), "--args", std::to_string(b), "true"});
  ASSERT_EQ(s.ops.size(), 2U);
  EXPECT_EQ(s.ops[0].dest, "/1");
  EXPECT_EQ(s.ops[1].dest, "/2");
}

TEST(ParserArgsFile, NestedArgsIsRefused) {
  const int inner = PipeWith("");
  const int fd = PipeWith(Nul({"--args", std::to_string(inner)}));
  EXPECT_EQ(ErrorOf({"--args", std::to_string(fd), "true"}),
            "--args not supported in arguments file");
  CloseIfOpen(inner);
  // The nesting check comes before the operand count, as in bwrap.
  const int bare = PipeWith(Nul({"--args"}));
  EXPECT_EQ(ErrorOf({"--args", std::to_string(bare), "true"}),
            "--args not supported in arguments file");
}

TEST(ParserArgsFile, NonOptionEndsTheFileOnly) {
  const int fd = PipeWith(Nul({"--unshare-ipc", "cmd", "--unshare-pid"}));
  Spec s = MustSpec({"--args", std::to_string(fd), "--unshare-net", "real"});
  EXPECT_TRUE(s.unshare_ipc);
  EXPECT_FALSE(s.unshare_pid);  // after the non-option: ignored
  EXPECT_TRUE(s.unshare_net);
  EXPECT_EQ(s.command, (Args{"real"}));
}

TEST(ParserArgsFile, CommandCannotComeFromTheFile) {
  const int fd = PipeWith(Nul({"cmd", "arg"}));
  auto r = Parse({"--args", std::to_string(fd)});
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().usage);
}

TEST(ParserArgsFile, DoubleDashEndsTheFileOnly) {
  const int fd = PipeWith(Nul({"--", "--unshare-pid"}));
  Spec s = MustSpec({"--args", std::to_string(fd), "--unshare-ipc", "true"});
  EXPECT_FALSE(s.unshare_pid);
  EXPECT_TRUE(s.unshare_ipc);
}

TEST(ParserArgsFile, ErrorsInsideTheFile) {
  int fd = PipeWith(Nul({"--bogus"}));
  EXPECT_EQ(ErrorOf({"--args", std::to_string(fd), "true"}), "Unknown option --bogus");
  // Operands cannot continue past the end of the file.
  fd = PipeWith(Nul({"--bind", "a"}));
  EXPECT_EQ(ErrorOf({"--args", std::to_string(fd), "b", "true"}), "--bind takes two arguments");
}

TEST(ParserArgsFile, HelpInsideTheFile) {
  const int fd = PipeWith(Nul({"--help"}));
  EXPECT_EQ(MustParse({"--args", std::to_string(fd)}).action, Action::Help);
}

TEST(ParserArgsFile, PendingPermsReachIntoTheFile) {
  const int fd = PipeWith(Nul({"--dir", "/x"}));
  Spec s = MustSpec({"--perms", "0700", "--args", std::to_string(fd), "true"});
  ASSERT_EQ(s.ops.size(), 1U);
  EXPECT_EQ(s.ops[0].perms, std::optional<unsigned>(0700));
}

TEST(ParserArgsFile, PermsLeftPendingByTheFileFailAtArgs) {
  const int fd = PipeWith(Nul({"--perms", "0700"}));
  EXPECT_EQ(ErrorOf({"--args", std::to_string(fd), "--dir", "/x", "true"}),
            "--perms must be followed by an option that creates a file");
}

TEST(ParserArgsFile, ReadFailureCarriesErrno) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  ::close(fds[1]);
  auto r = Parse({"--args", std::to_string(fds[0]), "true"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "Can't read --args data");
  EXPECT_EQ(r.error().err, EBADF);
  EXPECT_EQ(r.error().step, "parse-args");
}

TEST(ParserArgsFile, MissingFd) { EXPECT_EQ(ErrorOf({"--args"}), "--args takes an argument"); }

// --------------------------------------------------------------------------------------------
// Namespaces.

TEST(ParserNamespaces, EachUnshareFlag) {
  EXPECT_TRUE(MustSpec({"--unshare-user", "x"}).unshare_user);
  EXPECT_TRUE(MustSpec({"--unshare-user-try", "x"}).unshare_user_try);
  EXPECT_TRUE(MustSpec({"--unshare-ipc", "x"}).unshare_ipc);
  EXPECT_TRUE(MustSpec({"--unshare-pid", "x"}).unshare_pid);
  EXPECT_TRUE(MustSpec({"--unshare-net", "x"}).unshare_net);
  EXPECT_TRUE(MustSpec({"--unshare-uts", "x"}).unshare_uts);
  EXPECT_TRUE(MustSpec({"--unshare-cgroup", "x"}).unshare_cgroup);
  EXPECT_TRUE(MustSpec({"--unshare-cgroup-try", "x"}).unshare_cgroup_try);
  Spec none = MustSpec({"x"});
  EXPECT_FALSE(none.unshare_user || none.unshare_user_try || none.unshare_ipc || none.unshare_pid ||
               none.unshare_net || none.unshare_uts || none.unshare_cgroup ||
               none.unshare_cgroup_try);
}

TEST(ParserNamespaces, UnshareAllUsesTryForms) {
  Spec s = MustSpec({"--unshare-all", "x"});
  EXPECT_TRUE(s.unshare_user_try);
  EXPECT_FALSE(s.unshare_user);
  EXPECT_TRUE(s.unshare_ipc);
  EXPECT_TRUE(s.unshare_pid);
  EXPECT_TRUE(s.unshare_net);
  EXPECT_TRUE(s.unshare_uts);
  EXPECT_TRUE(s.unshare_cgroup_try);
  EXPECT_FALSE(s.unshare_cgroup);
}

TEST(ParserNamespaces, ShareNetOrderMatters) {
  EXPECT_FALSE(MustSpec({"--unshare-all", "--share-net", "x"}).unshare_net);
  EXPECT_FALSE(MustSpec({"--unshare-net", "--share-net", "x"}).unshare_net);
  EXPECT_TRUE(MustSpec({"--share-net", "--unshare-all", "x"}).unshare_net);
  Spec s = MustSpec({"--unshare-all", "--share-net", "x"});
  EXPECT_TRUE(s.unshare_ipc && s.unshare_pid && s.unshare_uts);
}

TEST(ParserNamespaces, NamespaceFds) {
  Spec s = MustSpec({"--userns", "3", "--userns2", "4", "--pidns", "5", "x"});
  EXPECT_EQ(s.userns_fd, 3);
  EXPECT_EQ(s.userns2_fd, 4);
  EXPECT_EQ(s.pidns_fd, 5);
  // 0.11.1 honours fd 0.
  EXPECT_EQ(MustSpec({"--userns", "0", "x"}).userns_fd, 0);
  Spec none = MustSpec({"x"});
  EXPECT_EQ(none.userns_fd, -1);
  EXPECT_EQ(none.userns2_fd, -1);
  EXPECT_EQ(none.pidns_fd, -1);
}

TEST(ParserNamespaces, UserNamespaceLimits) {
  EXPECT_TRUE(MustSpec({"--disable-userns", "x"}).disable_userns);
  EXPECT_TRUE(MustSpec({"--assert-userns-disabled", "x"}).assert_userns_disabled);
  EXPECT_FALSE(MustSpec({"x"}).disable_userns);
  EXPECT_FALSE(MustSpec({"x"}).assert_userns_disabled);
}

TEST(ParserNamespaces, UidGid) {
  Spec s = MustSpec({"--uid", "1000", "--gid", "0", "x"});
  EXPECT_EQ(s.uid, std::optional<uid_t>(1000));
  EXPECT_EQ(s.gid, std::optional<gid_t>(0));
  EXPECT_FALSE(MustSpec({"x"}).uid);
  EXPECT_FALSE(MustSpec({"x"}).gid);
}

TEST(ParserNamespaces, InvalidUidGid) {
  EXPECT_EQ(ErrorOf({"--uid", "-1", "x"}), "Invalid uid: -1");
  EXPECT_EQ(ErrorOf({"--uid", "abc", "x"}), "Invalid uid: abc");
  EXPECT_EQ(ErrorOf({"--uid", "", "x"}), "Invalid uid: ");
  EXPECT_EQ(ErrorOf({"--uid", "12x", "x"}), "Invalid uid: 12x");
  EXPECT_EQ(ErrorOf({"--gid", "-5", "x"}), "Invalid gid: -5");
  EXPECT_EQ(ErrorOf({"--gid", "0x10", "x"}), "Invalid gid: 0x10");
  // Not silently wrapped to a small id, unlike bwrap's int truncation.
  EXPECT_EQ(ErrorOf({"--uid", "4294967296", "x"}), "Invalid uid: 4294967296");
}

TEST(ParserNamespaces, Hostname) {
  EXPECT_EQ(MustSpec({"--hostname", "box", "x"}).hostname, std::optional<std::string>("box"));
  EXPECT_FALSE(MustSpec({"x"}).hostname);
}

// --------------------------------------------------------------------------------------------
// Environment and process.

TEST(ParserProcess, Chdir) {
  EXPECT_EQ(MustSpec({"--chdir", "/tmp", "x"}).chdir, std::optional<std::string>("/tmp"));
  EXPECT_FALSE(MustSpec({"x"}).chdir);
}

TEST(ParserProcess, LockFilesAccumulateInOrder) {
  Spec s = MustSpec({"--lock-file", "/a", "--lock-file", "/b", "--lock-file", "/a", "x"});
  EXPECT_EQ(s.lock_files, (Args{"/a", "/b", "/a"}));
}

TEST(ParserProcess, StatusAndSyncFds) {
  Spec s = MustSpec({"--sync-fd", "3", "--block-fd", "4", "--userns-block-fd", "5", "--info-fd",
                     "6", "--json-status-fd", "7", "x"});
  EXPECT_EQ(s.sync_fd, 3);
  EXPECT_EQ(s.block_fd, 4);
  EXPECT_EQ(s.userns_block_fd, 5);
  EXPECT_EQ(s.info_fd, 6);
  EXPECT_EQ(s.json_status_fd, 7);
  Spec none = MustSpec({"x"});
  EXPECT_EQ(none.sync_fd, -1);
  EXPECT_EQ(none.block_fd, -1);
  EXPECT_EQ(none.userns_block_fd, -1);
  EXPECT_EQ(none.info_fd, -1);
  EXPECT_EQ(none.json_status_fd, -1);
}

TEST(ParserProcess, ProcessFlags) {
  Spec s = MustSpec({"--new-session", "--die-with-parent", "--as-pid-1", "x"});
  EXPECT_TRUE(s.new_session);
  EXPECT_TRUE(s.die_with_parent);
  EXPECT_TRUE(s.as_pid_1);
  Spec none = MustSpec({"x"});
  EXPECT_FALSE(none.new_session || none.die_with_parent || none.as_pid_1);
}

TEST(ParserProcess, Labels) {
  Spec s = MustSpec({"--exec-label", "system_u:a", "--file-label", "system_u:b", "x"});
  EXPECT_EQ(s.exec_label, std::optional<std::string>("system_u:a"));
  EXPECT_EQ(s.file_label, std::optional<std::string>("system_u:b"));
}

TEST(ParserProcess, Seccomp) {
  EXPECT_EQ(MustSpec({"--seccomp", "9", "x"}).seccomp_fd, 9);
  EXPECT_EQ(MustSpec({"x"}).seccomp_fd, -1);
  Spec s = MustSpec({"--add-seccomp-fd", "5", "--add-seccomp-fd", "3", "x"});
  EXPECT_EQ(s.add_seccomp_fds, (std::vector<int>{5, 3}));
  EXPECT_EQ(s.seccomp_fd, -1);
}

TEST(ParserProcess, SeccompConflictWordingDependsOnOrder) {
  EXPECT_EQ(ErrorOf({"--add-seccomp-fd", "3", "--seccomp", "4", "x"}),
            "--seccomp cannot be combined with --add-seccomp-fd");
  EXPECT_EQ(ErrorOf({"--seccomp", "4", "--add-seccomp-fd", "3", "x"}),
            "--add-seccomp-fd cannot be combined with --seccomp");
}

// --------------------------------------------------------------------------------------------
// Environment editing.

TEST(ParserEnv, UntouchedEnvironmentIsCopied) {
  auto inv = MustParse({"x"}, {"A=1", "B=2"});
  EXPECT_EQ(inv.spec.env, (Args{"A=1", "B=2"}));
}

TEST(ParserEnv, SetenvReplacesInPlaceOrAppends) {
  auto inv = MustParse({"--setenv", "A", "9", "--setenv", "C", "3", "x"}, {"A=1", "B=2"});
  EXPECT_EQ(inv.spec.env, (Args{"A=9", "B=2", "C=3"}));
}

TEST(ParserEnv, SetenvValueMayHoldEquals) {
  auto inv = MustParse({"--setenv", "A", "x=y", "--setenv", "E", "", "x"});
  EXPECT_EQ(inv.spec.env, (Args{"A=x=y", "E="}));
}

TEST(ParserEnv, NamePrefixesAreDistinct) {
  auto inv = MustParse({"--unsetenv", "PATH", "x"}, {"PATHX=1", "PATH=2", "XPATH=3"});
  EXPECT_EQ(inv.spec.env, (Args{"PATHX=1", "XPATH=3"}));
}

TEST(ParserEnv, UnsetenvRemovesEveryCopy) {
  auto inv = MustParse({"--unsetenv", "A", "--unsetenv", "NOPE", "x"}, {"A=1", "B=2", "A=3"});
  EXPECT_EQ(inv.spec.env, (Args{"B=2"}));
}

TEST(ParserEnv, ClearenvWipesEarlierSetenv) {
  auto inv = MustParse({"--setenv", "A", "1", "--clearenv", "--setenv", "B", "2", "x"},
                       {"HOME=/root", "PATH=/bin"});
  EXPECT_EQ(inv.spec.env, (Args{"B=2"}));
}

TEST(ParserEnv, OrderOfEditsIsKept) {
  auto inv = MustParse(
      {"--setenv", "A", "1", "--unsetenv", "A", "--setenv", "B", "1", "--setenv", "A", "2", "x"});
  EXPECT_EQ(inv.spec.env, (Args{"B=1", "A=2"}));
}

TEST(ParserEnv, BadNamesFailLikeLibc) {
  EXPECT_EQ(ErrorOf({"--setenv", "A=B", "x", "true"}), "setenv failed");
  EXPECT_EQ(ErrorOf({"--setenv", "", "x", "true"}), "setenv failed");
  EXPECT_EQ(ErrorOf({"--unsetenv", "A=B", "true"}), "unsetenv failed");
  EXPECT_EQ(ErrorOf({"--unsetenv", "", "true"}), "unsetenv failed");
}

// --------------------------------------------------------------------------------------------
// Capabilities.

constexpr std::uint64_t Bit(int cap) { return std::uint64_t{1} << cap; }
constexpr int kChown = 0, kNetRaw = 13, kSysAdmin = 21, kCheckpointRestore = 40;

TEST(ParserCaps, NotSpecifiedByDefault) {
  Spec s = MustSpec({"x"});
  EXPECT_FALSE(s.caps.specified);
  EXPECT_EQ(s.caps.mask, 0U);
}

TEST(ParserCaps, NameForms) {
  for (const char* name :
       {"CAP_SYS_ADMIN", "cap_sys_admin", "Cap_Sys_Admin", "sys_admin", "SYS_ADMIN", "21"}) {
    Spec s = MustSpec({"--cap-add", name, "x"});
    EXPECT_TRUE(s.caps.specified) << name;
    EXPECT_EQ(s.caps.mask, Bit(kSysAdmin)) << name;
  }
  EXPECT_EQ(MustSpec({"--cap-add", "CAP_CHECKPOINT_RESTORE", "x"}).caps.mask,
            Bit(kCheckpointRestore));
  EXPECT_EQ(MustSpec({"--cap-add", "0x0d", "x"}).caps.mask, Bit(kNetRaw));
}

TEST(ParserCaps, AddAndDropApplyInOrder) {
  Spec s = MustSpec({"--cap-add", "CAP_CHOWN", "--cap-add", "CAP_NET_RAW", "--cap-drop",
                     "CAP_CHOWN", "--cap-add", "sys_admin", "x"});
  EXPECT_EQ(s.caps.mask, Bit(kNetRaw) | Bit(kSysAdmin));
}

TEST(ParserCaps, DropAloneIsStillSpecified) {
  Spec s = MustSpec({"--cap-drop", "CAP_CHOWN", "x"});
  EXPECT_TRUE(s.caps.specified);
  EXPECT_EQ(s.caps.mask, 0U);
}

TEST(ParserCaps, All) {
  EXPECT_EQ(MustSpec({"--cap-add", "ALL", "x"}).caps.mask, ~std::uint64_t{0});
  EXPECT_EQ(MustSpec({"--cap-add", "aLl", "x"}).caps.mask, ~std::uint64_t{0});
  EXPECT_EQ(MustSpec({"--cap-add", "ALL", "--cap-drop", "CAP_CHOWN", "x"}).caps.mask, ~Bit(kChown));
  EXPECT_EQ(MustSpec({"--cap-add", "ALL", "--cap-drop", "all", "x"}).caps.mask, 0U);
  EXPECT_EQ(MustSpec({"--cap-drop", "ALL", "--cap-add", "CAP_CHOWN", "x"}).caps.mask, Bit(kChown));
}

TEST(ParserCaps, UnknownNames) {
  EXPECT_EQ(ErrorOf({"--cap-add", "foo", "x"}), "unknown cap: foo");
  EXPECT_EQ(ErrorOf({"--cap-drop", "CAP_FOO", "x"}), "unknown cap: CAP_FOO");
  EXPECT_EQ(ErrorOf({"--cap-add", "cap_all", "x"}), "unknown cap: cap_all");
  EXPECT_EQ(ErrorOf({"--cap-add", "", "x"}), "unknown cap: ");
  EXPECT_EQ(ErrorOf({"--cap-add", "64", "x"}), "unknown cap: 64");
  EXPECT_EQ(ErrorOf({"--cap-add", "cap_chownx", "x"}), "unknown cap: cap_chownx");
}

// --------------------------------------------------------------------------------------------
// Filesystem operations.

void ExpectBind(const Args& args, bool readonly, bool devices, bool allow_missing) {
  SCOPED_TRACE(args[0]);
  Spec s = MustSpec(args);
  ASSERT_EQ(s.ops.size(), 1U);
  const MountOp& op = s.ops[0];
  EXPECT_EQ(op.kind, OpKind::Bind);
  EXPECT_EQ(op.source, "/src");
  EXPECT_EQ(op.dest, "/dst");
  EXPECT_EQ(op.readonly, readonly);
  EXPECT_EQ(op.devices, devices);
  EXPECT_EQ(op.allow_missing, allow_missing);
}

TEST(ParserFilesystem, BindVariants) {
  ExpectBind({"--bind", "/src", "/dst", "x"}, false, false, false);
  ExpectBind({"--bind-try", "/src", "/dst", "x"}, false, false, true);
  ExpectBind({"--dev-bind", "/src", "/dst", "x"}, false, true, false);
  ExpectBind({"--dev-bind-try", "/src", "/dst", "x"}, false, true, true);
  ExpectBind({"--ro-bind", "/src", "/dst", "x"}, true, false, false);
  ExpectBind({"--ro-bind-try", "/src", "/dst", "x"}, true, false, true);
}

TEST(ParserFilesystem, BindFd) {
  Spec s = MustSpec({"--bind-fd", "5", "/a", "--ro-bind-fd", "6", "/b", "x"});
  ASSERT_EQ(s.ops.size(), 2U);
  EXPECT_EQ(s.ops[0].kind, OpKind::BindFd);
  EXPECT_EQ(s.ops[0].fd, 5);
  EXPECT_EQ(s.ops[0].dest, "/a");
  EXPECT_FALSE(s.ops[0].readonly);
  EXPECT_EQ(s.ops[1].kind, OpKind::BindFd);
  EXPECT_EQ(s.ops[1].fd, 6);
  EXPECT_EQ(s.ops[1].dest, "/b");
  EXPECT_TRUE(s.ops[1].readonly);
}

TEST(ParserFilesystem, DestinationOnlyOperations) {
  Spec s = MustSpec(
      {"--remount-ro", "/r", "--proc", "/proc", "--dev", "/dev", "--mqueue", "/dev/mqueue", "x"});
  ASSERT_EQ(s.ops.size(), 4U);
  EXPECT_EQ(s.ops[0].kind, OpKind::RemountRo);
  EXPECT_EQ(s.ops[0].dest, "/r");
  EXPECT_EQ(s.ops[1].kind, OpKind::Proc);
  EXPECT_EQ(s.ops[1].dest, "/proc");
  EXPECT_EQ(s.ops[2].kind, OpKind::Dev);
  EXPECT_EQ(s.ops[2].dest, "/dev");
  EXPECT_EQ(s.ops[3].kind, OpKind::Mqueue);
  EXPECT_EQ(s.ops[3].dest, "/dev/mqueue");
}

TEST(ParserFilesystem, TmpfsAndDirDefaults) {
  Spec s = MustSpec({"--tmpfs", "/tmp", "--dir", "/d", "x"});
  ASSERT_EQ(s.ops.size(), 2U);
  EXPECT_EQ(s.ops[0].kind, OpKind::Tmpfs);
  EXPECT_EQ(s.ops[0].dest, "/tmp");
  EXPECT_FALSE(s.ops[0].perms);  // the engine applies bwrap's 0755
  EXPECT_FALSE(s.ops[0].size);
  EXPECT_EQ(s.ops[1].kind, OpKind::Dir);
  EXPECT_EQ(s.ops[1].dest, "/d");
  EXPECT_FALSE(s.ops[1].perms);
}

TEST(ParserFilesystem, FdBackedFiles) {
  Spec s =
      MustSpec({"--file", "3", "/f", "--bind-data", "4", "/b", "--ro-bind-data", "5", "/r", "x"});
  ASSERT_EQ(s.ops.size(), 3U);
  EXPECT_EQ(s.ops[0].kind, OpKind::File);
  EXPECT_EQ(s.ops[0].fd, 3);
  EXPECT_EQ(s.ops[0].dest, "/f");
  EXPECT_FALSE(s.ops[0].perms);
  EXPECT_EQ(s.ops[1].kind, OpKind::BindData);
  EXPECT_EQ(s.ops[1].fd, 4);
  EXPECT_EQ(s.ops[1].dest, "/b");
  EXPECT_FALSE(s.ops[1].readonly);
  EXPECT_EQ(s.ops[2].kind, OpKind::BindData);
  EXPECT_EQ(s.ops[2].fd, 5);
  EXPECT_EQ(s.ops[2].dest, "/r");
  EXPECT_TRUE(s.ops[2].readonly);
}

TEST(ParserFilesystem, Symlink) {
  Spec s = MustSpec({"--symlink", "usr/lib", "/lib", "x"});
  ASSERT_EQ(s.ops.size(), 1U);
  EXPECT_EQ(s.ops[0].kind, OpKind::Symlink);
  EXPECT_EQ(s.ops[0].source, "usr/lib");
  EXPECT_EQ(s.ops[0].dest, "/lib");
}

TEST(ParserFilesystem, Chmod) {
  Spec s = MustSpec({"--chmod", "0750", "/p", "--chmod", "7777", "/q", "x"});
  ASSERT_EQ(s.ops.size(), 2U);
  EXPECT_EQ(s.ops[0].kind, OpKind::Chmod);
  EXPECT_EQ(s.ops[0].dest, "/p");
  EXPECT_EQ(s.ops[0].perms, std::optional<unsigned>(0750));
  EXPECT_EQ(s.ops[1].perms, std::optional<unsigned>(07777));
}

TEST(ParserFilesystem, ChmodInvalidMode) {
  for (const char* mode : {"10000", "8", "-", "", "0x7", "07a"}) {
    EXPECT_EQ(ErrorOf({"--chmod", mode, "/p", "x"}), "--chmod takes an octal argument <= 07777")
        << mode;
  }
}

TEST(ParserFilesystem, OperationsKeepCommandLineOrder) {
  Spec s = MustSpec({"--ro-bind", "/usr", "/usr", "--proc", "/proc", "--symlink", "usr/bin", "/bin",
                     "--tmpfs", "/tmp", "--bind", "/a", "/b", "x"});
  std::vector<OpKind> kinds;
  for (const MountOp& op : s.ops) kinds.push_back(op.kind);
  EXPECT_EQ(kinds, (std::vector<OpKind>{OpKind::Bind, OpKind::Proc, OpKind::Symlink, OpKind::Tmpfs,
                                        OpKind::Bind}));
}

// --------------------------------------------------------------------------------------------
// --perms and --size.

TEST(ParserModifiers, PermsAppliesToTheNextFileCreatingOption) {
  struct Case {
    Args args;
    OpKind kind;
  };
  const std::vector<Case> cases = {
      {{"--dir", "/d"}, OpKind::Dir},
      {{"--file", "3", "/f"}, OpKind::File},
      {{"--bind-data", "3", "/b"}, OpKind::BindData},
      {{"--ro-bind-data", "3", "/r"}, OpKind::BindData},
      {{"--tmpfs", "/t"}, OpKind::Tmpfs},
  };
  for (const Case& c : cases) {
    Args args = {"--perms", "0640"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    args.push_back("x");
    Spec s = MustSpec(args);
    ASSERT_EQ(s.ops.size(), 1U) << c.args[0];
    EXPECT_EQ(s.ops[0].kind, c.kind);
    EXPECT_EQ(s.ops[0].perms, std::optional<unsigned>(0640)) << c.args[0];
  }
}

TEST(ParserModifiers, PermsIsConsumedByOneOption) {
  Spec s = MustSpec(
      {"--perms", "0700", "--dir", "/a", "--dir", "/b", "--perms", "1777", "--tmpfs", "/c", "x"});
  ASSERT_EQ(s.ops.size(), 3U);
  EXPECT_EQ(s.ops[0].perms, std::optional<unsigned>(0700));
  EXPECT_FALSE(s.ops[1].perms);
  EXPECT_EQ(s.ops[2].perms, std::optional<unsigned>(01777));
}

TEST(ParserModifiers, PermsMustBeFollowedByAFileCreatingOption) {
  const std::string msg = "--perms must be followed by an option that creates a file";
  EXPECT_EQ(ErrorOf({"--perms", "0700", "--bind", "/a", "/b", "x"}), msg);
  EXPECT_EQ(ErrorOf({"--perms", "0700", "--chmod", "0700", "/a", "x"}), msg);
  EXPECT_EQ(ErrorOf({"--perms", "0700", "--unshare-ipc", "x"}), msg);
  EXPECT_EQ(ErrorOf({"--perms", "0700", "--symlink", "a", "/b", "x"}), msg);
}

TEST(ParserModifiers, PermsGivenTwice) {
  EXPECT_EQ(ErrorOf({"--perms", "0700", "--perms", "0700", "--dir", "/x", "x"}),
            "--perms given twice for the same action");
}

TEST(ParserModifiers, PermsValueRange) {
  EXPECT_EQ(MustSpec({"--perms", "7777", "--dir", "/d", "x"}).ops.at(0).perms,
            std::optional<unsigned>(07777));
  EXPECT_EQ(MustSpec({"--perms", "0", "--dir", "/d", "x"}).ops.at(0).perms,
            std::optional<unsigned>(0));
  for (const char* bad : {"10000", "8", "", "abc", "0755x", "-1"}) {
    EXPECT_EQ(ErrorOf({"--perms", bad, "--dir", "/d", "x"}),
              "--perms takes an octal argument <= 07777")
        << bad;
  }
}

TEST(ParserModifiers, DanglingModifiersBeforeCommandAreIgnoredLikeBwrap) {
  // bwrap only checks the option that follows a modifier; COMMAND is not an option.
  EXPECT_TRUE(MustSpec({"--perms", "0700", "x"}).ops.empty());
  EXPECT_TRUE(MustSpec({"--size", "100", "--", "x"}).ops.empty());
}

TEST(ParserModifiers, SizeAppliesToTmpfs) {
  Spec s = MustSpec({"--size", "1048576", "--tmpfs", "/t", "--tmpfs", "/u", "x"});
  ASSERT_EQ(s.ops.size(), 2U);
  EXPECT_EQ(s.ops[0].size, std::optional<std::uint64_t>(1048576));
  EXPECT_FALSE(s.ops[1].size);
}

TEST(ParserModifiers, SizeAcceptsStrtoullBases) {
  EXPECT_EQ(MustSpec({"--size", "0x10", "--tmpfs", "/t", "x"}).ops.at(0).size,
            std::optional<std::uint64_t>(16));
  EXPECT_EQ(MustSpec({"--size", "010", "--tmpfs", "/t", "x"}).ops.at(0).size,
            std::optional<std::uint64_t>(8));
  EXPECT_EQ(MustSpec({"--size", "9223372036854775807", "--tmpfs", "/t", "x"}).ops.at(0).size,
            std::optional<std::uint64_t>(9223372036854775807ULL));
}

TEST(ParserModifiers, SizeInvalid) {
  for (const char* bad : {"0", "-1", " 1", "+1", "", "abc", "1k", "0x", "99999999999999999999"}) {
    EXPECT_EQ(ErrorOf({"--size", bad, "--tmpfs", "/t", "x"}),
              "--size takes a non-zero number of bytes")
        << bad;
  }
  EXPECT_EQ(ErrorOf({"--size", "9223372036854775808", "--tmpfs", "/t", "x"}),
            "--size (for tmpfs) is limited to 9223372036854775807");
}

TEST(ParserModifiers, SizeMustBeFollowedByTmpfs) {
  EXPECT_EQ(ErrorOf({"--size", "100", "--dir", "/d", "x"}), "--size must be followed by --tmpfs");
  EXPECT_EQ(ErrorOf({"--size", "100", "--perms", "0700", "--dir", "/d", "x"}),
            "--size must be followed by --tmpfs");
}

TEST(ParserModifiers, SizeGivenTwice) {
  EXPECT_EQ(ErrorOf({"--size", "1", "--size", "2", "--tmpfs", "/t", "x"}),
            "--size given twice for the same action");
}

TEST(ParserModifiers, PermsAndSizeCombineInEitherOrder) {
  for (const Args& args : {Args{"--perms", "0700", "--size", "4096", "--tmpfs", "/t", "x"},
                           Args{"--size", "4096", "--perms", "0700", "--tmpfs", "/t", "x"}}) {
    Spec s = MustSpec(args);
    ASSERT_EQ(s.ops.size(), 1U);
    EXPECT_EQ(s.ops[0].perms, std::optional<unsigned>(0700));
    EXPECT_EQ(s.ops[0].size, std::optional<std::uint64_t>(4096));
  }
}

// --------------------------------------------------------------------------------------------
// Overlays.

TEST(ParserOverlay, Overlay) {
  Spec s = MustSpec(
      {"--overlay-src", "/low1", "--overlay-src", "/low2", "--overlay", "/rw", "/work", "/m", "x"});
  ASSERT_EQ(s.ops.size(), 1U);
  const MountOp& op = s.ops[0];
  EXPECT_EQ(op.kind, OpKind::Overlay);
  EXPECT_EQ(op.overlay_sources, (Args{"/low1", "/low2"}));
  EXPECT_EQ(op.overlay_upper, "/rw");
  EXPECT_EQ(op.overlay_work, "/work");
  EXPECT_EQ(op.dest, "/m");
}

TEST(ParserOverlay, TmpAndRoOverlay) {
  Spec s = MustSpec({"--overlay-src", "/a", "--tmp-overlay", "/t", "--overlay-src", "/b",
                     "--overlay-src", "/c", "--ro-overlay", "/r", "x"});
  ASSERT_EQ(s.ops.size(), 2U);
  EXPECT_EQ(s.ops[0].kind, OpKind::TmpOverlay);
  EXPECT_EQ(s.ops[0].overlay_sources, (Args{"/a"}));
  EXPECT_EQ(s.ops[0].dest, "/t");
  EXPECT_EQ(s.ops[1].kind, OpKind::RoOverlay);
  EXPECT_EQ(s.ops[1].overlay_sources, (Args{"/b", "/c"}));
  EXPECT_EQ(s.ops[1].dest, "/r");
}

TEST(ParserOverlay, SourcesAreConsumedByOneOverlay) {
  EXPECT_EQ(ErrorOf({"--overlay-src", "/a", "--tmp-overlay", "/t", "--tmp-overlay", "/u", "x"}),
            "--tmp-overlay requires at least one --overlay-src");
}

TEST(ParserOverlay, TooFewSources) {
  EXPECT_EQ(ErrorOf({"--overlay", "/rw", "/w", "/m", "x"}),
            "--overlay requires at least one --overlay-src");
  EXPECT_EQ(ErrorOf({"--tmp-overlay", "/m", "x"}),
            "--tmp-overlay requires at least one --overlay-src");
  EXPECT_EQ(ErrorOf({"--ro-overlay", "/m", "x"}),
            "--ro-overlay requires at least two --overlay-src");
  EXPECT_EQ(ErrorOf({"--overlay-src", "/a", "--ro-overlay", "/m", "x"}),
            "--ro-overlay requires at least two --overlay-src");
}

TEST(ParserOverlay, SourceMustBeFollowedByAnOverlay) {
  const std::string msg =
      "--overlay-src must be followed by another --overlay-src or one of --overlay, "
      "--tmp-overlay, or --ro-overlay";
  EXPECT_EQ(ErrorOf({"--overlay-src", "/a", "--bind", "/a", "/b", "x"}), msg);
  EXPECT_EQ(ErrorOf({"--overlay-src", "/a", "--perms", "0700", "--tmp-overlay", "/t", "x"}), msg);
  // Unlike --perms, a dangling --overlay-src before COMMAND is an error.
  EXPECT_EQ(ErrorOf({"--overlay-src", "/a", "x"}), msg);
  EXPECT_EQ(ErrorOf({"--overlay-src", "/a", "--", "x"}), msg);
}

TEST(ParserOverlay, PermsBeforeOverlaySrcFails) {
  EXPECT_EQ(ErrorOf({"--perms", "0700", "--overlay-src", "/a", "--tmp-overlay", "/t", "x"}),
            "--perms must be followed by an option that creates a file");
}

// --------------------------------------------------------------------------------------------
// Operand counts and fd syntax.

TEST(ParserOperands, MissingOperandWording) {
  const std::vector<std::pair<Args, std::string>> cases = {
      {{"--args"}, "--args takes an argument"},
      {{"--argv0"}, "--argv0 takes one argument"},
      {{"--userns"}, "--userns takes an argument"},
      {{"--userns2"}, "--userns2 takes an argument"},
      {{"--pidns"}, "--pidns takes an argument"},
      {{"--uid"}, "--uid takes an argument"},
      {{"--gid"}, "--gid takes an argument"},
      {{"--hostname"}, "--hostname takes an argument"},
      {{"--chdir"}, "--chdir takes one argument"},
      {{"--setenv", "A"}, "--setenv takes two arguments"},
      {{"--unsetenv"}, "--unsetenv takes an argument"},
      {{"--lock-file"}, "--lock-file takes an argument"},
      {{"--sync-fd"}, "--sync-fd takes an argument"},
      {{"--bind", "a"}, "--bind takes two arguments"},
      {{"--bind-try", "a"}, "--bind-try takes two arguments"},
      {{"--dev-bind", "a"}, "--dev-bind takes two arguments"},
      {{"--dev-bind-try"}, "--dev-bind-try takes two arguments"},
      {{"--ro-bind", "a"}, "--ro-bind takes two arguments"},
      {{"--ro-bind-try", "a"}, "--ro-bind-try takes two arguments"},
      {{"--bind-fd", "3"}, "--bind-fd takes two arguments"},
      {{"--ro-bind-fd", "3"}, "--bind-fd takes two arguments"},  // sic, as bwrap
      {{"--remount-ro"}, "--remount-ro takes one argument"},
      {{"--overlay-src"}, "--overlay-src takes an argument"},
      {{"--overlay", "a", "b"}, "--overlay takes three arguments"},
      {{"--tmp-overlay"}, "--tmp-overlay takes an argument"},
      {{"--ro-overlay"}, "--ro-overlay takes an argument"},
      {{"--exec-label"}, "--exec-label takes an argument"},
      {{"--file-label"}, "--file-label takes an argument"},
      {{"--proc"}, "--proc takes an argument"},
      {{"--dev"}, "--dev takes an argument"},
      {{"--tmpfs"}, "--tmpfs takes an argument"},
      {{"--mqueue"}, "--mqueue takes an argument"},
      {{"--dir"}, "--dir takes an argument"},
      {{"--file", "3"}, "--file takes two arguments"},
      {{"--bind-data", "3"}, "--bind-data takes two arguments"},
      {{"--ro-bind-data", "3"}, "--ro-bind-data takes two arguments"},
      {{"--symlink", "a"}, "--symlink takes two arguments"},
      {{"--seccomp"}, "--seccomp takes an argument"},
      {{"--add-seccomp-fd"}, "--add-seccomp-fd takes an argument"},
      {{"--block-fd"}, "--block-fd takes an argument"},
      {{"--userns-block-fd"}, "--userns-block-fd takes an argument"},
      {{"--info-fd"}, "--info-fd takes an argument"},
      {{"--json-status-fd"}, "--json-status-fd takes an argument"},
      {{"--cap-add"}, "--cap-add takes an argument"},
      {{"--cap-drop"}, "--cap-drop takes an argument"},
      {{"--perms"}, "--perms takes an argument"},
      {{"--size"}, "--size takes an argument"},
      {{"--chmod", "0700"}, "--chmod takes two arguments"},
  };
  for (const auto& [args, msg] : cases) EXPECT_EQ(ErrorOf(args), msg) << args[0];
}

TEST(ParserOperands, OperandsMayLookLikeOptions) {
  // An option takes its operands whatever they look like.
  Spec s = MustSpec({"--chdir", "--bind", "--setenv", "--x", "-y", "x"});
  EXPECT_EQ(s.chdir, std::optional<std::string>("--bind"));
  EXPECT_EQ(s.env, (Args{"--x=-y"}));
}

TEST(ParserOperands, InvalidFdWording) {
  const std::vector<Args> fd_options = {
      {"--args"},
      {"--userns"},
      {"--userns2"},
      {"--pidns"},
      {"--sync-fd"},
      {"--block-fd"},
      {"--userns-block-fd"},
      {"--info-fd"},
      {"--json-status-fd"},
      {"--seccomp"},
      {"--add-seccomp-fd"},
      {"--bind-fd", "", "/d"},
      {"--ro-bind-fd", "", "/d"},
      {"--file", "", "/d"},
      {"--bind-data", "", "/d"},
      {"--ro-bind-data", "", "/d"},
  };
  for (const char* bad : {"-1", "0a", "", "x", "3.0", "99999999999"}) {
    for (Args args : fd_options) {
      if (args.size() == 1) args.push_back("");
      args[1] = bad;
      args.push_back("true");
      EXPECT_EQ(ErrorOf(args), std::string("Invalid fd: ") + bad) << args[0];
    }
  }
}

TEST(ParserOperands, FdSyntaxFollowsStrtol) {
  // bwrap accepts what strtol accepts in full: leading blanks and a '+' sign.
  EXPECT_EQ(MustSpec({"--sync-fd", "+7", "x"}).sync_fd, 7);
  EXPECT_EQ(MustSpec({"--sync-fd", " 7", "x"}).sync_fd, 7);
  EXPECT_EQ(MustSpec({"--sync-fd", "007", "x"}).sync_fd, 7);
}

// --------------------------------------------------------------------------------------------
// Repeat rules.

TEST(ParserRepeat, LastWinsOptionsWarn) {
  const std::vector<Args> w_options = {
      {"--userns", "3"},     {"--userns2", "3"},
      {"--pidns", "3"},      {"--uid", "3"},
      {"--gid", "3"},        {"--hostname", "h"},
      {"--chdir", "/"},      {"--sync-fd", "3"},
      {"--block-fd", "3"},   {"--userns-block-fd", "3"},
      {"--info-fd", "3"},    {"--json-status-fd", "3"},
      {"--seccomp", "3"},    {"--exec-label", "l"},
      {"--file-label", "l"},
  };
  for (const Args& once : w_options) {
    Args args = once;
    args.insert(args.end(), once.begin(), once.end());
    args.insert(args.end(), once.begin(), once.end());
    args.push_back("x");
    auto inv = MustParse(args);
    const std::string expected = "Only the last " + once[0] + " option will take effect";
    ASSERT_EQ(inv.warnings.size(), 2U) << once[0];
    EXPECT_EQ(inv.warnings[0].text, expected);
    EXPECT_EQ(inv.warnings[1].text, expected);
    EXPECT_TRUE(MustParse(Cmd(once)).warnings.empty()) << once[0];
  }
}

TEST(ParserRepeat, LastValueWins) {
  Spec s =
      MustSpec({"--chdir",   "/a", "--chdir",   "/b", "--uid",        "1",  "--uid",        "2",
                "--gid",     "3",  "--gid",     "4",  "--hostname",   "h1", "--hostname",   "h2",
                "--userns",  "5",  "--userns",  "6",  "--sync-fd",    "7",  "--sync-fd",    "8",
                "--seccomp", "9",  "--seccomp", "10", "--exec-label", "a",  "--exec-label", "b",
                "x"});
  EXPECT_EQ(s.chdir, std::optional<std::string>("/b"));
  EXPECT_EQ(s.uid, std::optional<uid_t>(2));
  EXPECT_EQ(s.gid, std::optional<gid_t>(4));
  EXPECT_EQ(s.hostname, std::optional<std::string>("h2"));
  EXPECT_EQ(s.userns_fd, 6);
  EXPECT_EQ(s.sync_fd, 8);
  EXPECT_EQ(s.seccomp_fd, 10);
  EXPECT_EQ(s.exec_label, std::optional<std::string>("b"));
}

TEST(ParserRepeat, Argv0IsAnErrorWhenRepeated) {
  EXPECT_EQ(ErrorOf({"--argv0", "a", "--argv0", "a", "x"}), "--argv0 used multiple times");
}

TEST(ParserRepeat, IdempotentOptionsDoNotWarn) {
  for (const char* flag :
       {"--level-prefix", "--unshare-all", "--share-net", "--unshare-user", "--unshare-user-try",
        "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup",
        "--unshare-cgroup-try", "--disable-userns", "--assert-userns-disabled", "--new-session",
        "--die-with-parent", "--as-pid-1"}) {
    auto inv = MustParse({flag, flag, "x"});
    EXPECT_TRUE(inv.warnings.empty()) << flag;
  }
}

TEST(ParserRepeat, AccumulatingOptionsDoNotWarn) {
  auto inv = MustParse({"--bind",
                        "/a",
                        "/a",
                        "--bind",
                        "/a",
                        "/a",
                        "--lock-file",
                        "/l",
                        "--lock-file",
                        "/l",
                        "--setenv",
                        "A",
                        "1",
                        "--setenv",
                        "A",
                        "1",
                        "--cap-add",
                        "ALL",
                        "--cap-add",
                        "ALL",
                        "--add-seccomp-fd",
                        "3",
                        "--add-seccomp-fd",
                        "3",
                        "x"});
  EXPECT_TRUE(inv.warnings.empty());
  EXPECT_EQ(inv.spec.ops.size(), 2U);
}

// --------------------------------------------------------------------------------------------
// --help text and the option list.

const std::set<std::string>& BwrapOptions() {
  // The 67 options of bwrap 0.11.1 (reference §1 tables).
  static const std::set<std::string> kAll = {
      "--help",
      "--version",
      "--args",
      "--argv0",
      "--level-prefix",
      "--unshare-all",
      "--share-net",
      "--unshare-user",
      "--unshare-user-try",
      "--unshare-ipc",
      "--unshare-pid",
      "--unshare-net",
      "--unshare-uts",
      "--unshare-cgroup",
      "--unshare-cgroup-try",
      "--userns",
      "--userns2",
      "--disable-userns",
      "--assert-userns-disabled",
      "--pidns",
      "--uid",
      "--gid",
      "--hostname",
      "--chdir",
      "--setenv",
      "--unsetenv",
      "--clearenv",
      "--lock-file",
      "--sync-fd",
      "--block-fd",
      "--userns-block-fd",
      "--info-fd",
      "--json-status-fd",
      "--new-session",
      "--die-with-parent",
      "--as-pid-1",
      "--cap-add",
      "--cap-drop",
      "--seccomp",
      "--add-seccomp-fd",
      "--exec-label",
      "--file-label",
      "--bind",
      "--bind-try",
      "--ro-bind",
      "--ro-bind-try",
      "--dev-bind",
      "--dev-bind-try",
      "--bind-fd",
      "--ro-bind-fd",
      "--remount-ro",
      "--overlay-src",
      "--overlay",
      "--tmp-overlay",
      "--ro-overlay",
      "--proc",
      "--dev",
      "--tmpfs",
      "--mqueue",
      "--dir",
      "--file",
      "--bind-data",
      "--ro-bind-data",
      "--symlink",
      "--chmod",
      "--perms",
      "--size",
  };
  return kAll;
}

// bwrap's options and boxjail's own, listed after bwrap's.
std::set<std::string> AllOptions() {
  std::set<std::string> all = BwrapOptions();
  for (const char* own :
       {"--log-level", "--seccomp-policy", "--config", "--report-fd", "--pid-file", "--keep-fd",
        "--handover", "--rlimit", "--host-user", "--supplementary-group", "--cgroup-parent",
        "--memory-max", "--memory-swap-max", "--pids-max", "--cpu-max", "--cpu-weight", "--io-max",
        "--uid-range", "--gid-range"}) {
    all.insert(own);
  }
  return all;
}

TEST(ParserUsage, ListsAllSixtySevenBwrapOptions) {
  ASSERT_EQ(BwrapOptions().size(), 67U);
  const std::vector<std::string> names = boxjail::option_names();
  const std::set<std::string> unique(names.begin(), names.end());
  EXPECT_EQ(unique.size(), names.size()) << "duplicate option names";
  EXPECT_EQ(unique, AllOptions());
}

TEST(ParserBoxjailOptions, ConfigAndReportFd) {
  auto r = Parse({"--config", "/x.toml", "--report-fd", "7", "true"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().config_path, "/x.toml");
  EXPECT_EQ(r.value().report_fd, 7);
  EXPECT_EQ(ErrorOf({"--report-fd", "x", "true"}), "Invalid fd: x");
  EXPECT_EQ(ErrorOf({"--config", "", "true"}), "--config needs a path");
}

TEST(ParserLogLevel, AcceptsKnownLevelsOnly) {
  auto r = Parse({"--log-level", "debug", "true"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().log_level, "debug");
  EXPECT_EQ(ErrorOf({"--log-level", "loud", "true"}),
            "Invalid --log-level loud (trace, debug, info, warn, error, off)");
}

TEST(ParserUsage, EveryListedOptionIsAccepted) {
  // Each name parses as an option (not "Unknown option"), whatever its operands.
  for (const std::string& name : boxjail::option_names()) {
    auto r = Parse({name});
    if (!r) {
      EXPECT_NE(r.error().message, "Unknown option " + name);
    }
  }
}

TEST(ParserUsage, FirstLine) {
  const std::string text = boxjail::usage_text("bwrap");
  EXPECT_EQ(text.substr(0, text.find('\n')), "usage: bwrap [OPTIONS...] [--] COMMAND [ARGS...]");
  EXPECT_EQ(
      boxjail::usage_text("/usr/bin/boxjail").rfind("usage: /usr/bin/boxjail [OPTIONS...]", 0), 0U);
  EXPECT_EQ(text.substr(text.find('\n'), 2), "\n\n");
}

// The option lines of the usage text: "    --name [OPERANDS]   description".
std::vector<std::string> UsageOptionLines() {
  std::istringstream in(boxjail::usage_text("bwrap"));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("    --", 0) == 0) lines.push_back(line);
  }
  return lines;
}

TEST(ParserUsage, EveryOptionHasOneDescribedLine) {
  const std::vector<std::string> lines = UsageOptionLines();
  EXPECT_EQ(lines.size(), boxjail::option_names().size());
  std::set<std::string> listed;
  for (const std::string& line : lines) {
    const std::string name = line.substr(4, line.find(' ', 4) - 4);
    listed.insert(name);
    EXPECT_GT(line.size(), 33U) << line;  // a description after the padded column
    EXPECT_NE(line[33], ' ') << line;
  }
  EXPECT_EQ(listed, AllOptions());
  for (const std::string& name : boxjail::option_names()) {
    EXPECT_NE(boxjail::usage_text("bwrap").find("    " + name + " "), std::string::npos) << name;
  }
}

TEST(ParserUsage, BwrapLayout) {
  const std::string text = boxjail::usage_text("bwrap");
  for (const char* line : {
           "    --help                       Print this help\n",
           "    --bind SRC DEST              Bind mount the host path SRC on DEST\n",
           "    --chmod OCTAL PATH           Change permissions of PATH (must already exist)\n",
           "    --overlay RWSRC WORKDIR DEST Mount overlayfs on DEST, with RWSRC as the host path "
           "for writes and\n"
           "                                 WORKDIR an empty directory on the same filesystem as "
           "RWSRC\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line;
  }
  EXPECT_EQ(text.back(), '\n');
}

}  // namespace
