// SPDX-License-Identifier: Apache-2.0
// The C API (include/boxjail/boxjail.h), in this process: a jail from a JSON spec, its pids and
// pidfd, signals and exit statuses, the error objects of refused specs and failed setups, and
// the callers it refuses (a second thread, an ignored SIGCHLD). Every test but
// RefusesASecondThread stays single-threaded: boxjail_spawn requires it.
#include <boxjail/boxjail.h>
#include <seccomp.h>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>

namespace {

using nlohmann::json;

struct JailFree {
  void operator()(boxjail_jail* j) const { boxjail_jail_free(j); }
};
using JailPtr = std::unique_ptr<boxjail_jail, JailFree>;

// Takes ownership of an error string of the API: its text, "" for NULL.
std::string take(char* s) {
  std::string out = s ? s : "";
  boxjail_string_free(s);
  return out;
}

json ro_root() { return {{"kind", "bind"}, {"source", "/"}, {"dest", "/"}, {"readonly", true}}; }
json proc() { return {{"kind", "proc"}, {"dest", "/proc"}}; }

// A spec running `script` with the host's / read-only and a new /proc.
json spec(const std::string& script, bool unshare_pid = true) {
  return {{"version", "boxjail.spec/v1"},
          {"command", {"sh", "-c", script}},
          {"env", {"PATH=/usr/bin:/bin"}},
          {"unshare_pid", unshare_pid},
          {"ops", {ro_root(), proc()}}};
}

struct Spawn {
  int rc = 0;
  int err = 0;  // errno after a failed call
  JailPtr jail;
  std::string error_text;  // the error object's text
  json error;              // parsed
};

Spawn spawn(const std::string& text) {
  Spawn s;
  boxjail_jail* jail = reinterpret_cast<boxjail_jail*>(&s);  // must be overwritten
  char* error = reinterpret_cast<char*>(&s);                 // likewise
  errno = 0;
  s.rc = boxjail_spawn(text.data(), text.size(), &jail, &error);
  s.err = errno;
  s.jail.reset(jail);
  s.error_text = take(error);
  if (!s.error_text.empty()) s.error = json::parse(s.error_text);
  return s;
}

Spawn spawn(const json& j) { return spawn(j.dump()); }

std::string ns_of(pid_t pid, const char* ns) {
  char buf[128] = {};
  const std::string link = "/proc/" + std::to_string(pid) + "/ns/" + ns;
  const ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

std::string cmdline_of(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/cmdline";
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buf[256];
  const ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// The pids of our children (from /proc: waitpid(-1, WNOHANG) would reap them).
std::set<pid_t> children() {
  std::set<pid_t> out;
  const std::string self = std::to_string(getpid());
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const auto close = line.rfind(')');  // the command name may hold spaces and parentheses
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string state, ppid;
    if (rest >> state >> ppid && ppid == self) out.insert(std::stoi(name));
  }
  return out;
}

int pidfd_open(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

// Whether the process behind `pidfd` has been reaped (not merely exited).
bool reaped(int pidfd) {
  return syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0) == -1 && errno == ESRCH;
}

// The jail's command runs in namespaces of its own: the pid boxjail_pid() gives is a process
// (the command, `sleep`, once its execve is done) whose mount and pid namespaces are not ours.
TEST(CApi, SpawnsTheCommandInItsOwnNamespaces) {
  auto s = spawn(spec("exec sleep 100"));
  ASSERT_EQ(s.rc, 0) << s.error_text;
  ASSERT_TRUE(s.jail);
  EXPECT_TRUE(s.error_text.empty());
  const pid_t pid = boxjail_pid(s.jail.get());
  const pid_t sandbox = boxjail_sandbox_pid(s.jail.get());
  ASSERT_GT(pid, 0);
  ASSERT_GT(sandbox, 0);
  EXPECT_NE(pid, sandbox);  // a pid namespace: its reaper is our child, the command its child
  EXPECT_NE(ns_of(pid, "mnt"), "");
  EXPECT_NE(ns_of(pid, "mnt"), ns_of(getpid(), "mnt"));
  EXPECT_NE(ns_of(pid, "pid"), ns_of(getpid(), "pid"));
  EXPECT_EQ(ns_of(pid, "mnt"), ns_of(sandbox, "mnt"));
  // The command's execve is under way when spawn returns: it becomes `sleep 100` shortly.
  const std::string sleeping(
      "sleep\0"
      "100\0",
      10);
  std::string cmdline;
  for (int i = 0; i < 500 && cmdline != sleeping; ++i) {
    cmdline = cmdline_of(pid);
    if (cmdline != sleeping) usleep(10000);
  }
  EXPECT_EQ(cmdline, sleeping);
  // The sandbox's first process is our child.
  EXPECT_EQ(waitpid(sandbox, nullptr, WNOHANG), 0);
  // The pidfd is the command's: not readable while it runs.
  const int pidfd = boxjail_pidfd(s.jail.get());
  ASSERT_GE(pidfd, 0);
  pollfd p{pidfd, POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 0);

  char* error = nullptr;
  ASSERT_EQ(boxjail_signal(s.jail.get(), SIGKILL, &error), 0) << take(error);
  EXPECT_EQ(error, nullptr);
  int status = -1;
  ASSERT_EQ(boxjail_wait(s.jail.get(), &status, &error), 0) << take(error);
  EXPECT_EQ(status, 128 + SIGKILL);
  // The command is gone with its jail: its pidfd says so.
  EXPECT_EQ(poll(&p, 1, 0), 1);
}

TEST(CApi, ReturnsTheExitStatus) {
  for (const bool unshare_pid : {true, false}) {
    SCOPED_TRACE(unshare_pid ? "unshare_pid" : "no pid namespace");
    auto s = spawn(spec("exit 3", unshare_pid));
    ASSERT_EQ(s.rc, 0) << s.error_text;
    int status = -1;
    char* error = nullptr;
    ASSERT_EQ(boxjail_wait(s.jail.get(), &status, &error), 0) << take(error);
    EXPECT_EQ(status, 3);
    // Again: the same status, at once.
    status = -1;
    ASSERT_EQ(boxjail_wait(s.jail.get(), &status, nullptr), 0);
    EXPECT_EQ(status, 3);
    // The jail has ended: nothing to signal.
    ASSERT_EQ(boxjail_signal(s.jail.get(), SIGTERM, &error), -1);
    const json e = json::parse(take(error));
    EXPECT_EQ(e["errno"], ESRCH) << e.dump();
    EXPECT_EQ(e["step"], "signal") << e.dump();
  }
}

// The jail's cgroup: its path while it runs, what it saw once waited for; the cgroup is gone.
TEST(CApi, CgroupJson) {
  std::string mount;
  {
    std::ifstream info("/proc/self/mountinfo");
    for (std::string line; std::getline(info, line) && mount.empty();) {
      if (line.find(" - cgroup2 ") == std::string::npos) continue;
      std::istringstream words(line);
      std::string w;
      for (int i = 0; i < 5 && words >> w; ++i) {
      }
      mount = w;
    }
  }
  if (mount.empty()) GTEST_SKIP() << "no cgroup v2 hierarchy is mounted on this host";
  const std::string name = "boxjail-test-" + std::to_string(getpid()) + "-capi";
  ASSERT_TRUE(std::filesystem::create_directory(mount + "/" + name));
  {
    json j = spec("exit 0", false);
    j["cgroup"] = {{"parent", "/" + name}};
    auto s = spawn(j);
    ASSERT_EQ(s.rc, 0) << s.error_text;
    const json running = json::parse(take(boxjail_cgroup_json(s.jail.get())));
    const std::string path = running.value("path", "");
    EXPECT_EQ(path.rfind("/" + name + "/boxjail-", 0), 0u) << running.dump();
    EXPECT_EQ(running.size(), 1u) << running.dump();
    ASSERT_EQ(boxjail_wait(s.jail.get(), nullptr, nullptr), 0);
    const json ended = json::parse(take(boxjail_cgroup_json(s.jail.get())));
    EXPECT_EQ(ended.value("path", ""), path);
    EXPECT_EQ(ended["removed"], true) << ended.dump();
    EXPECT_TRUE(ended.contains("cpu_usage_usec")) << ended.dump();
    EXPECT_FALSE(std::filesystem::exists(mount + path));
    // Without a cgroup, and for NULL: NULL.
    auto plain = spawn(spec("exit 0", false));
    ASSERT_EQ(plain.rc, 0) << plain.error_text;
    EXPECT_EQ(boxjail_cgroup_json(plain.jail.get()), nullptr);
    EXPECT_EQ(boxjail_cgroup_json(nullptr), nullptr);
  }
  EXPECT_EQ(rmdir((mount + "/" + name).c_str()), 0);
}

TEST(CApi, SigtermGives143) {
  for (const bool unshare_pid : {true, false}) {
    SCOPED_TRACE(unshare_pid ? "unshare_pid" : "no pid namespace");
    auto s = spawn(spec("exec sleep 100", unshare_pid));
    ASSERT_EQ(s.rc, 0) << s.error_text;
    char* error = nullptr;
    ASSERT_EQ(boxjail_signal(s.jail.get(), SIGTERM, &error), 0) << take(error);
    int status = -1;
    ASSERT_EQ(boxjail_wait(s.jail.get(), &status, &error), 0) << take(error);
    EXPECT_EQ(status, 128 + SIGTERM);
  }
}

// A jail freed without a wait is killed and reaped: neither the command nor the sandbox's first
// process is left, not even as a zombie.
TEST(CApi, FreeKillsAndReapsAnUnwaitedJail) {
  for (const bool unshare_pid : {true, false}) {
    SCOPED_TRACE(unshare_pid ? "unshare_pid" : "no pid namespace");
    const std::set<pid_t> before = children();
    auto s = spawn(spec("exec sleep 100", unshare_pid));
    ASSERT_EQ(s.rc, 0) << s.error_text;
    const pid_t pid = boxjail_pid(s.jail.get());
    const pid_t sandbox = boxjail_sandbox_pid(s.jail.get());
    EXPECT_EQ(children().count(sandbox), 1u);
    // Our own pidfds: the jail's is closed with it.
    const int command_fd = pidfd_open(pid);
    const int sandbox_fd = pidfd_open(sandbox);
    ASSERT_GE(command_fd, 0);
    ASSERT_GE(sandbox_fd, 0);
    EXPECT_FALSE(reaped(command_fd));
    s.jail.reset();  // boxjail_jail_free
    EXPECT_TRUE(reaped(command_fd));
    EXPECT_TRUE(reaped(sandbox_fd));
    EXPECT_EQ(kill(pid, 0), -1);
    EXPECT_EQ(errno, ESRCH);
    EXPECT_EQ(kill(sandbox, 0), -1);
    EXPECT_EQ(errno, ESRCH);
    EXPECT_EQ(children(), before);  // no child of ours is left
    close(command_fd);
    close(sandbox_fd);
  }
}

// A refused spec: -1, no handle, and an error object whose step is parse-spec and whose message
// names the offending value's JSON pointer.
TEST(CApi, BadSpecGivesParseSpecErrorWithThePointer) {
  json unknown_key = spec("true");
  unknown_key["ops"][1]["bogus"] = 1;
  auto s = spawn(unknown_key);
  EXPECT_EQ(s.rc, -1);
  EXPECT_FALSE(s.jail);
  EXPECT_EQ(s.err, EINVAL);
  ASSERT_TRUE(s.error.is_object()) << s.error_text;
  EXPECT_EQ(s.error["step"], "parse-spec") << s.error_text;
  const std::string message = s.error["message"];
  EXPECT_NE(message.find("/ops/1"), std::string::npos) << message;
  EXPECT_NE(message.find("bogus"), std::string::npos) << message;
  for (const char* key : {"syscall", "path", "source", "errno", "errno_name", "evidence"}) {
    EXPECT_TRUE(s.error.contains(key)) << key;
  }

  json wrong_type = spec("true");
  wrong_type["unshare_pid"] = "yes";
  s = spawn(wrong_type);
  EXPECT_EQ(s.rc, -1);
  EXPECT_EQ(s.error["step"], "parse-spec") << s.error_text;
  EXPECT_NE(s.error["message"].get<std::string>().find("/unshare_pid"), std::string::npos)
      << s.error_text;

  s = spawn(std::string("{\"version\": \"boxjail.spec/v1\", "));
  EXPECT_EQ(s.rc, -1);
  EXPECT_EQ(s.error["step"], "parse-spec") << s.error_text;
  EXPECT_NE(s.error["message"].get<std::string>().find("invalid JSON"), std::string::npos)
      << s.error_text;

  // Text that is not UTF-8: the message quotes what the JSON reader last read, and the error
  // object is still valid JSON.
  s = spawn(std::string("{\"version\": \"\xff\"}"));
  EXPECT_EQ(s.rc, -1);
  ASSERT_TRUE(s.error.is_object()) << s.error_text;
  EXPECT_EQ(s.error["step"], "parse-spec") << s.error_text;

  // error_json may be NULL: the failure is still reported.
  const std::string text = unknown_key.dump();
  boxjail_jail* jail = nullptr;
  EXPECT_EQ(boxjail_spawn(text.data(), text.size(), &jail, nullptr), -1);
  EXPECT_EQ(jail, nullptr);
}

// Only `len` bytes are the spec: no terminating NUL is read, and what follows is not part of it.
TEST(CApi, ReadsExactlyLenBytes) {
  const std::string text = spec("exit 5").dump();
  const std::string buffer = text + "trailing garbage";
  boxjail_jail* jail = nullptr;
  char* error = nullptr;
  ASSERT_EQ(boxjail_spawn(buffer.data(), text.size(), &jail, &error), 0) << take(error);
  JailPtr owned(jail);
  int status = -1;
  ASSERT_EQ(boxjail_wait(jail, &status, &error), 0) << take(error);
  EXPECT_EQ(status, 5);
  // One byte short: malformed.
  auto s = spawn(text.substr(0, text.size() - 1));
  EXPECT_EQ(s.rc, -1);
  EXPECT_EQ(s.error["step"], "parse-spec") << s.error_text;
}

// A spec without "env" gives the command this process's environment; "env": [] none of it.
TEST(CApi, AbsentEnvIsInherited) {
  ASSERT_EQ(setenv("BOXJAIL_CAPI_TEST", "inherited", 1), 0);
  json j = spec("test \"$BOXJAIL_CAPI_TEST\" = inherited");
  j.erase("env");
  j["command"][0] = "/bin/sh";
  auto s = spawn(j);
  ASSERT_EQ(s.rc, 0) << s.error_text;
  int status = -1;
  ASSERT_EQ(boxjail_wait(s.jail.get(), &status, nullptr), 0);
  EXPECT_EQ(status, 0);

  j["env"] = json::array();
  s = spawn(j);
  ASSERT_EQ(s.rc, 0) << s.error_text;
  ASSERT_EQ(boxjail_wait(s.jail.get(), &status, nullptr), 0);
  EXPECT_EQ(status, 1);
  unsetenv("BOXJAIL_CAPI_TEST");
}

// A setup step that fails: its error object (step, syscall, path, errno), errno set, and nothing
// left running.
TEST(CApi, FailedSetupReportsTheStepAndLeavesNothing) {
  json j = spec("true");
  j["ops"].push_back({{"kind", "bind"}, {"source", "/nonexistent-capi-test"}, {"dest", "/mnt"}});
  const std::set<pid_t> before = children();
  auto s = spawn(j);
  EXPECT_EQ(s.rc, -1);
  EXPECT_FALSE(s.jail);
  ASSERT_TRUE(s.error.is_object()) << s.error_text;
  EXPECT_NE(s.error["step"], "parse-spec") << s.error_text;
  EXPECT_NE(s.error["step"], "spawn") << s.error_text;
  EXPECT_EQ(s.error["errno"], ENOENT) << s.error_text;
  EXPECT_EQ(s.error["errno_name"], "ENOENT") << s.error_text;
  EXPECT_NE(s.error_text.find("/nonexistent-capi-test"), std::string::npos) << s.error_text;
  EXPECT_EQ(s.err, ENOENT);
  EXPECT_EQ(children(), before);
}

// A path that is not UTF-8 (the spec's {"hex": ...} form) in an error: the object is still valid
// JSON, the bytes replaced by U+FFFD.
TEST(CApi, ErrorWithNonUtf8PathIsValidJson) {
  json j = spec("true");
  // "/nonexistent-\xff"
  j["ops"].push_back(
      {{"kind", "bind"}, {"source", {{"hex", "2f6e6f6e6578697374656e742dff"}}}, {"dest", "/mnt"}});
  auto s = spawn(j);
  EXPECT_EQ(s.rc, -1);
  ASSERT_TRUE(s.error.is_object()) << s.error_text;
  EXPECT_EQ(s.error["errno"], ENOENT) << s.error_text;
  EXPECT_NE(s.error_text.find("/nonexistent-\xef\xbf\xbd"), std::string::npos) << s.error_text;
}

TEST(CApi, RefusesASecondThread) {
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  const std::set<pid_t> before = children();
  std::thread waiter([&] {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return done; });
  });
  auto s = spawn(spec("true"));
  {
    std::lock_guard lock(m);
    done = true;
  }
  cv.notify_one();
  waiter.join();
  EXPECT_EQ(s.rc, -1);
  EXPECT_FALSE(s.jail);
  EXPECT_EQ(s.error["step"], "spawn") << s.error_text;
  const std::string message = s.error["message"];
  EXPECT_NE(message.find("single-threaded"), std::string::npos) << message;
  EXPECT_NE(message.find(" threads"), std::string::npos) << message;
  EXPECT_EQ(children(), before);  // nothing was started
}

