// SPDX-License-Identifier: Apache-2.0
// Process-level behaviour of the built binary, checked through the kernel's view: id maps,
// namespaces, environment, exit statuses, signal forwarding, --die-with-parent, the status fds,
// the lock/sync/block fds, user-namespace limits, sessions and capabilities. Most tests run both
// as root and as uid 65534 (suite instantiations "ProcessUser/.../root" and ".../nobody").
//
// Debugging aid: PROCESS_TEST_BWRAP=1 runs the same tests against /usr/bin/bwrap, to tell a
// boxjail bug from a test that expects something bwrap does not do.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <grp.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

using namespace boxjail::test;

namespace {

// Under its own name boxjail adds the ladder's rung and mode to the first --json-status-fd line.
constexpr const char* kRungFields =
    ", \"boxjail-rung\": \"(root|userns)\", \"boxjail-ladder-mode\": \"auto\"";

bool against_bwrap() {
  const char* v = std::getenv("PROCESS_TEST_BWRAP");
  return v != nullptr && std::string(v) == "1";
}

std::string program_path() { return against_bwrap() ? "/usr/bin/bwrap" : boxjail_binary(); }

std::vector<std::string> cat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// Collapses runs of blanks: "         0          0 4294967295" -> "0 0 4294967295".
std::string squeeze(const std::string& s) {
  std::string out;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string w, joined;
    while (words >> w) joined += (joined.empty() ? "" : " ") + w;
    out += joined + "\n";
  }
  return out;
}

std::string readlink_str(const std::string& path) {
  char buf[4096];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
  if (n < 0) return "readlink(" + path + "): " + std::strerror(errno);
  return std::string(buf, static_cast<size_t>(n));
}

std::string host_ns(const std::string& name) { return readlink_str("/proc/self/ns/" + name); }

// "Name:\tvalue" lines of /proc/PID/status text.
std::map<std::string, std::string> status_fields(const std::string& text) {
  std::map<std::string, std::string> m;
  for (const auto& line : split_lines(text)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto v = line.substr(colon + 1);
    v.erase(0, v.find_first_not_of(" \t"));
    m[line.substr(0, colon)] = v;
  }
  return m;
}

// "key=value" lines printed by a jailed script.
std::map<std::string, std::string> kv_lines(const std::string& text) {
  std::map<std::string, std::string> m;
  for (const auto& line : split_lines(text)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) m[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return m;
}

// A process that still runs (zombies count as gone: nobody may be reaping them here).
bool process_alive(pid_t pid) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return false;
  auto paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

// Live processes whose NUL-separated argv is exactly `argv`.
std::vector<pid_t> processes_with_argv(const std::vector<std::string>& argv) {
  std::string want;
  for (const auto& a : argv) want += a + std::string(1, '\0');
  std::vector<pid_t> found;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (read_file("/proc/" + name + "/cmdline") == want) {
      pid_t pid = std::stoi(name);
      if (process_alive(pid)) found.push_back(pid);
    }
  }
  return found;
}

// Polls `cond` every 20 ms for at most `seconds`.
template <typename F>
bool eventually(F cond, int seconds = 20) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  for (;;) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

class Pipe {
 public:
  Pipe() {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    r = p[0];
    w = p[1];
  }
  ~Pipe() {
    close_r();
    close_w();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  void close_r() {
    if (r >= 0) close(r);
    r = -1;
  }
  void close_w() {
    if (w >= 0) close(w);
    w = -1;
  }
  // Everything until EOF (then eof is set), or what came within `seconds`.
  std::string read_all(int seconds = 20) {
    std::string s;
    eof = false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) return s;
      pollfd p{r, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char buf[4096];
      ssize_t n = read(r, buf, sizeof buf);
      if (n <= 0) {
        eof = n == 0;
        return s;
      }
      s.append(buf, static_cast<size_t>(n));
    }
  }
  int r = -1, w = -1;
  bool eof = false;
};

// child-pid from an --info-fd object.
std::optional<pid_t> info_child_pid(const std::string& info) {
  std::smatch m;
  if (!std::regex_search(info, m, std::regex("\"child-pid\": ([0-9]+)"))) return std::nullopt;
  return static_cast<pid_t>(std::stol(m[1]));
}

enum class User { Root, Nobody };

// Every test checks that it left no boxjail process and no host mount behind.
class ProcessBase : public ::testing::Test {
 protected:
  void SetUp() override { mountinfo_ = host_mountinfo(); }
  void TearDown() override {
    // The reaper and the command may still be dying after an abnormal end (SIGKILLed parent).
    EXPECT_TRUE(eventually([] { return count_processes_of(boxjail_binary()) == 0; }, 10))
        << "boxjail processes left behind";
    EXPECT_EQ(host_mountinfo(), mountinfo_) << "host mount table changed";
  }

  static RunOpts base_opts(bool nobody) {
    RunOpts o;
    o.as_nobody = nobody;
    o.use_bwrap = against_bwrap();
    return o;
  }

 private:
  std::string mountinfo_;
};

class ProcessRoot : public ProcessBase {
 protected:
  static RunOpts opts() { return base_opts(false); }
};

class ProcessNobody : public ProcessBase {
 protected:
  static RunOpts opts() { return base_opts(true); }
};

class ProcessByUser : public ProcessBase, public ::testing::WithParamInterface<User> {
 protected:
  bool nobody() const { return GetParam() == User::Nobody; }
  uid_t uid() const { return nobody() ? 65534 : 0; }
  RunOpts opts() const { return base_opts(nobody()); }
};

void PrintTo(User u, std::ostream* os) { *os << (u == User::Root ? "root" : "uid 65534"); }

std::string user_name(const ::testing::TestParamInfo<User>& info) {
  return info.param == User::Root ? "root" : "nobody";
}

#define PROCESS_USER_SUITE(name)                                                           \
  class name : public ProcessByUser {};                                                    \
  INSTANTIATE_TEST_SUITE_P(ProcessUser, name, ::testing::Values(User::Root, User::Nobody), \
                           user_name)

const std::vector<std::string> kRootBind = {"--ro-bind", "/", "/"};

// ---------------------------------------------------------------------------------------------
// uid and gid maps

PROCESS_USER_SUITE(ProcessIds);

TEST_P(ProcessIds, DefaultMaps) {
  auto r =
      jail_sh(kRootBind,
              "cat /proc/self/uid_map; echo --; cat /proc/self/gid_map; echo --; id -u; id -g; "
              "readlink /proc/self/ns/user",
              opts());
  ASSERT_EQ(r.status, 0) << r.err;
  auto l = split_lines(squeeze(r.out));
  ASSERT_EQ(l.size(), 7u) << r.out;
  if (nobody()) {
    // bwrap implies --unshare-user for a non-root caller and maps its own ids, no more.
    EXPECT_EQ(l[0], "65534 65534 1");
    EXPECT_EQ(l[2], "65534 65534 1");
    EXPECT_NE(l[6], host_ns("user"));
  } else {
    // Root keeps CAP_SYS_ADMIN, so it runs in its lock user namespace (a new one, below the
    // host's), where every host id is mapped onto itself.
    EXPECT_EQ(l[0], "0 0 4294967295");
    EXPECT_EQ(l[2], "0 0 4294967295");
    EXPECT_NE(l[6], host_ns("user"));
  }
  EXPECT_EQ(l[4], std::to_string(uid()));
  EXPECT_EQ(l[5], std::to_string(uid()));
}

