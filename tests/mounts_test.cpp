// SPDX-License-Identifier: Apache-2.0
// Integration tests of the filesystem operations (bwrap-options.md §1.4) and of the root
// construction (§1.6): each test runs the built boxjail binary, as root and as uid 65534, and
// checks what the kernel shows inside the jail (mountinfo, stat, errno of writes) and that the
// host is left as it was (the fixture compares the host's mountinfo before and after, and checks
// that no boxjail process survives).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "harness.hpp"

namespace boxjail::test {
namespace {

constexpr uid_t kNobody = 65534;

// ---------------------------------------------------------------------------------------------
// Host-side helpers (only ever applied below a TempDir).

void make_dir(const std::string& path, mode_t mode, bool nobody_owned = false) {
  ASSERT_EQ(mkdir(path.c_str(), mode), 0) << path << ": " << strerror(errno);
  ASSERT_EQ(chmod(path.c_str(), mode), 0) << path;  // mkdir is subject to the umask
  if (nobody_owned) {
    ASSERT_EQ(chown(path.c_str(), kNobody, kNobody), 0) << path;
  }
}

void write_host_file(const std::string& path, const std::string& content, mode_t mode,
                     bool nobody_owned = false) {
  int fd = open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);
  ASSERT_GE(fd, 0) << path << ": " << strerror(errno);
  ASSERT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  close(fd);
  ASSERT_EQ(chmod(path.c_str(), mode), 0) << path;
  if (nobody_owned) {
    ASSERT_EQ(chown(path.c_str(), kNobody, kNobody), 0) << path;
  }
}

void make_symlink(const std::string& target, const std::string& path) {
  ASSERT_EQ(symlink(target.c_str(), path.c_str()), 0) << path << ": " << strerror(errno);
}

bool host_exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

mode_t host_mode(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// Sorted names in a host directory, one per line.
std::string host_listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& n : names) out += n + "\n";
  return out;
}

std::string host_readlink(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
  return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> sorted_lines(const std::string& text) {
  auto v = lines_of(text);
  std::sort(v.begin(), v.end());
  return v;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string quote(const std::string& s) { return "'" + s + "'"; }  // test paths have no quotes

// ---------------------------------------------------------------------------------------------
// /proc/self/mountinfo: "id parent maj:min root mountpoint opts [optional...] - fstype src sopts".

struct MountEntry {
  std::string id, parent;
  std::string dev;   // maj:min
  std::string root;  // path of the mount's root inside its filesystem
  std::string mount_point;
  std::string options;  // per-mount options (ro, nosuid, nodev, ...)
  std::string fstype;
  std::string super_options;  // filesystem options (size=, mode=, ptmxmode=, ...)
};

std::vector<MountEntry> parse_mountinfo(const std::string& text) {
  std::vector<MountEntry> out;
  for (const auto& line : lines_of(text)) {
    std::istringstream in(line);
    std::vector<std::string> f;
    for (std::string w; in >> w;) f.push_back(w);
    auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 10 || dash == f.end() || dash - f.begin() < 6 || f.end() - dash < 4) {
      ADD_FAILURE() << "unparsable mountinfo line: " << line;
      continue;
    }
    MountEntry e;
    e.id = f[0];
    e.parent = f[1];
    e.dev = f[2];
    e.root = f[3];
    e.mount_point = f[4];
    e.options = f[5];
    e.fstype = *(dash + 1);
    e.super_options = *(dash + 3);
    out.push_back(e);
  }
  return out;
}

// A mount stacked under another at the same point: no path reaches it. On the classic mount
// path (kernels before 5.12, no mount_setattr) a remount cannot reach it either, and it keeps its
// own flags (docs/design.md); it stays invisible to any process that cannot unmount its cover.
bool covered_on_classic_path(const std::vector<MountEntry>& all, const MountEntry& m) {
  if (!boxjail::test::classic_mounts_forced()) return false;
  return std::any_of(all.begin(), all.end(), [&](const MountEntry& o) {
    return o.parent == m.id && o.mount_point == m.mount_point;
  });
}

// The topmost mount at `mount_point` (mountinfo lists mounts in the order they were stacked).
std::optional<MountEntry> find_mount(const std::vector<MountEntry>& mounts,
                                     const std::string& mount_point) {
  std::optional<MountEntry> found;
  for (const auto& m : mounts) {
    if (m.mount_point == mount_point) found = m;
  }
  return found;
}

bool has_opt(const std::string& options, const std::string& opt) {
  std::istringstream in(options);
  for (std::string o; std::getline(in, o, ',');) {
    if (o == opt) return true;
  }
  return false;
}

std::optional<std::string> opt_value(const std::string& options, const std::string& key) {
  std::istringstream in(options);
  for (std::string o; std::getline(in, o, ',');) {
    if (o.compare(0, key.size() + 1, key + "=") == 0) return o.substr(key.size() + 1);
  }
  return std::nullopt;
}

std::vector<std::string> mount_points(const std::vector<MountEntry>& mounts) {
  std::vector<std::string> v;
  for (const auto& m : mounts) v.push_back(m.mount_point);
  std::sort(v.begin(), v.end());
  return v;
}

// ---------------------------------------------------------------------------------------------
// Jail helpers.

void append(std::vector<std::string>& to, const std::vector<std::string>& more) {
  to.insert(to.end(), more.begin(), more.end());
}

// A root made of a tmpfs with the host's /usr (and its /bin, /lib... links or dirs) read-only,
// and /proc: enough for sh and coreutils, and every other path is free for the test to create.
std::vector<std::string> scratch_root() {
  std::vector<std::string> a{"--tmpfs", "/", "--ro-bind", "/usr", "/usr"};
  for (const char* name : {"bin", "sbin", "lib", "lib32", "lib64", "libx32"}) {
    const std::string path = std::string("/") + name;
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      append(a, {"--symlink", host_readlink(path), path});
    } else if (S_ISDIR(st.st_mode)) {
      append(a, {"--ro-bind", path, path});
    }
  }
  append(a, {"--proc", "/proc"});
  return a;
}

std::vector<std::string> with(std::vector<std::string> base, const std::vector<std::string>& ops) {
  append(base, ops);
  return base;
}

// What a script printed, and the jail's mountinfo read right after it, in the same jail.
struct JailView {
  RunResult run;
  std::string out;                 // the script's stdout (stderr too if it did `exec 2>&1`)
  std::vector<MountEntry> mounts;  // the jail's /proc/self/mountinfo after the script
};

constexpr char kMountinfoMarker[] = "@@MOUNTINFO@@\n";

JailView jail_view(const std::vector<std::string>& args, const std::string& script,
                   const RunOpts& opts) {
  JailView v;
  v.run = jail_sh(args, "( " + script + "\n); echo @@MOUNTINFO@@; cat /proc/self/mountinfo", opts);
  auto at = v.run.out.find(kMountinfoMarker);
  if (at == std::string::npos) {
    v.out = v.run.out;
    return v;
  }
  v.out = v.run.out.substr(0, at);
  v.mounts = parse_mountinfo(v.run.out.substr(at + sizeof kMountinfoMarker - 1));
  return v;
}

std::string describe(const RunResult& r) {
  return "status " + std::to_string(r.status) + "\n--- stdout:\n" + r.out + "--- stderr:\n" + r.err;
}

// ---------------------------------------------------------------------------------------------
// Fixtures: every test must leave the host's mount table byte for byte as it found it, and no
// boxjail process behind.

template <typename Param>
class HostUntouched : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override { host_before_ = host_mountinfo(); }
  void TearDown() override {
    EXPECT_EQ(host_mountinfo(), host_before_) << "the host's mount table changed";
    EXPECT_EQ(count_processes_of(boxjail_binary()), 0) << "a boxjail process outlived its run";
  }

  TempDir tmp_;
  std::string host_before_;
};

class MountsJail : public HostUntouched<bool> {
 protected:
  bool nobody() const { return GetParam(); }
  RunOpts opts() const {
    RunOpts o;
    o.as_nobody = nobody();
    return o;
  }
  // A host directory the jail's user may write to (so that an EROFS is the mount's doing, not
  // a permission check).
  std::string writable_dir(const std::string& name) {
    std::string p = tmp_.path() + "/" + name;
    make_dir(p, 0777, true);
    return p;
  }
};

