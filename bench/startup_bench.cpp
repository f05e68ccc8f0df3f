// SPDX-License-Identifier: Apache-2.0
// startup_bench: times whole processes. boxjail against Debian's bwrap on the configurations of
// issue 5, interleaved (A B, then B A, every round), as root and as uid 65534, next to the
// floors (fork+exec of `true`, `unshare -Urm true`); the supervisor's memory while the command
// runs; and 64 jails launched at once. Writes JSON, Markdown and a gnuplot data file.
// docs/performance.md explains every figure; bench/run.sh is the one command that runs it.
//
// --runtime-interface (issue 14) instead: the same jails given as options, as a spec (`boxjail
// run --spec`) and through the library (spawn_bench, a separate program, so that this one stays
// libc-only), interleaved with bwrap and the kernel floors; then the memory of many long-lived
// jails as monitor, slim monitor and handed over. See "Runtime interface" in
// docs/performance.md.
//
// Deliberately a plain program: no dependency but libc and libstdc++, so that what it measures is
// the tools and not the harness.

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#ifndef BOXJAIL_BENCH_DEFAULT_BINARY
#define BOXJAIL_BENCH_DEFAULT_BINARY "build/release/boxjail"
#endif
#ifndef BOXJAIL_BENCH_DEFAULT_SPAWN_BENCH
#define BOXJAIL_BENCH_DEFAULT_SPAWN_BENCH "build/release/bench/spawn_bench"
#endif

namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------------------------------------
// Small utilities

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "startup_bench: %s\n", what.c_str());
  std::exit(2);
}

[[noreturn]] void die_errno(const std::string& what) { die(what + ": " + std::strerror(errno)); }

double now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

double tv_ms(const timeval& tv) { return double(tv.tv_sec) * 1e3 + double(tv.tv_usec) / 1e3; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

std::string first_line(const std::string& s) { return trim(s.substr(0, s.find('\n'))); }

std::string fmt(double v, int prec = 2) {
  if (std::isnan(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        o += "\\\"";
        break;
      case '\\':
        o += "\\\\";
        break;
      case '\n':
        o += "\\n";
        break;
      case '\t':
        o += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          o += buf;
        } else {
          o += char(c);
        }
    }
  }
  return o + "\"";
}

std::string json_num(double v, int prec = 3) { return std::isnan(v) ? "null" : fmt(v, prec); }

// Runs a command as root and returns its stdout (machine description only, never timed).
std::string capture(const std::string& cmd) {
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[512];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Statistics

struct Summary {
  size_t n = 0;
  double median = NAN, p99 = NAN, min = NAN, max = NAN, mean = NAN;
};

Summary summarize(std::vector<double> v) {
  Summary s;
  s.n = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  // Nearest rank: the smallest value with at least 99% of the samples at or below it. With
  // fewer than 100 samples this is the maximum.
  s.p99 = v[size_t(std::ceil(0.99 * double(n))) - 1];
  s.min = v.front();
  s.max = v.back();
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / double(n);
  return s;
}

std::string json_summary(const Summary& s, int prec = 3) {
  return "{\"n\": " + std::to_string(s.n) + ", \"median\": " + json_num(s.median, prec) +
         ", \"p99\": " + json_num(s.p99, prec) + ", \"min\": " + json_num(s.min, prec) +
         ", \"max\": " + json_num(s.max, prec) + ", \"mean\": " + json_num(s.mean, prec) + "}";
}

// ---------------------------------------------------------------------------------------------
// What is run

enum class Tool { Boxjail, Bwrap, Floor };
const char* tool_name(Tool t) {
  return t == Tool::Boxjail ? "boxjail" : t == Tool::Bwrap ? "bwrap" : "floor";
}

struct User {
  std::string name;  // "root" or "nobody"
  uid_t uid;
  gid_t gid;
  std::string label() const { return uid == 0 ? "root" : "uid " + std::to_string(uid); }
};

struct Config {
  std::string key;    // "1".."5", "true", "unshare"
  std::string label;  // short, for the plot
  std::string title;  // as written in the issue
  // Jails: the options before the command. Floors: the whole argv before "true".
  std::vector<std::string> args;
  bool floor = false;
  std::string blocked;  // non-empty: not measured, and why
};

// An argv ready for execve, built before the fork.
struct Argv {
  std::vector<std::string> s;
  std::vector<char*> p;
  std::string fd3;  // a file opened afresh as fd 3 for every run (bwrap's --seccomp 3)
  explicit Argv(std::vector<std::string> v) : s(std::move(v)) {
    for (auto& a : s) p.push_back(a.data());
    p.push_back(nullptr);
  }
  Argv(const Argv&) = delete;
  Argv& operator=(const Argv&) = delete;
};

struct Options {
  std::string boxjail = BOXJAIL_BENCH_DEFAULT_BINARY;
  std::string bwrap = "/usr/bin/bwrap";
  int runs = 30;
  int warmup = 3;
  int concurrency = 64;
  int batches = 5;
  int mem_runs = 3;
  std::vector<std::string> users = {"root", "nobody"};
  std::set<std::string> configs;  // empty: all
  std::string json = "bench/results/latest.json";
  std::string markdown = "bench/results/latest.md";
  std::string plot_data = "bench/results/latency.dat";
  int timeout_s = 30;
  std::string source;  // how the boxjail binary was built (e.g. the git revision), for the record
  // --runtime-interface (issue 14): options vs `run --spec` vs the library, against the floors;
  // memory of many long-lived jails. Only this part runs when it is given.
  bool runtime_interface = false;
  bool runs_given = false;  // --runtime-interface defaults to 40 runs
  std::string spawn_bench = BOXJAIL_BENCH_DEFAULT_SPAWN_BENCH;
  std::set<std::string> rt_parts = {"startup", "memory"};
  int jails = 200;
  int settle_ms = 1000;
  std::string rt_json = "bench/results/runtime.json";
  std::string rt_markdown = "bench/results/runtime.md";
};

// ---------------------------------------------------------------------------------------------
// Launching and reaping

volatile sig_atomic_t g_alarm = 0;
void on_alarm(int) { g_alarm = 1; }

void arm(int seconds) {
  g_alarm = 0;
  itimerval it{};
  it.it_value.tv_sec = seconds;
  setitimer(ITIMER_REAL, &it, nullptr);
}
void disarm() {
  itimerval it{};
  setitimer(ITIMER_REAL, &it, nullptr);
  g_alarm = 0;
}

std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  std::istringstream in(
      read_file("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children"));
  pid_t c;
  while (in >> c) out.push_back(c);
  return out;
}

class Launcher {
 public:
  explicit Launcher(const fs::path& dir) {
    env_s_ = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};
    for (auto& e : env_s_) env_.push_back(e.data());
    env_.push_back(nullptr);
    null_ = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_ < 0) die_errno("open /dev/null");
    const std::string err = (dir / "stderr.txt").string();
    err_ = open(err.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (err_ < 0) die_errno("open " + err);
  }

  void clear_stderr() {
    if (ftruncate(err_, 0) != 0) die_errno("ftruncate");
  }
  std::string stderr_text() const {
    std::string out;
    char buf[4096];
    ssize_t n;
    off_t off = 0;
    while ((n = pread(err_, buf, sizeof buf, off)) > 0 && out.size() < 65536) {
      out.append(buf, size_t(n));
      off += n;
    }
    return out;
  }

  // fork, drop to the user, exec. stdin/stdout default to /dev/null, stderr goes to a file.
  pid_t spawn(const Argv& argv, const User& u, int in = -1, int out = -1) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    dup2(in >= 0 ? in : null_, 0);
    dup2(out >= 0 ? out : null_, 1);
    dup2(err_, 2);
    if (!argv.fd3.empty()) {
      int fd = open(argv.fd3.c_str(), O_RDONLY);
      if (fd < 0 || dup2(fd, 3) != 3) _exit(124);
    }
    if (chdir("/") != 0) _exit(126);
    if (u.uid != 0) {
      if (setgroups(0, nullptr) != 0 || setresgid(u.gid, u.gid, u.gid) != 0 ||
          setresuid(u.uid, u.uid, u.uid) != 0) {
        _exit(125);
      }
    }
    execve(argv.p[0], argv.p.data(), const_cast<char* const*>(env_.data()));
    _exit(127);
  }

 private:
  std::vector<std::string> env_s_;
  std::vector<char*> env_;
  int null_ = -1;
  int err_ = -1;
};

// Reaps every remaining child (the harness is a child subreaper, so orphans of a run, such as
// bwrap's pid 1 that outlives its monitor, come here). Adds their CPU time to *cpu_ms.
void reap_all(double* cpu_ms, int timeout_s) {
  arm(timeout_s);
  for (;;) {
    int st;
    rusage ru{};
    pid_t p = wait4(-1, &st, 0, &ru);
    if (p > 0) {
      if (cpu_ms) *cpu_ms += tv_ms(ru.ru_utime) + tv_ms(ru.ru_stime);
      continue;
    }
    if (errno == ECHILD) break;
    if (errno == EINTR && g_alarm) {
      std::fprintf(stderr, "startup_bench: leftover processes after %d s, killing them\n",
                   timeout_s);
      for (pid_t c : children_of(getpid())) kill(c, SIGKILL);
      g_alarm = 0;
      arm(timeout_s);
    }
  }
  disarm();
}

struct Sample {
  bool ok = false;
  double wall_ms = 0;  // fork until the supervisor's exit status is collected
  double tree_ms = 0;  // fork until every process of the run is gone
  double cpu_ms = 0;   // user+system CPU of every process of the run
  long maxrss_kb = 0;  // wait4's ru_maxrss of the exec'd process (see docs/performance.md)
  std::string error;
};

std::string describe_status(int st) {
  if (WIFEXITED(st)) return "exit status " + std::to_string(WEXITSTATUS(st));
  if (WIFSIGNALED(st)) return std::string("killed by signal ") + strsignal(WTERMSIG(st));
  return "status " + std::to_string(st);
}

Sample run_once(Launcher& L, const Argv& argv, const User& u, int timeout_s) {
  Sample s;
  L.clear_stderr();
  arm(timeout_s);
  bool timed_out = false;
  const double t0 = now_ms();
  const pid_t pid = L.spawn(argv, u);
  if (pid < 0) {
    disarm();
    s.error = std::string("fork: ") + std::strerror(errno);
    return s;
  }
  int st = 0;
  rusage ru{};
  while (wait4(pid, &st, 0, &ru) < 0) {
    if (errno != EINTR) die_errno("wait4");
    if (g_alarm) {
      timed_out = true;
      kill(pid, SIGKILL);
      g_alarm = 0;
    }
  }
  const double t1 = now_ms();
  double cpu = tv_ms(ru.ru_utime) + tv_ms(ru.ru_stime);
  disarm();
  reap_all(&cpu, timeout_s);
  const double t2 = now_ms();
  s.wall_ms = t1 - t0;
  s.tree_ms = t2 - t0;
  s.cpu_ms = cpu;
  s.maxrss_kb = ru.ru_maxrss;
  s.ok = !timed_out && WIFEXITED(st) && WEXITSTATUS(st) == 0;
  if (!s.ok) {
    s.error = timed_out ? "timed out" : describe_status(st);
    const std::string err = first_line(L.stderr_text());
    if (!err.empty()) s.error += ": " + err;
  }
  return s;
}