TEST_P(ProcessIds, UidGidWithUnshareUser) {
  auto r = jail_sh(cat(kRootBind, {"--unshare-user", "--uid", "1000", "--gid", "1001"}),
                   "cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; id -u; id -g",
                   opts());
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string real = std::to_string(uid());
  EXPECT_EQ(squeeze(r.out), "1000 " + real + " 1\n1001 " + real + " 1\ndeny\n1000\n1001\n");
}

// With --dev the first user namespace maps 0 -> real uid (devpts needs a mapped root), and a
// nested one maps the sandbox uid -> 0. Inside, only the nested map is visible; from the host the
// command's map points at the real uid, and its user namespace's parent is not the host's.
TEST_P(ProcessIds, DevNestsUserNamespace) {
  Pipe info;
  RunOpts o = opts();
  o.keep_fds = {info.w};
  auto jail = spawn(cat(kRootBind, {"--unshare-user", "--uid", "1000", "--gid", "1001", "--dev",
                                    "/dev", "--info-fd", std::to_string(info.w), "sh", "-c",
                                    "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; "
                                    "echo ready; read x || :"}),
                    o);
  info.close_w();
  auto child = info_child_pid(info.read_all());
  ASSERT_TRUE(child.has_value());
  std::vector<std::string> inside;
  for (int i = 0; i < 5; ++i) {
    auto line = jail->read_line();
    ASSERT_TRUE(line.has_value()) << jail->wait().err;
    inside.push_back(squeeze(*line));
  }
  EXPECT_EQ(inside,
            (std::vector<std::string>{"1000 0 1\n", "1001 0 1\n", "1000\n", "1001\n", "ready\n"}));

  // The host's view of the same maps: outside ids relative to the reader's namespace.
  const std::string proc = "/proc/" + std::to_string(*child);
  const std::string real = std::to_string(uid());
  EXPECT_EQ(squeeze(read_file(proc + "/uid_map")), "1000 " + real + " 1\n");
  EXPECT_EQ(squeeze(read_file(proc + "/gid_map")), "1001 " + real + " 1\n");

  struct stat host_user;
  ASSERT_EQ(stat("/proc/self/ns/user", &host_user), 0);
  int ns = open((proc + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(ns, 0);
  int parent = ioctl(ns, NS_GET_PARENT);
  ASSERT_GE(parent, 0) << std::strerror(errno);
  struct stat parent_st;
  ASSERT_EQ(fstat(parent, &parent_st), 0);
  EXPECT_NE(parent_st.st_ino, host_user.st_ino) << "no nested user namespace";
  uid_t owner = 12345;
  ASSERT_EQ(ioctl(parent, NS_GET_OWNER_UID, &owner), 0);
  EXPECT_EQ(owner, uid()) << "the outer namespace belongs to the caller";
  int grandparent = ioctl(parent, NS_GET_PARENT);
  ASSERT_GE(grandparent, 0) << std::strerror(errno);
  struct stat gp_st;
  ASSERT_EQ(fstat(grandparent, &gp_st), 0);
  EXPECT_EQ(gp_st.st_ino, host_user.st_ino) << "exactly two levels below the host";
  close(grandparent);
  close(parent);
  close(ns);

  auto r = jail->wait();
  EXPECT_EQ(r.status, 0) << r.err;
}

// Root without CAP_SYS_ADMIN: with it, the command runs in the lock namespace below the first
// (jail_escape_test.cpp).
TEST_P(ProcessIds, NoNestingWithoutDev) {
  Pipe info;
  RunOpts o = opts();
  o.keep_fds = {info.w};
  auto jail = spawn(cat(kRootBind, {"--unshare-user", "--cap-drop", "CAP_SYS_ADMIN", "--info-fd",
                                    std::to_string(info.w), "sh", "-c", "echo ready; read x || :"}),
                    o);
  info.close_w();
  auto child = info_child_pid(info.read_all());
  ASSERT_TRUE(child.has_value());
  ASSERT_EQ(jail->read_line(), "ready");
  int ns = open(("/proc/" + std::to_string(*child) + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(ns, 0);
  int parent = ioctl(ns, NS_GET_PARENT);
  ASSERT_GE(parent, 0);
  struct stat parent_st, host_user;
  ASSERT_EQ(fstat(parent, &parent_st), 0);
  ASSERT_EQ(stat("/proc/self/ns/user", &host_user), 0);
  EXPECT_EQ(parent_st.st_ino, host_user.st_ino);
  close(parent);
  close(ns);
  EXPECT_EQ(jail->wait().status, 0);
}

// Without CAP_SYS_ADMIN the command cannot touch its mounts and runs in the host's user namespace,
// as with bwrap; with it, in the lock namespace, which maps every host id onto itself: the same
// maps, files keep their owners.
TEST_F(ProcessRoot, RootWithoutUserNamespaceSeesHostMaps) {
  const std::string script =
      "cat /proc/self/uid_map /proc/self/gid_map; readlink /proc/self/ns/user";
  auto dropped = jail_sh(cat(kRootBind, {"--cap-drop", "CAP_SYS_ADMIN"}), script, opts());
  ASSERT_EQ(dropped.status, 0) << dropped.err;
  EXPECT_EQ(squeeze(dropped.out), "0 0 4294967295\n0 0 4294967295\n" + host_ns("user") + "\n");
  auto kept = jail_sh(kRootBind, script, opts());
  ASSERT_EQ(kept.status, 0) << kept.err;
  auto l = split_lines(squeeze(kept.out));
  ASSERT_EQ(l.size(), 3u) << kept.out;
  EXPECT_EQ(l[0], "0 0 4294967295");
  EXPECT_EQ(l[1], "0 0 4294967295");
  EXPECT_NE(l[2], host_ns("user"));
}

// ---------------------------------------------------------------------------------------------
// pid namespace

PROCESS_USER_SUITE(ProcessPid);

TEST_P(ProcessPid, CommandIsPid2UnderReaper) {
  auto r = jail_sh(cat(kRootBind, {"--unshare-pid", "--proc", "/proc"}),
                   "echo $$; cat /proc/1/cmdline; echo; ls /proc | grep -c '^[0-9]'", opts());
  ASSERT_EQ(r.status, 0) << r.err;
  auto l = split_lines(r.out);
  ASSERT_GE(l.size(), 2u) << r.out;
  EXPECT_EQ(l[0], "2");
  // pid 1 is boxjail itself: the reaper never execs, so its argv is boxjail's.
  const std::string argv0 = against_bwrap() ? "/usr/bin/bwrap" : boxjail_binary();
  EXPECT_EQ(l[1].substr(0, argv0.size() + 1), argv0 + std::string(1, '\0')) << l[1];
  EXPECT_NE(l[1].find(std::string("--unshare-pid") + '\0'), std::string::npos);
}

TEST_P(ProcessPid, AsPid1) {
  auto r = jail_sh(cat(kRootBind, {"--unshare-pid", "--as-pid-1", "--proc", "/proc"}),
                   "echo $$; tr '\\0' ' ' < /proc/1/cmdline; echo", opts());
  ASSERT_EQ(r.status, 0) << r.err;
  auto l = split_lines(r.out);
  ASSERT_EQ(l.size(), 2u) << r.out;
  EXPECT_EQ(l[0], "1");
  EXPECT_EQ(l[1].substr(0, 6), "sh -c ");
}

// --pidns with --unshare-pid: the sandbox's pid namespace is a child of the joined one. The kernel
// refuses CLONE_NEWPID after setns(CLONE_NEWPID), so this exercises boxjail's intermediate process.
TEST_F(ProcessRoot, PidnsWithUnsharePidNestsUnderTheJoinedNamespace) {
  Spawned holder("/usr/bin/unshare", {"--pid", "--fork", "--kill-child", "sleep", "60"});
  const std::string holder_ns_link =
      "/proc/" + std::to_string(holder.pid()) + "/ns/pid_for_children";
  auto link_of = [](const std::string& path) {
    std::error_code ec;
    return std::filesystem::read_symlink(path, ec).string();
  };
  const std::string own_ns = link_of("/proc/self/ns/pid");
  ASSERT_TRUE(eventually(
      [&] {
        const std::string l = link_of(holder_ns_link);
        return !l.empty() && l != own_ns;
      },
      10));
  const int holder_ns = open(holder_ns_link.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(holder_ns, 0);
  struct stat holder_st;
  ASSERT_EQ(fstat(holder_ns, &holder_st), 0);

  RunOpts o = opts();
  o.keep_fds = {holder_ns};
  Spawned jail(boxjail_binary(),
               cat(kRootBind, {"--pidns", std::to_string(holder_ns), "--unshare-pid", "--proc",
                               "/proc", "sh", "-c", "echo $$; readlink /proc/self/ns/pid; read x"}),
               o);
  auto pid_line = jail.read_line();
  auto ns_line = jail.read_line();
  ASSERT_TRUE(pid_line && ns_line);
  EXPECT_EQ(*pid_line, "2");
  // Find a process of the sandbox from outside and ask the kernel for its namespace's parent.
  bool checked = false;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (link_of(entry.path().string() + "/ns/pid") != *ns_line) continue;
    const int ns = open((entry.path().string() + "/ns/pid").c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) continue;
    const int parent = ioctl(ns, NS_GET_PARENT);
    struct stat parent_st;
    ASSERT_GE(parent, 0);
    ASSERT_EQ(fstat(parent, &parent_st), 0);
    EXPECT_EQ(parent_st.st_ino, holder_st.st_ino);
    close(parent);
    close(ns);
    checked = true;
    break;
  }
  EXPECT_TRUE(checked) << "no process found in " << *ns_line;
  jail.write_stdin("done\n");
  auto r = jail.wait();
  EXPECT_EQ(r.status, 0) << r.err;
  close(holder_ns);
  holder.send_signal(SIGKILL);
  holder.wait();
}

// ---------------------------------------------------------------------------------------------
// other namespaces

PROCESS_USER_SUITE(ProcessNamespaces);

TEST_P(ProcessNamespaces, HostnameWithUnshareUts) {
  const std::string host_before = read_file("/proc/sys/kernel/hostname");
  auto r = jail_sh(cat(kRootBind, {"--unshare-uts", "--hostname", "boxjail-test-host"}),
                   "cat /proc/sys/kernel/hostname", opts());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(split_lines(r.out).at(0), "boxjail-test-host");
  EXPECT_EQ(read_file("/proc/sys/kernel/hostname"), host_before);
}

// The sandbox's own view of the network through procfs (/sys/class/net of a bound host /sys
// shows the host's devices, whatever the namespace): only lo, and lo is up. The kernel gives lo
// 127.0.0.1 (hence the local route in fib_trie) only when it comes up.
TEST_P(ProcessNamespaces, UnshareNetOnlyLoopbackUp) {
  auto r = jail_sh(cat(kRootBind, {"--unshare-net"}),
                   "readlink /proc/self/ns/net; echo --dev; cat /proc/self/net/dev; echo --fib; "
                   "cat /proc/self/net/fib_trie; echo --inet6; if [ -e /proc/self/net/if_inet6 ]; "
                   "then cat /proc/self/net/if_inet6; fi; echo --end",
                   opts());
  ASSERT_EQ(r.status, 0) << r.err;
  auto l = split_lines(r.out);
  ASSERT_FALSE(l.empty());
  EXPECT_NE(l[0], host_ns("net"));
  std::string section;
  std::set<std::string> ifaces;
  bool local_127 = false;
  for (size_t i = 1; i < l.size(); ++i) {
    if (l[i].rfind("--", 0) == 0) {
      section = l[i];
      continue;
    }
    if (section == "--dev") {
      auto colon = l[i].find(':');
      if (colon == std::string::npos || l[i].find('|') != std::string::npos) continue;
      std::string name = l[i].substr(0, colon);
      name.erase(0, name.find_first_not_of(' '));
      ifaces.insert(name);
    } else if (section == "--fib") {
      if (l[i].find("127.0.0.1") != std::string::npos) local_127 = true;
    } else if (section == "--inet6") {
      // ::1 on lo appears when lo is up (if the kernel has IPv6 at all); nothing else may.
      EXPECT_EQ(l[i].substr(l[i].find_last_of(' ') + 1), "lo") << l[i];
    }
  }
  EXPECT_EQ(ifaces, std::set<std::string>{"lo"}) << r.out;
  EXPECT_TRUE(local_127) << "lo is not up:\n" << r.out;
}

TEST_P(ProcessNamespaces, IpcUtsCgroupInodesDiffer) {
  const std::string script =
      "for n in ipc uts cgroup net pid mnt; do readlink /proc/self/ns/$n; done";
  auto r = jail_sh(cat(kRootBind, {"--unshare-ipc", "--unshare-uts", "--unshare-cgroup"}), script,
                   opts());
  ASSERT_EQ(r.status, 0) << r.err;
  auto l = split_lines(r.out);
  ASSERT_EQ(l.size(), 6u) << r.out;
  EXPECT_NE(l[0], host_ns("ipc"));
  EXPECT_NE(l[1], host_ns("uts"));
  EXPECT_NE(l[2], host_ns("cgroup"));
  EXPECT_EQ(l[3], host_ns("net"));
  EXPECT_EQ(l[4], host_ns("pid"));
  EXPECT_NE(l[5], host_ns("mnt"));

  // Control: without the flags, only the mount namespace is new.
  r = jail_sh(kRootBind, script, opts());
  ASSERT_EQ(r.status, 0) << r.err;
  l = split_lines(r.out);
  ASSERT_EQ(l.size(), 6u) << r.out;
  EXPECT_EQ(l[0], host_ns("ipc"));
  EXPECT_EQ(l[1], host_ns("uts"));
  EXPECT_EQ(l[2], host_ns("cgroup"));
  EXPECT_NE(l[5], host_ns("mnt"));
}

// ---------------------------------------------------------------------------------------------
// environment, cwd, argv0

PROCESS_USER_SUITE(ProcessEnv);

TEST_P(ProcessEnv, SetenvUnsetenvInOrder) {
  auto r = run(cat(kRootBind,
                   {"--setenv", "BJ_ONE", "1", "--setenv", "BJ_TWO", "a b=c", "--setenv", "BJ_GONE",
                    "x", "--unsetenv", "BJ_GONE", "--setenv", "BJ_ONE", "one", "/usr/bin/env"}),
               opts());
  ASSERT_EQ(r.status, 0) << r.err;
  auto env = kv_lines(r.out);
  EXPECT_EQ(env["BJ_ONE"], "one");
  EXPECT_EQ(env["BJ_TWO"], "a b=c");
  EXPECT_EQ(env.count("BJ_GONE"), 0u);
  EXPECT_EQ(env["PWD"], "/");
  // The caller's environment passes through.
  if (const char* path = std::getenv("PATH")) {
    EXPECT_EQ(env["PATH"], path);
  }
}

TEST_P(ProcessEnv, ClearenvLeavesOnlyPwd) {
  auto r = run(cat(kRootBind, {"--clearenv", "/usr/bin/env"}), opts());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "PWD=/\n");
  // --clearenv also wipes an earlier --setenv; a later one stays.
  r = run(cat(kRootBind,
              {"--setenv", "BJ_A", "1", "--clearenv", "--setenv", "BJ_B", "2", "/usr/bin/env"}),
          opts());
  ASSERT_EQ(r.status, 0) << r.err;
  auto l = split_lines(r.out);
  EXPECT_EQ(std::set<std::string>(l.begin(), l.end()), (std::set<std::string>{"BJ_B=2", "PWD=/"}));
}

TEST_P(ProcessEnv, ChdirSetsCwdAndPwd) {
  auto r = jail_sh(cat(kRootBind, {"--chdir", "/usr/share"}),
                   "readlink /proc/self/cwd; /usr/bin/printenv PWD", opts());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "/usr/share\n/usr/share\n");

  r = run(cat(kRootBind, {"--chdir", "/nonexistent-boxjail-dir", "true"}), opts());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("Can't chdir to /nonexistent-boxjail-dir"), std::string::npos) << r.err;
}

// Without --chdir: the caller's cwd if it exists inside, else $HOME, else "/". PWD follows.
TEST_P(ProcessEnv, CwdFallback) {
  TempDir dir;
  RunOpts o = opts();
  o.cwd = dir.path();
  const std::string script = "readlink /proc/self/cwd; /usr/bin/printenv PWD";

  auto r = jail_sh(kRootBind, script, o);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, dir.path() + "\n" + dir.path() + "\n");

  // The tmpfs hides the caller's cwd (under /tmp): $HOME is next.
  r = jail_sh(cat(kRootBind, {"--tmpfs", "/tmp", "--setenv", "HOME", "/usr/share"}), script, o);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "/usr/share\n/usr/share\n");

  r = jail_sh(cat(kRootBind, {"--tmpfs", "/tmp", "--setenv", "HOME", "/nonexistent-home"}), script,
              o);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "/\n/\n");

  r = jail_sh(cat(kRootBind, {"--tmpfs", "/tmp", "--unsetenv", "HOME"}), script, o);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "/\n/\n");
}