std::string as_name(bool nobody) { return nobody ? "Nobody" : "Root"; }

INSTANTIATE_TEST_SUITE_P(Mounts, MountsJail, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) { return as_name(i.param); });

// ---------------------------------------------------------------------------------------------
// Namespaces and the root construction.

TEST_P(MountsJail, HasItsOwnMountNamespace) {
  const std::string host_ns = host_readlink("/proc/self/ns/mnt");
  ASSERT_EQ(host_ns.rfind("mnt:[", 0), 0u) << host_ns;
  auto r = jail_sh({"--ro-bind", "/", "/"}, "readlink /proc/self/ns/mnt", opts());
  ASSERT_EQ(r.status, 0) << describe(r);
  ASSERT_EQ(r.out.rfind("mnt:[", 0), 0u) << r.out;
  EXPECT_NE(r.out, host_ns + "\n");
}

TEST_P(MountsJail, BindRootShowsTheHostsRealTmpAndNoSetupDirs) {
  tmp_.file("marker", "host marker\n");
  for (const char* p : {"/oldroot", "/newroot", "/tmp/oldroot", "/tmp/newroot"}) {
    ASSERT_FALSE(host_exists(p)) << p << " exists on the host: the test cannot tell";
  }
  auto v = jail_view({"--bind", "/", "/"},
                     "cat " + quote(tmp_.path() + "/marker") +
                         "; for p in /oldroot /newroot /tmp/oldroot /tmp/newroot; do "
                         "test -e $p && echo \"visible: $p\"; done; echo done",
                     opts());
  ASSERT_EQ(v.run.status, 0) << describe(v.run);
  EXPECT_EQ(v.out, "host marker\ndone\n");
  // Every host mount is there (recursive bind), and nothing else: no base tmpfs on /tmp, no
  // /oldroot, no /newroot.
  auto host = parse_mountinfo(host_mountinfo());
  EXPECT_EQ(mount_points(v.mounts), mount_points(host));
  for (const auto& m : v.mounts) {
    if (covered_on_classic_path(v.mounts, m)) continue;
    EXPECT_TRUE(has_opt(m.options, "nosuid")) << m.mount_point << " " << m.options;
    EXPECT_TRUE(has_opt(m.options, "nodev")) << m.mount_point << " " << m.options;
  }
}

// /tmp is where the sandbox's root is built, under the host's /tmp, while the host's root is
// still "/": a recursive bind of /tmp must copy the host's /tmp and nothing of the sandbox, even
// when --bind-data and --tmp-overlay have made their scratch space there.
TEST_P(MountsJail, BindTmpShowsTheHostsTmpAndNoSetupDirs) {
  tmp_.file("marker", "host marker\n");
  const std::string lower = tmp_.path() + "/lower";
  make_dir(lower, 0755);
  RunOpts o = opts();
  o.fd_data = {{3, "data\n"}};
  auto v = jail_view({"--ro-bind", "/", "/", "--tmpfs", "/tmp", "--bind-data", "3", "/tmp/bd",
                      "--overlay-src", lower, "--tmp-overlay", "/mnt", "--bind", "/tmp", "/tmp"},
                     "cat " + quote(tmp_.path() + "/marker") +
                         "; for p in newroot oldroot scratch bind-data-1 tmp-overlay-upper-3; do "
                         "test -e /tmp/$p && echo \"visible: $p\"; done; echo done",
                     o);
  ASSERT_EQ(v.run.status, 0) << describe(v.run);
  EXPECT_EQ(v.out, "host marker\ndone\n");
  // The host's mounts under /tmp, each once, and no tmpfs of ours above them.
  std::vector<std::string> host_tmp, jail_tmp;
  for (const auto& m : parse_mountinfo(host_mountinfo())) {
    if (m.mount_point.rfind("/tmp", 0) == 0) host_tmp.push_back(m.mount_point);
  }
  for (const auto& m : v.mounts) {
    if (m.mount_point.rfind("/tmp", 0) == 0) jail_tmp.push_back(m.mount_point);
  }
  // At /tmp: the host's own /tmp mounts (copied with "/"), the --tmpfs, and the bind of the
  // host's /tmp, which is one mount whether /tmp is a mount point there or a plain directory. A
  // copy of the base tmpfs would add one more, and hide the marker.
  EXPECT_EQ(std::count(jail_tmp.begin(), jail_tmp.end(), "/tmp"),
            std::count(host_tmp.begin(), host_tmp.end(), "/tmp") + 2)
      << describe(v.run);
  for (const auto& m : v.mounts) {
    EXPECT_FALSE(m.mount_point.find("newroot") != std::string::npos ||
                 m.mount_point.find("scratch") != std::string::npos)
        << m.mount_point;
  }
}

// The sandbox's root is private, not unbindable like the base it was built in: the command can
// bind it (a nested jail does, first thing, in a mount namespace of its own; root's command can
// mount nowhere else, its mounts belong to the host's user namespace).
TEST_P(MountsJail, RootCanBeBoundInsideTheJail) {
  auto args = with(scratch_root(), {"--dir", "/a"});
  if (nobody()) append(args, {"--unshare-user", "--uid", "0", "--cap-add", "CAP_SYS_ADMIN"});
  auto r = jail_sh(args,
                   "unshare -m sh -c 'mount --rbind / /a && test -d /a/usr/bin && test -d /a/a' "
                   "&& echo bound",
                   opts());
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(r.out, "bound\n");
}

