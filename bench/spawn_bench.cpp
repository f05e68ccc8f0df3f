// SPDX-License-Identifier: Apache-2.0
// spawn_bench: the library side of startup_bench's --runtime-interface (issue 14). It reads a
// spec file once (boxjail::spec_from_json, outside any timing), then times the library starting
// that jail, on request:
//
//   inproc  boxjail::spawn(spec) + Jail::wait() + the Jail's destruction, in this process: what a
//           runtime that links the library pays per jail;
//   fork    fork() + spawn + wait + _exit() in a child, until this process has reaped the child:
//           the library's cost measured the way startup_bench measures a CLI (whole process from
//           fork to exit status, minus the CLI's execve and its argv/spec parsing).
//
// Both figures end when the command's exit status is known ("wall"); "tree" ends once every
// process of the run has been reaped (this process is a child subreaper, so the sandbox's
// orphans come back here).
//
//   spawn_bench --serve SPEC     one request per line on fd 3 ("inproc" or "fork"), one answer
//                                per line on fd 4: "ok WALL_MS TREE_MS STATUS" or "err TEXT"
//                                (both close-on-exec: the jailed command inherits neither; its
//                                stdin, stdout and stderr are the server's, as a CLI run's)
//   spawn_bench SPEC [N]         the time spec_from_json takes, then N (10) runs of each,
//                                printed (for a quick look by hand)
//
// Both variants run the spec as given, --die-with-parent included (the sandbox's: spawn() arms no
// parent-death signal on its caller).
//
// startup_bench starts one server per user, already running as that user: the fork variant's child
// therefore needs no drop of its own (startup_bench's CLI runs pay the drop's three syscalls in
// their child, a few microseconds). The server is not a child of startup_bench (it is started
// through a double fork), so that startup_bench's own reaping never waits for it.
#include <boxjail/jail.hpp>
#include <boxjail/spec_json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace {

double now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

// Reaps whatever children are left (orphans of the sandbox that came back to this subreaper).
void reap_all() {
  int st;
  while (waitpid(-1, &st, 0) > 0 || errno == EINTR) {
  }
}

struct Timing {
  bool ok = false;
  double wall_ms = 0, tree_ms = 0;
  int status = -1;
  std::string error;
};

std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

Timing run_inproc(const boxjail::Spec& spec) {
  Timing t;
  const double t0 = now_ms();
  {
    auto jail = boxjail::spawn(spec);
    if (!jail) {
      t.error = one_line(boxjail::format_error_line("spawn", jail.error()));
      reap_all();
      return t;
    }
    auto st = jail.value().wait();
    if (!st) {
      t.error = one_line(boxjail::format_error_line("wait", st.error()));
      reap_all();
      return t;
    }
    t.status = st.value();
  }  // the Jail's destruction (its pidfds) is part of the run
  const double t1 = now_ms();
  reap_all();
  const double t2 = now_ms();
  t.wall_ms = t1 - t0;
  t.tree_ms = t2 - t0;
  t.ok = t.status == 0;
  if (!t.ok) t.error = "exit status " + std::to_string(t.status);
  return t;
}

Timing run_fork(const boxjail::Spec& spec) {
  Timing t;
  const double t0 = now_ms();
  const pid_t pid = fork();
  if (pid < 0) {
    t.error = std::string("fork: ") + std::strerror(errno);
    return t;
  }
  if (pid == 0) {
    auto jail = boxjail::spawn(spec);
    if (!jail) {
      std::fprintf(stderr, "%s\n", boxjail::format_error_line("spawn", jail.error()).c_str());
      _exit(124);
    }
    auto st = jail.value().wait();
    if (!st) _exit(125);
    _exit(st.value() & 0xff);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) {
      t.error = std::string("waitpid: ") + std::strerror(errno);
      return t;
    }
  }
  const double t1 = now_ms();
  reap_all();
  const double t2 = now_ms();
  t.wall_ms = t1 - t0;
  t.tree_ms = t2 - t0;
  t.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  t.ok = t.status == 0;
  if (!t.ok) t.error = "child exit status " + std::to_string(t.status);
  return t;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "spawn_bench: %s\n", what.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  const bool serve = argc >= 3 && std::strcmp(argv[1], "--serve") == 0;
  if (argc < 2 || (serve && argc != 3)) {
    std::fprintf(stderr, "usage: spawn_bench --serve SPEC | spawn_bench SPEC [N]\n");
    return 2;
  }
  const std::string path = serve ? argv[2] : argv[1];
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  // Read once, outside any timing. The spec comes from `boxjail spec --from-args`, which always
  // writes "env": no inherited environment is needed.
  auto parsed = boxjail::spec_from_json(text.str());
  if (!parsed) die(boxjail::format_error_line("spec_from_json", parsed.error()));
  const boxjail::Spec spec = std::move(parsed).value();

  // Orphans of the sandbox (a pid-1 reaper outliving its parent) come back here to be reaped.
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) die("PR_SET_CHILD_SUBREAPER failed");
  signal(SIGCHLD, SIG_DFL);  // spawn() refuses a caller that ignores SIGCHLD

  if (!serve) {
    // What `run --spec` pays over the options for reading the spec: the parse alone.
    const int parses = 2000;
    const double p0 = now_ms();
    for (int i = 0; i < parses; ++i) {
      if (!boxjail::spec_from_json(text.str())) die("spec_from_json failed");
    }
    std::printf("spec_from_json: %.1f us per parse (%zu bytes)\n", (now_ms() - p0) * 1e3 / parses,
                text.str().size());
    const int n = argc > 2 ? std::atoi(argv[2]) : 10;
    for (int i = 0; i < n; ++i) {
      Timing a = run_inproc(spec), b = run_fork(spec);
      std::printf("inproc %s %.3f ms (tree %.3f)   fork %s %.3f ms (tree %.3f)\n",
                  a.ok ? "ok" : a.error.c_str(), a.wall_ms, a.tree_ms,
                  b.ok ? "ok" : b.error.c_str(), b.wall_ms, b.tree_ms);
    }
    return 0;
  }
  if (fcntl(3, F_SETFD, FD_CLOEXEC) != 0 || fcntl(4, F_SETFD, FD_CLOEXEC) != 0) {
    die("--serve needs the request pipe on fd 3 and the answer pipe on fd 4");
  }
  FILE* requests = fdopen(3, "r");
  FILE* answers = fdopen(4, "w");
  if (!requests || !answers) die("fdopen failed");
  char line[64];
  while (std::fgets(line, sizeof line, requests)) {
    std::string request(line);
    while (!request.empty() && request.back() == '\n') request.pop_back();
    Timing t;
    if (request == "inproc") {
      t = run_inproc(spec);
    } else if (request == "fork") {
      t = run_fork(spec);
    } else {
      t.error = "unknown request " + request;
    }
    if (t.ok) {
      std::fprintf(answers, "ok %.6f %.6f %d\n", t.wall_ms, t.tree_ms, t.status);
    } else {
      std::fprintf(answers, "err %s\n", t.error.c_str());
    }
    std::fflush(answers);
  }
  return 0;
}