TEST_P(ProcessEnv, Argv0) {
  auto r = run(cat(kRootBind, {"--argv0", "renamed-argv0", "cat", "/proc/self/cmdline"}), opts());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, std::string("renamed-argv0\0/proc/self/cmdline\0", 33));
}

// ---------------------------------------------------------------------------------------------
// exit statuses

PROCESS_USER_SUITE(ProcessExit);

TEST_P(ProcessExit, StatusesPassThrough) {
  struct Case {
    std::string script;
    int want;
  };
  const Case cases[] = {{"true", 0}, {"exit 7", 7}, {"kill -TERM $$", 143}, {"kill -KILL $$", 137}};
  for (bool pidns : {false, true}) {
    for (const auto& c : cases) {
      SCOPED_TRACE((pidns ? "--unshare-pid: " : "") + c.script);
      auto args = kRootBind;
      if (pidns) args.push_back("--unshare-pid");
      auto jail = spawn(cat(args, {"sh", "-c", c.script}), opts());
      auto r = jail->wait();
      // boxjail itself exits with the status; it is not killed by the signal.
      ASSERT_TRUE(WIFEXITED(jail->wait_status())) << jail->wait_status();
      EXPECT_EQ(WEXITSTATUS(jail->wait_status()), c.want) << r.err;
      EXPECT_EQ(r.err, "");
    }
  }
}