TEST_P(MountsJail, NewRootHoldsOnlyWhatWasAsked) {
  auto args = with(scratch_root(), {"--dir", "/asked"});
  auto r = jail_sh(args, "ls -A /", opts());
  ASSERT_EQ(r.status, 0) << describe(r);
  std::vector<std::string> expected{"asked", "proc", "usr"};
  for (size_t i = 0; i + 2 < args.size(); ++i) {
    if (args[i] == "--symlink" ||
        (args[i] == "--ro-bind" && args[i + 2] != "/usr" && args[i + 2] != "/")) {
      expected.push_back(args[i + 2].substr(1));
    }
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(sorted_lines(r.out), expected);
}

TEST_P(MountsJail, OperationsRunInCommandLineOrder) {
  auto r = jail_sh(with(scratch_root(), {"--dir", "/a/b", "--tmpfs", "/a"}),
                   "test -e /a/b && echo visible || echo hidden", opts());
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(r.out, "hidden\n");
  r = jail_sh(with(scratch_root(), {"--tmpfs", "/a", "--dir", "/a/b"}),
              "test -d /a/b && echo visible || echo hidden", opts());
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(r.out, "visible\n");
}

// ---------------------------------------------------------------------------------------------
// --bind, --ro-bind, --dev-bind and their -try forms.

TEST_P(MountsJail, BindIsWritableThroughToTheHost) {
  const std::string dir = writable_dir("rw");
  write_host_file(dir + "/old", "from host\n", 0666, true);
  auto v = jail_view(with(scratch_root(), {"--bind", dir, "/mnt/b"}),
                     "cat /mnt/b/old && echo from jail > /mnt/b/new && stat -c %a /mnt", opts());
  ASSERT_EQ(v.run.status, 0) << describe(v.run);
  EXPECT_EQ(v.out, "from host\n755\n");  // missing parents are made 0755
  EXPECT_EQ(read_file(dir + "/new"), "from jail\n");
  auto m = find_mount(v.mounts, "/mnt/b");
  ASSERT_TRUE(m) << v.run.out;
  EXPECT_TRUE(has_opt(m->options, "rw")) << m->options;
  EXPECT_TRUE(has_opt(m->options, "nosuid")) << m->options;
  EXPECT_TRUE(has_opt(m->options, "nodev")) << m->options;
}

TEST_P(MountsJail, RoBindGivesErofs) {
  const std::string dir = writable_dir("ro");
  write_host_file(dir + "/f", "original\n", 0666, true);
  auto v = jail_view(with(scratch_root(), {"--ro-bind", dir, "/mnt/r"}),
                     "exec 2>&1; cat /mnt/r/f; touch /mnt/r/new; echo append >> /mnt/r/f; "
                     "mkdir /mnt/r/d; echo end",
                     opts());
  ASSERT_EQ(v.run.status, 0) << describe(v.run);
  auto out = lines_of(v.out);
  ASSERT_EQ(out.size(), 5u) << v.out;
  EXPECT_EQ(out[0], "original");
  for (int i = 1; i <= 3; ++i) EXPECT_TRUE(contains(out[i], "Read-only file system")) << out[i];
  EXPECT_EQ(out[4], "end");
  EXPECT_EQ(read_file(dir + "/f"), "original\n");
  EXPECT_EQ(host_listing(dir), "f\n");
  auto m = find_mount(v.mounts, "/mnt/r");
  ASSERT_TRUE(m);
  EXPECT_TRUE(has_opt(m->options, "ro")) << m->options;
  EXPECT_TRUE(has_opt(m->options, "nosuid")) << m->options;
  EXPECT_TRUE(has_opt(m->options, "nodev")) << m->options;
}

TEST_P(MountsJail, RoBindOfRootMakesEverySubmountReadOnly) {
  // Nothing is written here: were the binds writable, the writes would land on the host. access()
  // reports EROFS for a read-only mount even to root.
  auto v = jail_view({"--ro-bind", "/", "/"},
                     "for d in / /dev /proc /sys; do test -w $d && echo \"writable $d\"; done; "
                     "echo checked",
                     opts());
  ASSERT_EQ(v.run.status, 0) << describe(v.run);
  EXPECT_EQ(v.out, "checked\n");
  auto host = parse_mountinfo(host_mountinfo());
  ASSERT_GT(host.size(), 1u) << "the host has no submounts: nothing to check";
  EXPECT_EQ(mount_points(v.mounts), mount_points(host));
  for (const auto& m : v.mounts) {
    if (covered_on_classic_path(v.mounts, m)) continue;
    EXPECT_TRUE(has_opt(m.options, "ro")) << m.mount_point << " " << m.options;
    EXPECT_TRUE(has_opt(m.options, "nosuid")) << m.mount_point << " " << m.options;
    EXPECT_TRUE(has_opt(m.options, "nodev")) << m.mount_point << " " << m.options;
  }
}

// A bind source with a submount of its own. The submount is made by an outer jail (so the host
// is never touched); an inner boxjail then binds the source read-only and read-write. The inner
// jail runs as the same user as the outer one: root keeps its capabilities, uid 65534 nests a
// user namespace inside the outer one.
TEST_P(MountsJail, RoBindIsReadOnlyOnSubmountsOfTheSource) {
  const std::string src = writable_dir("src");
  make_dir(src + "/sub", 0777, true);
  const std::string script =
      "exec 2>&1; touch /tmp/ro/a; touch /tmp/ro/sub/a; "
      "touch /tmp/rw/sub/a && echo rw-sub-ok";
  // The outer jail: the host's tree, plus a tmpfs on src/sub.
  std::vector<std::string> args{"--bind", "/", "/"};
  append(args, {"--perms", "0777", "--tmpfs", src + "/sub"});
  // The inner one, started from inside the outer one.
  append(args, {"--", boxjail_binary(), "--ro-bind", "/", "/", "--tmpfs", "/tmp"});
  append(args, {"--ro-bind", src, "/tmp/ro"});
  append(args, {"--bind", src, "/tmp/rw"});
  auto v = jail_view(args, script, opts());
  ASSERT_EQ(v.run.status, 0) << describe(v.run);
  auto out = lines_of(v.out);
  ASSERT_EQ(out.size(), 3u) << v.out;
  EXPECT_TRUE(contains(out[0], "Read-only file system")) << out[0];
  EXPECT_TRUE(contains(out[1], "Read-only file system")) << out[1];
  EXPECT_EQ(out[2], "rw-sub-ok");
  auto ro = find_mount(v.mounts, "/tmp/ro");
  auto ro_sub = find_mount(v.mounts, "/tmp/ro/sub");
  auto rw_sub = find_mount(v.mounts, "/tmp/rw/sub");
  ASSERT_TRUE(ro && ro_sub && rw_sub) << v.run.out;
  EXPECT_TRUE(has_opt(ro->options, "ro")) << ro->options;
  EXPECT_TRUE(has_opt(ro_sub->options, "ro")) << ro_sub->options;
  EXPECT_EQ(ro_sub->fstype, "tmpfs");
  EXPECT_TRUE(has_opt(rw_sub->options, "rw")) << rw_sub->options;
  // The submount lived in the outer jail only.
  EXPECT_EQ(host_listing(src + "/sub"), "");
}

TEST_P(MountsJail, DevBindKeepsDevicesUsableAndBindDoesNot) {
  auto host_dev = find_mount(parse_mountinfo(host_mountinfo()), "/dev");
  if (!host_dev || has_opt(host_dev->options, "nodev")) {
    GTEST_SKIP() << "the host's /dev is not a mount without nodev";
  }
  auto v =
      jail_view(with(scratch_root(), {"--dev-bind", "/dev", "/mnt/d", "--bind", "/dev", "/mnt/n"}),
                "exec 2>&1; head -c 4 /mnt/d/zero | od -An -tx1; head -c 4 /mnt/n/zero", opts());
  auto out = lines_of(v.out);
  ASSERT_EQ(out.size(), 2u) << describe(v.run);
  EXPECT_EQ(out[0], " 00 00 00 00");
  EXPECT_TRUE(contains(out[1], "Permission denied")) << out[1];
  auto d = find_mount(v.mounts, "/mnt/d");
  auto n = find_mount(v.mounts, "/mnt/n");
  ASSERT_TRUE(d && n) << v.run.out;
  EXPECT_FALSE(has_opt(d->options, "nodev")) << d->options;
  EXPECT_TRUE(has_opt(d->options, "nosuid")) << d->options;
  EXPECT_TRUE(has_opt(n->options, "nodev")) << n->options;
  EXPECT_TRUE(has_opt(n->options, "nosuid")) << n->options;
}

TEST_P(MountsJail, BindOfAFileAndMountPointModes) {
  const std::string file = tmp_.file("data.txt", "file content\n", 0644);
  const std::string dir = writable_dir("d");
  // A command that keeps CAP_SYS_ADMIN in the jail's own user namespace may unmount there and
  // look at the mount points below: 0444 for a file, 0755 for a directory. Root's command may
  // not: its mounts are locked (jail_escape_test.cpp); it checks the parents and the refusal.
  std::string script = "cat /a/b/f; stat -c '%a %F' /a /a/b; umount /a/b/f /c/d";
  script += nobody() ? " && stat -c '%a %F' /a/b/f /c/d" : " || echo locked";
  auto args = with(scratch_root(), {"--ro-bind", file, "/a/b/f", "--bind", dir, "/c/d"});
  if (nobody()) append(args, {"--unshare-user", "--uid", "0", "--cap-add", "CAP_SYS_ADMIN"});
  auto r = jail_sh(args, script, opts());
  ASSERT_EQ(r.status, 0) << describe(r);
  std::string expected = "file content\n755 directory\n755 directory\n";
  expected += nobody() ? "444 regular empty file\n755 directory\n" : "locked\n";
  EXPECT_EQ(r.out, expected);
}

TEST_P(MountsJail, TryFormsSkipAMissingSource) {
  const std::string present = writable_dir("present");
  write_host_file(present + "/f", "here\n", 0644);
  const std::string missing = tmp_.path() + "/missing";
  auto r = jail_sh(with(scratch_root(),
                        {"--bind-try", missing, "/mnt/a", "--ro-bind-try", missing, "/mnt/b",
                         "--dev-bind-try", missing, "/mnt/c", "--ro-bind-try", present, "/mnt/p"}),
                   "ls -A /mnt; cat /mnt/p/f", opts());
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(r.out, "p\nhere\n");  // no mount point was made for the skipped ones
}

TEST_P(MountsJail, MissingSourceWithoutTryFails) {
  const std::string missing = tmp_.path() + "/source-enoent";
  for (const char* opt : {"--bind", "--ro-bind", "--dev-bind"}) {
    SCOPED_TRACE(opt);
    auto r = jail_sh(with(scratch_root(), {opt, missing, "/mnt/a"}), "echo ran", opts());
    EXPECT_EQ(r.status, 1) << describe(r);
    EXPECT_EQ(r.out, "");
    EXPECT_TRUE(contains(r.err, "Can't find source path " + missing)) << r.err;
    // Under the name bwrap the message is bwrap's, which callers match with
    // ^bwrap: Can't find source path.*source-enoent
    RunOpts as_bwrap = opts();
    as_bwrap.argv0 = "bwrap";
    r = jail_sh(with(scratch_root(), {opt, missing, "/mnt/a"}), "echo ran", as_bwrap);
    EXPECT_EQ(r.status, 1) << describe(r);
    EXPECT_EQ(r.err.rfind("bwrap: Can't find source path " + missing, 0), 0u) << r.err;
  }
}

// ---------------------------------------------------------------------------------------------
// --tmpfs, --dir, --file, --bind-data, --symlink, --chmod, --remount-ro, --mqueue.

TEST_P(MountsJail, TmpfsDefaultsAndSizeAndPerms) {
  auto v = jail_view(with(scratch_root(), {"--tmpfs", "/mnt/def", "--size", "1048576", "--perms",
                                           "01770", "--tmpfs", "/q/sized"}),
                     "stat -c %a /mnt/def /q/sized /mnt /q; stat -f -c '%b %S' /q/sized", opts());
  ASSERT_EQ(v.run.status, 0) << describe(v.run);
  auto out = lines_of(v.out);
  ASSERT_EQ(out.size(), 5u) << v.out;
  EXPECT_EQ(out[0], "755");
  EXPECT_EQ(out[1], "1770");
  EXPECT_EQ(out[2], "755");
  EXPECT_EQ(out[3], "750");  // --perms 01770 has no other bits: the parent loses o-rx
  unsigned long long blocks = 0, bsize = 0;
  ASSERT_EQ(sscanf(out[4].c_str(), "%llu %llu", &blocks, &bsize), 2) << out[4];
  EXPECT_EQ(blocks * bsize, 1048576ull);
  auto def = find_mount(v.mounts, "/mnt/def");
  auto sized = find_mount(v.mounts, "/q/sized");
  ASSERT_TRUE(def && sized) << v.run.out;
  for (const auto* m : {&*def, &*sized}) {
    EXPECT_EQ(m->fstype, "tmpfs");
    EXPECT_TRUE(has_opt(m->options, "nosuid")) << m->options;
    EXPECT_TRUE(has_opt(m->options, "nodev")) << m->options;
  }
  EXPECT_EQ(opt_value(def->super_options, "size"), std::nullopt) << def->super_options;
  EXPECT_EQ(opt_value(def->super_options, "mode"), "755") << def->super_options;
  EXPECT_EQ(opt_value(sized->super_options, "size"), "1024k") << sized->super_options;
  EXPECT_EQ(opt_value(sized->super_options, "mode"), "1770") << sized->super_options;
}

TEST_P(MountsJail, DirPermsAndParentModes) {
  auto r = jail_sh(with(scratch_root(), {"--dir", "/a/b/c", "--perms", "0700", "--dir", "/d/e/f",
                                         "--perms", "0750", "--dir", "/g/h", "--perms", "0705",
                                         "--dir", "/i/j", "--perms", "0700", "--dir", "/a"}),
                   "stat -c '%a %n' /a /a/b /a/b/c /d /d/e /d/e/f /g /g/h /i /i/j", opts());
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(r.out,
            "755 /a\n"  // an existing directory is left untouched by a later --perms --dir
            "755 /a/b\n"
            "755 /a/b/c\n"
            "700 /d\n"  // no group/other bits: parents lose g-rx and o-rx
            "700 /d/e\n"
            "700 /d/e/f\n"
            "750 /g\n"  // no other bits: parents lose o-rx
            "750 /g/h\n"
            "705 /i\n"  // no group bits: parents lose g-rx
            "705 /i/j\n");
}

TEST_P(MountsJail, FileContentAndMode) {
  RunOpts o = opts();
  const std::string binary("bin\0ary\n", 8);
  o.fd_data = {{3, "hello\n"}, {4, binary}};
  auto r = jail_sh(
      with(scratch_root(), {"--file", "3", "/f1", "--perms", "0640", "--file", "4", "/d/f2"}),
      "cat /f1 /d/f2; stat -c '%a %s %n' /f1 /d/f2; stat -c '%a %n' /d", o);
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(r.out, "hello\n" + binary + "666 6 /f1\n640 8 /d/f2\n750 /d\n");
}

TEST_P(MountsJail, BindDataAndRoBindData) {
  RunOpts o = opts();
  o.fd_data = {{3, "rw data\n"}, {4, "ro data\n"}, {5, "perm data\n"}};
  auto v = jail_view(with(scratch_root(), {"--bind-data", "3", "/bd", "--ro-bind-data", "4", "/rbd",
                                           "--perms", "0640", "--ro-bind-data", "5", "/p/rbd2"}),
                     "exec 2>&1; cat /bd /rbd /p/rbd2; stat -c '%a %n' /bd /rbd /p /p/rbd2; "
                     "echo more >> /bd && cat /bd; touch /rbd; ls -A / | grep -c bind-data",
                     o);
  auto out = lines_of(v.out);
  ASSERT_EQ(out.size(), 11u) << describe(v.run);
  EXPECT_EQ(out[0], "rw data");
  EXPECT_EQ(out[1], "ro data");
  EXPECT_EQ(out[2], "perm data");
  EXPECT_EQ(out[3], "600 /bd");
  EXPECT_EQ(out[4], "600 /rbd");
  EXPECT_EQ(out[5], "750 /p");
  EXPECT_EQ(out[6], "640 /p/rbd2");
  EXPECT_EQ(out[7], "rw data");
  EXPECT_EQ(out[8], "more");
  EXPECT_TRUE(contains(out[9], "Read-only file system")) << out[9];
  EXPECT_EQ(out[10], "0");  // the temporary files are not visible in the root
  auto bd = find_mount(v.mounts, "/bd");
  auto rbd = find_mount(v.mounts, "/rbd");
  ASSERT_TRUE(bd && rbd) << v.run.out;
  EXPECT_TRUE(has_opt(bd->options, "rw")) << bd->options;
  EXPECT_TRUE(has_opt(rbd->options, "ro")) << rbd->options;
  for (const auto* m : {&*bd, &*rbd}) {
    EXPECT_TRUE(has_opt(m->options, "nosuid")) << m->options;
    EXPECT_TRUE(has_opt(m->options, "nodev")) << m->options;
  }
}

TEST_P(MountsJail, SymlinkIsCreatedAndIdempotent) {
  auto r = jail_sh(with(scratch_root(), {"--symlink", "/target/x", "/l", "--symlink", "/target/x",
                                         "/l", "--symlink", "rel/y", "/s/l2"}),
                   "readlink /l /s/l2; stat -c %a /s", opts());
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(r.out, "/target/x\nrel/y\n755\n");
}

TEST_P(MountsJail, ConflictingSymlinkFails) {
  const std::vector<std::string> ops{"--symlink", "/dev/null", "/l",
                                     "--symlink", "/dev/zero", "/l"};
  auto r = jail_sh(with(scratch_root(), ops), "echo ran", opts());
  EXPECT_EQ(r.status, 1) << describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "Can't make symlink at /l: existing destination is /dev/null"))
      << r.err;
  RunOpts as_bwrap = opts();
  as_bwrap.argv0 = "bwrap";
  r = jail_sh(with(scratch_root(), ops), "echo ran", as_bwrap);
  EXPECT_EQ(r.status, 1) << describe(r);
  EXPECT_EQ(r.err, "bwrap: Can't make symlink at /l: existing destination is /dev/null\n");
  // Something that is not a symlink at the destination is a failure too.
  r = jail_sh(with(scratch_root(), {"--dir", "/l", "--symlink", "x", "/l"}), "echo ran", opts());
  EXPECT_EQ(r.status, 1) << describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "Can't make symlink at /l")) << r.err;
}