TEST(CApi, RefusesAnIgnoredSigchld) {
  struct sigaction ignore {
  }, old{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGCHLD, &ignore, &old), 0);
  auto s = spawn(spec("true"));
  sigaction(SIGCHLD, &old, nullptr);
  EXPECT_EQ(s.rc, -1);
  EXPECT_FALSE(s.jail);
  EXPECT_EQ(s.error["step"], "spawn") << s.error_text;
  EXPECT_NE(s.error["message"].get<std::string>().find("SIGCHLD"), std::string::npos)
      << s.error_text;
}

TEST(CApi, NullArguments) {
  char* error = nullptr;
  const char text[] = "{}";
  EXPECT_EQ(boxjail_spawn(text, 2, nullptr, &error), -1);
  const json e = json::parse(take(error));
  EXPECT_EQ(e["step"], "spawn");
  EXPECT_EQ(e["errno"], EINVAL);
  boxjail_jail* jail = nullptr;
  EXPECT_EQ(boxjail_spawn(nullptr, 5, &jail, nullptr), -1);
  EXPECT_EQ(jail, nullptr);
  EXPECT_EQ(boxjail_pid(nullptr), -1);
  EXPECT_EQ(boxjail_sandbox_pid(nullptr), -1);
  EXPECT_EQ(boxjail_pidfd(nullptr), -1);
  EXPECT_EQ(boxjail_signal(nullptr, SIGTERM, nullptr), -1);
  int status = 42;
  EXPECT_EQ(boxjail_wait(nullptr, &status, nullptr), -1);
  EXPECT_EQ(status, 42);
  boxjail_jail_free(nullptr);
  boxjail_string_free(nullptr);
}

