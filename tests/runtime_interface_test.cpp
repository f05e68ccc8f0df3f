// SPDX-License-Identifier: Apache-2.0
// The runtime interface (docs/spec.md): `run --spec` from a file, stdin or a fd, its strict
// errors (exit 1, nothing started), the fields the bwrap-option differential cases cannot show
// (boxjail's own and those Debian's bwrap lacks), --keep-fd, the JSON Lines report, --handover
// (the sandbox becomes the caller's child, nothing of boxjail stays), and the library's
// spawn()/Jail. As root and as uid 65534; checked from the host's side (/proc, waitpid).
#include <boxjail/jail.hpp>
#include <boxjail/spec_json.hpp>

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace {

namespace bt = boxjail::test;
using nlohmann::json;

std::string spec_text(json fields) {
  fields["version"] = boxjail::kSpecVersion;
  return fields.dump();
}

json ro_root() { return {{"kind", "bind"}, {"source", "/"}, {"dest", "/"}, {"readonly", true}}; }

bt::RunResult run_spec(const std::string& text, bool nobody, bt::RunOpts o = {}) {
  o.as_nobody = nobody;
  o.fd_data.emplace_back(9, text);
  return bt::run({"run", "--spec", "fd:9"}, o);
}

class RunSpec : public ::testing::TestWithParam<bool> {
 protected:
  bool nobody() const { return GetParam(); }
};

std::string who(const ::testing::TestParamInfo<bool>& info) {
  return info.param ? "Nobody" : "Root";
}

// The three ways in: a file, stdin, an inherited fd (read to EOF, closed: the command does not
// see it).
TEST_P(RunSpec, FromAFileStdinOrAFd) {
  bt::TempDir dir;
  const std::string text =
      spec_text({{"command", {"sh", "-c", "echo ran; ls /proc/self/fd | tr '\\n' ' '"}},
                 {"env", {"PATH=/usr/bin:/bin"}},
                 {"ops", {ro_root(), {{"kind", "proc"}, {"dest", "/proc"}}}},
                 {"unshare_pid", true}});
  const std::string file = dir.file("spec.json", text);
  bt::RunOpts o;
  o.as_nobody = nobody();
  const auto from_file = bt::run({"run", "--spec", file}, o);
  EXPECT_EQ(from_file.status, 0) << from_file.err;
  EXPECT_EQ(from_file.out.substr(0, 4), "ran\n");
  o.stdin_data = text;
  const auto from_stdin = bt::run({"run", "--spec", "-"}, o);
  EXPECT_EQ(from_stdin.status, 0) << from_stdin.err;
  EXPECT_EQ(from_stdin.out.substr(0, 4), "ran\n");
  const auto from_fd = run_spec(text, nobody());
  EXPECT_EQ(from_fd.status, 0) << from_fd.err;
  // fd 9 was the spec's and is gone (the others are what the harness left inheritable).
  EXPECT_EQ(from_fd.out.find(" 9 "), std::string::npos) << from_fd.out;
}

// An absent "env" is boxjail's own environment (as bwrap passes its own on); [] is none.
TEST_P(RunSpec, EnvAbsentIsInherited) {
  bt::RunOpts o;
  o.env = {{"BOXJAIL_TEST_MARK", "inherited"}};
  json fields = {{"command", {"/bin/sh", "-c", "echo \"[$BOXJAIL_TEST_MARK]\""}},
                 {"ops", {ro_root()}}};
  const auto inherited = run_spec(spec_text(fields), nobody(), o);
  EXPECT_EQ(inherited.out, "[inherited]\n") << inherited.err;
  fields["env"] = json::array();
  const auto none = run_spec(spec_text(fields), nobody(), o);
  EXPECT_EQ(none.out, "[]\n") << none.err;
}

// Fields the bwrap-option differential cases do not reach (boxjail's own, and what Debian's
// bwrap lacks), each shown to take effect.
struct FieldCase {
  const char* name;
  json fields;         // merged into {command: [sh -c script], env, ops: [ro root]}
  std::string script;  // its stdout is compared with `expect_out`
  std::string expect_out;
  int expect_status = 0;
  std::string expect_err_prefix = "";
};

std::vector<FieldCase> field_cases() {
  const auto f = [](const char* text) { return json::parse(text); };
  const char* ro = R"({"kind": "bind", "source": "/", "dest": "/", "readonly": true})";
  const auto with_ops = [&](const std::string& op) {
    return json::parse(std::string(R"({"ops": [)") + ro + ", " + op + "]}");
  };
  return {
      {"Argv0", f(R"({"argv0": "renamed", "command": ["sh", "-c", "echo $0"]})"), "", "renamed\n"},
      {"TmpOverlay",
       with_ops(R"({"kind": "tmp-overlay", "overlay_sources": ["/etc"], "dest": "/etc"})"),
       "echo x > /etc/boxjail-overlay-probe && cat /etc/boxjail-overlay-probe", "x\n"},
      {"RoOverlay",
       with_ops(
           R"({"kind": "ro-overlay", "overlay_sources": ["/usr/bin", "/usr/sbin"], "dest": "/mnt"})"),
       "test -e /mnt/sh && test -e /mnt/chroot && echo both; touch /mnt/x 2>/dev/null || echo ro",
       "both\nro\n"},
      {"SeccompPolicy", f(R"({"seccomp_policy": "default"})"),
       "out=$(unshare -U true 2>&1); echo $?", "1\n"},
      {"LevelPrefix", f(R"({"level_prefix": true, "chdir": "/nonexistent-dir"})"), "true", "", 1,
       "<3>"},
      {"ChdirAndHostname", f(R"({"chdir": "/usr", "unshare_uts": true, "hostname": "specbox"})"),
       "pwd; hostname", "/usr\nspecbox\n"},
      {"CapsByName", f(R"({"unshare_user": true, "caps": ["CAP_NET_RAW"]})"),
       "grep CapEff /proc/self/status", "CapEff:\t0000000000002000\n"},
      {"HexCommand", f(R"({"command": [{"hex": "2f62696e2f7368"}, "-c", "echo hex"]})"), "",
       "hex\n"},
  };
}

class SpecFields : public ::testing::TestWithParam<std::tuple<FieldCase, bool>> {};

TEST_P(SpecFields, TakeEffect) {
  const auto& [c, nobody] = GetParam();
  json fields = {{"command", {"sh", "-c", c.script}},
                 {"env", {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}},
                 {"ops", {ro_root()}}};
  for (const auto& [k, v] : c.fields.items()) fields[k] = v;
  const std::string text = spec_text(fields);
  // The spec as written, and the same after a round trip through the reader and the writer.
  auto parsed = boxjail::spec_from_json(text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  for (const std::string& t : {text, boxjail::spec_to_json(parsed.value())}) {
    const auto r = run_spec(t, nobody);
    EXPECT_EQ(r.status, c.expect_status) << r.err << "\n" << t;
    EXPECT_EQ(r.out, c.expect_out) << r.err;
    if (!c.expect_err_prefix.empty()) {
      EXPECT_EQ(r.err.rfind(c.expect_err_prefix, 0), 0u) << r.err;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(RuntimeInterface, SpecFields,
                         ::testing::Combine(::testing::ValuesIn(field_cases()), ::testing::Bool()),
                         [](const ::testing::TestParamInfo<std::tuple<FieldCase, bool>>& info) {
                           return std::string(std::get<0>(info.param).name) +
                                  (std::get<1>(info.param) ? "_Nobody" : "_Root");
                         });

// Each kind of bad spec: its documented error (the JSON pointer), exit 1, the command never runs.
// `run --log-level` is checked as the bwrap-style option is: a typo is a usage error, not silence.
TEST(RunUsage, UnknownLogLevelIsRefused) {
  bt::TempDir dir;
  const std::string spec = dir.file(
      "spec.json", json{{"version", boxjail::kSpecVersion}, {"command", {"/bin/true"}}}.dump());
  const auto r = bt::run({"run", "--spec", spec, "--log-level", "loud"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("Invalid --log-level loud (trace, debug, info, warn, error, off)"),
            std::string::npos)
      << r.err;
}

TEST_P(RunSpec, BadSpecsStartNothing) {
  bt::TempDir dir;
  ASSERT_EQ(chmod(dir.path().c_str(), 0777), 0);
  const std::string marker = dir.path() + "/ran";
  const json good = {
      {"version", boxjail::kSpecVersion},
      {"command", {"/bin/sh", "-c", "touch " + marker}},
      {"ops", {ro_root(), {{"kind", "bind"}, {"source", dir.path()}, {"dest", dir.path()}}}}};
  auto with = [&](const json& patch) {
    json j = good;
    j.merge_patch(patch);
    return j.dump();
  };
  struct Bad {
    std::string text;
    std::string line;  // the whole first line of stderr starts with this
  };
  const std::vector<Bad> cases = {
      {"{", "boxjail: parse-spec: spec: invalid JSON: "},
      {with({{"bogus", 1}}), "boxjail: parse-spec: spec: unknown key \"bogus\" (accepted: "},
      {with({{"unshare_net", "yes"}}),
       "boxjail: parse-spec: spec: /unshare_net: must be true or false"},
      {with({{"version", 1}}),
       "boxjail: parse-spec: spec: /version: must be \"boxjail.spec/v1\", not 1"},
      {with({{"command", nullptr}}), "boxjail: parse-spec: spec: /command: missing"},
      {with({{"uid", -1}}), "boxjail: parse-spec: spec: /uid: -1 is out of range (0..4294967294)"},
      {with({{"ops", {{{"kind", "bind"}, {"source", "/"}, {"dest", "/"}, {"size", 1}}}}}),
       "boxjail: parse-spec: spec: /ops/0: unknown key \"size\" for kind \"bind\""},
      {with({{"keep_fds", {1}}}), "boxjail: parse-spec: spec: /keep_fds/0: 1 is out of range"},
      {with({{"caps", {"CAP_NOPE"}}}), "boxjail: parse-spec: spec: /caps/0: unknown capability"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto r = run_spec(c.text, nobody());
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err.rfind(c.line, 0), 0u) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_NE(access(marker.c_str(), F_OK), 0) << "the command ran";
  }
  // A missing file, a fd that is not open, a spec beyond the bound.
  bt::RunOpts o;
  o.as_nobody = nobody();
  auto missing = bt::run({"run", "--spec", dir.path() + "/none.json"}, o);
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.err, "boxjail: parse-spec: open " + dir.path() +
                             "/none.json: Can't open spec " + dir.path() +
                             "/none.json: No such file or directory (ENOENT)\n");
  auto closed = bt::run({"run", "--spec", "fd:77"}, o);
  EXPECT_EQ(closed.status, 1);
  EXPECT_EQ(
      closed.err,
      "boxjail: parse-spec: read fd:77: Can't read spec fd:77: Bad file descriptor (EBADF)\n");
  o.stdin_data = std::string((16 << 20) + 1, ' ');
  auto huge = bt::run({"run", "--spec", "-"}, o);
  EXPECT_EQ(huge.status, 1);
  EXPECT_EQ(
      huge.err,
      "boxjail: parse-spec: read -: The spec is larger than 16 MiB: File too large (EFBIG)\n");
  auto unknown_option = bt::run({"run", "--spec", "-", "--unshare-net"}, o);
  EXPECT_EQ(unknown_option.status, 1);
  EXPECT_NE(unknown_option.err.find("Unknown option --unshare-net"), std::string::npos)
      << unknown_option.err;
  EXPECT_NE(access(marker.c_str(), F_OK), 0) << "the command ran";
}

// --keep-fd: the named fds reach the command at their numbers (one the caller marked
// close-on-exec too); every other fd above 2 is closed.
TEST_P(RunSpec, KeepFds) {
  bt::TempDir dir;
  bt::RunOpts o;
  o.as_nobody = nobody();
  o.fd_data = {{5, "five"}, {6, "six"}, {7, "seven"}};
  const json fields = {{"command", {"sh", "-c", "cat <&5; ls /proc/self/fd | tr '\\n' ' '"}},
                       {"env", {"PATH=/usr/bin:/bin"}},
                       {"ops", {ro_root()}},
                       {"keep_fds", {5}}};
  const auto r = run_spec(spec_text(fields), nobody(), o);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "five0 1 2 3 5 ") << "fds 6, 7 and the spec's 9 closed";
  // Without it, fds are inherited as with bwrap.
  json open_fields = fields;
  open_fields.erase("keep_fds");
  const auto inherited = run_spec(spec_text(open_fields), nobody(), o);
  EXPECT_NE(inherited.out.find(" 5 6 7 "), std::string::npos) << inherited.out << inherited.err;
  // The option form, and a fd that is not open.
  const auto bad = bt::run({"--keep-fd", "8", "--ro-bind", "/", "/", "true"}, o);
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.err.find("keep-fds: fcntl fd 8: --keep-fd 8 is not an open fd"), std::string::npos)
      << bad.err;
}

// The process handles through a spec: --pid-file's pid is the command's, --info-fd and
// --json-status-fd carry bwrap's objects (the first --json-status-fd line and the exit code).
TEST_P(RunSpec, PidFileAndStatusFds) {
  bt::TempDir dir;
  ASSERT_EQ(chmod(dir.path().c_str(), 0777), 0);
  const std::string pid_file = dir.path() + "/jail.pid";
  const std::string info_path = dir.path() + "/info";
  const std::string status_path = dir.path() + "/status";
  const int info = open(info_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
  const int status = open(status_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
  ASSERT_GE(info, 0);
  ASSERT_GE(status, 0);
  bt::RunOpts o;
  o.keep_fds = {info, status};
  // The monitor writes the pid file when the command's last record reaches it, around the
  // command's execve: the command waits for it to appear.
  const json fields = {{"command",
                        {"sh", "-c",
                         "echo $$; i=0; while [ ! -s " + pid_file +
                             " ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done; "
                             "cat " +
                             pid_file}},
                       {"env", {"PATH=/usr/bin:/bin"}},
                       {"ops", {ro_root()}},
                       {"pid_file", pid_file},
                       {"info_fd", info},
                       {"json_status_fd", status}};
  const auto r = run_spec(spec_text(fields), nobody(), o);
  close(info);
  close(status);
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string pid = r.out.substr(0, r.out.find('\n'));
  EXPECT_EQ(r.out, pid + "\n" + pid + "\n") << "the pid file names the command";
  const json info_json = json::parse(bt::read_file(info_path), nullptr, false);
  EXPECT_EQ(std::to_string(info_json.value("child-pid", 0)), pid) << bt::read_file(info_path);
  const auto lines = bt::report_events(bt::read_file(status_path));
  ASSERT_EQ(lines.size(), 2u) << bt::read_file(status_path);
  EXPECT_EQ(std::to_string(lines[0].value("child-pid", 0)), pid);
  EXPECT_EQ(lines[1], json({{"exit-code", 0}}));
}

// The report: one JSON object per line, in the order things happened; "started" names the
// command's pid (as the host sees it) and its namespaces.
TEST_P(RunSpec, ReportEvents) {
  bt::ReportFile report;
  bt::RunOpts o;
  o.as_nobody = nobody();
  o.keep_fds = {report.fd};
  const auto r = bt::run({"--report-fd", std::to_string(report.fd), "--ro-bind", "/", "/", "sh",
                          "-c", "echo $$; stat -L -c %i /proc/self/ns/mnt; exit 3"},
                         o);
  EXPECT_EQ(r.status, 3) << r.err;
  const auto events = report.events();
  ASSERT_EQ(events.size(), 4u) << report.text();
  for (const auto& e : events) EXPECT_EQ(e.value("report", ""), "boxjail.report/v1") << e;
  EXPECT_EQ(events[0]["event"], "attempt");
  EXPECT_EQ(events[0]["rung"], nobody() ? "userns" : "root");
  EXPECT_EQ(events[1]["event"], "started");
  const std::string out = r.out;
  const std::string pid = out.substr(0, out.find('\n'));
  const std::string mnt = out.substr(out.find('\n') + 1, out.size() - out.find('\n') - 2);
  EXPECT_EQ(std::to_string(events[1]["pid"].get<int>()), pid);
  EXPECT_EQ(std::to_string(events[1]["namespaces"]["mnt"].get<unsigned long long>()), mnt);
  EXPECT_EQ(events[1]["namespaces"].contains("user"), nobody());
  EXPECT_EQ(events[1]["handover"], false);
  EXPECT_EQ(events[2]["event"], "exit");
  EXPECT_EQ(events[2]["exit_status"], 3);
  EXPECT_EQ(events[3]["event"], "end");
  EXPECT_EQ(events[3]["result"], "ran");

  // A failure: its line (diagnosed) comes before the summary; no "started", no "exit".
  bt::ReportFile failed;
  o.keep_fds = {failed.fd};
  const auto f = bt::run({"--report-fd", std::to_string(failed.fd), "--ro-bind", "/", "/",
                          "--chdir", "/nonexistent-dir", "true"},
                         o);
  EXPECT_EQ(f.status, 1);
  const auto fe = failed.events();
  ASSERT_EQ(fe.size(), 3u) << failed.text();
  EXPECT_EQ(fe[1]["event"], "failed");
  EXPECT_EQ(fe[1]["step"], "chdir");
  EXPECT_EQ(fe[1]["errno_name"], "ENOENT");
  EXPECT_EQ(fe[2]["event"], "end");
  EXPECT_EQ(fe[2]["attempts"][0]["step"], "chdir");
}

// A jail that runs longer than the monitor waits before shedding its setup image (20 ms): the
// monitor that writes the report's last lines must still be the one that ends.
TEST_P(RunSpec, ReportOfALongerJailHasItsEnd) {
  bt::ReportFile report;
  bt::RunOpts o;
  o.as_nobody = nobody();
  o.keep_fds = {report.fd};
  const auto r = bt::run({"--report-fd", std::to_string(report.fd), "--ro-bind", "/", "/", "sh",
                          "-c", "sleep 0.2; exit 4"},
                         o);
  EXPECT_EQ(r.status, 4) << r.err;
  std::vector<std::string> names;
  for (const auto& e : report.events()) names.push_back(e.value("event", "?"));
  EXPECT_EQ(names, (std::vector<std::string>{"attempt", "started", "exit", "end"}))
      << report.text();
}

INSTANTIATE_TEST_SUITE_P(RuntimeInterface, RunSpec, ::testing::Bool(), who);

// ---- --handover ---------------------------------------------------------------------------------

// Starts boxjail as our own child (as a runtime does), optionally as uid 65534, and waits for
// boxjail alone; the sandbox it hands over is then our child.
struct HandedOver {
  int boxjail_status = -1;
  std::vector<json> events;
  std::string err;
};

HandedOver start_handed_over(const std::vector<std::string>& jail_args, bool nobody) {
  bt::TempDir dir;
  const std::string report_path = dir.path() + "/report";
  const std::string err_path = dir.path() + "/err";
  const std::string& binary = bt::boxjail_binary();
  const pid_t pid = fork();
  if (pid == 0) {
    const int report = open(report_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    const int null = open("/dev/null", O_RDWR);
    dup2(report, 3);
    dup2(null, 0);
    dup2(null, 1);
    dup2(err, 2);
    if (nobody) {
      const gid_t g = 65534;
      if (setgroups(0, nullptr) != 0 || setresgid(g, g, g) != 0 || setresuid(g, g, g) != 0) {
        _exit(125);
      }
    }
    std::vector<std::string> args = {binary, "--handover", "--report-fd", "3"};
    args.insert(args.end(), jail_args.begin(), jail_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  HandedOver out;
  int status = 0;
  waitpid(pid, &status, 0);
  out.boxjail_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  out.events = bt::report_events(bt::read_file(report_path));
  out.err = bt::read_file(err_path);
  return out;
}

// Whether `pid` is gone (or a zombie) within 5 s: a process we are not the parent of.
bool ends_within_5s(pid_t pid) {
  for (int i = 0; i < 500; ++i) {
    const std::string status = bt::read_file("/proc/" + std::to_string(pid) + "/status");
    if (status.empty() || status.find("State:\tZ") != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

class Handover : public ::testing::TestWithParam<bool> {
 protected:
  bool nobody() const { return GetParam(); }
};

// boxjail exits 0 as soon as the command runs; the sandbox is our child, we wait for it and get
// the command's status; nothing of boxjail is left (no process of its binary below us).
TEST_P(Handover, TheCallerWaitsForTheCommandItself) {
  for (const bool pidns : {false, true}) {
    SCOPED_TRACE(pidns ? "with a pid namespace and more" : "mount namespace only");
    std::vector<std::string> args = {"--ro-bind", "/", "/"};
    if (pidns) {
      args.insert(args.end(),
                  {"--unshare-pid", "--proc", "/proc", "--unshare-net", "--unshare-uts"});
    }
    args.insert(args.end(), {"sh", "-c", "sleep 0.5; exit 5"});
    const auto started = std::chrono::steady_clock::now();
    const HandedOver h = start_handed_over(args, nobody());
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(450))
        << "boxjail waited for the command";
    ASSERT_EQ(h.boxjail_status, 0) << h.err;
    ASSERT_EQ(h.events.size(), 3u);  // attempt, started, end: no "exit"
    const json& s = h.events[1];
    ASSERT_EQ(s["event"], "started");
    EXPECT_EQ(s["handover"], true);
    EXPECT_EQ(h.events[2]["event"], "end");
    const pid_t sandbox = s["sandbox_pid"].get<pid_t>();
    const pid_t command = s["pid"].get<pid_t>();
    // With a pid namespace our child is its pid 1, which exits with the command's status.
    EXPECT_EQ(command == sandbox, !pidns);
    EXPECT_EQ(s["namespaces"].contains("net"), pidns);
    EXPECT_TRUE(s["namespaces"].contains("mnt"));
    const std::string status = bt::read_file("/proc/" + std::to_string(sandbox) + "/status");
    EXPECT_NE(status.find("\nPPid:\t" + std::to_string(getpid()) + "\n"), std::string::npos)
        << status;
    // The command itself, not a process of boxjail's image (with a pid namespace, pid 1 is
    // the reaper, a fork of the setup process: its exe is boxjail's, but it holds no monitor's
    // place; it ends with the command).
    char exe[256] = {};
    ASSERT_GT(readlink(("/proc/" + std::to_string(command) + "/exe").c_str(), exe, sizeof exe - 1),
              0);
    EXPECT_STREQ(exe, "/usr/bin/dash");
    int ws = 0;
    ASSERT_EQ(waitpid(sandbox, &ws, 0), sandbox);
    ASSERT_TRUE(WIFEXITED(ws)) << ws;
    EXPECT_EQ(WEXITSTATUS(ws), 5);
    EXPECT_EQ(kill(command, 0), -1) << "the command outlived its sandbox";
  }
}

// What cannot be handed over is refused before anything starts, with the reason.
TEST_P(Handover, RefusedWhereTheKernelOrBwrapsProtocolNeedsUs) {
  const HandedOver h =
      start_handed_over({"--json-status-fd", "1", "--ro-bind", "/", "/", "true"}, nobody());
  EXPECT_EQ(h.boxjail_status, 1);
  EXPECT_NE(h.err.find("--handover cannot be combined with --json-status-fd"), std::string::npos)
      << h.err;
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1) << "a refused jail left a child";
}

// --die-with-parent: the sandbox dies with the program that started boxjail, its real parent.
TEST_P(Handover, DiesWithTheCaller) {
  bt::TempDir dir;
  const std::string pid_path = dir.path() + "/pid";
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  // The copy of boxjail is made here, by the test process, which removes it when it exits: a
  // forked child that made it would _exit() without doing so.
  (void)bt::boxjail_binary();
  const pid_t caller = fork();
  if (caller == 0) {
    close(ready[0]);
    // This process plays the runtime: it starts the jail, then dies without waiting for it.
    const HandedOver h =
        start_handed_over({"--die-with-parent", "--ro-bind", "/", "/", "sleep", "100"}, nobody());
    std::string pid = h.events.size() > 1 ? std::to_string(h.events[1].value("pid", 0)) : "0";
    (void)!write(ready[1], pid.data(), pid.size());
    _exit(0);
  }
  close(ready[1]);
  char buf[32] = {};
  ASSERT_GT(read(ready[0], buf, sizeof buf - 1), 0);
  close(ready[0]);
  const pid_t command = std::atoi(buf);
  ASSERT_GT(command, 0);
  waitpid(caller, nullptr, 0);
  EXPECT_TRUE(ends_within_5s(command)) << "the command outlived the caller";
}

INSTANTIATE_TEST_SUITE_P(RuntimeInterface, Handover, ::testing::Bool(), who);

// ---- The library API ------------------------------------------------------------------------

boxjail::Spec library_spec(std::vector<std::string> command) {
  boxjail::Spec s;
  s.command = std::move(command);
  s.env = {"PATH=/usr/bin:/bin"};
  boxjail::MountOp root;
  root.kind = boxjail::OpKind::Bind;
  root.source = "/";
  root.dest = "/";
  root.readonly = true;
  s.ops.push_back(root);
  return s;
}

// spawn() returns once the command runs: its pid is the command's (its /proc entry runs it),
// namespaces() names the command's mount namespace, wait() gives its status.
TEST(LibraryApi, SpawnPidNamespacesWait) {
  auto jail = boxjail::spawn(library_spec({"sleep", "100"}));
  ASSERT_TRUE(jail) << jail.error().message;
  boxjail::Jail& j = jail.value();
  const std::string cmdline = bt::read_file("/proc/" + std::to_string(j.pid()) + "/cmdline");
  EXPECT_EQ(cmdline, std::string("sleep\0"
                                 "100\0",
                                 10))
      << cmdline;
  struct stat ns;
  ASSERT_EQ(stat(("/proc/" + std::to_string(j.pid()) + "/ns/mnt").c_str(), &ns), 0);
  ASSERT_FALSE(j.namespaces().empty());
  EXPECT_EQ(j.namespaces()[0].first, "mnt");
  EXPECT_EQ(j.namespaces()[0].second, ns.st_ino);
  struct stat mine;
  ASSERT_EQ(stat("/proc/self/ns/mnt", &mine), 0);
  EXPECT_NE(ns.st_ino, mine.st_ino);
  pollfd p{j.pidfd(), POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 0) << "the pidfd reads as exited while the command runs";
  ASSERT_TRUE(j.signal(SIGTERM));
  auto status = j.wait();
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(status.value(), 143);
  EXPECT_EQ(poll(&p, 1, 0), 1);
}

// A Jail dropped without wait() leaves nothing: its sandbox is killed and reaped.
TEST(LibraryApi, DroppedJailIsKilled) {
  pid_t pid = -1;
  {
    auto jail = boxjail::spawn(library_spec({"sleep", "100"}));
    ASSERT_TRUE(jail) << jail.error().message;
    pid = jail.value().pid();
    ASSERT_EQ(kill(pid, 0), 0);
  }
  EXPECT_EQ(kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

// A setup failure is the Error of the step; nothing is left to wait for.
TEST(LibraryApi, SetupFailureIsTheStepsError) {
  auto spec = library_spec({"true"});
  spec.chdir = "/nonexistent-dir";
  auto jail = boxjail::spawn(spec);
  ASSERT_FALSE(jail);
  EXPECT_EQ(jail.error().step, "chdir");
  EXPECT_EQ(jail.error().err, ENOENT);
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1) << "a child was left to reap";
  EXPECT_EQ(errno, ECHILD);
}

// --die-with-parent in the library: the sandbox dies with the process that spawned it, and that
// process gets no parent-death signal of its own (spawned from a forked child here, whose parent
// is not the one the test program started with).
TEST(LibraryApi, DieWithParentIsTheSandboxs) {
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t caller = fork();
  if (caller == 0) {
    close(pipe_fds[0]);
    auto spec = library_spec({"sleep", "100"});
    spec.die_with_parent = true;
    auto jail = boxjail::spawn(spec);
    int deathsig = -1;
    prctl(PR_GET_PDEATHSIG, &deathsig);
    const std::string msg =
        jail ? std::to_string(jail.value().pid()) + " " + std::to_string(deathsig)
             : "error " + jail.error().message;
    (void)!write(pipe_fds[1], msg.data(), msg.size());
    // Gone without waiting: the Jail's destructor does not run (_exit), the kernel's signal must.
    _exit(0);
  }
  close(pipe_fds[1]);
  char buf[256] = {};
  ASSERT_GT(read(pipe_fds[0], buf, sizeof buf - 1), 0);
  close(pipe_fds[0]);
  waitpid(caller, nullptr, 0);
  const std::string msg = buf;
  ASSERT_EQ(msg.find("error"), std::string::npos) << msg;
  const pid_t command = std::atoi(msg.c_str());
  EXPECT_EQ(msg.substr(msg.find(' ') + 1), "0") << "the caller got a parent-death signal";
  EXPECT_TRUE(ends_within_5s(command)) << "the sandbox outlived the process that spawned it";
}

// The caller's signal mask and SIGCHLD disposition are as they were.
TEST(LibraryApi, LeavesTheCallersSignalsAlone) {
  sigset_t before, after;
  sigprocmask(SIG_SETMASK, nullptr, &before);
  auto jail = boxjail::spawn(library_spec({"true"}));
  ASSERT_TRUE(jail) << jail.error().message;
  sigprocmask(SIG_SETMASK, nullptr, &after);
  for (int sig = 1; sig < 32; ++sig) {
    EXPECT_EQ(sigismember(&before, sig), sigismember(&after, sig)) << sig;
  }
  EXPECT_EQ(jail.value().wait().value(), 0);
}

}  // namespace