// --chmod follows a symlink at the path, inside the new root (bwrap 0.8 resolves an absolute
// link against its setup root instead, and fails with ENOENT on /lnk here).
TEST_P(MountsJail, ChmodChangesAnExistingPath) {
  RunOpts o = opts();
  o.fd_data = {{3, "x"}};
  auto r = jail_sh(with(scratch_root(), {"--dir", "/a", "--file", "3", "/a/f", "--chmod", "0710",
                                         "/a", "--chmod", "0604", "/a/f", "--dir", "/real",
                                         "--symlink", "/real", "/lnk", "--chmod", "1777", "/lnk"}),
                   "stat -c '%a %n' /a /a/f /real", o);
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(r.out, "710 /a\n604 /a/f\n1777 /real\n");
  r = jail_sh(with(scratch_root(), {"--chmod", "0700", "/missing"}), "echo ran", opts());
  EXPECT_EQ(r.status, 1) << describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "/missing")) << r.err;
}

TEST_P(MountsJail, RemountRoIsNotRecursive) {
  auto v =
      jail_view(with(scratch_root(), {"--tmpfs", "/t", "--tmpfs", "/t/sub", "--remount-ro", "/t"}),
                "exec 2>&1; touch /t/a; touch /t/sub/b && echo sub-ok", opts());
  ASSERT_EQ(v.run.status, 0) << describe(v.run);
  auto out = lines_of(v.out);
  ASSERT_EQ(out.size(), 2u) << v.out;
  EXPECT_TRUE(contains(out[0], "Read-only file system")) << out[0];
  EXPECT_EQ(out[1], "sub-ok");
  auto t = find_mount(v.mounts, "/t");
  auto sub = find_mount(v.mounts, "/t/sub");
  ASSERT_TRUE(t && sub) << v.run.out;
  EXPECT_TRUE(has_opt(t->options, "ro")) << t->options;
  EXPECT_TRUE(has_opt(sub->options, "rw")) << sub->options;
}

