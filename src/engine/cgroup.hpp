// SPDX-License-Identifier: Apache-2.0
// The jail's own cgroup (cgroup v2): created under the parent the spec names, limited before
// the sandbox's first process exists, that process born in it (clone3 with CLONE_INTO_CGROUP),
// and at the end every process in it killed and the cgroup removed.
//
// Everything here runs with the credentials of the process that calls it: the kernel's own
// checks on cgroupfs (the owner of the parent directory, of cgroup.procs of the common ancestor)
// are what makes a parent "delegated". The setuid helper therefore runs JailCgroup::create in a
// process with the caller's ids and no capability and receives the open directories back.
#pragma once

#include <boxjail/error.hpp>
#include <boxjail/run.hpp>
#include <boxjail/spec.hpp>

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "sys/fd.hpp"

namespace boxjail {

class JailCgroup {
 public:
  JailCgroup() = default;
  JailCgroup(JailCgroup&&) noexcept = default;
  JailCgroup& operator=(JailCgroup&&) noexcept;
  JailCgroup(const JailCgroup&) = delete;
  JailCgroup& operator=(const JailCgroup&) = delete;
  ~JailCgroup();

  // Finds the v2 hierarchy, opens the parent (refusing what is not delegated to us, naming the
  // file and its owner), removes the stale cgroups of jails whose monitor is gone, enables the
  // controllers the limits need in the parent, creates "boxjail-<16 hex>", locks it and writes
  // the limits. Nothing is left behind on failure.
  static result<JailCgroup> create(const CgroupRequest& request);

  // The setuid rung's monitor takes over what an unprivileged process created: its path and
  // the open parent and cgroup directories (the latter holds the lock).
  static JailCgroup adopt(std::string path, UniqueFd parent, UniqueFd dir);
  // The other way: the unprivileged process gives up its claim (without ending the cgroup)
  // and hands over {parent, dir}.
  std::pair<UniqueFd, UniqueFd> release();
  int parent_fd() const { return parent_.get(); }

  explicit operator bool() const { return static_cast<bool>(dir_); }
  const std::string& path() const { return path_; }
  // An O_RDONLY directory fd: for CLONE_INTO_CGROUP and the cgroup's files. It holds the flock
  // that tells later starts this jail is alive: a child of ours must close its copy.
  int fd() const { return dir_.get(); }

  // Without CLONE_INTO_CGROUP (kernels before 5.7, clone(2)): moves `pid` in by cgroup.procs,
  // before the child is let go.
  result<void> place(pid_t pid) const;

  // Kills every process in it (cgroup.kill, or SIGKILL to each one on kernels before 5.14),
  // waits until it is empty, reads the usage and removes it. Done once; later calls return what
  // the first one read.
  CgroupUsage end();

 private:
  std::string path_;  // in the hierarchy, e.g. "/jails/boxjail-0123456789abcdef"
  std::string name_;  // the last component
  UniqueFd parent_;
  UniqueFd dir_;
  bool ended_ = false;
  CgroupUsage usage_;
};

// One line each for the limits the jail ran into and a cgroup that could not be removed (for
// stderr, after "<prog>: ").
std::vector<std::string> cgroup_notes(const CgroupUsage& usage);
// Writes them to stderr as "<process name>: ...", except under the name bwrap, whose callers
// expect bwrap's output only.
void print_cgroup_notes(const CgroupUsage& usage);

// Whether clone3 takes CLONE_INTO_CGROUP here (5.7+, and clone3 not filtered away). Probed once.
bool kernel_clones_into_cgroups();

}  // namespace boxjail