struct Batch {
  double main_s = 0;  // first fork until the last supervisor exited
  double tree_s = 0;  // first fork until every process was gone
  int failures = 0;
  std::string first_error;
};

Batch run_batch(Launcher& L, const Argv& argv, const User& u, int n, int timeout_s) {
  Batch b;
  L.clear_stderr();
  std::set<pid_t> mains;
  std::map<std::string, int> statuses;
  arm(timeout_s * 4);
  const double t0 = now_ms();
  for (int i = 0; i < n; ++i) {
    pid_t p = L.spawn(argv, u);
    if (p < 0) {
      ++b.failures;
      ++statuses[std::string("fork: ") + std::strerror(errno)];
    } else {
      mains.insert(p);
    }
  }
  double t_main = now_ms();
  for (;;) {
    int st;
    pid_t p = wait4(-1, &st, 0, nullptr);
    if (p > 0) {
      if (mains.erase(p)) {
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
          ++b.failures;
          ++statuses[describe_status(st)];
        }
        if (mains.empty()) t_main = now_ms();
      }
      continue;
    }
    if (errno == ECHILD) break;
    if (errno == EINTR && g_alarm) {
      std::fprintf(stderr, "startup_bench: concurrent batch still running, killing it\n");
      for (pid_t c : children_of(getpid())) kill(c, SIGKILL);
      g_alarm = 0;
    }
  }
  const double t2 = now_ms();
  disarm();
  b.main_s = (t_main - t0) / 1e3;
  b.tree_s = (t2 - t0) / 1e3;
  if (b.failures) {
    for (auto& [k, v] : statuses) b.first_error += std::to_string(v) + "x " + k + "; ";
    b.first_error += first_line(L.stderr_text());
  }
  return b;
}

long status_kb(pid_t pid, const char* field) {
  std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  const size_t len = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, len, field) == 0 && line.size() > len && line[len] == ':') {
      return std::atol(line.c_str() + len + 1);
    }
  }
  return -1;
}

std::string comm_of(pid_t pid) { return trim(read_file("/proc/" + std::to_string(pid) + "/comm")); }

constexpr int kMemorySettleMs = 100;

struct Memory {
  bool ok = false;
  long supervisor_hwm_start_kb = -1;  // VmHWM as soon as the command answered (setup's peak)
  long supervisor_hwm_kb = -1;        // VmHWM of the process we exec'd (the monitor), settled
  long supervisor_rss_kb = -1;        // its VmRSS at the same moment
  long supervisor_anon_kb = -1;       // ... of which RssAnon
  long supervisor_file_kb = -1;       // ... of which RssFile (page cache, shared between instances)
  long helpers_hwm_kb = 0;            // VmHWM summed over its descendants still running the jailer
  int helpers = 0;                    // how many such descendants (pid-1 reaper/helper)
  std::string error;
};

// Runs the configuration with `cat` as the command, talks to it through pipes so that we know
// the sandbox is fully set up and the command runs, and reads the supervisor's VmHWM then.
Memory measure_memory(Launcher& L, const Argv& argv, const User& u, const std::string& comm,
                      int timeout_s) {
  Memory m;
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) die_errno("pipe2");
  L.clear_stderr();
  const pid_t pid = L.spawn(argv, u, in[0], out[1]);
  close(in[0]);
  close(out[1]);
  if (pid < 0) die_errno("fork");
  if (write(in[1], "x\n", 2) != 2) m.error = "write to the command failed";
  std::string echoed;
  while (m.error.empty() && echoed.find('\n') == std::string::npos) {
    pollfd p{out[0], POLLIN, 0};
    int r = poll(&p, 1, timeout_s * 1000);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      m.error = "the command did not answer";
      break;
    }
    char buf[64];
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) {
      m.error = "the command's stdout closed early";
      break;
    }
    echoed.append(buf, size_t(n));
  }
  if (m.error.empty()) {
    // A VM's supervisor lives for the VM's lifetime: what it holds then is read once the jail
    // has run for a moment (boxjail's monitor re-executes itself slim after 20 ms; bwrap's does
    // nothing of the kind). The peak as the command starts is kept too.
    m.supervisor_hwm_start_kb = status_kb(pid, "VmHWM");
    usleep(kMemorySettleMs * 1000);
    m.supervisor_hwm_kb = status_kb(pid, "VmHWM");
    m.supervisor_rss_kb = status_kb(pid, "VmRSS");
    m.supervisor_anon_kb = status_kb(pid, "RssAnon");
    m.supervisor_file_kb = status_kb(pid, "RssFile");
    std::vector<pid_t> todo = children_of(pid);
    while (!todo.empty()) {
      pid_t p = todo.back();
      todo.pop_back();
      if (comm_of(p) == comm) {
        m.helpers_hwm_kb += std::max(0L, status_kb(p, "VmHWM"));
        ++m.helpers;
      }
      for (pid_t c : children_of(p)) todo.push_back(c);
    }
    m.ok = m.supervisor_hwm_kb > 0;
  }
  close(in[1]);
  close(out[0]);
  int st = 0;
  arm(timeout_s);
  while (waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) die_errno("waitpid");
    if (g_alarm) {
      kill(pid, SIGKILL);
      g_alarm = 0;
    }
  }
  disarm();
  reap_all(nullptr, timeout_s);
  if (m.ok && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
    m.ok = false;
    m.error = describe_status(st);
  }
  if (!m.ok) {
    const std::string err = first_line(L.stderr_text());
    if (!err.empty()) m.error += ": " + err;
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// The configurations

struct Paths {
  fs::path dir;  // fresh mode-755 temp dir
  std::string boxjail, bwrap;
  std::string rw, ro;  // DIR and DIR2 of the per-VM jail
  std::string bpf;     // the default policy compiled by `boxjail seccomp compile`, for bwrap
};

Config jail(std::string key, std::string label, std::string title, std::vector<std::string> args) {
  Config c;
  c.key = std::move(key);
  c.label = std::move(label);
  c.title = std::move(title);
  c.args = std::move(args);
  return c;
}

Config floor_config(std::string key, std::string label, std::string title,
                    std::vector<std::string> args) {
  Config c = jail(std::move(key), std::move(label), std::move(title), std::move(args));
  c.floor = true;
  return c;
}

std::vector<Config> make_configs(const Paths& P) {
  std::vector<Config> c;
  c.push_back(floor_config("true", "fork+exec true", "fork+exec of `true` (floor)", {}));
  c.push_back(floor_config("unshare", "unshare -Urm", "`unshare -Urm true` (floor)",
                           {"/usr/bin/unshare", "-Urm"}));
  c.push_back(jail("1", "1: ro-bind / /", "`--ro-bind / / true`", {"--ro-bind", "/", "/"}));
  const std::vector<std::string> c2 = {"--unshare-all", "--ro-bind", "/",     "/",
                                       "--proc",        "/proc",     "--dev", "/dev"};
  c.push_back(jail("2", "2: unshare-all",
                   "`--unshare-all --ro-bind / / --proc /proc --dev /dev true`", c2));
  auto c3 = c2;
  c3.insert(c3.end(), {"--die-with-parent", "--new-session"});
  c.push_back(jail("3", "3: (2) + die/session", "(2) plus `--die-with-parent --new-session`", c3));
  std::vector<std::string> vm = {"--unshare-user", "--unshare-pid",     "--unshare-ipc",
                                 "--unshare-uts",  "--die-with-parent", "--new-session"};
  struct stat st;
  for (const char* p : {"/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc/resolv.conf"}) {
    if (stat(p, &st) == 0) vm.insert(vm.end(), {"--ro-bind", p, p});
  }
  vm.insert(vm.end(), {"--dev",      "/dev",      "--proc", "/proc",
                       "--tmpfs",    "/tmp",      "--bind", P.rw,
                       P.rw,         "--ro-bind", P.ro,     P.ro,
                       "--clearenv", "--setenv",  "PATH",   "/usr/bin:/bin",
                       "--setenv",   "HOME",      "/root",  "--chdir",
                       "/",          "--"});
  c.push_back(jail("4", "4: per-VM jail", "the per-VM jail of issue 2", vm));
  // boxjail compiles the shipped policy itself (--seccomp-policy default; cached per user where a
  // safe cache dir exists); bwrap gets the same filter, compiled once by `boxjail seccomp
  // compile`, on fd 3 (P.bpf, reopened for every run).
  c.push_back(jail("5", "5: 2 + seccomp", "(2) with the default seccomp policy", c2));
  return c;
}

std::vector<std::string> argv_for(const Config& c, Tool t, const Paths& P, const char* command) {
  std::vector<std::string> v;
  if (c.floor) {  // fork+exec of the command itself, or the floor's argv then the command
    v = c.args;
    v.push_back(v.empty() ? "/usr/bin/" + std::string(command) : command);
    return v;
  }
  v.push_back(t == Tool::Boxjail ? P.boxjail : P.bwrap);
  v.insert(v.end(), c.args.begin(), c.args.end());
  if (c.key == "5") {
    if (t == Tool::Boxjail) {
      v.insert(v.end(), {"--seccomp-policy", "default"});
    } else {
      v.insert(v.end(), {"--seccomp", "3"});
    }
  }
  v.push_back(command);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Results

struct Cell {  // one (user, config, tool)
  std::vector<double> wall, tree, cpu, maxrss;
  int failures = 0;
  std::string first_error;
  std::vector<double> hwm, hwm_start, rss, anon, file, helpers_hwm;
  int helpers = 0;
  int mem_failures = 0;
  std::string mem_error;
  std::vector<double> throughput, throughput_tree;
  int conc_failures = 0;
  int conc_batches = 0;
  std::string conc_error;
};

using Key = std::tuple<std::string, std::string, Tool>;  // user, config, tool

struct Machine {
  std::string cpu, kernel, arch, date, boxjail_version, bwrap_version, load_start, load_end;
  long nproc = 0;
  long mem_mb = 0;
  long harness_anon_kb = 0;  // what a fork of the harness carries into execve (see wait4_maxrss)
};

Machine describe_machine(const Paths& P) {
  Machine m;
  m.nproc = sysconf(_SC_NPROCESSORS_ONLN);
  std::istringstream cpuinfo(read_file("/proc/cpuinfo"));
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      m.cpu = trim(line.substr(line.find(':') + 1));
      break;
    }
  }
  std::istringstream meminfo(read_file("/proc/meminfo"));
  while (std::getline(meminfo, line)) {
    if (line.rfind("MemTotal:", 0) == 0) m.mem_mb = std::atol(line.c_str() + 9) / 1024;
  }
  utsname u;
  if (uname(&u) == 0) {
    m.kernel = u.release;
    m.arch = u.machine;
  }
  char buf[64];
  std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  m.date = buf;
  m.boxjail_version = first_line(capture("'" + P.boxjail + "' --version 2>&1"));
  if (!P.bwrap.empty()) m.bwrap_version = first_line(capture("'" + P.bwrap + "' --version 2>&1"));
  m.load_start = first_line(read_file("/proc/loadavg"));
  return m;
}