// With stdout a terminal, --dev binds it on /dev/console (bwrap's behaviour). The terminal is
// opened by its path through the host root: fd 1 itself is a file of the caller's mount
// namespace, which open_tree cannot clone into the sandbox's (every interactive --dev jail
// failed with EINVAL). util-linux's `script` gives the program a fresh pty as stdout.
TEST_P(MountsJail, DevBindsTheTerminalOnStdoutAsConsole) {
  if (access("/usr/bin/script", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/script (util-linux)";
  std::string cmd = boxjail_binary();
  for (const auto& a : with(scratch_root(), {"--dev", "/dev"})) cmd += " '" + a + "'";
  // The console is the very terminal the program's stdout is: same device numbers.
  cmd += " sh -c 'stat -Lc console=%t:%T /dev/console; stat -Lc stdout=%t:%T /proc/self/fd/1'";
  RunOpts o = opts();
  o.program = "/usr/bin/script";
  auto r = run({"-qec", cmd, "/dev/null"}, o);
  ASSERT_EQ(r.status, 0) << describe(r);
  const auto console = r.out.find("console=");
  const auto out = r.out.find("stdout=");
  ASSERT_NE(console, std::string::npos) << r.out;
  ASSERT_NE(out, std::string::npos) << r.out;
  const std::string a =
      r.out.substr(console + 8, r.out.find_first_of("\r\n", console) - console - 8);
  const std::string b = r.out.substr(out + 7, r.out.find_first_of("\r\n", out) - out - 7);
  EXPECT_EQ(a, b) << r.out;
  EXPECT_EQ(a.rfind("88:", 0), 0u) << "a pty (major 136 = 0x88): " << r.out;
}

TEST_P(MountsJail, Mqueue) {
  auto v = jail_view(with(scratch_root(), {"--unshare-ipc", "--mqueue", "/dev/mqueue"}),
                     "stat -c %F /dev/mqueue", opts());
  ASSERT_EQ(v.run.status, 0) << describe(v.run);
  EXPECT_EQ(v.out, "directory\n");
  auto m = find_mount(v.mounts, "/dev/mqueue");
  ASSERT_TRUE(m) << v.run.out;
  EXPECT_EQ(m->fstype, "mqueue");
  // Without --unshare-ipc the mqueue belongs to the host's ipc namespace: root may mount it, an
  // unprivileged user may not (the kernel's rule; bwrap fails the same way).
  auto r = jail_sh(with(scratch_root(), {"--mqueue", "/dev/mqueue"}), "echo ran", opts());
  if (nobody()) {
    EXPECT_EQ(r.status, 1) << describe(r);
    EXPECT_TRUE(contains(r.err, "Can't mount mqueue on")) << r.err;
    EXPECT_TRUE(contains(r.err, "/dev/mqueue")) << r.err;
  } else {
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(r.out, "ran\n");
  }
}

// ---------------------------------------------------------------------------------------------
// --proc and --dev.

TEST_P(MountsJail, ProcWithPidNamespaceIsNew) {
  auto host_proc = find_mount(parse_mountinfo(host_mountinfo()), "/proc");
  ASSERT_TRUE(host_proc);
  auto root = scratch_root();
  root.resize(root.size() - 2);  // without its --proc /proc
  const auto args = with(root, {"--unshare-pid", "--proc", "/proc"});
  auto r = jail_sh(args, "cd /proc && echo [0-9]*; echo $$", opts());
  ASSERT_EQ(r.status, 0) << describe(r);
  // Only pid 1 (the reaper) and pid 2 (this shell) exist; the glob is expanded by the shell
  // itself, without a child process.
  EXPECT_EQ(r.out, "1 2\n2\n");
  auto v = jail_view(args, "true", opts());
  ASSERT_EQ(v.run.status, 0) << describe(v.run);
  auto m = find_mount(v.mounts, "/proc");
  ASSERT_TRUE(m) << v.run.out;
  EXPECT_EQ(m->fstype, "proc");
  EXPECT_NE(m->dev, host_proc->dev) << "not a new procfs instance";
  for (const char* opt : {"nosuid", "nodev", "noexec"}) {
    EXPECT_TRUE(has_opt(m->options, opt)) << opt << " in " << m->options;
  }
}

TEST_P(MountsJail, ProcWithoutPidNamespaceIsTheHosts) {
  auto host_proc = find_mount(parse_mountinfo(host_mountinfo()), "/proc");
  ASSERT_TRUE(host_proc);
  auto v = jail_view(scratch_root(), "test -d /proc/" + std::to_string(getpid()) + " && echo seen",
                     opts());
  ASSERT_EQ(v.run.status, 0) << describe(v.run);
  EXPECT_EQ(v.out, "seen\n");
  auto m = find_mount(v.mounts, "/proc");
  ASSERT_TRUE(m) << v.run.out;
  EXPECT_EQ(m->fstype, "proc");
  EXPECT_EQ(m->dev, host_proc->dev);
  EXPECT_TRUE(has_opt(m->options, "nosuid")) << m->options;
  EXPECT_TRUE(has_opt(m->options, "nodev")) << m->options;
}

// sys, sysrq-trigger, irq and bus: each one the jail could write to is covered by a read-only
// bind. Checked in the jail, by whoever runs it, for both kinds of procfs.
TEST_P(MountsJail, ProcOldInterfacesAreNotWritable) {
  auto root = scratch_root();
  root.resize(root.size() - 2);
  for (bool pidns : {false, true}) {
    SCOPED_TRACE(pidns ? "new procfs" : "host procfs");
    auto args = root;
    if (pidns) args.push_back("--unshare-pid");
    append(args, {"--proc", "/proc"});
    auto v = jail_view(args,
                       "for n in sys sysrq-trigger irq bus; do "
                       "test -e /proc/$n || continue; "
                       "test -w /proc/$n && echo \"w $n\" || echo \"r $n\"; done",
                       opts());
    ASSERT_EQ(v.run.status, 0) << describe(v.run);
    int checked = 0;
    for (const auto& line : lines_of(v.out)) {
      const std::string name = line.substr(2);
      if (line[0] == 'w') {
        auto m = find_mount(v.mounts, "/proc/" + name);
        ASSERT_TRUE(m) << "/proc/" << name << " is writable and not covered";
        EXPECT_TRUE(has_opt(m->options, "ro")) << name << ": " << m->options;
      }
      ++checked;
    }
    EXPECT_GT(checked, 0) << v.out;
  }
}

TEST_P(MountsJail, DevHasTheStandardNodesAndLinks) {
  auto host_mounts = parse_mountinfo(host_mountinfo());
  std::string host_ids;
  for (const char* n : {"null", "zero", "full", "random", "urandom", "tty"}) {
    struct stat st;
    ASSERT_EQ(stat((std::string("/dev/") + n).c_str(), &st), 0) << n;
    host_ids += std::string(n) + " " + std::to_string(major(st.st_rdev)) + ":" +
                std::to_string(minor(st.st_rdev)) + "\n";
  }
  auto v = jail_view(
      with(scratch_root(), {"--dev", "/dev"}),
      "for n in null zero full random urandom tty; do "
      "test -c /dev/$n && echo \"$n $(stat -c '%Hr:%Lr' /dev/$n)\"; done; "
      "for n in stdin stdout stderr fd core ptmx; do echo \"$n -> $(readlink /dev/$n)\"; done; "
      "test -d /dev/shm && echo shm-dir; test -e /dev/console || echo no-console; "
      "stat -c '%a %n' /dev /dev/pts/ptmx; ls -A /dev/pts; "
      "exec 3<>/dev/ptmx && ls -A /dev/pts",
      opts());
  ASSERT_EQ(v.run.status, 0) << describe(v.run);
  EXPECT_EQ(v.out, host_ids +
                       "stdin -> /proc/self/fd/0\n"
                       "stdout -> /proc/self/fd/1\n"
                       "stderr -> /proc/self/fd/2\n"
                       "fd -> /proc/self/fd\n"
                       "core -> /proc/kcore\n"
                       "ptmx -> pts/ptmx\n"
                       "shm-dir\n"
                       "no-console\n"  // stdout is a pipe, not a tty
                       "755 /dev\n"
                       "666 /dev/pts/ptmx\n"
                       "ptmx\n"  // a fresh devpts instance: no pty of the host
                       "0\nptmx\n");
  auto dev = find_mount(v.mounts, "/dev");
  auto pts = find_mount(v.mounts, "/dev/pts");
  ASSERT_TRUE(dev && pts) << v.run.out;
  EXPECT_EQ(dev->fstype, "tmpfs");
  EXPECT_TRUE(has_opt(dev->options, "nosuid")) << dev->options;
  EXPECT_TRUE(has_opt(dev->options, "nodev")) << dev->options;
  EXPECT_EQ(opt_value(dev->super_options, "mode"), "755") << dev->super_options;
  EXPECT_EQ(pts->fstype, "devpts");
  EXPECT_EQ(opt_value(pts->super_options, "ptmxmode"), "666") << pts->super_options;
  EXPECT_EQ(opt_value(pts->super_options, "mode"), "620") << pts->super_options;
  for (const auto& h : host_mounts) {
    if (h.fstype == "devpts") {
      EXPECT_NE(h.dev, pts->dev) << "the host's devpts was reused";
    }
  }
  for (const char* n : {"null", "zero", "full", "random", "urandom", "tty"}) {
    auto m = find_mount(v.mounts, std::string("/dev/") + n);
    ASSERT_TRUE(m) << n;
    // As bwrap binds them: nosuid only. noexec would break mmap(PROT_EXEC) of /dev/zero.
    EXPECT_TRUE(has_opt(m->options, "nosuid")) << n << ": " << m->options;
    EXPECT_FALSE(has_opt(m->options, "nodev")) << n << ": " << m->options;
    EXPECT_FALSE(has_opt(m->options, "noexec")) << n << ": " << m->options;
  }
}

TEST_P(MountsJail, DevNodesWork) {
  auto r = jail_sh(with(scratch_root(), {"--dev", "/dev"}),
                   "exec 2>&1; head -c 8 /dev/zero | od -An -tx1; "
                   "dd if=/dev/zero of=/dev/full bs=1 count=1; "
                   "echo x > /dev/null && echo null-ok; head -c 16 /dev/urandom | wc -c",
                   opts());
  auto out = lines_of(r.out);
  ASSERT_GE(out.size(), 4u) << describe(r);
  EXPECT_EQ(out[0], " 00 00 00 00 00 00 00 00");
  EXPECT_TRUE(contains(r.out, "No space left on device")) << r.out;
  EXPECT_EQ(out[out.size() - 2], "null-ok");
  EXPECT_EQ(out[out.size() - 1], "16");
}

// ---------------------------------------------------------------------------------------------
// Overlays. Lower files belong to uid 65534 so that uid 65534 can copy them up too (overlayfs
// refuses to copy up a file whose owner is not mapped in the user namespace).

class MountsOverlay : public MountsJail {
 protected:
  std::string lower(const std::string& name,
                    const std::vector<std::pair<std::string, std::string>>& files) {
    std::string dir = tmp_.path() + "/" + name;
    make_dir(dir, 0755, true);
    for (const auto& [f, content] : files) write_host_file(dir + "/" + f, content, 0644, true);
    return dir;
  }
};

INSTANTIATE_TEST_SUITE_P(Mounts, MountsOverlay, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) { return as_name(i.param); });

TEST_P(MountsOverlay, OverlayWritesLandInTheUpperDir) {
  const std::string low = lower("lower", {{"f", "lower\n"}});
  const std::string upper = tmp_.path() + "/upper";
  const std::string work = tmp_.path() + "/work";
  make_dir(upper, 0755, true);
  make_dir(work, 0755, true);
  auto v = jail_view(with(scratch_root(), {"--overlay-src", low, "--overlay", upper, work, "/o"}),
                     "cat /o/f && echo new > /o/n && echo mod >> /o/f && cat /o/f", opts());
  ASSERT_EQ(v.run.status, 0) << describe(v.run);
  EXPECT_EQ(v.out, "lower\nlower\nmod\n");
  EXPECT_EQ(read_file(upper + "/n"), "new\n");
  EXPECT_EQ(read_file(upper + "/f"), "lower\nmod\n");
  EXPECT_EQ(host_listing(low), "f\n");
  EXPECT_EQ(read_file(low + "/f"), "lower\n");
  auto m = find_mount(v.mounts, "/o");
  ASSERT_TRUE(m) << v.run.out;
  EXPECT_EQ(m->fstype, "overlay");
  EXPECT_TRUE(has_opt(m->options, "rw")) << m->options;
  EXPECT_TRUE(has_opt(m->options, "nosuid")) << m->options;
  EXPECT_TRUE(has_opt(m->options, "nodev")) << m->options;
  EXPECT_TRUE(has_opt(m->super_options, "userxattr")) << m->super_options;
}

TEST_P(MountsOverlay, TmpOverlayWritesStayInTheJail) {
  const std::string low = lower("lower", {{"f", "lower\n"}, {"gone", "x\n"}});
  auto v = jail_view(with(scratch_root(), {"--overlay-src", low, "--tmp-overlay", "/o"}),
                     "echo new > /o/n && echo mod >> /o/f && rm /o/gone && mkdir /o/d && "
                     "cat /o/f && ls -A /o",
                     opts());
  ASSERT_EQ(v.run.status, 0) << describe(v.run);
  EXPECT_EQ(v.out, "lower\nmod\nd\nf\nn\n");
  EXPECT_EQ(host_listing(low), "f\ngone\n");
  EXPECT_EQ(read_file(low + "/f"), "lower\n");
  auto m = find_mount(v.mounts, "/o");
  ASSERT_TRUE(m) << v.run.out;
  EXPECT_EQ(m->fstype, "overlay");
  EXPECT_TRUE(has_opt(m->options, "rw")) << m->options;
  // A second jail starts from the lower layer again.
  auto r = jail_sh(with(scratch_root(), {"--overlay-src", low, "--tmp-overlay", "/o"}), "ls -A /o",
                   opts());
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(r.out, "f\ngone\n");
}

TEST_P(MountsOverlay, RoOverlayStacksSourcesAndIsReadOnly) {
  const std::string bottom = lower("bottom", {{"a", "bottom\n"}, {"b", "only bottom\n"}});
  const std::string top = lower("top", {{"a", "top\n"}});
  auto v = jail_view(
      with(scratch_root(), {"--overlay-src", bottom, "--overlay-src", top, "--ro-overlay", "/o"}),
      "exec 2>&1; cat /o/a /o/b; touch /o/new; echo x >> /o/a; echo end", opts());
  ASSERT_EQ(v.run.status, 0) << describe(v.run);
  auto out = lines_of(v.out);
  ASSERT_EQ(out.size(), 5u) << v.out;
  EXPECT_EQ(out[0], "top");  // the last --overlay-src is the top layer
  EXPECT_EQ(out[1], "only bottom");
  EXPECT_TRUE(contains(out[2], "Read-only file system")) << out[2];
  EXPECT_TRUE(contains(out[3], "Read-only file system")) << out[3];
  EXPECT_EQ(out[4], "end");
  EXPECT_EQ(host_listing(top), "a\n");
  auto m = find_mount(v.mounts, "/o");
  ASSERT_TRUE(m) << v.run.out;
  EXPECT_EQ(m->fstype, "overlay");
  EXPECT_TRUE(has_opt(m->options, "ro")) << m->options;
}

// ---------------------------------------------------------------------------------------------
// Symlink safety. A planted symlink must never lead a filesystem operation out of the new root:
// every destination is resolved inside it (absolute targets and ".." are clamped to it). The
// attack of CVE-2026-87766 is a link to /oldroot/..., where bwrap's host root sits during setup;
// boxjail keeps the host's root at "/" until its single pivot, so links to host paths themselves
// are planted too.
// Run with both resolvers: openat2(RESOLVE_IN_ROOT), and the component walk used when openat2 is
// missing (forced by making openat2 fail with ENOSYS).

class MountsSymlinkSafety : public HostUntouched<std::tuple<bool, bool>> {
 protected:
  void SetUp() override {
    HostUntouched::SetUp();
    // Outside /tmp: while the operations run the base tmpfs covers the host's /tmp, so a victim
    // there would hide an escape (it would land in that tmpfs, never on the host).
    char parent[] = "/var/tmp/boxjail-victim-XXXXXX";
    ASSERT_NE(mkdtemp(parent), nullptr);
    ASSERT_EQ(chmod(parent, 0755), 0);
    victim_parent_ = parent;
    victim_ = victim_parent_ + "/victim";
    plant_ = tmp_.path() + "/plant";
    // The victim is writable by the jail's user, so an escape would have effects to see.
    make_dir(victim_, 0777, true);
    make_dir(plant_, 0755);
    make_symlink("/oldroot" + victim_, plant_ + "/abs");
    std::string up;
    for (int i = 0; i < 16; ++i) up += "../";
    make_symlink(up + "oldroot" + victim_, plant_ + "/rel");
    make_symlink("../../..", plant_ + "/up");
    make_symlink("/oldroot" + victim_ + "/file", plant_ + "/dangle");
    make_symlink(up + "oldroot" + victim_ + "/file", plant_ + "/reldangle");
    // The same aimed at the host's own paths: while the operations run, the host's root is "/".
    make_symlink(victim_, plant_ + "/habs");
    make_symlink(up + victim_.substr(1), plant_ + "/hrel");
    make_symlink(victim_ + "/file", plant_ + "/hdangle");
    make_symlink(up + victim_.substr(1) + "/file", plant_ + "/hreldangle");
    src_dir_ = tmp_.path() + "/srcdir";
    make_dir(src_dir_, 0755);
    src_file_ = tmp_.file("srcfile", "source file\n");
    lower_ = tmp_.path() + "/lower";
    make_dir(lower_, 0755);
    plant_listing_ = host_listing(plant_);
    root_probe_ = "boxjail-probe-" + std::filesystem::path(tmp_.path()).filename().string();
  }
  void TearDown() override {
    // Were "../../.." resolved on the host, the probe would be in the host's root: report it and
    // take it away again.
    if (host_exists("/" + root_probe_)) {
      ADD_FAILURE() << "/" << root_probe_ << " was created in the host's root";
      rmdir(("/" + root_probe_).c_str());
    }
    EXPECT_EQ(host_listing(victim_), "") << "something was created through a symlink on the host";
    EXPECT_EQ(host_mode(victim_), 0777u);
    EXPECT_EQ(host_listing(plant_), plant_listing_);
    std::error_code ec;
    std::filesystem::remove_all(victim_parent_, ec);
    HostUntouched::TearDown();
  }
  bool nobody() const { return std::get<0>(GetParam()); }
  bool walk() const { return std::get<1>(GetParam()); }
  RunOpts opts() const {
    RunOpts o;
    o.as_nobody = nobody();
    if (walk()) o.deny.push_back(Deny{.syscall = "openat2", .err = ENOSYS});
    o.fd_data = {{3, "data\n"}};
    return o;
  }
  // A jail: scratch root, the planted links at /x, then `ops`.
  RunResult run_jail(const std::vector<std::string>& ops, const std::string& script) {
    auto args = with(scratch_root(), {"--unshare-ipc", "--bind", plant_, "/x"});
    append(args, ops);
    return jail_sh(args, script, opts());
  }
  // Every operation that creates or mounts something, aimed at DEST.
  std::vector<std::vector<std::string>> creating_ops(const std::string& dest) const {
    return {{"--dir", dest},
            {"--tmpfs", dest},
            {"--file", "3", dest},
            {"--bind-data", "3", dest},
            {"--ro-bind-data", "3", dest},
            {"--symlink", "/etc/evil", dest},
            {"--bind", src_dir_, dest},
            {"--ro-bind", src_file_, dest},
            {"--dev", dest},
            {"--proc", dest},
            {"--mqueue", dest},
            {"--overlay-src", lower_, "--tmp-overlay", dest}};
  }

  std::string victim_parent_, victim_, plant_, src_dir_, src_file_, lower_, plant_listing_,
      root_probe_;
};

INSTANTIATE_TEST_SUITE_P(Mounts, MountsSymlinkSafety,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool()),
                         [](const ::testing::TestParamInfo<std::tuple<bool, bool>>& i) {
                           return as_name(std::get<0>(i.param)) +
                                  (std::get<1>(i.param) ? "_Walk" : "_Openat2");
                         });

