// SPDX-License-Identifier: Apache-2.0
// The library API: start a jail and hold it by a handle. The CLI runs on the same engine (run()
// is spawn's start plus a supervision loop that forwards the CLI's signals).
#pragma once

#include <boxjail/error.hpp>
#include <boxjail/run.hpp>
#include <boxjail/spec.hpp>

#include <sys/types.h>

#include <memory>

namespace boxjail {

class Jail {
 public:
  Jail(Jail&&) noexcept;
  Jail& operator=(Jail&&) noexcept;
  Jail(const Jail&) = delete;
  Jail& operator=(const Jail&) = delete;
  // A jail not waited for is killed (SIGKILL) and reaped: nothing outlives its handle. A
  // moved-from Jail may only be destroyed or assigned to.
  ~Jail();

  // The jailed command, as the caller's pid namespace sees it (not pid 1 of a new pid namespace);
  // -1 when the sandbox ended before its command ran (wait() then gives its status).
  pid_t pid() const;
  // The sandbox's first process: the caller's child (pid 1 in a new pid namespace, which passes
  // signals on to the command and exits with its status).
  pid_t sandbox_pid() const;
  // A pidfd of the command (poll it for its exit); -1 where the kernel has none. Owned by the
  // Jail: valid until it is destroyed.
  int pidfd() const;
  // The namespaces the command runs in that the jail created, by name ("mnt", "pid"...).
  const std::vector<std::pair<std::string, unsigned long long>>& namespaces() const;

  // Sends `sig` to the sandbox's first process (through its pidfd: never to a recycled pid).
  result<void> signal(int sig);
  // Waits for the sandbox to end; its exit status as bwrap reports it (the code, or 128+signal).
  // Writes bwrap's last --json-status-fd line. Later calls return the same status. With a
  // cgroup, every process left in it is killed and the cgroup removed before it returns.
  result<int> wait();
  // After wait(), for a jail with a cgroup: what the cgroup saw (peak memory, CPU time, OOM
  // kills, forks refused at pids.max); nullopt before or without one.
  std::optional<CgroupUsage> cgroup_usage() const;
  // The jail's cgroup (its path in the v2 hierarchy), "" without one.
  std::string cgroup() const;

  struct State;

 private:
  friend result<Jail> spawn(const Spec& spec, const RunOptions& options);
  friend struct JailAccess;
  explicit Jail(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Starts `spec` on the rung this process can use (root's, or an unprivileged user namespace) and
// returns once the command runs (its execve is under way), or the failed step's Error. The spec
// is resolved here as the CLI resolves it. The calling process must be single-threaded (the
// sandbox's first process is cloned from it and runs setup code that allocates) and must not
// ignore SIGCHLD; it is refused in a setuid or setgid program. The signal mask and dispositions
// are left as they were. The operator's config (its default seccomp policy) is the boxjail
// command's: a library caller names its policy in the Spec.
result<Jail> spawn(const Spec& spec, const RunOptions& options = {});

}  // namespace boxjail