double median_of(const std::vector<double>& v) { return summarize(v).median; }

struct Target {
  std::string what, user, config;
  double value, limit;
  bool met;
  std::string detail;
  int prec = 2;  // decimals shown
};

class Report {
 public:
  Report(const Options& o, const std::vector<Config>& configs, const std::vector<User>& users,
         const std::map<Key, Cell>& cells, const Machine& m)
      : o_(o), configs_(configs), users_(users), cells_(cells), m_(m) {
    evaluate();
  }

  const std::vector<Target>& targets() const { return targets_; }

  std::string json() const {
    std::ostringstream j;
    j << "{\n  \"schema\": \"boxjail-startup-bench/1\",\n";
    j << "  \"date\": " << json_str(m_.date) << ",\n";
    j << "  \"machine\": {\"nproc\": " << m_.nproc << ", \"cpu\": " << json_str(m_.cpu)
      << ", \"kernel\": " << json_str(m_.kernel) << ", \"arch\": " << json_str(m_.arch)
      << ", \"mem_mb\": " << m_.mem_mb << ", \"loadavg_start\": " << json_str(m_.load_start)
      << ", \"loadavg_end\": " << json_str(m_.load_end) << "},\n";
    j << "  \"tools\": {\"boxjail\": " << json_str(m_.boxjail_version)
      << ", \"boxjail_source\": " << json_str(o_.source)
      << ", \"bwrap\": " << json_str(m_.bwrap_version) << "},\n";
    j << "  \"settings\": {\"runs\": " << o_.runs << ", \"warmup\": " << o_.warmup
      << ", \"concurrency\": " << o_.concurrency << ", \"batches\": " << o_.batches
      << ", \"mem_runs\": " << o_.mem_runs << ", \"harness_rss_anon_kb\": " << m_.harness_anon_kb
      << ", \"order\": \"interleaved: every round runs every user and configuration, boxjail "
         "then bwrap on even rounds and bwrap then boxjail on odd rounds\"},\n";
    j << "  \"measures\": {\n"
         "    \"wall_ms\": \"CLOCK_MONOTONIC from before fork() until wait4() returned the exec'd "
         "process (the supervisor) with the command's exit status\",\n"
         "    \"tree_ms\": \"same start, until every process of the run was reaped (the harness is "
         "a child subreaper, so bwrap's pid 1 outliving its monitor is counted)\",\n"
         "    \"cpu_ms\": \"user+system CPU from wait4() rusage of the supervisor (itself plus the "
         "descendants it reaped) plus every orphan reaped by the harness\",\n"
         "    \"wait4_maxrss_kb\": \"ru_maxrss from wait4() on the supervisor: the maximum of its "
         "own peak RSS, the pre-exec image of the harness's fork (execve keeps the old mm's peak "
         "in signal->maxrss), and every descendant it reaped itself; not the supervisor alone\",\n"
         "    \"supervisor_hwm_kb\": \"VmHWM of the supervisor (the process the harness exec'd) "
         "read from /proc 100 ms into the command's (cat's) run: its peak RSS since its last "
         "execve (boxjail's monitor re-executes itself slim once the command has run 20 ms)\",\n"
         "    \"supervisor_hwm_at_start_kb\": \"the same, read as soon as the command answered: "
         "the setup's peak\",\n"
         "    \"supervisor_rss_anon_kb, supervisor_rss_file_kb\": \"at the same moment, RssAnon "
         "and RssFile of /proc/PID/status: the anonymous part is the supervisor's own memory, "
         "the file part is page cache (its binary and libraries) shared by every instance\",\n"
         "    \"helpers_hwm_kb\": \"VmHWM summed over the supervisor's descendants still running "
         "the jailer binary at that moment (pid-1 reaper/helper)\",\n"
         "    \"jails_per_s\": \"N concurrent launches divided by the time from the first fork to "
         "the exit of the last supervisor; median over batches\"\n  },\n";
    j << "  \"results\": [\n";
    bool first = true;
    for (const auto& u : users_) {
      for (const auto& c : configs_) {
        if (!c.blocked.empty()) continue;
        for (Tool t : tools_for(c)) {
          auto it = cells_.find({u.name, c.key, t});
          if (it == cells_.end()) continue;
          const Cell& x = it->second;
          j << (first ? "" : ",\n") << "    {\"user\": " << json_str(u.label())
            << ", \"config\": " << json_str(c.key) << ", \"title\": " << json_str(c.title)
            << ", \"tool\": " << json_str(tool_name(t)) << ",\n     \"runs\": " << x.wall.size()
            << ", \"failures\": " << x.failures << ", \"first_error\": " << json_str(x.first_error)
            << ",\n     \"wall_ms\": " << json_summary(summarize(x.wall))
            << ",\n     \"tree_ms\": " << json_summary(summarize(x.tree))
            << ",\n     \"cpu_ms\": " << json_summary(summarize(x.cpu))
            << ",\n     \"wait4_maxrss_kb\": " << json_summary(summarize(x.maxrss), 0);
          if (t != Tool::Floor) {
            j << ",\n     \"supervisor_hwm_kb\": " << json_summary(summarize(x.hwm), 0)
              << ", \"supervisor_hwm_at_start_kb\": " << json_summary(summarize(x.hwm_start), 0)
              << ", \"supervisor_rss_kb\": " << json_summary(summarize(x.rss), 0)
              << ",\n     \"supervisor_rss_anon_kb\": " << json_summary(summarize(x.anon), 0)
              << ", \"supervisor_rss_file_kb\": " << json_summary(summarize(x.file), 0)
              << ",\n     \"helpers_hwm_kb\": " << json_summary(summarize(x.helpers_hwm), 0)
              << ", \"helpers\": " << x.helpers << ", \"mem_failures\": " << x.mem_failures
              << ", \"mem_error\": " << json_str(x.mem_error)
              << ",\n     \"concurrent\": {\"n\": " << o_.concurrency
              << ", \"batches\": " << x.conc_batches
              << ", \"jails_per_s\": " << json_summary(summarize(x.throughput), 1)
              << ", \"jails_per_s_tree\": " << json_summary(summarize(x.throughput_tree), 1)
              << ", \"failures\": " << x.conc_failures
              << ", \"first_error\": " << json_str(x.conc_error) << "}";
          }
          j << "}";
          first = false;
        }
      }
    }
    j << "\n  ],\n  \"not_measured\": [";
    first = true;
    for (const auto& c : configs_) {
      if (c.blocked.empty()) continue;
      j << (first ? "\n" : ",\n") << "    {\"config\": " << json_str(c.key)
        << ", \"title\": " << json_str(c.title) << ", \"reason\": " << json_str(c.blocked) << "}";
      first = false;
    }
    j << "\n  ],\n  \"ratios\": [";
    first = true;
    for (const auto& u : users_) {
      for (const auto& c : configs_) {
        if (c.floor || !c.blocked.empty() || !has(u, c, Tool::Boxjail)) continue;
        const Cell& a = cell(u, c, Tool::Boxjail);
        const Cell& b = cell(u, c, Tool::Bwrap);
        j << (first ? "\n" : ",\n") << "    {\"user\": " << json_str(u.label())
          << ", \"config\": " << json_str(c.key)
          << ", \"wall_median\": " << json_num(ratio(median_of(a.wall), median_of(b.wall)))
          << ", \"wall_p99\": " << json_num(ratio(summarize(a.wall).p99, summarize(b.wall).p99))
          << ", \"tree_median\": " << json_num(ratio(median_of(a.tree), median_of(b.tree)))
          << ", \"cpu_median\": " << json_num(ratio(median_of(a.cpu), median_of(b.cpu)))
          << ", \"supervisor_hwm\": " << json_num(ratio(median_of(a.hwm), median_of(b.hwm)))
          << ", \"jails_per_s\": "
          << json_num(ratio(median_of(a.throughput), median_of(b.throughput))) << "}";
        first = false;
      }
    }
    j << "\n  ],\n  \"targets\": [";
    first = true;
    for (const auto& t : targets_) {
      j << (first ? "\n" : ",\n") << "    {\"target\": " << json_str(t.what)
        << ", \"user\": " << json_str(t.user) << ", \"config\": " << json_str(t.config)
        << ", \"value\": " << json_num(t.value) << ", \"limit\": " << json_num(t.limit)
        << ", \"met\": " << (t.met ? "true" : "false") << ", \"detail\": " << json_str(t.detail)
        << "}";
      first = false;
    }
    j << "\n  ]\n}\n";
    return j.str();
  }