// The links' targets exist in the new root too: every operation succeeds, and lands there.
TEST_P(MountsSymlinkSafety, OperationsThroughSymlinksLandInsideTheNewRoot) {
  const std::string in_root = "/oldroot" + victim_;  // a path of the NEW root here
  std::vector<std::string> ops{"--dir", in_root};
  append(ops, {"--dir", "/x/abs/c1"});
  append(ops, {"--dir", "/x/rel/c2"});
  append(ops, {"--dir", "/x/up/" + root_probe_});  // "../../.." from /x is the new root
  append(ops, {"--tmpfs", "/x/abs/t"});
  append(ops, {"--file", "3", "/x/rel/f"});
  append(ops, {"--symlink", "/etc/evil", "/x/abs/s"});
  append(ops, {"--ro-bind-data", "3", "/x/rel/bd"});
  append(ops, {"--chmod", "0700", "/x/abs"});
  // The host's own path exists in the new root too (as a plain directory made by --dir).
  append(ops, {"--dir", victim_});
  append(ops, {"--dir", "/x/habs/h1"});
  append(ops, {"--tmpfs", "/x/hrel/ht"});
  append(ops, {"--file", "3", "/x/habs/hf"});
  append(ops, {"--chmod", "0750", "/x/hrel"});
  auto r = run_jail(ops, "cd " + quote(in_root) + " && ls -A && stat -c %a . && test -d /" +
                             root_probe_ + " && echo probe-in-root && grep -c ' " + in_root +
                             "/t ' /proc/self/mountinfo && cd " + quote(victim_) +
                             " && ls -A && stat -c %a . && grep -c ' " + victim_ +
                             "/ht ' /proc/self/mountinfo");
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(r.out, "bd\nc1\nc2\nf\ns\nt\n700\nprobe-in-root\n1\nh1\nhf\nht\n750\n1\n");
}

