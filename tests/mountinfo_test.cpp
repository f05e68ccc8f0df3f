// SPDX-License-Identifier: Apache-2.0
// The one mountinfo parser (sys/mountinfo.hpp) that the classic mount path, cgroup discovery,
// the rootfs fallback and the diagnosis read the mount table with: its fields checked against
// the kernel's own view (statx's mount id, stat's device) and its unescaping against a mount
// point the kernel had to escape.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "harness.hpp"
#include "sys/mountinfo.hpp"

namespace {

namespace sys = boxjail::sys;

TEST(MountInfo, ParsesEveryFieldItReports) {
  const auto m = sys::parse_mountinfo(
      "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
      "35 22 0:31 /sub /mnt/a\\040b\\011c\\134 rw master:2 shared:7 - tmpfs tmpfs rw,size=4k\n"
      "36 22 0:32 / /x rw\n"
      "37 22 0:33\n"
      "38 22 0:34 / /bad\\04 rw - proc proc rw\n");
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0].id, 22);
  EXPECT_EQ(m[0].parent, 1);
  EXPECT_EQ(m[0].dev, makedev(8, 1));
  EXPECT_EQ(m[0].fstype, "ext4");
  EXPECT_EQ(m[0].super_options, "rw,errors=remount-ro");
  // Escapes undone; optional tags of any number before the separator.
  EXPECT_EQ(m[1].root, "/sub");
  EXPECT_EQ(m[1].point, "/mnt/a b\tc\\");
  EXPECT_EQ(m[1].fstype, "tmpfs");
  EXPECT_EQ(m[1].super_options, "rw,size=4k");
  // No " - " part: the first five fields only. Too short a line: skipped.
  EXPECT_EQ(m[2].point, "/x");
  EXPECT_EQ(m[2].fstype, "");
  // A backslash not followed by three octal digits is kept as it is.
  EXPECT_EQ(m[3].point, "/bad\\04");
}

// The kernel's table, read from this process: /proc's entry carries the mount id statx gives
// and the device stat gives.
TEST(MountInfo, MatchesTheKernelsView) {
  const auto mounts = sys::read_mountinfo(AT_FDCWD, "/proc/self/mountinfo");
  ASSERT_TRUE(mounts) << "errno " << errno;
  struct statx sx {};
  ASSERT_EQ(statx(AT_FDCWD, "/proc", 0, STATX_MNT_ID, &sx), 0);
  ASSERT_NE(sx.stx_mask & STATX_MNT_ID, 0u);
  struct stat st;
  ASSERT_EQ(stat("/proc", &st), 0);
  bool found = false;
  for (const auto& m : *mounts) {
    if (m.id != static_cast<int>(sx.stx_mnt_id)) continue;
    found = true;
    EXPECT_EQ(m.point, "/proc");
    EXPECT_EQ(m.fstype, "proc");
    EXPECT_EQ(m.dev, st.st_dev);
  }
  EXPECT_TRUE(found) << "no entry with /proc's mount id " << sx.stx_mnt_id;
  errno = 0;
  EXPECT_FALSE(sys::read_mountinfo(AT_FDCWD, "/proc/self/no-such-file"));
  EXPECT_EQ(errno, ENOENT);
}

// A mount point with a space, a tab and a backslash in its name, made in a private mount
// namespace of a child (the host's table is never touched): the kernel escapes it, the parser
// gives the name back as it was made.
TEST(MountInfo, UnescapesWhatTheKernelEscaped) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root for a private mount namespace";
  boxjail::test::TempDir dir;
  const std::string point = dir.path() + "/a b\tc\\d";
  ASSERT_EQ(mkdir(point.c_str(), 0755), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (unshare(CLONE_NEWNS) != 0 ||
        mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount("tmpfs", point.c_str(), "tmpfs", 0, "size=4k") != 0) {
      _exit(2);
    }
    const auto mounts = sys::read_mountinfo(AT_FDCWD, "/proc/self/mountinfo");
    if (!mounts) _exit(3);
    for (const auto& m : *mounts) {
      if (m.point == point && m.fstype == "tmpfs" &&
          m.super_options.find("size=4k") != std::string::npos) {
        _exit(0);
      }
    }
    _exit(4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: setup failed, 3: unreadable, 4: no entry named so";
}

}  // namespace