  std::string markdown() const {
    std::ostringstream md;
    md << "Measured " << m_.date << " on " << m_.nproc << " x " << m_.cpu << ", " << m_.mem_mb
       << " MB, Linux " << m_.kernel << " (" << m_.arch << "); load average at start `"
       << m_.load_start << "`, at end `" << m_.load_end << "`.\n"
       << "boxjail: `" << m_.boxjail_version << "`"
       << (o_.source.empty() ? "" : " (" + o_.source + ")") << "; bwrap: `" << m_.bwrap_version
       << "`. " << o_.runs << " interleaved runs per configuration, tool and user (after "
       << o_.warmup << " warm-up rounds); memory: median of " << o_.mem_runs
       << " runs; concurrency: " << o_.batches << " batches of " << o_.concurrency
       << " simultaneous launches.\n\n";
    for (const auto& u : users_) {
      md << "#### As " << u.label() << ": wall time to exit (ms)\n\n";
      md << "| configuration | boxjail median | boxjail p99 | bwrap median | bwrap p99 | "
            "ratio (median) | boxjail, all gone | bwrap, all gone | failures b/w |\n";
      md << "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
      for (const auto& c : configs_) {
        if (!c.blocked.empty()) {
          md << "| " << c.key << ". " << c.title << " | not measured | | | | | | | |\n";
          continue;
        }
        if (c.floor) {
          if (!has(u, c, Tool::Floor)) continue;
          const Cell& f = cell(u, c, Tool::Floor);
          const Summary s = summarize(f.wall);
          md << "| " << c.title << " | " << fmt(s.median) << " | " << fmt(s.p99) << " | | | | "
             << fmt(median_of(f.tree)) << " | | " << f.failures << " |\n";
          continue;
        }
        if (!has(u, c, Tool::Boxjail)) continue;
        const Cell& a = cell(u, c, Tool::Boxjail);
        const Cell& b = cell(u, c, Tool::Bwrap);
        const Summary sa = summarize(a.wall), sb = summarize(b.wall);
        md << "| " << c.key << ". " << c.title << " | " << fmt(sa.median) << " | " << fmt(sa.p99)
           << " | " << fmt(sb.median) << " | " << fmt(sb.p99) << " | **"
           << fmt(ratio(sa.median, sb.median)) << "** | " << fmt(median_of(a.tree)) << " | "
           << fmt(median_of(b.tree)) << " | " << a.failures << "/" << b.failures << " |\n";
      }
      md << "\n#### As " << u.label() << ": CPU, memory, " << o_.concurrency
         << " concurrent launches\n\n";
      md << "| configuration | CPU ms boxjail | CPU ms bwrap | supervisor VmHWM KiB boxjail | "
            "bwrap | supervisor RssAnon KiB boxjail | bwrap | jailer helpers VmHWM KiB boxjail "
            "| bwrap | jails/s boxjail | jails/s bwrap | ratio | concurrent failures b/w |\n";
      md << "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
            "---: |\n";
      for (const auto& c : configs_) {
        if (!c.blocked.empty()) continue;
        if (c.floor) {
          if (!has(u, c, Tool::Floor)) continue;
          md << "| " << c.title << " | " << fmt(median_of(cell(u, c, Tool::Floor).cpu))
             << " | | | | | | | | | | | |\n";
          continue;
        }
        if (!has(u, c, Tool::Boxjail)) continue;
        const Cell& a = cell(u, c, Tool::Boxjail);
        const Cell& b = cell(u, c, Tool::Bwrap);
        md << "| " << c.key << ". " << c.title << " | " << fmt(median_of(a.cpu)) << " | "
           << fmt(median_of(b.cpu)) << " | " << fmt(median_of(a.hwm), 0) << " | "
           << fmt(median_of(b.hwm), 0) << " | " << fmt(median_of(a.anon), 0) << " | "
           << fmt(median_of(b.anon), 0) << " | " << helpers(a) << " | " << helpers(b) << " | "
           << fmt(median_of(a.throughput), 0) << " | " << fmt(median_of(b.throughput), 0) << " | **"
           << fmt(ratio(median_of(a.throughput), median_of(b.throughput))) << "** | "
           << a.conc_failures << "/" << b.conc_failures << " |\n";
      }
      md << "\n";
    }
    std::set<std::string> errors;
    for (const auto& [k, x] : cells_) {
      const std::string who =
          std::get<0>(k) + ", config " + std::get<1>(k) + ", " + tool_name(std::get<2>(k));
      if (!x.first_error.empty()) errors.insert(who + ": " + x.first_error);
      if (!x.mem_error.empty()) errors.insert(who + " (memory run): " + x.mem_error);
      if (!x.conc_error.empty()) errors.insert(who + " (concurrent): " + x.conc_error);
    }
    if (!errors.empty()) {
      md << "Failures (first message of each):\n\n";
      for (const auto& e : errors) md << "- " << e << "\n";
      md << "\n";
    }
    for (const auto& c : configs_) {
      if (!c.blocked.empty()) md << "Configuration " << c.key << " " << c.blocked << "\n\n";
    }
    md << "#### Targets of issue 5\n\n| target | as | configuration | measured | limit | met |\n"
          "| --- | --- | --- | ---: | ---: | --- |\n";
    int met = 0;
    for (const auto& t : targets_) {
      md << "| " << t.what << " | " << t.user << " | " << t.config << " | " << fmt(t.value, t.prec)
         << " | " << fmt(t.limit, t.prec) << " | " << (t.met ? "yes" : "**no**")
         << (t.detail.empty() ? "" : " (" + t.detail + ")") << " |\n";
      met += t.met;
    }
    md << "\n" << met << " of " << targets_.size() << " targets met.\n";
    return md.str();
  }

  std::string plot_data() const {
    std::ostringstream d;
    d << "# " << m_.nproc << " x " << m_.cpu << ", Linux " << m_.kernel << ", " << m_.date
      << ", medians of " << o_.runs << " interleaved runs\n";
    for (const auto& u : users_) {
      d << "# as " << u.label()
        << "\n# label boxjail_median boxjail_p99 bwrap_median bwrap_p99 floor_median "
           "floor_p99\n";
      for (const auto& c : configs_) {
        if (!c.blocked.empty()) continue;
        auto val = [&](Tool t, bool p99) -> std::string {
          if (!has(u, c, t)) return "-";
          Summary s = summarize(cell(u, c, t).wall);
          double v = p99 ? s.p99 : s.median;
          return std::isnan(v) ? "-" : fmt(v, 3);
        };
        d << "\"" << c.label << "\" " << val(Tool::Boxjail, false) << " "
          << val(Tool::Boxjail, true) << " " << val(Tool::Bwrap, false) << " "
          << val(Tool::Bwrap, true) << " " << val(Tool::Floor, false) << " "
          << val(Tool::Floor, true) << "\n";
      }
      d << "\n\n";
    }
    return d.str();
  }

  static std::vector<Tool> tools_for(const Config& c) {
    if (c.floor) return {Tool::Floor};
    return {Tool::Boxjail, Tool::Bwrap};
  }

 private:
  static double ratio(double a, double b) { return b > 0 ? a / b : NAN; }
  bool has(const User& u, const Config& c, Tool t) const {
    return cells_.count({u.name, c.key, t}) != 0;
  }
  const Cell& cell(const User& u, const Config& c, Tool t) const {
    return cells_.at({u.name, c.key, t});
  }
  static std::string helpers(const Cell& x) {
    if (x.helpers == 0) return "none";
    return fmt(median_of(x.helpers_hwm), 0);
  }

  void evaluate() {
    for (const auto& u : users_) {
      const Config* unshare = nullptr;
      for (const auto& c : configs_) {
        if (c.key == "unshare" && has(u, c, Tool::Floor)) unshare = &c;
      }
      for (const auto& c : configs_) {
        if (c.floor || !c.blocked.empty() || !has(u, c, Tool::Boxjail)) continue;
        const Cell& a = cell(u, c, Tool::Boxjail);
        const Cell& b = cell(u, c, Tool::Bwrap);
        const std::string cfg = c.key;
        double r = ratio(median_of(a.wall), median_of(b.wall));
        targets_.push_back({"median start-up <= 0.7 x bwrap", u.label(), cfg, r, 0.7,
                            r <= 0.7 && a.failures == 0,
                            a.failures ? std::to_string(a.failures) + " failed runs" : ""});
        if (c.key == "1" && unshare) {
          double d = median_of(a.wall) - median_of(cell(u, *unshare, Tool::Floor).wall);
          targets_.push_back({"median start-up - `unshare -Urm true` <= 2 ms", u.label(), cfg, d,
                              2.0, d <= 2.0, ""});
        }
        double ha = median_of(a.hwm), hb = median_of(b.hwm);
        targets_.push_back({"supervisor peak RSS (VmHWM) <= bwrap's, KiB", u.label(), cfg, ha, hb,
                            ha <= hb, "", 0});
        double tr = ratio(median_of(a.throughput), median_of(b.throughput));
        targets_.push_back({std::to_string(o_.concurrency) +
                                " concurrent: throughput >= 1.3 x bwrap, zero failures",
                            u.label(), cfg, tr, 1.3, tr >= 1.3 && a.conc_failures == 0,
                            a.conc_failures ? std::to_string(a.conc_failures) + " failures" : ""});
      }
    }
  }

  const Options& o_;
  const std::vector<Config>& configs_;
  const std::vector<User>& users_;
  const std::map<Key, Cell>& cells_;
  const Machine& m_;
  std::vector<Target> targets_;
};

void write_file(const std::string& path, const std::string& content) {
  fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) die("cannot write " + path);
}

void copy_exec(const std::string& from, const fs::path& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) die("copy " + from + ": " + ec.message());
  if (chmod(to.c_str(), 0755) != 0) die_errno("chmod " + to.string());
}

// ---------------------------------------------------------------------------------------------
// --runtime-interface (issue 14): the jail given as options, as a spec (`boxjail run --spec`)
// and through the library (spawn_bench), against the kernel floors and bwrap, interleaved; then
// the resident memory of many long-lived jails in each mode (monitor, slim monitor, handed over).