// The links' targets do not exist in the new root: whatever the outcome, the host is untouched
// (the fixture checks the victim directory and the host's mount table).
TEST_P(MountsSymlinkSafety, OperationsThroughSymlinksNeverReachTheHost) {
  std::vector<std::pair<std::vector<std::string>, std::string>> links{
      {{}, "/x/abs"},
      {{}, "/x/rel"},
      {{}, "/x/habs"},
      {{}, "/x/hrel"},
      {{"--symlink", "/oldroot" + victim_, "/evil"}, "/evil"},  // made by the jail itself
      {{"--symlink", victim_, "/evil"}, "/evil"},
  };
  for (const auto& [pre, link] : links) {
    for (const auto& dest : {link + "/made", link}) {
      for (const auto& op : creating_ops(dest)) {
        auto ops = pre;
        append(ops, op);
        std::string shown;
        for (const auto& a : ops) shown += a + " ";
        SCOPED_TRACE(shown);
        auto r = run_jail(ops, "echo ran");
        EXPECT_TRUE(r.status == 0 || r.status == 1) << describe(r);
        ASSERT_EQ(host_listing(victim_), "") << describe(r);
      }
    }
    auto r = run_jail(with(pre, {"--chmod", "0700", link}), "echo ran");
    EXPECT_EQ(r.status, 1) << describe(r);  // no such path in the new root
    ASSERT_EQ(host_mode(victim_), 0777u) << describe(r);
  }
}