TEST_P(ProcessExit, MissingCommandExits1WithMessage) {
  for (bool pidns : {false, true}) {
    SCOPED_TRACE(pidns ? "--unshare-pid" : "plain");
    auto args = kRootBind;
    if (pidns) args.push_back("--unshare-pid");
    auto r = run(cat(args, {"/nonexistent-boxjail-cmd", "arg"}), opts());
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("execvp /nonexistent-boxjail-cmd: No such file or directory"),
              std::string::npos)
        << r.err;
    // PATH is set: the caller's may hold directories uid 65534 cannot search (EACCES).
    r = run(cat(args, {"--setenv", "PATH", "/usr/bin:/bin", "nonexistent-boxjail-cmd"}), opts());
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("nonexistent-boxjail-cmd: No such file or directory"), std::string::npos)
        << r.err;
  }
}

// ---------------------------------------------------------------------------------------------
// signal forwarding: a signal sent to boxjail reaches the command

PROCESS_USER_SUITE(ProcessSignals);

TEST_P(ProcessSignals, ForwardedToCommand) {
  const std::vector<std::vector<std::string>> variants = {
      {}, {"--unshare-pid"}, {"--unshare-pid", "--as-pid-1"}};
  for (const auto& variant : variants) {
    for (int sig : {SIGTERM, SIGHUP, SIGUSR1}) {
      const std::string name = sig == SIGTERM ? "TERM" : sig == SIGHUP ? "HUP" : "USR1";
      std::string trace = name;
      for (const auto& v : variant) trace += " " + v;
      SCOPED_TRACE(trace);
      // Short sleeps: the trap runs as soon as the current one ends. No orphan is left behind.
      auto jail = spawn(cat(cat(kRootBind, variant),
                            {"sh", "-c",
                             "trap 'echo got-" + name + "; exit 3' " + name +
                                 "; echo ready; i=0; while [ $i -lt 600 ]; do sleep 0.1; "
                                 "i=$((i+1)); done; echo no-signal"}),
                        opts());
      ASSERT_EQ(jail->read_line(), "ready") << jail->wait().err;
      ASSERT_EQ(jail->send_signal(sig), 0);
      auto r = jail->wait();
      EXPECT_EQ(r.out, "ready\ngot-" + name + "\n") << r.err;
      ASSERT_TRUE(WIFEXITED(jail->wait_status()));
      EXPECT_EQ(WEXITSTATUS(jail->wait_status()), 3) << r.err;
    }
  }
}