namespace rt {

enum class Kind { Options, Spec, LibInproc, LibFork, Bwrap, Floor };

struct Variant {
  std::string key;    // "options", "spec", "lib-inproc", "lib-fork", "bwrap", "floor:..."
  std::string label;  // for the tables
  Kind kind;
  std::unique_ptr<Argv> argv;  // exec'd variants
  size_t server = 0;           // library variants: index into the servers
};

// A spawn_bench server: runs as the user, holds one spec, answers one request at a time.
struct Server {
  FILE* req = nullptr;
  FILE* ans = nullptr;
  std::string err_path;
};

struct Series {
  std::vector<double> wall, tree;
  int failures = 0;
  std::string first_error;
};

using SKey = std::tuple<std::string, std::string, std::string>;  // user, config, variant key

std::vector<std::string> env_strings() {
  return {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};
}

// Started through a double fork with the subreaper flag off for the moment, so that the server is
// not our child and run_once()'s reaping never waits for it.
Server start_server(const std::string& binary, const std::string& spec, const User& u,
                    const std::string& err_path) {
  int req[2], ans[2];
  if (pipe2(req, O_CLOEXEC) != 0 || pipe2(ans, O_CLOEXEC) != 0) die_errno("pipe2");
  if (prctl(PR_SET_CHILD_SUBREAPER, 0) != 0) die_errno("PR_SET_CHILD_SUBREAPER");
  const pid_t mid = fork();
  if (mid < 0) die_errno("fork");
  if (mid == 0) {
    if (fork() != 0) _exit(0);
    const int null = open("/dev/null", O_RDWR);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (null < 0 || err < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(err, 2) < 0 ||
        dup2(req[0], 3) != 3 || dup2(ans[1], 4) != 4) {
      _exit(124);
    }
    if (chdir("/") != 0) _exit(126);
    if (u.uid != 0 && (setgroups(0, nullptr) != 0 || setresgid(u.gid, u.gid, u.gid) != 0 ||
                       setresuid(u.uid, u.uid, u.uid) != 0)) {
      _exit(125);
    }
    std::vector<std::string> env_s = env_strings();
    std::vector<char*> env;
    for (auto& e : env_s) env.push_back(e.data());
    env.push_back(nullptr);
    std::string a0 = binary, a1 = "--serve", a2 = spec;
    char* argv[] = {a0.data(), a1.data(), a2.data(), nullptr};
    execve(argv[0], argv, env.data());
    _exit(127);
  }
  int st;
  while (waitpid(mid, &st, 0) < 0 && errno == EINTR) {
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) die_errno("PR_SET_CHILD_SUBREAPER");
  close(req[0]);
  close(ans[1]);
  Server s;
  s.req = fdopen(req[1], "w");
  s.ans = fdopen(ans[0], "r");
  s.err_path = err_path;
  if (!s.req || !s.ans) die_errno("fdopen");
  return s;
}

struct LibSample {
  bool ok = false;
  double wall_ms = 0, tree_ms = 0;
  std::string error;
};

LibSample ask(Server& s, const char* request, int timeout_s) {
  LibSample r;
  std::fprintf(s.req, "%s\n", request);
  std::fflush(s.req);
  pollfd p{fileno(s.ans), POLLIN, 0};
  int n;
  while ((n = poll(&p, 1, timeout_s * 1000)) < 0 && errno == EINTR) {
  }
  if (n <= 0) die(std::string("spawn_bench did not answer a request ") + request);
  char line[1024];
  if (!std::fgets(line, sizeof line, s.ans)) {
    die("spawn_bench exited: " + first_line(read_file(s.err_path)));
  }
  std::string a = trim(line);
  if (a.rfind("ok ", 0) == 0) {
    std::istringstream in(a.substr(3));
    in >> r.wall_ms >> r.tree_ms;
    r.ok = bool(in);
    if (!r.ok) r.error = "bad answer: " + a;
  } else {
    r.error = a.rfind("err ", 0) == 0 ? a.substr(4) : "bad answer: " + a;
    const std::string err = first_line(read_file(s.err_path));
    if (!err.empty()) r.error += ": " + err;
  }
  return r;
}

std::string floor_title(const std::vector<std::string>& argv) {
  std::string t;
  for (size_t i = 0; i < argv.size(); ++i) {
    t += (i ? " " : "") + (i == 0 ? fs::path(argv[i]).filename().string() : argv[i]);
  }
  return t + " true";
}

// The floors each configuration is compared with: what the kernel makes any jailer pay for the
// same namespaces (fork, exec, the namespaces, the command's exec, exit and teardown).
std::vector<std::vector<std::string>> floors_for(const std::string& config) {
  const std::string u = "/usr/bin/unshare";
  if (config == "1") return {{u, "-Urm"}};
  // As issue 14 writes it; -c is --map-current-user (it overrides -r) and no cgroup namespace is
  // made. -C makes the cgroup namespace that --unshare-all's --unshare-cgroup-try makes here.
  if (config == "2") {
    return {{u, "-Urmpiunc", "--fork", "--mount-proc"}, {u, "-UrmpiunC", "--fork", "--mount-proc"}};
  }
  if (config == "4") return {{u, "-Urmpiu", "--fork", "--mount-proc"}};
  return {};
}

// Runs `boxjail spec --from-args -- ARGS... COMMAND` as the user, with the harness's environment,
// into `out` (mode 0644).
void make_spec(Launcher& L, const std::string& boxjail, const Config& c, const User& u,
               const std::vector<std::string>& command, const std::string& out) {
  std::vector<std::string> v = {boxjail, "spec", "--from-args", "--"};
  v.insert(v.end(), c.args.begin(), c.args.end());
  v.insert(v.end(), command.begin(), command.end());
  Argv argv(v);
  const int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die_errno("open " + out);
  L.clear_stderr();
  const pid_t pid = L.spawn(argv, u, -1, fd);
  close(fd);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
    die("boxjail spec --from-args failed (" + describe_status(st) +
        "): " + first_line(L.stderr_text()));
  }
  chmod(out.c_str(), 0644);
}

double ratio(double a, double b) { return b > 0 ? a / b : NAN; }

// ---- memory ----------------------------------------------------------------------------------

struct ProcMem {
  long rss = 0, anon = 0, file = 0, pss = 0, pss_anon = 0, pss_file = 0;  // KiB
  bool ok = false;
};

long field_kb(const std::string& text, const char* field) {
  const std::string key = std::string("\n") + field + ":";
  size_t at = ("\n" + text).find(key);
  if (at == std::string::npos) return -1;
  return std::atol(text.c_str() + at + key.size() - 1);
}

ProcMem proc_mem(pid_t pid) {
  ProcMem m;
  const std::string base = "/proc/" + std::to_string(pid);
  const std::string status = read_file(base + "/status");
  const std::string rollup = read_file(base + "/smaps_rollup");
  m.rss = field_kb(status, "VmRSS");
  m.anon = field_kb(status, "RssAnon");
  m.file = field_kb(status, "RssFile");
  m.pss = field_kb(rollup, "Pss");
  m.pss_anon = field_kb(rollup, "Pss_Anon");
  m.pss_file = field_kb(rollup, "Pss_File");
  m.ok = m.rss >= 0 && m.pss >= 0;
  return m;
}

struct MemSum {
  int n = 0;
  long rss = 0, anon = 0, file = 0, pss = 0, pss_anon = 0, pss_file = 0;
  std::vector<double> rss_each;
  void add(const ProcMem& m) {
    ++n;
    rss += m.rss;
    anon += m.anon;
    file += m.file;
    pss += m.pss;
    pss_anon += m.pss_anon;
    pss_file += m.pss_file;
    rss_each.push_back(double(m.rss));
  }
};

std::string exe_of(pid_t pid) {
  char buf[PATH_MAX];
  const std::string link = "/proc/" + std::to_string(pid) + "/exe";
  ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
  if (n < 0) return "";
  buf[n] = 0;
  return buf;
}

std::string cmdline_of(pid_t pid) {
  std::string s = read_file("/proc/" + std::to_string(pid) + "/cmdline");
  std::replace(s.begin(), s.end(), '\0', ' ');
  return s;
}

char state_of(pid_t pid) {
  const std::string s = read_file("/proc/" + std::to_string(pid) + "/stat");
  size_t at = s.rfind(')');
  return at == std::string::npos || at + 2 >= s.size() ? '?' : s[at + 2];
}

// Every process on the host running this boxjail binary (our copy: other boxjails on the
// machine, a test suite's, are not counted).
std::vector<pid_t> processes_of(const std::string& exe) {
  std::vector<pid_t> out;
  DIR* d = opendir("/proc");
  if (!d) die_errno("opendir /proc");
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    const long pid = std::strtol(e->d_name, &end, 10);
    if (*end || pid <= 0) continue;
    if (exe_of(pid_t(pid)) == exe) out.push_back(pid_t(pid));
  }
  closedir(d);
  return out;
}

std::vector<pid_t> descendants(pid_t pid) {
  std::vector<pid_t> out, todo = children_of(pid);
  while (!todo.empty()) {
    pid_t p = todo.back();
    todo.pop_back();
    out.push_back(p);
    for (pid_t c : children_of(p)) todo.push_back(c);
  }
  return out;
}

struct MemState {                  // one snapshot of N jails
  std::string state;               // "monitor", "slim monitor", "handed over"
  MemSum monitors, helpers, jail;  // boxjail's monitors, boxjail's other processes, the command's
  int boxjail_host = 0;            // processes running our boxjail binary, found on the host
  int not_in_state = 0;            // monitors not (yet/any more) in the state measured
  std::string note;
};

struct MemRun {
  std::string user, jail, title;
  int jails = 0, started = 0, failed = 0;
  std::string first_error;
  std::vector<MemState> states;
  double start_s = 0;  // time to start all the jails
};

constexpr const char* kSlimFlag = "--internal-slim-monitor";

MemState snapshot(const std::string& state, const std::vector<pid_t>& monitors,
                  const std::vector<pid_t>& handed, const std::string& exe, bool want_slim) {
  MemState s;
  s.state = state;
  for (pid_t m : monitors) {
    const bool slim = cmdline_of(m).find(kSlimFlag) != std::string::npos;
    if (slim != want_slim) ++s.not_in_state;
    s.monitors.add(proc_mem(m));
    for (pid_t d : descendants(m)) {
      if (exe_of(d) == exe) {
        s.helpers.add(proc_mem(d));
      } else {
        s.jail.add(proc_mem(d));
      }
    }
  }
  // Handed over: the sandbox's first process is our child. With a pid namespace it is boxjail's
  // pid-1 reaper (boxjail's image, forked, never exec'd), which stays: counted as boxjail's.
  for (pid_t h : handed) {
    std::vector<pid_t> all = descendants(h);
    all.insert(all.begin(), h);
    for (pid_t p : all) {
      if (exe_of(p) == exe) {
        s.helpers.add(proc_mem(p));
      } else {
        s.jail.add(proc_mem(p));
      }
    }
  }
  s.boxjail_host = int(processes_of(exe).size());
  return s;
}

void kill_and_reap(const std::vector<pid_t>& pids, int timeout_s) {
  for (pid_t p : pids) kill(p, SIGCONT);
  for (pid_t p : pids) kill(p, SIGTERM);
  arm(timeout_s);
  for (pid_t p : pids) {
    int st;
    while (waitpid(p, &st, 0) < 0) {
      if (errno != EINTR) break;
      if (g_alarm) {
        for (pid_t q : pids) kill(q, SIGKILL);
        g_alarm = 0;
      }
    }
  }
  disarm();
  // Whatever is left (orphans come back to us, the subreaper) is killed and reaped.
  for (pid_t d : descendants(getpid())) kill(d, SIGKILL);
  reap_all(nullptr, timeout_s);
}