TEST(CApi, Version) { EXPECT_STREQ(boxjail_version(), BOXJAIL_VERSION); }

}  // namespace

// ---- Injected failures leave the caller as it was ----------------------------------------------
// The library runs in the caller's process, so what a failed setup leaks is the caller's: each
// case denies one syscall of the setup (a seccomp filter in a forked copy of this test, inherited
// by the jail's processes) and compares the copy's fds and children before and after.

namespace {

struct InjectedFailure {
  const char* name;
  const char* syscall;
  int err;
};

std::string fd_listing() {
  std::string out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    // The iterator's own directory fd is open while it lists: leave it out by its target.
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(entry.path(), ec);
    if (!ec && target.string().rfind("/proc/", 0) == 0 &&
        target.string().find("/fd") != std::string::npos)
      continue;
    out += entry.path().filename().string() + "->" + target.string() + " ";
  }
  return out;
}

bool deny(const char* syscall, int err) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) return false;
  const bool ok = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(static_cast<unsigned>(err)),
                                   seccomp_syscall_resolve_name(syscall), 0) == 0 &&
                  seccomp_load(ctx) == 0;
  seccomp_release(ctx);
  return ok;
}

class CApiInjected : public ::testing::TestWithParam<InjectedFailure> {};

}  // namespace