TEST_P(MountsSymlinkSafety, DanglingSymlinkAtAFileDestinationIsRefused) {
  for (const auto& ops : std::vector<std::vector<std::string>>{
           {"--file", "3", "/x/dangle"},
           {"--file", "3", "/x/reldangle"},
           {"--bind-data", "3", "/x/dangle"},
           {"--ro-bind-data", "3", "/x/reldangle"},
           {"--ro-bind", src_file_, "/x/dangle"},
           {"--file", "3", "/x/hdangle"},
           {"--bind-data", "3", "/x/hreldangle"},
           {"--ro-bind", src_file_, "/x/hdangle"},
           {"--symlink", "/oldroot" + victim_ + "/file", "/d", "--file", "3", "/d"},
           {"--symlink", victim_ + "/file", "/d", "--file", "3", "/d"},
           {"--symlink", "/nowhere", "/d", "--file", "3", "/d"},
       }) {
    std::string shown;
    for (const auto& a : ops) shown += a + " ";
    SCOPED_TRACE(shown);
    auto r = run_jail(ops, "echo ran; test -e /nowhere && echo created-target");
    EXPECT_EQ(r.status, 1) << describe(r);
    EXPECT_EQ(r.out, "");
    // bwrap's words: "Can't create file X" for --file, "Can't create file at X" for a bind.
    // "/nowhere" is a host path too while the operations run: nothing may be created there.
    if (host_exists("/nowhere")) {
      ADD_FAILURE() << "/nowhere was created on the host";
      unlink("/nowhere");
    }
    const bool file_op = ops[ops.size() - 3] == "--file";
    EXPECT_TRUE(
        contains(r.err, (file_op ? "Can't create file " : "Can't create file at ") + ops.back()))
        << r.err;
    ASSERT_EQ(host_listing(victim_), "");
  }
}

// Propagation, as bwrap: on a host whose mounts are shared, the jail's copies are slaves of them.
// A host unmount reaches the running jail, and a mount made in the jail (its --tmpfs) stays there.
// Run as root, in a private mount namespace of the test made rshared, so the host's own mount
// table is never touched; and with bwrap too, as the reference.
TEST(MountsPropagation, JailMountsAreSlavesOfTheHost) {
  TempDir t;
  const std::string h = t.path() + "/h", j = t.path() + "/j", ready = t.path() + "/ready";
  const std::string inner =
      "grep ' " + h + " ' /proc/self/mountinfo | grep -q ' master:' && echo slave; " +
      "grep -q ' " + j + " ' /proc/self/mountinfo && : > " + ready + "; i=0; while grep -q ' " + h +
      " ' /proc/self/mountinfo; do sleep 0.01; i=\\$((i+1)); " +
      "[ \\$i -lt 1000 ] || exit 3; done; echo gone";  // \\$: for the jail's shell
  std::vector<std::string> jailers{boxjail_binary()};
  if (bwrap_available()) jailers.push_back("/usr/bin/bwrap");
  for (const auto& jailer : jailers) {
    SCOPED_TRACE(jailer);
    unlink(ready.c_str());
    const std::string outer =
        "set -e; mount --make-rshared /; mkdir -p " + h + " " + j + "; mount -t tmpfs hostside " +
        h + "; '" + jailer + "' --bind / / --tmpfs " + j + " sh -c \"" + inner + "\" & " +
        "while [ ! -e " + ready + " ]; do sleep 0.01; done; grep -q ' " + j +
        " ' /proc/self/mountinfo && echo leaked || echo contained; umount " + h + "; wait $!";
    RunOpts o;
    o.program = "/usr/bin/unshare";
    auto r = run({"-m", "--propagation", "unchanged", "sh", "-c", outer}, o);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "slave\ncontained\ngone\n") << r.err;
  }
}

// A racing caller: while jails are set up, another process swaps a directory the jail writes
// under (/r/flip, a host directory bound into it) with a symlink to the victim on the host, over
// and over (renameat2 RENAME_EXCHANGE, atomic). Whatever each jail meets, a directory or the
// link, nothing may be created, mounted or chmod'ed in the victim: every destination is resolved
// in the new root (openat2 RESOLVE_IN_ROOT, or the O_PATH walk), where the link's target is not
// the host's.
TEST_P(MountsSymlinkSafety, RacingSwapsOfADestinationsParentNeverReachTheHost) {
  char race_dir[] = "/var/tmp/boxjail-race-XXXXXX";
  ASSERT_NE(mkdtemp(race_dir), nullptr);
  const std::string race = race_dir;
  ASSERT_EQ(chmod(race.c_str(), 0777), 0);
  make_dir(race + "/flip", 0777, true);
  make_symlink(victim_, race + "/swap");  // the host's path: "/" is the host's during setup
  std::atomic<bool> stop{false};
  std::atomic<long> swaps{0};
  std::thread swapper([&] {
    while (!stop) {
      if (renameat2(AT_FDCWD, (race + "/flip").c_str(), AT_FDCWD, (race + "/swap").c_str(),
                    RENAME_EXCHANGE) == 0) {
        ++swaps;
      }
    }
  });
  std::vector<std::vector<std::string>> ops = creating_ops("/r/flip/new");
  ops.push_back({"--chmod", "0700", "/r/flip"});
  ops.push_back({"--remount-ro", "/r/flip"});
  int ran = 0;
  for (int i = 0; i < 120; ++i) {
    auto args = with(scratch_root(), {"--unshare-ipc", "--bind", race, "/r"});
    append(args, ops[static_cast<std::size_t>(i) % ops.size()]);
    const auto r = jail_sh(args, "true", opts());
    if (r.status == 0) ++ran;
  }
  stop = true;
  swapper.join();
  EXPECT_GT(swaps.load(), 100) << "the race never ran";
  EXPECT_GT(ran, 0) << "no jail got through: the race proved nothing";
  std::error_code ec;
  std::filesystem::remove_all(race, ec);
  // TearDown: the victim still empty, mode 0777; the host's mount table unchanged.
}

}  // namespace
}  // namespace boxjail::test

// openat2(RESOLVE_IN_ROOT) fails with EAGAIN when a mount or rename anywhere on the host races a
// ".." step; boxjail retries and then resolves with the O_PATH walk. A harness filter that makes
// every openat2 return EAGAIN forces that path: the operations must still land inside the root.
TEST(MountsResolver, EagainFromOpenat2FallsBackToTheWalk) {
  for (bool nobody : {false, true}) {
    SCOPED_TRACE(nobody ? "uid 65534" : "root");
    boxjail::test::RunOpts o;
    o.as_nobody = nobody;
    boxjail::test::Deny d;
    d.syscall = "openat2";
    d.err = EAGAIN;
    o.deny = {d};
    auto r =
        boxjail::test::run({"--ro-bind", "/usr",    "/usr",      "--symlink", "usr/bin",   "/bin",
                            "--symlink", "usr/lib", "/lib",      "--symlink", "usr/lib64", "/lib64",
                            "--dir",     "/a/b",    "--symlink", "/a",        "/l",        "--dir",
                            "/l/../l/c", "sh",      "-c",        "ls /a"},
                           o);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "b\nc\n");
  }
}
