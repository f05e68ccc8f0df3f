// SPDX-License-Identifier: Apache-2.0
// The library entry point: run a resolved Spec as a jail and supervise it to the end.
#pragma once

#include <boxjail/error.hpp>
#include <boxjail/spec.hpp>

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace boxjail {

// What a started jail is, for a report: sent once the command's execve is under way.
struct Started {
  pid_t pid = -1;          // the command, as the caller's pid namespace sees it
  pid_t sandbox_pid = -1;  // the sandbox's first process (pid 1 when there is a reaper)
  // The namespaces the jail created ("mnt" always; "user": the first user namespace, not a
  // nested or lock one entered later), by name, with their inode numbers.
  std::vector<std::pair<std::string, unsigned long long>> namespaces;
  bool handover = false;  // the sandbox is the caller's child; boxjail exits now
  std::string cgroup;     // the jail's own cgroup (path in the v2 hierarchy), "" for none
};

// What the jail's cgroup saw, read once every process in it is gone and before it is removed.
// A value the kernel does not offer (no controller, an older kernel) is left empty.
struct CgroupUsage {
  std::string path;                             // in the cgroup v2 hierarchy
  std::optional<std::uint64_t> memory_peak;     // memory.peak, bytes (5.19+)
  std::optional<std::uint64_t> cpu_usage_usec;  // cpu.stat usage_usec
  std::optional<std::uint64_t> oom_kills;       // memory.events oom_kill
  std::optional<std::uint64_t> pids_max_hits;   // pids.events max: forks refused at pids.max
  bool removed = false;                         // the cgroup is gone
  std::string not_removed_why;                  // else why (the CLI says it on stderr)
};

struct RunOptions {
  // Test hook: resolve destinations with the O_PATH walk instead of openat2, as on old kernels.
  bool force_path_walk = false;
  // `boxjail doctor`: run every setup step of the Spec, then exit 0 where execve would be.
  bool probe = false;
  // Only the setuid helper sets this: the process is setuid root acting for its real ids.
  bool setuid_helper = false;
  // Reported in the first --json-status-fd object when non-empty ("boxjail-rung",
  // "boxjail-ladder-mode"); empty under the name bwrap, whose output stays byte-identical.
  std::string status_rung;
  std::string status_ladder_mode;
  // The CLI only: after the command has run this long (ms), the monitor re-executes
  // /proc/self/exe as a slim monitor that holds a fraction of the setup's pages for the rest of
  // the jail's life. -1 (the default) never: for a library caller /proc/self/exe is its own
  // program.
  int shed_after_ms = -1;
  // The setuid helper only: lines for stderr (the parser's warnings, already prefixed), which it
  // may write only once it holds no privilege: the monitor writes them right after its drop.
  std::vector<std::string> stderr_after_drop;
  bool* stderr_after_drop_written = nullptr;  // set once they are written
  // Called once the command runs (the report's "started" event). In the setuid helper it runs
  // after the monitor dropped its privileges: it may write to a fd the caller chose.
  std::function<void(const Started&)> on_started;
  // Called once the jail has ended and its cgroup was emptied (the report's "cgroup" event);
  // in the setuid helper, too, only ever without privilege.
  std::function<void(const CgroupUsage&)> on_cgroup_end;
};

// Runs the jail. On success returns the exit status to report (the command's status, or
// 128+signal); a setup failure anywhere, in the monitor or inside the child, is the Error.
// The Spec must have been through resolve_spec().
result<int> run(const Spec& spec, const RunOptions& options = {});

}  // namespace boxjail
