// SPDX-License-Identifier: Apache-2.0
#include "engine/subid.hpp"

#include <boxjail/id_ranges.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>
#include <string>

#include "engine/host_ids.hpp"
#include "sys/fd.hpp"
#include "sys/read_all.hpp"

#include "sys/decimal.hpp"

namespace boxjail {
namespace {

constexpr std::size_t kMaxFile = 16 << 20;
constexpr std::size_t kMaxMapperOutput = 64 << 10;

struct Grant {
  std::uint64_t start = 0;
  std::uint64_t count = 0;
  std::size_t line = 0;
  std::string text;
};

// The lines of `file` ("NAME_OR_ID:START:COUNT") that name `name` or `uid`.
std::vector<Grant> grants_of(const std::string& text, const std::string& name, uid_t uid) {
  std::vector<Grant> out;
  std::istringstream lines(text);
  std::size_t number = 0;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    const std::size_t c1 = line.find(':');
    const std::size_t c2 = c1 == std::string::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string::npos) continue;
    const std::string who = line.substr(0, c1);
    if (who != name && who != std::to_string(uid)) continue;
    const auto start = sys::parse_decimal(std::string_view(line).substr(c1 + 1, c2 - c1 - 1));
    const auto count = sys::parse_decimal(std::string_view(line).substr(c2 + 1));
    if (start && count) out.push_back({*start, *count, number, line});
  }
  return out;
}

}  // namespace

result<void> check_subid_grants(uid_t uid, const std::vector<IdRange>& ranges, const char* file,
                                std::string_view what, std::string_view step, const char* passwd) {
  if (ranges.empty()) return boost::outcome_v2::success();
  const std::string option = what == "uid" ? "--uid-range" : "--gid-range";
  UniqueFd fd(open(file, O_RDONLY | O_CLOEXEC));
  std::string text;
  if (!fd || sys::read_all(fd.get(), text, kMaxFile) != 0) {
    const int err = errno;
    Error e =
        sys_error(std::string(step), "open", file, err,
                  option + " needs subordinate " + std::string(what) + "s granted in " + file);
    e.evidence.emplace_back("subid.file", file);
    return e;
  }
  const auto name = host_user_name(uid, passwd);
  const std::string who =
      (name ? *name + " (uid " + std::to_string(uid) + ")" : "uid " + std::to_string(uid));
  const auto grants = grants_of(text, name.value_or(""), uid);
  for (const IdRange& r : ranges) {
    // Covered by the union of the grants, as newuidmap takes them (adjacent lines add up).
    std::uint64_t next = r.outside;
    const std::uint64_t end = std::uint64_t{r.outside} + r.count;
    for (bool advanced = true; next < end && advanced;) {
      advanced = false;
      for (const Grant& g : grants) {
        if (g.start <= next && next < g.start + g.count) {
          next = g.start + g.count;
          advanced = true;
        }
      }
    }
    if (next >= end) continue;
    std::string message = option + " " + id_range_text(r) + ": " + file + " grants " + who +
                          " no range holding " + std::to_string(r.outside) + ".." +
                          std::to_string(std::uint64_t{r.outside} + r.count - 1);
    if (grants.empty()) {
      message += " (it has no line for this user: add one, e.g. with `usermod --add-sub" +
                 std::string(what) + "s START-END " + name.value_or(std::to_string(uid)) + "`)";
    } else {
      message += " (its lines for this user:";
      for (const Grant& g : grants) message += " " + std::to_string(g.line) + ": " + g.text + ";";
      message.back() = ')';
    }
    Error e = sys_error(std::string(step), "", file, 0, message);
    e.evidence.emplace_back("subid.file", file);
    return e;
  }
  return boost::outcome_v2::success();
}

result<void> run_id_mapper(const char* program, pid_t pid, std::uint32_t inside,
                           std::uint32_t outside, const std::vector<IdRange>& ranges,
                           std::string_view step) {
  // Debian's uidmap installs them here; a fixed path, not PATH: the caller's environment does
  // not choose the program that maps its ids.
  const std::string path = std::string("/usr/bin/") + program;
  if (access(path.c_str(), X_OK) != 0) {
    Error e = sys_error(std::string(step), "execve", path, errno,
                        std::string(program) +
                            " is needed for --uid-range/--gid-range (Debian "
                            "package uidmap)");
    e.evidence.emplace_back("subid.mapper", program);
    return e;
  }
  std::vector<std::string> args = {program, std::to_string(pid), std::to_string(inside),
                                   std::to_string(outside), "1"};
  for (const IdRange& r : ranges) {
    args.push_back(std::to_string(r.inside));
    args.push_back(std::to_string(r.outside));
    args.push_back(std::to_string(r.count));
  }
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return sys_error(std::string(step), "pipe2", "", errno, "pipe2");
  UniqueFd out(p[0]), in(p[1]);
  const pid_t child = fork();
  if (child < 0) return sys_error(std::string(step), "fork", "", errno, "Can't fork");
  if (child == 0) {
    dup2(in.get(), 1);
    dup2(in.get(), 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    char* const empty_env[] = {nullptr};
    execve(path.c_str(), argv.data(), empty_env);
    _exit(127);
  }
  in.reset();
  std::string said;
  sys::read_all(out.get(), said, kMaxMapperOutput);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return boost::outcome_v2::success();
  while (!said.empty() && said.back() == '\n') said.pop_back();
  std::string command;
  for (const auto& a : args) command += (command.empty() ? "" : " ") + a;
  Error e = sys_error(std::string(step), program, path, 0,
                      "`" + command + "` failed (" +
                          (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                             : "signal " + std::to_string(WTERMSIG(status))) +
                          (said.empty() ? ")" : "): " + said));
  e.evidence.emplace_back("subid.mapper", program);
  return e;
}

}  // namespace boxjail