// Starts N jails one after the other, each with `sleep 60`, and measures them.
// handover: boxjail exits once the command runs; the command is our child (CLONE_PARENT).
// Otherwise each monitor is stopped (SIGSTOP) as soon as its command has exec'd, well within the
// 20 ms after which it would re-execute itself slim: all N are then measured as full monitors;
// SIGCONT lets each shed, and after `settle_ms` all N are measured as slim monitors.
MemRun memory_run(Launcher& L, const Argv& argv, const User& u, const std::string& exe,
                  const std::string& jail_key, const std::string& title, bool handover, int n,
                  int settle_ms, int timeout_s) {
  MemRun r;
  r.user = u.label();
  r.jail = jail_key;
  r.title = title;
  r.jails = n;
  std::vector<pid_t> monitors, handed;
  std::set<pid_t> known;
  L.clear_stderr();
  const double t0 = now_ms();
  for (int i = 0; i < n; ++i) {
    const pid_t pid = L.spawn(argv, u);
    if (pid < 0) die_errno("fork");
    if (handover) {
      int st = 0;
      while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
      if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
        ++r.failed;
        if (r.first_error.empty()) {
          r.first_error = describe_status(st) + ": " + first_line(L.stderr_text());
        }
        continue;
      }
      for (pid_t c : children_of(getpid())) {
        if (known.insert(c).second) handed.push_back(c);
      }
      ++r.started;
      continue;
    }
    // Wait for the command's execve (a descendant named "sleep"), then stop the monitor.
    bool found = false;
    const double deadline = now_ms() + timeout_s * 1e3;
    while (!found && now_ms() < deadline) {
      for (pid_t d : descendants(pid)) {
        if (comm_of(d) == "sleep") found = true;
      }
      if (!found) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
          ++r.failed;
          if (r.first_error.empty()) {
            r.first_error = describe_status(st) + ": " + first_line(L.stderr_text());
          }
          break;
        }
        usleep(100);
      }
    }
    if (!found) {
      kill(pid, SIGKILL);
      continue;
    }
    kill(pid, SIGSTOP);
    monitors.push_back(pid);
    ++r.started;
  }
  r.start_s = (now_ms() - t0) / 1e3;
  if (handover) {
    usleep(settle_ms * 1000);
    MemState s = snapshot("handed over", {}, handed, exe, false);
    r.states.push_back(s);
    kill_and_reap(handed, timeout_s);
    return r;
  }
  // Every monitor stopped ('T') before it is read.
  for (pid_t m : monitors) {
    for (int i = 0; i < 1000 && state_of(m) != 'T'; ++i) usleep(100);
  }
  MemState full = snapshot("monitor (stopped before its re-exec)", monitors, {}, exe, false);
  r.states.push_back(full);
  for (pid_t m : monitors) kill(m, SIGCONT);
  usleep(settle_ms * 1000);
  MemState slim = snapshot("slim monitor", monitors, {}, exe, true);
  r.states.push_back(slim);
  kill_and_reap(monitors, timeout_s);
  return r;
}

// ---- the run ---------------------------------------------------------------------------------

struct Result {
  std::vector<std::string> configs;
  std::map<std::string, std::vector<std::string>> variant_keys;  // config -> variant keys, in order
  std::map<std::string, std::string> labels;                     // variant key -> label
  std::map<SKey, Series> series;
  std::vector<MemRun> mem;
  std::vector<std::string> leftovers;  // what was found running after the cleanup
};

std::string md_cell(const Series* s) {
  if (!s || s->wall.empty()) return "n/a";
  return fmt(median_of(s->wall));
}

}  // namespace rt