// A signal that arrives before the command exists (here, while the setup waits at --block-fd
// for data that never comes) ends the setup: boxjail exits with the signal's status at once, and
// the sandbox's process is gone, pid 1 of a namespace (which the kernel shields from it) too.
// bwrap differs: its monitor dies of the signal and leaves the child waiting, to run the command
// unsupervised once the fd is written (docs/migrating-from-bwrap.md).
TEST_P(ProcessSignals, BeforeTheCommandEndsTheSetup) {
  if (against_bwrap()) GTEST_SKIP() << "bwrap leaves its child waiting";
  for (const bool pidns : {false, true}) {
    for (const int sig : {SIGTERM, SIGHUP, SIGINT}) {
      SCOPED_TRACE(std::string(strsignal(sig)) + (pidns ? ", --unshare-pid" : ""));
      Pipe info, block;
      RunOpts o = opts();
      o.keep_fds = {info.w, block.r};
      std::vector<std::string> args = kRootBind;
      if (pidns) args.emplace_back("--unshare-pid");
      args = cat(args, {"--info-fd", std::to_string(info.w), "--block-fd", std::to_string(block.r),
                        "echo", "ran"});
      auto jail = spawn(args, o);
      info.close_w();
      block.close_r();
      const auto child = info_child_pid(info.read_all());
      ASSERT_TRUE(child.has_value()) << jail->wait().err;
      ASSERT_EQ(jail->send_signal(sig), 0);
      const auto r = jail->wait(10);
      EXPECT_EQ(r.err.find("harness: timeout"), std::string::npos) << "boxjail did not end";
      EXPECT_EQ(r.status, 128 + sig) << r.err;
      EXPECT_EQ(r.out, "");
      EXPECT_TRUE(eventually([&] { return !process_alive(*child); }, 5)) << "the sandbox lives on";
    }
  }
}

// ---------------------------------------------------------------------------------------------
// --die-with-parent: SIGKILL the process that started boxjail; the jailed command dies too

PROCESS_USER_SUITE(ProcessDieWithParent);

TEST_P(ProcessDieWithParent, KillingParentKillsCommand) {
  static int counter = 0;
  for (bool pidns : {false, true}) {
    SCOPED_TRACE(pidns ? "--unshare-pid" : "plain");
    // A sleep whose argv no other process has, so the test can find it from the host.
    const std::string marker = std::to_string(7000000 + (getpid() % 100000) * 10 + counter++);
    std::vector<std::string> args = {"-c", "\"$0\" \"$@\" & echo $!; wait", program_path()};
    args = cat(args, kRootBind);
    args.push_back("--die-with-parent");
    if (pidns) args.push_back("--unshare-pid");
    args = cat(args, {"sleep", marker});
    Spawned parent("/bin/sh", args, opts());
    auto line = parent.read_line();
    ASSERT_TRUE(line.has_value()) << parent.wait().err;
    const pid_t jail_pid = static_cast<pid_t>(std::stol(*line));
    std::vector<pid_t> sleepers;
    ASSERT_TRUE(eventually([&] {
      sleepers = processes_with_argv({"sleep", marker});
      return !sleepers.empty();
    })) << "the jailed command never started";
    ASSERT_EQ(sleepers.size(), 1u);
    ASSERT_TRUE(process_alive(jail_pid));

    ASSERT_EQ(parent.send_signal(SIGKILL), 0);
    const bool command_gone = eventually([&] { return !process_alive(sleepers[0]); }, 10);
    const bool jail_gone = eventually([&] { return !process_alive(jail_pid); }, 10);
    // On failure, leave nothing behind for later tests (and let the wrapper's stdout close).
    for (pid_t p : processes_with_argv({"sleep", marker})) kill(p, SIGKILL);
    if (!jail_gone) kill(jail_pid, SIGKILL);
    EXPECT_TRUE(command_gone) << "the jailed command survived its parent's death";
    EXPECT_TRUE(jail_gone) << "boxjail survived its parent's death";
    auto r = parent.wait(20);
    EXPECT_EQ(r.status, 128 + SIGKILL);
  }
}

// ---------------------------------------------------------------------------------------------
// --info-fd and --json-status-fd

PROCESS_USER_SUITE(ProcessStatusFds);

const char kNsScript[] =
    "read p c s pp rest < /proc/self/stat; echo $p $pp; "
    "for n in cgroup ipc mnt net pid uts; do readlink /proc/self/ns/$n; done";

// Inode of "name:[123]".
std::string ns_inode(const std::string& link) {
  auto a = link.find('['), b = link.find(']');
  if (a == std::string::npos || b == std::string::npos) return link;
  return link.substr(a + 1, b - a - 1);
}

TEST_P(ProcessStatusFds, InfoFdAllNamespaces) {
  Pipe info;
  RunOpts o = opts();
  o.keep_fds = {info.w};
  auto r =
      jail_sh(cat(kRootBind, {"--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                              "--unshare-cgroup", "--info-fd", std::to_string(info.w)}),
              kNsScript, o);
  info.close_w();
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string text = info.read_all();
  std::smatch m;
  ASSERT_TRUE(std::regex_match(text, m,
                               std::regex("\\{\n"
                                          "    \"child-pid\": ([0-9]+),\n"
                                          "    \"cgroup-namespace\": ([0-9]+),\n"
                                          "    \"ipc-namespace\": ([0-9]+),\n"
                                          "    \"mnt-namespace\": ([0-9]+),\n"
                                          "    \"net-namespace\": ([0-9]+),\n"
                                          "    \"pid-namespace\": ([0-9]+),\n"
                                          "    \"uts-namespace\": ([0-9]+)\n"
                                          "\\}\n")))
      << text;
  auto l = split_lines(r.out);
  ASSERT_EQ(l.size(), 7u) << r.out;
  // The host /proc is bound in: the command's parent, the reaper, is child-pid.
  std::istringstream ids(l[0]);
  std::string self, ppid;
  ids >> self >> ppid;
  EXPECT_EQ(m[1].str(), ppid);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(m[i + 2].str(), ns_inode(l[i + 1])) << l[i + 1];
}

TEST_P(ProcessStatusFds, InfoFdOnlyMountByDefault) {
  Pipe info;
  RunOpts o = opts();
  o.keep_fds = {info.w};
  auto r = jail_sh(cat(kRootBind, {"--info-fd", std::to_string(info.w)}), kNsScript, o);
  info.close_w();
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string text = info.read_all();
  std::smatch m;
  // No user-namespace key, even where one was implied (nobody).
  ASSERT_TRUE(std::regex_match(text, m,
                               std::regex("\\{\n"
                                          "    \"child-pid\": ([0-9]+),\n"
                                          "    \"mnt-namespace\": ([0-9]+)\n"
                                          "\\}\n")))
      << text;
  auto l = split_lines(r.out);
  ASSERT_EQ(l.size(), 7u) << r.out;
  EXPECT_EQ(m[1].str(), l[0].substr(0, l[0].find(' '))) << "no reaper: child-pid is the command";
  EXPECT_EQ(m[2].str(), ns_inode(l[3]));
}

TEST_P(ProcessStatusFds, JsonStatusFdLines) {
  Pipe json;
  RunOpts o = opts();
  o.keep_fds = {json.w};
  auto r = jail_sh(cat(kRootBind, {"--unshare-pid", "--unshare-ipc", "--json-status-fd",
                                   std::to_string(json.w)}),
                   std::string(kNsScript) + "; exit 7", o);
  json.close_w();
  ASSERT_EQ(r.status, 7) << r.err;
  const std::string text = json.read_all();
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      text, m,
      std::regex("\\{ \"child-pid\": ([0-9]+), \"ipc-namespace\": ([0-9]+), \"mnt-namespace\": "
                 "([0-9]+), \"pid-namespace\": ([0-9]+)" +
                 std::string(kRungFields) +
                 " \\}\n"
                 "\\{ \"exit-code\": 7 \\}\n")))
      << text;
  auto l = split_lines(r.out);
  ASSERT_EQ(l.size(), 7u) << r.out;
  EXPECT_EQ(m[2].str(), ns_inode(l[2]));
  EXPECT_EQ(m[3].str(), ns_inode(l[3]));
  EXPECT_EQ(m[4].str(), ns_inode(l[5]));
}