TEST_P(CApiInjected, FailedSpawnLeaksNoFdAndNoChild) {
  const InjectedFailure& c = GetParam();
  json j = spec("echo ran");
  j["unshare_uts"] = true;
  j["hostname"] = "jail";
  j["ops"].push_back({{"kind", "tmpfs"}, {"dest", "/tmp"}});
  j["ops"].push_back({{"kind", "dir"}, {"dest", "/tmp/d"}});
  const std::string text = j.dump();
  int report[2];
  ASSERT_EQ(pipe2(report, O_CLOEXEC), 0);
  const pid_t copy = fork();
  ASSERT_GE(copy, 0);
  if (copy == 0) {
    close(report[0]);
    const std::string before = fd_listing() + "children: " + std::to_string(children().size());
    if (!deny(c.syscall, c.err)) _exit(3);
    boxjail_jail* jail = nullptr;
    char* error = nullptr;
    const int rc = boxjail_spawn(text.data(), text.size(), &jail, &error);
    std::string step = error ? json::parse(error, nullptr, false).value("step", "?") : "";
    int status = -1;
    if (rc == 0) {
      char* wait_error = nullptr;
      if (boxjail_wait(jail, &status, &wait_error) != 0) step = "wait";
      boxjail_string_free(wait_error);
      boxjail_jail_free(jail);
    }
    boxjail_string_free(error);
    const std::string after = fd_listing() + "children: " + std::to_string(children().size());
    const std::string out = std::to_string(rc) + "\n" + std::to_string(status) + "\n" + step +
                            "\n" + before + "\n" + after + "\n";
    _exit(write(report[1], out.data(), out.size()) == static_cast<ssize_t>(out.size()) ? 0 : 4);
  }
  close(report[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(report[0], buf, sizeof buf)) > 0;) out.append(buf, size_t(n));
  close(report[0]);
  int st = 0;
  ASSERT_EQ(waitpid(copy, &st, 0), copy);
  ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "the forked copy failed: " << st;
  std::istringstream lines(out);
  std::string rc, status, step, before, after;
  std::getline(lines, rc);
  std::getline(lines, status);
  std::getline(lines, step);
  std::getline(lines, before);
  std::getline(lines, after);
  // The denial took effect: the spawn failed (naming a step), or the jail's setup did and the
  // sandbox exited 1 (a step past the point of no return in the child).
  EXPECT_TRUE((rc == "-1" && !step.empty() && step != "?") || (rc == "0" && status == "1"))
      << c.syscall << ": rc " << rc << " status " << status << " step " << step;
  EXPECT_EQ(after, before) << "denying " << c.syscall << " (step " << step << ")";
}

INSTANTIATE_TEST_SUITE_P(CApi, CApiInjected,
                         ::testing::Values(InjectedFailure{"Clone3", "clone3", ENOMEM},
                                           InjectedFailure{"Openat2", "openat2", EMFILE},
                                           InjectedFailure{"Socketpair", "socketpair", EMFILE},
                                           InjectedFailure{"Fsmount", "fsmount", EMFILE},
                                           InjectedFailure{"Fsopen", "fsopen", EPERM},
                                           InjectedFailure{"OpenTree", "open_tree", EPERM},
                                           InjectedFailure{"MoveMount", "move_mount", EPERM},
                                           InjectedFailure{"MountSetattr", "mount_setattr", EPERM},
                                           InjectedFailure{"PivotRoot", "pivot_root", EPERM},
                                           InjectedFailure{"Sethostname", "sethostname", EPERM},
                                           InjectedFailure{"Mkdirat", "mkdirat", EACCES},
                                           InjectedFailure{"Capset", "capset", EPERM},
                                           InjectedFailure{"Execve", "execve", EACCES}),
                         [](const ::testing::TestParamInfo<InjectedFailure>& info) {
                           return info.param.name;
                         });