int run_runtime_interface(const Options& o, const Paths& P, const std::vector<Config>& all,
                          const std::vector<User>& users, Machine machine,
                          const std::string& spawn_bench) {
  using namespace rt;
  const bool do_startup = o.rt_parts.count("startup") != 0;
  const bool do_memory = o.rt_parts.count("memory") != 0;
  const bool have_bwrap = !P.bwrap.empty();
  Launcher L(P.dir);
  Result R;
  std::vector<const Config*> configs;
  for (const auto& c : all) {
    if ((c.key == "1" || c.key == "2" || c.key == "4") &&
        (o.configs.empty() || o.configs.count(c.key))) {
      configs.push_back(&c);
      R.configs.push_back(c.key);
    }
  }

  // Everything built before any timing: argvs, the spec files (`boxjail spec --from-args`, as
  // each user), and one spawn_bench server per (user, configuration) holding that spec.
  std::vector<Server> servers;
  std::map<std::pair<std::string, std::string>, std::vector<Variant>> variants;
  std::map<std::pair<std::string, std::string>, std::string> spec_files;
  for (const auto& u : users) {
    for (const Config* c : configs) {
      const std::string spec = (P.dir / ("spec-" + u.name + "-" + c->key + ".json")).string();
      make_spec(L, P.boxjail, *c, u, {"true"}, spec);
      spec_files[{u.name, c->key}] = spec;
      if (!do_startup) continue;
      auto& v = variants[{u.name, c->key}];
      v.push_back({"options", "options", Kind::Options,
                   std::make_unique<Argv>(argv_for(*c, Tool::Boxjail, P, "true"))});
      v.push_back(
          {"spec", "run --spec", Kind::Spec,
           std::make_unique<Argv>(std::vector<std::string>{P.boxjail, "run", "--spec", spec})});
      servers.push_back(start_server(
          spawn_bench, spec, u, (P.dir / ("server-" + u.name + "-" + c->key + ".err")).string()));
      v.push_back(
          {"lib-inproc", "library, in-process", Kind::LibInproc, nullptr, servers.size() - 1});
      v.push_back(
          {"lib-fork", "library, fork+spawn+wait", Kind::LibFork, nullptr, servers.size() - 1});
      if (have_bwrap) {
        v.push_back({"bwrap", "bwrap", Kind::Bwrap,
                     std::make_unique<Argv>(argv_for(*c, Tool::Bwrap, P, "true"))});
      }
      for (const auto& f : floors_for(c->key)) {
        auto a = f;
        a.push_back("true");
        v.push_back(
            {"floor:" + floor_title(f), floor_title(f), Kind::Floor, std::make_unique<Argv>(a)});
      }
      auto& keys = R.variant_keys[c->key];
      if (keys.empty()) {
        for (const auto& x : v) {
          keys.push_back(x.key);
          R.labels[x.key] = x.label;
        }
      }
    }
  }

  if (do_startup) {
    std::fprintf(stderr, "runtime interface, start-up: %d warm-up + %d timed rounds\n", o.warmup,
                 o.runs);
    for (int round = 0; round < o.warmup + o.runs; ++round) {
      const bool timed = round >= o.warmup;
      for (const auto& u : users) {
        for (const Config* c : configs) {
          auto& v = variants[{u.name, c->key}];
          // Every variant takes every position in turn: the order rotates by one each round.
          for (size_t i = 0; i < v.size(); ++i) {
            Variant& x = v[(i + size_t(round)) % v.size()];
            bool ok;
            double wall, tree;
            std::string error;
            if (x.kind == Kind::LibInproc || x.kind == Kind::LibFork) {
              LibSample s = ask(servers[x.server], x.kind == Kind::LibInproc ? "inproc" : "fork",
                                o.timeout_s);
              ok = s.ok, wall = s.wall_ms, tree = s.tree_ms, error = s.error;
            } else {
              Sample s = run_once(L, *x.argv, u, o.timeout_s);
              ok = s.ok, wall = s.wall_ms, tree = s.tree_ms, error = s.error;
            }
            if (!timed) continue;
            Series& s = R.series[{u.name, c->key, x.key}];
            if (!ok) {
              ++s.failures;
              if (s.first_error.empty()) s.first_error = error;
              continue;
            }
            s.wall.push_back(wall);
            s.tree.push_back(tree);
          }
        }
      }
      if (timed && (round - o.warmup + 1) % 10 == 0) {
        std::fprintf(stderr, "  %d/%d rounds\n", round - o.warmup + 1, o.runs);
      }
    }
    for (auto& s : servers) {  // EOF on its request pipe ends each server
      std::fclose(s.req);
      std::fclose(s.ans);
    }
  }

  if (do_memory) {
    const Config* vm = nullptr;
    for (const auto& c : all) {
      if (c.key == "4") vm = &c;
    }
    Config nopid = *vm;
    nopid.args.erase(std::find(nopid.args.begin(), nopid.args.end(), "--unshare-pid"));
    for (const auto& u : users) {
      std::fprintf(stderr, "runtime interface, memory: %d jails at once, as %s\n", o.jails,
                   u.label().c_str());
      auto sleeper = [&](const Config& c, bool handover) {
        std::vector<std::string> v = argv_for(c, Tool::Boxjail, P, "sleep");
        v.push_back("60");
        if (handover) v.insert(v.begin() + 1, "--handover");
        return std::make_unique<Argv>(v);
      };
      auto a = sleeper(*vm, false);
      R.mem.push_back(memory_run(L, *a, u, P.boxjail, "4", "configuration 4", false, o.jails,
                                 o.settle_ms, o.timeout_s));
      auto ah = sleeper(*vm, true);
      R.mem.push_back(memory_run(L, *ah, u, P.boxjail, "4-handover", "configuration 4, --handover",
                                 true, o.jails, o.settle_ms, o.timeout_s));
      auto b = sleeper(nopid, false);
      R.mem.push_back(memory_run(L, *b, u, P.boxjail, "4-nopid",
                                 "configuration 4 without --unshare-pid", false, o.jails,
                                 o.settle_ms, o.timeout_s));
      auto h = sleeper(nopid, true);
      R.mem.push_back(memory_run(L, *h, u, P.boxjail, "4-nopid-handover",
                                 "configuration 4 without --unshare-pid, --handover", true, o.jails,
                                 o.settle_ms, o.timeout_s));
    }
    // Nothing may be left running: no process of our boxjail binary, no child of ours.
    for (pid_t p : processes_of(P.boxjail)) {
      R.leftovers.push_back("boxjail pid " + std::to_string(p) + ": " + cmdline_of(p));
    }
    for (pid_t p : descendants(getpid())) {
      R.leftovers.push_back("pid " + std::to_string(p) + ": " + cmdline_of(p));
    }
  }

  machine.load_end = first_line(read_file("/proc/loadavg"));

  // ---- report ----
  std::ostringstream md, j;
  md << "Measured " << machine.date << " on " << machine.nproc << " x " << machine.cpu << " (nproc "
     << machine.nproc << "), " << machine.mem_mb << " MB, Linux " << machine.kernel << " ("
     << machine.arch << "); load average at start `" << machine.load_start << "`, at end `"
     << machine.load_end << "`.\nboxjail: `" << machine.boxjail_version << "`"
     << (o.source.empty() ? "" : " (" + o.source + ")") << "; bwrap: `"
     << (have_bwrap ? machine.bwrap_version : std::string("not installed")) << "`.\n\n";
  j << "{\n  \"schema\": \"boxjail-runtime-interface-bench/1\",\n";
  j << "  \"date\": " << json_str(machine.date) << ",\n";
  j << "  \"machine\": {\"nproc\": " << machine.nproc << ", \"cpu\": " << json_str(machine.cpu)
    << ", \"kernel\": " << json_str(machine.kernel) << ", \"mem_mb\": " << machine.mem_mb
    << ", \"loadavg_start\": " << json_str(machine.load_start)
    << ", \"loadavg_end\": " << json_str(machine.load_end) << "},\n";
  j << "  \"tools\": {\"boxjail\": " << json_str(machine.boxjail_version)
    << ", \"boxjail_source\": " << json_str(o.source)
    << ", \"bwrap\": " << json_str(have_bwrap ? machine.bwrap_version : "") << "},\n";
  j << "  \"settings\": {\"runs\": " << o.runs << ", \"warmup\": " << o.warmup
    << ", \"jails\": " << o.jails << ", \"settle_ms\": " << o.settle_ms << "},\n";
  j << "  \"startup\": [";
  bool first = true;
  if (do_startup) {
    md << "#### Start-up by interface (median ms of " << o.runs
       << " interleaved runs; every variant takes every position in the round in turn)\n\n"
       << "| as | configuration | options | `run --spec` | spec / options | spec - options, "
          "paired | library in-process | library fork+spawn+wait | lib fork / options | lib fork "
          "- options, paired | bwrap | failures |\n"
       << "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
    for (const auto& u : users) {
      for (const Config* c : configs) {
        auto get = [&](const std::string& k) -> const Series* {
          auto it = R.series.find({u.name, c->key, k});
          return it == R.series.end() ? nullptr : &it->second;
        };
        auto med = [&](const std::string& k) {
          const Series* s = get(k);
          return s ? median_of(s->wall) : NAN;
        };
        int failures = 0;
        for (const auto& k : R.variant_keys[c->key]) {
          if (const Series* s = get(k)) failures += s->failures;
        }
        // The median of the per-round differences: both ran in the same round, a few
        // milliseconds apart, so the machine's drift cancels out.
        auto paired = [&](const std::string& k) {
          const Series *a = get(k), *b = get("options");
          if (!a || !b || a->wall.size() != b->wall.size() || a->failures || b->failures) {
            return std::string("n/a");
          }
          std::vector<double> d;
          for (size_t i = 0; i < a->wall.size(); ++i) d.push_back(a->wall[i] - b->wall[i]);
          const double m = median_of(d);
          return (m >= 0 ? "+" : "") + fmt(m);
        };
        md << "| " << u.label() << " | " << c->key << " | " << md_cell(get("options")) << " | "
           << md_cell(get("spec")) << " | **" << fmt(ratio(med("spec"), med("options"))) << "** | "
           << paired("spec") << " | " << md_cell(get("lib-inproc")) << " | "
           << md_cell(get("lib-fork")) << " | **" << fmt(ratio(med("lib-fork"), med("options")))
           << "** | " << paired("lib-fork") << " | " << (have_bwrap ? md_cell(get("bwrap")) : "n/a")
           << " | " << failures << " |\n";
        for (const auto& k : R.variant_keys[c->key]) {
          const Series* s = get(k);
          if (!s) continue;
          j << (first ? "\n" : ",\n") << "    {\"user\": " << json_str(u.label())
            << ", \"config\": " << json_str(c->key) << ", \"variant\": " << json_str(k)
            << ", \"wall_ms\": " << json_summary(summarize(s->wall))
            << ", \"tree_ms\": " << json_summary(summarize(s->tree))
            << ", \"failures\": " << s->failures
            << ", \"first_error\": " << json_str(s->first_error) << "}";
          first = false;
        }
      }
    }
    md << "\n#### Against the kernel floor (median ms, same interleaved runs; ratio = median / "
          "floor's median)\n\n"
       << "| as | configuration | floor | floor's median | options | ratio | `run --spec` | ratio "
          "| "
          "library fork+spawn+wait | ratio | library in-process | ratio | bwrap | ratio |\n"
       << "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
          "---: | ---: |\n";
    for (const auto& u : users) {
      for (const Config* c : configs) {
        auto med = [&](const std::string& k) {
          auto it = R.series.find({u.name, c->key, k});
          return it == R.series.end() ? NAN : median_of(it->second.wall);
        };
        for (const auto& k : R.variant_keys[c->key]) {
          if (k.rfind("floor:", 0) != 0) continue;
          const double f = med(k);
          md << "| " << u.label() << " | " << c->key << " | `" << R.labels[k] << "` | " << fmt(f);
          for (const char* v : {"options", "spec", "lib-fork", "lib-inproc", "bwrap"}) {
            md << " | " << fmt(med(v)) << " | **" << fmt(ratio(med(v), f)) << "**";
          }
          md << " |\n";
        }
      }
    }
    md << "\n";
    std::set<std::string> errors;
    for (const auto& [k, s] : R.series) {
      if (!s.first_error.empty()) {
        errors.insert(std::get<0>(k) + ", config " + std::get<1>(k) + ", " + std::get<2>(k) + ": " +
                      s.first_error);
      }
    }
    if (!errors.empty()) {
      md << "Failures (first message of each):\n\n";
      for (const auto& e : errors) md << "- " << e << "\n";
      md << "\n";
    }
  }
  j << "\n  ],\n  \"memory\": [";
  first = true;
  if (do_memory) {
    md << "#### Resident memory of " << o.jails
       << " long-lived jails at once (`sleep 60`; KiB per jail = sum over the processes / "
       << o.jails << ")\n\n"
       << "| as | jail | state | boxjail processes (host) | boxjail RSS / jail | of which anon | "
          "boxjail PSS / jail | boxjail total RSS MiB | total PSS MiB | monitor RSS (median) | "
          "the jail's own processes: RSS / jail | PSS / jail | not in the state |\n"
       << "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
          "---: |\n";
    for (const auto& r : R.mem) {
      for (const auto& s : r.states) {
        const int n = std::max(1, r.started);
        const long rss = s.monitors.rss + s.helpers.rss, pss = s.monitors.pss + s.helpers.pss;
        const long anon = s.monitors.anon + s.helpers.anon;
        md << "| " << r.user << " | " << r.title << " | " << s.state << " | "
           << s.monitors.n + s.helpers.n << " (" << s.boxjail_host << ") | "
           << fmt(double(rss) / n, 0) << " | " << fmt(double(anon) / n, 0) << " | "
           << fmt(double(pss) / n, 0) << " | " << fmt(double(rss) / 1024, 1) << " | "
           << fmt(double(pss) / 1024, 1) << " | "
           << (s.monitors.n ? fmt(median_of(s.monitors.rss_each), 0) : std::string("none")) << " | "
           << fmt(double(s.jail.rss) / n, 0) << " | " << fmt(double(s.jail.pss) / n, 0) << " | "
           << s.not_in_state << " |\n";
        auto sum_json = [](const MemSum& m) {
          return "{\"processes\": " + std::to_string(m.n) +
                 ", \"rss_kb\": " + std::to_string(m.rss) +
                 ", \"rss_anon_kb\": " + std::to_string(m.anon) +
                 ", \"rss_file_kb\": " + std::to_string(m.file) +
                 ", \"pss_kb\": " + std::to_string(m.pss) +
                 ", \"pss_anon_kb\": " + std::to_string(m.pss_anon) +
                 ", \"pss_file_kb\": " + std::to_string(m.pss_file) + "}";
        };
        j << (first ? "\n" : ",\n") << "    {\"user\": " << json_str(r.user)
          << ", \"jail\": " << json_str(r.jail) << ", \"title\": " << json_str(r.title)
          << ", \"state\": " << json_str(s.state) << ", \"jails\": " << r.jails
          << ", \"started\": " << r.started << ", \"failed\": " << r.failed
          << ", \"first_error\": " << json_str(r.first_error)
          << ", \"start_all_s\": " << json_num(r.start_s)
          << ",\n     \"monitors\": " << sum_json(s.monitors)
          << ",\n     \"boxjail_helpers\": " << sum_json(s.helpers)
          << ",\n     \"jail_processes\": " << sum_json(s.jail)
          << ",\n     \"boxjail_processes_on_host\": " << s.boxjail_host
          << ", \"not_in_state\": " << s.not_in_state << "}";
        first = false;
      }
    }
    md << "\n";
    for (const auto& r : R.mem) {
      if (r.failed) {
        md << "- " << r.user << ", " << r.title << ": " << r.failed
           << " jails failed to start: " << r.first_error << "\n";
      }
    }
    md << "After the cleanup: "
       << (R.leftovers.empty() ? std::string("nothing left running.")
                               : std::to_string(R.leftovers.size()) + " processes left running!")
       << "\n";
    for (const auto& l : R.leftovers) md << "- " << l << "\n";
  }
  j << "\n  ],\n  \"leftovers\": [";
  for (size_t i = 0; i < R.leftovers.size(); ++i) {
    j << (i ? ", " : "") << json_str(R.leftovers[i]);
  }
  j << "]\n}\n";
  write_file(o.rt_json, j.str());
  write_file(o.rt_markdown, md.str());
  std::fputs(md.str().c_str(), stdout);
  return R.leftovers.empty() ? 0 : 1;
}