TEST_P(ProcessStatusFds, JsonStatusSignalledCommand) {
  Pipe json;
  RunOpts o = opts();
  o.keep_fds = {json.w};
  auto r =
      jail_sh(cat(kRootBind, {"--json-status-fd", std::to_string(json.w)}), "kill -TERM $$", o);
  json.close_w();
  EXPECT_EQ(r.status, 143) << r.err;
  auto l = split_lines(json.read_all());
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[1], "{ \"exit-code\": 143 }");
}

TEST_P(ProcessStatusFds, NoExitCodeWhenExecFails) {
  for (bool pidns : {false, true}) {
    SCOPED_TRACE(pidns ? "--unshare-pid" : "plain");
    Pipe json, info;
    RunOpts o = opts();
    o.keep_fds = {json.w, info.w};
    auto args = cat(kRootBind, {"--json-status-fd", std::to_string(json.w), "--info-fd",
                                std::to_string(info.w)});
    if (pidns) args.push_back("--unshare-pid");
    auto r = run(cat(args, {"/nonexistent-boxjail-cmd"}), o);
    json.close_w();
    info.close_w();
    EXPECT_EQ(r.status, 1);
    const std::string text = json.read_all();
    EXPECT_TRUE(std::regex_match(text, std::regex("\\{ \"child-pid\": [0-9]+, \"mnt-namespace\": "
                                                  "[0-9]+(, \"pid-namespace\": [0-9]+)?" +
                                                  std::string(kRungFields) + " \\}\n")))
        << text;
    EXPECT_EQ(text.find("exit-code"), std::string::npos) << text;
    EXPECT_TRUE(info_child_pid(info.read_all()).has_value());
  }
}

// ---------------------------------------------------------------------------------------------
// --lock-file, --sync-fd, --block-fd, --userns-block-fd

PROCESS_USER_SUITE(ProcessSync);

TEST_P(ProcessSync, LockFileHeldWhileRunning) {
  TempDir dir;
  const std::string lock = dir.file("lock", "", 0644);
  Pipe info;
  RunOpts o = opts();
  o.keep_fds = {info.w};
  auto jail = spawn(cat(kRootBind, {"--lock-file", lock, "--info-fd", std::to_string(info.w), "sh",
                                    "-c", "echo ready; read x || :"}),
                    o);
  info.close_w();
  auto child = info_child_pid(info.read_all());
  ASSERT_TRUE(child.has_value());
  ASSERT_EQ(jail->read_line(), "ready") << jail->wait().err;

  int fd = open(lock.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  EXPECT_EQ(fcntl(fd, F_SETLK, &fl), -1) << "a write lock was granted while the jail runs";
  EXPECT_TRUE(errno == EAGAIN || errno == EACCES) << std::strerror(errno);
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  ASSERT_EQ(fcntl(fd, F_GETLK, &probe), 0);
  EXPECT_EQ(probe.l_type, F_RDLCK);
  EXPECT_EQ(probe.l_pid, *child) << "pid 1 of the sandbox holds the lock";

  auto r = jail->wait();
  EXPECT_EQ(r.status, 0) << r.err;
  fl.l_type = F_WRLCK;
  EXPECT_EQ(fcntl(fd, F_SETLK, &fl), 0) << "the lock outlived the jail: " << std::strerror(errno);
  close(fd);
}

TEST_P(ProcessSync, SyncFdOpenWhileRunningEofAfter) {
  for (bool as_pid_1 : {false, true}) {
    SCOPED_TRACE(as_pid_1 ? "--as-pid-1" : "reaper");
    Pipe sync, info;
    RunOpts o = opts();
    o.keep_fds = {sync.w, info.w};
    const std::string n = std::to_string(sync.w);
    auto args = cat(kRootBind, {"--sync-fd", n, "--info-fd", std::to_string(info.w)});
    if (as_pid_1) args = cat(args, {"--unshare-pid", "--as-pid-1"});
    auto jail =
        spawn(cat(args, {"sh", "-c",
                         "if [ -e /proc/self/fd/" + n +
                             " ]; then echo has-sync-fd; else echo no-sync-fd; fi; read x || :"}),
              o);
    sync.close_w();
    info.close_w();
    auto child = info_child_pid(info.read_all());
    ASSERT_TRUE(child.has_value());
    auto line = jail->read_line();
    ASSERT_TRUE(line.has_value()) << jail->wait().err;
    // The reaper keeps it and the command does not get it; with --as-pid-1 the command has it.
    EXPECT_EQ(*line, as_pid_1 ? "has-sync-fd" : "no-sync-fd");
    const std::string ours = readlink_str("/proc/self/fd/" + std::to_string(sync.r));
    EXPECT_EQ(readlink_str("/proc/" + std::to_string(*child) + "/fd/" + n), ours)
        << "the sandbox's first process does not hold the sync fd";
    pollfd p{sync.r, POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 0), 0) << "the sync fd closed while the jail runs";

    auto r = jail->wait();
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(sync.read_all(), "") << "EOF once the jail is gone";
    p.revents = 0;
    EXPECT_EQ(poll(&p, 1, 0), 1);
    EXPECT_TRUE(p.revents & POLLHUP);
  }
}

TEST_P(ProcessSync, BlockFdHoldsCommandUntilByte) {
  Pipe block, info;
  RunOpts o = opts();
  o.keep_fds = {block.r, info.w};
  auto jail = spawn(cat(kRootBind, {"--block-fd", std::to_string(block.r), "--info-fd",
                                    std::to_string(info.w), "sh", "-c", "echo started"}),
                    o);
  block.close_r();
  info.close_w();
  auto child = info_child_pid(info.read_all());
  ASSERT_TRUE(info.eof);
  ASSERT_TRUE(child.has_value());
  // Nothing may run yet: no output, and the first process has not exec'd the command.
  EXPECT_EQ(jail->read_line(300), std::nullopt);
  const std::string exe = readlink_str("/proc/" + std::to_string(*child) + "/exe");
  EXPECT_EQ(exe, program_path()) << "the command was exec'd before the byte";
  ASSERT_EQ(write(block.w, "x", 1), 1);
  EXPECT_EQ(jail->read_line(), "started");
  auto r = jail->wait();
  EXPECT_EQ(r.status, 0) << r.err;
}

