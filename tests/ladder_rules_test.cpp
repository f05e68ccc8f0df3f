// SPDX-License-Identifier: Apache-2.0
// The ladder's two decisions, as units: which failure is a denial the next rung may get past
// (is_denial), and whether retrying is safe once the caller's one-shot inputs may have been
// consumed (retry_is_safe). A wrong "yes" climbs with a half-read --file or a pid already
// reported; a wrong "no" refuses a jail the next rung would run.
#include <boxjail/bwrap_args.hpp>
#include <boxjail/ladder.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

namespace {

boxjail::Error failure(const std::string& step, const std::string& syscall, int err) {
  return boxjail::sys_error(step, syscall, "/x", err, "");
}

boxjail::Spec spec_of(const std::vector<std::string>& args) {
  auto parsed = boxjail::parse_bwrap_args(args, boxjail::ParseContext{});
  EXPECT_TRUE(parsed) << parsed.error().message;
  return parsed ? parsed.value().spec : boxjail::Spec{};
}

TEST(LadderIsDenial, PermissionAndLimitsAtPrivilegedSteps) {
  using boxjail::is_denial;
  for (int err : {EPERM, EACCES, ENOSPC, EUSERS}) {
    EXPECT_TRUE(is_denial(failure("clone-namespaces", "clone3", err))) << err;
    EXPECT_TRUE(is_denial(failure("write-uid-map", "write", err))) << err;
    EXPECT_TRUE(is_denial(failure("make-root-rslave", "mount", err))) << err;
    EXPECT_TRUE(is_denial(failure("nested-userns/write-uid-map", "write", err))) << err;
  }
  // A kernel without user namespaces (or a filter faking one) at the clone.
  EXPECT_TRUE(is_denial(failure("clone-namespaces", "clone3", EINVAL)));
  EXPECT_TRUE(is_denial(failure("clone-namespaces", "clone3", ENOSYS)));
  // Not denials: ordinary errors, and EINVAL anywhere but the clone.
  EXPECT_FALSE(is_denial(failure("write-uid-map", "write", EINVAL)));
  EXPECT_FALSE(is_denial(failure("resolve-sources", "open", ENOENT)));
  EXPECT_FALSE(is_denial(failure("make-dir", "mkdirat", EACCES)));
  EXPECT_FALSE(is_denial(failure("exec", "execvp", EACCES)));
}

// Inside a mount step only a mount-family call's refusal is the mount's: an open() of the source
// failing with EACCES there is the caller's own permission, which no rung changes.
TEST(LadderIsDenial, MountStepsCountOnlyTheirMountCalls) {
  using boxjail::is_denial;
  for (const char* call : {"mount", "open_tree", "move_mount", "fsmount", "mount_setattr"}) {
    EXPECT_TRUE(is_denial(failure("bind-mount", call, EPERM))) << call;
  }
  EXPECT_FALSE(is_denial(failure("bind-mount", "open", EACCES)));
  EXPECT_FALSE(is_denial(failure("mount-tmpfs", "openat2", EPERM)));
}

// At the map steps only the kernel refusing the write is a denial: reading /etc/subuid or
// running newuidmap (--uid-range) fails the same on every rung, so it must not climb.
TEST(LadderIsDenial, MapStepsCountOnlyTheKernelsWrite) {
  using boxjail::is_denial;
  for (const char* step : {"write-setgroups", "write-uid-map", "write-gid-map"}) {
    EXPECT_TRUE(is_denial(failure(step, "write", EPERM))) << step;
    for (const char* other : {"open", "read", "newuidmap", "newgidmap", "fork"}) {
      EXPECT_FALSE(is_denial(failure(step, other, EPERM))) << step << " " << other;
      EXPECT_FALSE(is_denial(failure(step, other, EACCES))) << step << " " << other;
    }
  }
}

TEST(LadderRetry, SafeUntilAOneShotInputWasConsumed) {
  using boxjail::retry_is_safe;
  std::string why;
  const auto late = failure("bind-mount", "move_mount", EPERM);
  EXPECT_TRUE(retry_is_safe(late, spec_of({"--ro-bind", "/", "/", "true"}), &why));
  // The clone consumed nothing, whatever the options.
  EXPECT_TRUE(retry_is_safe(failure("clone-namespaces", "clone3", EPERM),
                            spec_of({"--info-fd", "3", "--ro-bind", "/", "/", "true"}), &why));
  EXPECT_FALSE(
      retry_is_safe(late, spec_of({"--info-fd", "3", "--ro-bind", "/", "/", "true"}), &why));
  EXPECT_NE(why.find("--info-fd"), std::string::npos) << why;
  EXPECT_FALSE(
      retry_is_safe(late, spec_of({"--json-status-fd", "3", "--ro-bind", "/", "/", "true"}), &why));
  EXPECT_FALSE(
      retry_is_safe(late, spec_of({"--add-seccomp-fd", "3", "--ro-bind", "/", "/", "true"}), &why));
  EXPECT_NE(why.find("--add-seccomp-fd"), std::string::npos) << why;
  // --file data is read during the filesystem operations: before them a retry is safe.
  const auto file = spec_of({"--ro-bind", "/", "/", "--file", "3", "/etc/x", "true"});
  EXPECT_FALSE(retry_is_safe(late, file, &why));
  EXPECT_NE(why.find("--file/--bind-data"), std::string::npos) << why;
  EXPECT_TRUE(retry_is_safe(failure("write-uid-map", "write", EPERM), file, &why));
}

}  // namespace