void usage() {
  std::printf(
      "usage: startup_bench [options]\n"
      "  --boxjail PATH     boxjail binary (default %s)\n"
      "  --bwrap PATH       bwrap binary (default /usr/bin/bwrap)\n"
      "  --runs N           timed interleaved runs per configuration, tool and user (30)\n"
      "  --warmup N         untimed rounds first (3)\n"
      "  --concurrency N    simultaneous launches per batch (64)\n"
      "  --batches N        concurrent batches per configuration, tool and user (5; 0 skips)\n"
      "  --mem-runs N       memory runs per configuration, tool and user (3; 0 skips)\n"
      "  --users LIST       root,nobody (default both)\n"
      "  --configs LIST     e.g. true,unshare,1,2,3,4 (default all)\n"
      "  --json PATH        (bench/results/latest.json)\n"
      "  --markdown PATH    (bench/results/latest.md)\n"
      "  --plot-data PATH   (bench/results/latency.dat)\n"
      "  --source TEXT      how boxjail was built (e.g. its git revision), recorded as is\n"
      "Runtime interface (issue 14), instead of the above:\n"
      "  --runtime-interface  configurations 1, 2, 4 (--configs narrows them) given as options,\n"
      "                     as a spec (`boxjail run --spec`) and through the library\n"
      "                     (spawn_bench), interleaved with bwrap and the kernel floors; then\n"
      "                     the memory of --jails long-lived jails in each mode. --runs\n"
      "                     defaults to 40 here\n"
      "  --spawn-bench PATH the library runner (default %s)\n"
      "  --rt-parts LIST    startup,memory (default both)\n"
      "  --jails N          jails alive at once in the memory part (200)\n"
      "  --settle-ms N      wait before reading the slim monitors and handed-over jails (1000)\n"
      "  --rt-json PATH     (bench/results/runtime.json)\n"
      "  --rt-markdown PATH (bench/results/runtime.md)\n"
      "Must run as root (it drops to uid 65534 itself).\n",
      BOXJAIL_BENCH_DEFAULT_BINARY, BOXJAIL_BENCH_DEFAULT_SPAWN_BENCH);
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for " + a);
      return argv[++i];
    };
    auto next_int = [&]() {
      std::string v = next();
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (*end || n < 0 || n > 100000) die("bad number for " + a + ": " + v);
      return int(n);
    };
    std::map<std::string, std::string*> strings = {{"--boxjail", &o.boxjail},
                                                   {"--bwrap", &o.bwrap},
                                                   {"--json", &o.json},
                                                   {"--markdown", &o.markdown},
                                                   {"--plot-data", &o.plot_data},
                                                   {"--source", &o.source},
                                                   {"--spawn-bench", &o.spawn_bench},
                                                   {"--rt-json", &o.rt_json},
                                                   {"--rt-markdown", &o.rt_markdown}};
    std::map<std::string, int*> ints = {{"--runs", &o.runs},
                                        {"--warmup", &o.warmup},
                                        {"--concurrency", &o.concurrency},
                                        {"--batches", &o.batches},
                                        {"--mem-runs", &o.mem_runs},
                                        {"--jails", &o.jails},
                                        {"--settle-ms", &o.settle_ms}};
    if (a == "--runs") o.runs_given = true;
    if (auto it = strings.find(a); it != strings.end()) {
      *it->second = next();
    } else if (auto it2 = ints.find(a); it2 != ints.end()) {
      *it2->second = next_int();
    } else if (a == "--users") {
      o.users = split_list(next());
    } else if (a == "--configs") {
      auto v = split_list(next());
      o.configs = {v.begin(), v.end()};
    } else if (a == "--runtime-interface") {
      o.runtime_interface = true;
    } else if (a == "--rt-parts") {
      auto v = split_list(next());
      o.rt_parts = {v.begin(), v.end()};
      for (const auto& p : o.rt_parts) {
        if (p != "startup" && p != "memory") die("unknown part " + p + " (startup, memory)");
      }
    } else if (a == "--help" || a == "-h") {
      usage();
      std::exit(0);
    } else {
      usage();
      die("unknown option " + a);
    }
  }
  if (o.runtime_interface && !o.runs_given) o.runs = 40;
  if (o.runs < 1) die("--runs must be at least 1");
  if (o.jails < 1) die("--jails must be at least 1");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_options(argc, argv);
  if (geteuid() != 0) die("run me as root: I time both tools as root and as uid 65534");

  std::vector<User> users;
  for (const auto& n : o.users) {
    if (n == "root")
      users.push_back({"root", 0, 0});
    else if (n == "nobody")
      users.push_back({"nobody", 65534, 65534});
    else
      die("unknown user " + n + " (root or nobody)");
  }

  struct sigaction sa {};
  sa.sa_handler = on_alarm;  // no SA_RESTART: a blocked wait4 returns EINTR
  sigaction(SIGALRM, &sa, nullptr);
  // Orphans of a run (bwrap's pid 1 outlives its monitor) come back to us: we time the whole
  // tree and never start the next run before the last one is gone.
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) die_errno("PR_SET_CHILD_SUBREAPER");

  // A fresh mode-755 directory holding copies of both binaries, so uid 65534 can run them
  // whatever the build tree's parents allow, and both come from the same filesystem.
  char tmpl[] = "/tmp/boxjail-bench.XXXXXX";
  if (!mkdtemp(tmpl)) die_errno("mkdtemp");
  Paths P;
  P.dir = tmpl;
  if (chmod(tmpl, 0755) != 0) die_errno("chmod");
  P.boxjail = (P.dir / "boxjail").string();
  P.bwrap = (P.dir / "bwrap").string();
  copy_exec(o.boxjail, P.boxjail);
  // --runtime-interface measures bwrap only where it is installed.
  if (o.runtime_interface && access(o.bwrap.c_str(), X_OK) != 0) {
    P.bwrap.clear();
  } else {
    copy_exec(o.bwrap, P.bwrap);
  }
  std::string spawn_bench;
  if (o.runtime_interface && o.rt_parts.count("startup")) {
    spawn_bench = (P.dir / "spawn_bench").string();
    copy_exec(o.spawn_bench, spawn_bench);
  }
  P.rw = (P.dir / "rw").string();
  P.ro = (P.dir / "ro").string();
  fs::create_directories(P.rw);
  fs::create_directories(P.ro);
  if (chown(P.rw.c_str(), 65534, 65534) != 0) die_errno("chown");
  write_file(P.ro + "/input.txt", "read-only input\n");
  // Configuration 5's filter for bwrap: the shipped default policy, compiled by boxjail.
  P.bpf = (P.dir / "default.bpf").string();
  {
    const std::string cmd = P.boxjail + " seccomp compile default -o " + P.bpf;
    if (std::system(cmd.c_str()) != 0) die_errno("boxjail seccomp compile default");
    chmod(P.bpf.c_str(), 0644);
  }

  std::vector<Config> configs;
  for (auto& c : make_configs(P)) {
    // A blocked configuration is always listed, as not measured.
    if (o.configs.empty() || o.configs.count(c.key) || !c.blocked.empty()) {
      configs.push_back(std::move(c));
    }
  }
  Machine machine = describe_machine(P);
  if (o.runtime_interface) {
    const std::vector<Config> all = make_configs(P);  // the memory part needs configuration 4
    const int rc = run_runtime_interface(o, P, all, users, machine, spawn_bench);
    std::error_code ec;
    fs::remove_all(P.dir, ec);
    return rc;
  }
  Launcher L(P.dir);
  std::map<Key, Cell> cells;

  // Every argv built once, before any timing.
  std::map<Key, std::unique_ptr<Argv>> argv_true, argv_cat;
  for (const auto& c : configs) {
    if (!c.blocked.empty()) {
      std::fprintf(stderr, "configuration %s %s\n", c.key.c_str(), c.blocked.c_str());
      continue;
    }
    for (const auto& u : users) {
      for (Tool t : Report::tools_for(c)) {
        argv_true[{u.name, c.key, t}] = std::make_unique<Argv>(argv_for(c, t, P, "true"));
        argv_cat[{u.name, c.key, t}] = std::make_unique<Argv>(argv_for(c, t, P, "cat"));
        if (c.key == "5" && t == Tool::Bwrap) {
          argv_true[{u.name, c.key, t}]->fd3 = P.bpf;
          argv_cat[{u.name, c.key, t}]->fd3 = P.bpf;
        }
        cells[{u.name, c.key, t}];
      }
    }
  }

  // 1. Latency: rounds of every (user, configuration), the two tools back to back, the order
  //    of the two alternating between rounds.
  std::fprintf(stderr, "latency: %d warm-up + %d timed rounds\n", o.warmup, o.runs);
  for (int round = 0; round < o.warmup + o.runs; ++round) {
    const bool timed = round >= o.warmup;
    for (const auto& u : users) {
      for (const auto& c : configs) {
        if (!c.blocked.empty()) continue;
        std::vector<Tool> order = Report::tools_for(c);
        if (round % 2) std::reverse(order.begin(), order.end());
        for (Tool t : order) {
          const Key k{u.name, c.key, t};
          Sample s = run_once(L, *argv_true[k], u, o.timeout_s);
          if (!timed) continue;
          Cell& x = cells[k];
          if (!s.ok) {
            ++x.failures;
            if (x.first_error.empty()) x.first_error = s.error;
            continue;
          }
          x.wall.push_back(s.wall_ms);
          x.tree.push_back(s.tree_ms);
          x.cpu.push_back(s.cpu_ms);
          x.maxrss.push_back(double(s.maxrss_kb));
        }
      }
    }
    if (timed && (round - o.warmup + 1) % 10 == 0) {
      std::fprintf(stderr, "  %d/%d rounds\n", round - o.warmup + 1, o.runs);
    }
  }

  // 2. Memory of the supervisor while the command runs.
  std::fprintf(stderr, "memory: %d runs each\n", o.mem_runs);
  for (int r = 0; r < o.mem_runs; ++r) {
    for (const auto& u : users) {
      for (const auto& c : configs) {
        if (!c.blocked.empty() || c.floor) continue;
        for (Tool t : Report::tools_for(c)) {
          const Key k{u.name, c.key, t};
          Memory m = measure_memory(L, *argv_cat[k], u, tool_name(t), o.timeout_s);
          Cell& x = cells[k];
          if (!m.ok) {
            ++x.mem_failures;
            if (x.mem_error.empty()) x.mem_error = m.error;
            continue;
          }
          x.hwm.push_back(double(m.supervisor_hwm_kb));
          x.hwm_start.push_back(double(m.supervisor_hwm_start_kb));
          x.rss.push_back(double(m.supervisor_rss_kb));
          x.anon.push_back(double(m.supervisor_anon_kb));
          x.file.push_back(double(m.supervisor_file_kb));
          x.helpers_hwm.push_back(double(m.helpers_hwm_kb));
          x.helpers = m.helpers;
        }
      }
    }
  }

  // 3. Concurrency: batches of N simultaneous launches, tools alternating.
  std::fprintf(stderr, "concurrency: %d batches of %d\n", o.batches, o.concurrency);
  for (int r = 0; r < o.batches; ++r) {
    for (const auto& u : users) {
      for (const auto& c : configs) {
        if (!c.blocked.empty() || c.floor) continue;
        std::vector<Tool> order = Report::tools_for(c);
        if (r % 2) std::reverse(order.begin(), order.end());
        for (Tool t : order) {
          const Key k{u.name, c.key, t};
          Batch b = run_batch(L, *argv_true[k], u, o.concurrency, o.timeout_s);
          Cell& x = cells[k];
          ++x.conc_batches;
          x.conc_failures += b.failures;
          if (x.conc_error.empty()) x.conc_error = b.first_error;
          x.throughput.push_back(o.concurrency / b.main_s);
          x.throughput_tree.push_back(o.concurrency / b.tree_s);
        }
      }
    }
  }

  machine.load_end = first_line(read_file("/proc/loadavg"));
  machine.harness_anon_kb = status_kb(getpid(), "RssAnon");
  const Report report(o, configs, users, cells, machine);
  const std::string md = report.markdown();
  write_file(o.json, report.json());
  write_file(o.markdown, md);
  write_file(o.plot_data, report.plot_data());
  std::fputs(md.c_str(), stdout);

  std::error_code ec;
  fs::remove_all(P.dir, ec);
  return 0;
}