// The maps are written by the test, as newuidmap would: root may map anything; an unprivileged
// writer its own uid only (after setgroups=deny for the gid map).
TEST_P(ProcessSync, UsernsBlockFdWaitsForExternalMaps) {
  Pipe block, info;
  RunOpts o = opts();
  o.keep_fds = {block.r, info.w};
  auto jail = spawn(cat(kRootBind, {"--unshare-user", "--userns-block-fd", std::to_string(block.r),
                                    "--info-fd", std::to_string(info.w), "sh", "-c",
                                    "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g"}),
                    o);
  block.close_r();
  info.close_w();
  // The info fd reaches EOF before the maps exist, as with bwrap: a caller may read it whole
  // before it writes them.
  auto child = info_child_pid(info.read_all());
  ASSERT_TRUE(info.eof) << "--info-fd still open while the jail waits for its maps";
  ASSERT_TRUE(child.has_value());
  const std::string proc = "/proc/" + std::to_string(*child);
  // Still unmapped: nobody has written a map yet.
  EXPECT_EQ(read_file(proc + "/uid_map"), "");

  const std::string uid_map = nobody() ? "4242 65534 1\n" : "0 0 1\n1000 100000 10\n";
  const std::string gid_map = nobody() ? "4343 65534 1\n" : "0 0 1\n";
  pid_t writer = fork();
  ASSERT_GE(writer, 0);
  if (writer == 0) {
    if (nobody() && (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 ||
                     setresuid(65534, 65534, 65534) != 0)) {
      _exit(10);
    }
    auto put = [&](const char* file, const std::string& s) {
      int fd = open((proc + "/" + file).c_str(), O_WRONLY | O_CLOEXEC);
      bool ok = fd >= 0 && write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size());
      if (fd >= 0) close(fd);
      return ok;
    };
    if (nobody() && !put("setgroups", "deny")) _exit(11);
    if (!put("uid_map", uid_map)) _exit(12);
    if (!put("gid_map", gid_map)) _exit(13);
    _exit(0);
  }
  int ws = 0;
  ASSERT_EQ(waitpid(writer, &ws, 0), writer);
  ASSERT_TRUE(WIFEXITED(ws));
  ASSERT_EQ(WEXITSTATUS(ws), 0) << "writing the maps failed at step " << WEXITSTATUS(ws);
  ASSERT_EQ(write(block.w, "x", 1), 1);

  auto r = jail->wait();
  ASSERT_EQ(r.status, 0) << r.err;
  if (nobody()) {
    EXPECT_EQ(squeeze(r.out), squeeze(uid_map + gid_map) + "4242\n4343\n");
  } else {
    // Root keeps CAP_SYS_ADMIN: the command runs in the lock namespace below the one just
    // mapped, where the monitor mapped each id the external writer gave onto itself.
    EXPECT_EQ(squeeze(r.out), "0 0 1\n1000 1000 10\n0 0 1\n0\n0\n");
  }
}

// ---------------------------------------------------------------------------------------------
// user namespace limits

PROCESS_USER_SUITE(ProcessUserns);

TEST_P(ProcessUserns, DisableUsernsBlocksNestedNamespaces) {
  // A bound host /dev is nodev (/dev/null cannot be opened): --dev gives a usable one.
  const std::string script = "if unshare -U true 2>/dev/null; then echo can; else echo cannot; fi";
  const auto base = cat(kRootBind, {"--dev", "/dev", "--unshare-user"});
  auto r = jail_sh(base, script, opts());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "can\n") << "control: a sandbox may normally create user namespaces";
  r = jail_sh(cat(base, {"--disable-userns"}), script, opts());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "cannot\n");
}

TEST_P(ProcessUserns, AssertUsernsDisabled) {
  auto r = run(cat(kRootBind, {"--unshare-user", "--assert-userns-disabled", "true"}), opts());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("creation of new user namespaces was not disabled as requested"),
            std::string::npos)
      << r.err;
  r = run(
      cat(kRootBind, {"--unshare-user", "--disable-userns", "--assert-userns-disabled", "true"}),
      opts());
  EXPECT_EQ(r.status, 0) << r.err;
}

// ---------------------------------------------------------------------------------------------
// sessions

PROCESS_USER_SUITE(ProcessSession);

const char kSidScript[] = "read p c s pp pg sid rest < /proc/self/stat; echo $p $sid";

TEST_P(ProcessSession, NewSession) {
  const std::string caller_sid = std::to_string(getsid(0));
  auto r = jail_sh(kRootBind, kSidScript, opts());
  ASSERT_EQ(r.status, 0) << r.err;
  auto l = split_lines(r.out);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].substr(l[0].find(' ') + 1), caller_sid) << "control: the caller's session";

  r = jail_sh(cat(kRootBind, {"--new-session"}), kSidScript, opts());
  ASSERT_EQ(r.status, 0) << r.err;
  l = split_lines(r.out);
  ASSERT_EQ(l.size(), 1u);
  const std::string pid = l[0].substr(0, l[0].find(' '));
  const std::string sid = l[0].substr(l[0].find(' ') + 1);
  EXPECT_NE(sid, caller_sid);
  EXPECT_EQ(sid, pid) << "the command leads its own session";

  // With a pid namespace, setsid() comes before the fork, so the reaper (pid 1) leads the session
  // that the command (pid 2) is in: bwrap 0.8.0 shows the same.
  r = jail_sh(cat(kRootBind, {"--new-session", "--unshare-pid", "--proc", "/proc"}), kSidScript,
              opts());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "2 1\n");
}

// ---------------------------------------------------------------------------------------------
// capabilities and NO_NEW_PRIVS

const char kCapScript[] = "grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):' /proc/self/status";

TEST_F(ProcessRoot, CapsDefaultKeepsEffectiveSet) {
  auto r = jail_sh(kRootBind, kCapScript, opts());
  ASSERT_EQ(r.status, 0) << r.err;
  auto in = status_fields(r.out);
  auto host = status_fields(read_file("/proc/self/status"));
  EXPECT_EQ(in["CapEff"], host["CapEff"]);
  EXPECT_EQ(in["CapPrm"], host["CapPrm"]);
  EXPECT_EQ(in["CapBnd"], host["CapBnd"]);
  EXPECT_NE(in["CapEff"], "0000000000000000");
  EXPECT_EQ(in["NoNewPrivs"], "1");
}

TEST_F(ProcessRoot, CapDropAll) {
  auto r = jail_sh(cat(kRootBind, {"--cap-drop", "ALL"}), kCapScript, opts());
  ASSERT_EQ(r.status, 0) << r.err;
  auto in = status_fields(r.out);
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapAmb"}) {
    EXPECT_EQ(in[set], "0000000000000000") << set;
  }
  // boxjail empties the bounding set too (bwrap 0.8.0 leaves root's bounding set full).
  if (!against_bwrap()) {
    EXPECT_EQ(in["CapBnd"], "0000000000000000");
  }
  EXPECT_EQ(in["NoNewPrivs"], "1");
}

TEST_F(ProcessRoot, CapDropAllThenAddNetAdmin) {
  auto r = jail_sh(cat(kRootBind, {"--cap-drop", "ALL", "--cap-add", "CAP_NET_ADMIN"}), kCapScript,
                   opts());
  ASSERT_EQ(r.status, 0) << r.err;
  auto in = status_fields(r.out);
  EXPECT_EQ(in["CapEff"], "0000000000001000");
  EXPECT_EQ(in["CapPrm"], "0000000000001000");
  EXPECT_EQ(in["CapAmb"], "0000000000001000");
}

// Every capability set of the command equals `mask`, and NO_NEW_PRIVS is set.
void expect_every_cap_set(std::map<std::string, std::string> in, const std::string& mask) {
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    EXPECT_EQ(in[set], mask) << set;
  }
  EXPECT_EQ(in["NoNewPrivs"], "1");
}

TEST_F(ProcessNobody, CapsNoneByDefault) {
  for (bool explicit_userns : {false, true}) {
    SCOPED_TRACE(explicit_userns ? "--unshare-user" : "implied user namespace");
    auto args = kRootBind;
    if (explicit_userns) args.push_back("--unshare-user");
    auto r = jail_sh(args, kCapScript, opts());
    ASSERT_EQ(r.status, 0) << r.err;
    expect_every_cap_set(status_fields(r.out), "0000000000000000");
  }
}

TEST_F(ProcessNobody, CapAddNetAdminInsideUserns) {
  auto r = jail_sh(cat(kRootBind, {"--unshare-user", "--cap-add", "CAP_NET_ADMIN"}),
                   std::string(kCapScript) + "; readlink /proc/self/ns/user", opts());
  ASSERT_EQ(r.status, 0) << r.err;
  expect_every_cap_set(status_fields(r.out), "0000000000001000");
}

// ---------------------------------------------------------------------------------------------
// The per-VM jail from the issue, as uid 65534: every process option at once, with an
// inherited fd 3, stdin reaching the program, the host network, and a writable host dir.

TEST_F(ProcessNobody, PerVmJail) {
  TempDir rw, ro;
  ASSERT_EQ(chown(rw.path().c_str(), 65534, 65534), 0);
  ro.file("input.txt", "read-only input\n", 0644);

  std::vector<std::string> args = {"--unshare-user", "--unshare-pid",     "--unshare-ipc",
                                   "--unshare-uts",  "--die-with-parent", "--new-session"};
  struct stat st;
  const bool have_resolv = stat("/etc/resolv.conf", &st) == 0;
  for (const char* path : {"/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc/resolv.conf"}) {
    if (stat(path, &st) == 0) args = cat(args, {"--ro-bind", path, path});
  }
  args =
      cat(args,
          {"--dev",   "/dev",          "--proc",    "/proc",   "--tmpfs", "/tmp",       "--bind",
           rw.path(), rw.path(),       "--ro-bind", ro.path(), ro.path(), "--clearenv", "--setenv",
           "PATH",    "/usr/bin:/bin", "--setenv",  "HOME",    "/root",   "--chdir",    "/",
           "--"});
  const std::string program = R"SH(
set -e
D=$1 D2=$2
read -r first
printf '%s\n' "$first" > "$D/stdin-first.txt"
cat <&3 > "$D/fd3.txt"
cat "$D2/input.txt" > "$D/copy.txt"
if ( echo x > "$D2/written" ) 2>/dev/null; then echo ro=writable; else echo ro=readonly; fi
if [ -e /etc/resolv.conf ]; then cat /etc/resolv.conf > "$D/resolv.txt"; echo resolv=present; else echo resolv=absent; fi
echo "uid=$(id -u)"
echo "pid=$$"
read p c s pp pg sid rest < /proc/self/stat
echo "sid=$sid"
for n in mnt net ipc uts pid user; do echo "${n}ns=$(readlink /proc/self/ns/$n)"; done
echo "cwd=$(pwd)"
echo "env=$(env | sort | tr '\n' ' ')"
echo "tmp=$(ls -A /tmp | tr '\n' ' ')"
echo ready
cat > "$D/rest.txt"
echo done
)SH";
  args = cat(args, {"sh", "-c", program, "sh", rw.path(), ro.path()});

  RunOpts o = opts();
  o.fd_data = {{3, "data on fd 3\n"}};
  o.stdin_data = "first line\n";
  auto jail = spawn(args, o);

  std::string out;
  for (;;) {
    auto line = jail->read_line();
    ASSERT_TRUE(line.has_value()) << "no 'ready': " << out << jail->wait().err;
    if (*line == "ready") break;
    out += *line + "\n";
  }
  auto kv = kv_lines(out);
  // While it runs: boxjail stays in the host's mount namespace; the program is in a new one.
  EXPECT_EQ(readlink_str("/proc/" + std::to_string(jail->pid()) + "/ns/mnt"), host_ns("mnt"));
  EXPECT_NE(kv["mntns"], host_ns("mnt"));
  EXPECT_EQ(kv["netns"], host_ns("net")) << "the network namespace is shared";
  EXPECT_NE(kv["ipcns"], host_ns("ipc"));
  EXPECT_NE(kv["utsns"], host_ns("uts"));
  EXPECT_NE(kv["pidns"], host_ns("pid"));
  EXPECT_NE(kv["userns"], host_ns("user"));
  EXPECT_EQ(kv["uid"], "65534");
  EXPECT_EQ(kv["pid"], "2");
  EXPECT_EQ(kv["sid"], "1") << "--new-session in the pid namespace";
  EXPECT_EQ(kv["cwd"], "/");
  EXPECT_EQ(kv["env"], "HOME=/root PATH=/usr/bin:/bin PWD=/ ");
  EXPECT_EQ(kv["ro"], "readonly");
  if (have_resolv) {
    EXPECT_EQ(kv["resolv"], "present");
    EXPECT_EQ(read_file(rw.path() + "/resolv.txt"), read_file("/etc/resolv.conf"));
  } else {
    EXPECT_EQ(kv["resolv"], "absent");
  }
  // Only the mount points of the two binds (both under /tmp) are in the fresh tmpfs.
  std::set<std::string> tmp_entries;
  std::istringstream tmp_words(kv["tmp"]);
  for (std::string w; tmp_words >> w;) tmp_entries.insert(w);
  EXPECT_EQ(tmp_entries, (std::set<std::string>{std::filesystem::path(rw.path()).filename(),
                                                std::filesystem::path(ro.path()).filename()}));

  jail->write_stdin("second\nthird\n");
  auto r = jail->wait();
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.substr(r.out.size() >= 5 ? r.out.size() - 5 : 0), "done\n") << r.out << r.err;
  EXPECT_EQ(read_file(rw.path() + "/stdin-first.txt"), "first line\n");
  EXPECT_EQ(read_file(rw.path() + "/rest.txt"), "second\nthird\n");
  EXPECT_EQ(read_file(rw.path() + "/fd3.txt"), "data on fd 3\n");
  EXPECT_EQ(read_file(rw.path() + "/copy.txt"), "read-only input\n");
  ASSERT_EQ(stat((rw.path() + "/copy.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u) << "files the program writes belong to the caller on the host";
  EXPECT_NE(access((ro.path() + "/written").c_str(), F_OK), 0);
}

}  // namespace
