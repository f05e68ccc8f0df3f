// SPDX-License-Identifier: Apache-2.0
// run(): the monitor's side of the flow. Everything the child does is in child.cpp.
#include <boxjail/run.hpp>
#include <boxjail/validate.hpp>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>

#include "engine/channel.hpp"
#include "engine/child.hpp"
#include "engine/identity.hpp"
#include "engine/log.hpp"
#include "engine/monitor.hpp"
#include "engine/parent_death.hpp"
#include "engine/plan.hpp"
#include "engine/privilege.hpp"
#include "engine/seccomp_fd.hpp"
#include "engine/seccomp_policy.hpp"
#include "engine/spawn.hpp"
#include "engine/steps.hpp"
#include "sys/fd.hpp"
#include "sys/syscalls.hpp"

namespace boxjail {
namespace {

// A cBPF program holds at most BPF_MAXINSNS (4096) instructions of 8 bytes; one from the caller
// or its policy is refused well before it could grow the helper.
constexpr std::size_t kMaxSeccompProgram = 1 << 20;

Error fail(std::string_view step_name, const char* syscall, int err, std::string message) {
  return sys_error(std::string(step_name), syscall, "", err, std::move(message));
}

// Restores the caller's signal mask however run() leaves.
class SignalMaskGuard {
 public:
  explicit SignalMaskGuard(const sigset_t& block) { sigprocmask(SIG_BLOCK, &block, &old_); }
  ~SignalMaskGuard() { sigprocmask(SIG_SETMASK, &old_, nullptr); }
  const sigset_t& old() const { return old_; }

 private:
  sigset_t old_;
};

bool selinux_enabled() {
  struct stat st;
  return stat("/sys/fs/selinux/enforce", &st) == 0;
}

Error clone_error(int err, bool new_user) {
  // bwrap's wording for the two cases a user can act on carries a guess at the cause. Under its
  // own name boxjail states only what failed and lets the diagnosis, which reads the host's
  // facts, say why (a guess it prints must not contradict a fact it read): the guess is kept as
  // bwrap's wording, printed only under the name bwrap.
  Error e = fail(step::kCloneNamespaces, "clone3", err, "Creating new namespace failed");
  if (err == EINVAL) {
    e.evidence.emplace_back(kBwrapWording,
                            std::string("Creating new namespace failed, likely because the kernel "
                                        "does not support user namespaces.  bwrap must be "
                                        "installed setuid on such systems.: ") +
                                std::strerror(err));
  } else if (err == EPERM && new_user) {
    e.message = "No permissions to creating new namespace";
    e.evidence.emplace_back(kBwrapWording,
                            std::string("No permissions to creating new namespace, likely because "
                                        "the kernel does not allow non-privileged user "
                                        "namespaces. On e.g. debian this can be enabled with "
                                        "'sysctl kernel.unprivileged_userns_clone=1'.: ") +
                                std::strerror(err));
  }
  return e;
}

// Whether the child may run in our memory until its execve, with us asleep meanwhile (see
// spawn_sandbox): it saves the copy of our page tables at the clone, the copy-on-write faults
// after it and the teardown of that copy at the execve, about 0.3 ms of a 3 ms jail here.
// Only when nothing needs us before the execve and the child changes no credentials:
bool child_may_share_memory(const Spec& spec, const Plan& plan) {
  return !plan.needs_pid1 &&   // pid 1 never execs: we would sleep for the jail's lifetime
         !plan.child_waits &&  // we must write maps or pass on --userns-block-fd first
         // A caller may wait for --info-fd or --json-status-fd (which we write after the clone)
         // before it writes --block-fd or a data fd the child reads.
         spec.info_fd < 0 && spec.json_status_fd < 0 && spec.block_fd < 0 &&
         // A change of credentials resets the dumpable flag of the memory, which would be ours;
         // and the setuid rung never shares root's memory with a child that drops to the caller.
         !plan.setuid && !plan.nested_userns && spec.userns2_fd < 0 && !plan.lock_userns &&
         // --disable-userns and --assert-userns-disabled try unshare(CLONE_NEWUSER), which
         // changes the credentials whenever it succeeds.
         !spec.disable_userns && !spec.assert_userns_disabled;
}

// The setuid helper's user namespace: made by root in the child, so only a writer privileged in
// the host's namespace may map it. The maps are the caller's own ids (and 0 to the overflow ids
// when /dev needs it), never a value the caller could turn into more. /proc/PID's files of a
// process that is root belong to root: the fs uid is root's for these writes only, and the
// caller's again right after.
result<void> write_child_maps(const Plan& plan, pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  UniqueFd proc_pid(open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!proc_pid) return sys_error(std::string(step::kWriteUidMap), "open", dir, errno, "open");
  const uid_t fsuid = static_cast<uid_t>(setfsuid(0));
  auto written = write_id_maps(proc_pid.get(), plan.sandbox_uid, plan.real_uid, plan.sandbox_gid,
                               plan.real_gid, true, plan.map_overflow_root);
  setfsuid(fsuid);
  if (static_cast<uid_t>(setfsuid(static_cast<uid_t>(-1))) != fsuid) {
    return sys_error("monitor", "setfsuid", "", EPERM, "Unable to re-set fsuid");
  }
  return written;
}

result<int> run_jail(const Spec& spec, const RunOptions& options) {
  if ((spec.exec_label || spec.file_label) && !selinux_enabled()) {
    return make_error("validate-spec", "labeling not supported on this system");
  }
  Caller caller = current_caller();
  caller.via_setuid_helper = options.setuid_helper;
  const Plan plan = make_plan(spec, caller, caller.is_root() ? effective_caps() : 0);
  // The setuid helper reads what the caller supplies (fds, files) in a process with the
  // caller's ids and no capability (run_as_caller); everyone else reads it here.
  auto as_caller = [&](const char* step, const std::function<result<std::string>()>& work) {
    return plan.setuid ? run_as_caller(plan.real_uid, plan.real_gid, step, work, kMaxSeccompProgram)
                       : work();
  };
  // bwrap reads --add-seccomp-fd programs at parse time, before anything is set up.
  std::vector<std::string> add_seccomp;
  for (int fd : spec.add_seccomp_fds) {
    auto program = as_caller("seccomp", [fd] { return read_seccomp_program(fd); });
    // Read (and closed) in a child of ours in the setuid rung: ours is closed too, as bwrap
    // closes each fd it read, so the command does not inherit it and a fd named twice is EBADF.
    if (plan.setuid) close(fd);
    if (!program) return std::move(program).error();
    add_seccomp.push_back(std::move(program).value());
  }
  // --seccomp-policy is compiled here, in the caller's process, before anything is set up: a bad
  // policy fails before a namespace exists, and the child only installs ready bytes.
  std::vector<std::string> policy_seccomp;
  if (spec.seccomp_policy) {
    // The setuid helper has the caller's policy file read, parsed and compiled (and cached in
    // the caller's own cache) by a process with the caller's ids and no capability: a path the
    // caller cannot read is not read for them, and no file is opened while holding privilege.
    auto program = as_caller("seccomp-policy",
                             [&] { return compile_seccomp_policy_file(*spec.seccomp_policy); });
    if (!program) return std::move(program).error();
    policy_seccomp.push_back(std::move(program).value());
  }
  // A caller that ignores SIGCHLD would make the kernel reap our child behind our back.
  signal(SIGCHLD, SIG_DFL);
  char flags_hex[32];
  snprintf(flags_hex, sizeof flags_hex, "%#llx", static_cast<unsigned long long>(plan.clone_flags));
  BOXJAIL_LOG(Debug, std::string("plan: clone flags ") + flags_hex + ", uid " +
                         std::to_string(plan.sandbox_uid) + " (first map " +
                         std::to_string(plan.ns_uid) + " -> " + std::to_string(plan.real_uid) +
                         (plan.nested_userns ? ", nested" : "") + ")" +
                         (plan.lock_userns ? ", lock userns" : "") +
                         (plan.needs_pid1 ? ", pid-1 reaper" : ""));

  sigset_t block = forwarded_signals();
  sigaddset(&block, SIGCHLD);
  SignalMaskGuard mask(block);
  UniqueFd signal_fd(signalfd(-1, &block, SFD_CLOEXEC));
  if (!signal_fd) return fail("monitor", "signalfd", errno, "signalfd");

  const pid_t monitor_pid = getpid();
  if (spec.die_with_parent) die_with_parent(parent_at_start());
  if (spec.userns_fd >= 0 && setns(spec.userns_fd, CLONE_NEWUSER) != 0) {
    return fail(step::kJoinUserns, "setns(CLONE_NEWUSER)", errno,
                errno == EINVAL ? "Joining the specified user namespace failed, it might not be a "
                                  "descendant of the current user namespace."
                                : "Joining specified user namespace failed");
  }
  if (spec.pidns_fd >= 0 && setns(spec.pidns_fd, CLONE_NEWPID) != 0) {
    return fail(step::kJoinPidns, "setns(CLONE_NEWPID)", errno,
                "Joining specified pid namespace failed");
  }

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return fail("monitor", "socketpair", errno, "Can't create the status channel");
  }
  UniqueFd mine(sv[0]), theirs(sv[1]);
  // --pid-file: each record then carries its sender's pid, as our pid namespace sees it.
  const int passcred = 1;
  if (spec.pid_file &&
      setsockopt(mine.get(), SOL_SOCKET, SO_PASSCRED, &passcred, sizeof passcred) != 0) {
    return fail("monitor", "setsockopt(SO_PASSCRED)", errno, "Can't ask for the sender's pid");
  }

  const bool via_intermediate =
      spec.pidns_fd >= 0 && (plan.clone_flags & (CLONE_NEWPID | CLONE_NEWUSER)) != 0;
  auto spawned = spawn_sandbox(
      plan.clone_flags, via_intermediate, spec.die_with_parent, child_may_share_memory(spec, plan),
      mine.get(), theirs.get(), [&] {
        // close(), not reset(): the child may be running in our memory (spawn_sandbox), where
        // resetting would close nothing of ours yet leave our objects pointing at -1.
        close(mine.get());
        close(signal_fd.get());
        ChildArgs child{spec,         plan,
                        theirs.get(), mask.old(),
                        monitor_pid,  options.force_path_walk ? Resolver::Walk : Resolver::Auto,
                        &add_seccomp, &policy_seccomp,
                        options.probe};
        child_main(child);
      });
  if (!spawned) {
    const Error& e = spawned.error();
    if (e.syscall == "clone3" || e.syscall == "clone") {
      Error worded = clone_error(e.err, (plan.clone_flags & CLONE_NEWUSER) != 0);
      worded.syscall = e.syscall;
      return worded;
    }
    return e;
  }
  const pid_t pid = spawned.value().sandbox_pid;
  const pid_t wait_for = spawned.value().wait_pid;
  theirs.reset();
  BOXJAIL_LOG(Debug, "clone-namespaces: child " + std::to_string(pid));

  const ChildInfo info = describe_child(spec, pid, options.status_rung, options.status_ladder_mode);
  if (plan.map_writer == MapWriter::Monitor) {
    if (auto mapped = write_child_maps(plan, pid); !mapped) {
      kill(pid, SIGKILL);
      waitpid(wait_for, nullptr, 0);
      return mapped.error();
    }
  }
  if (plan.setuid) {
    // The monitor needs no privilege from here on: it only writes the caller's fds, waits,
    // forwards signals and reports. Dropped for good now, while the child is still setting up,
    // and before the first write to a fd the caller chose.
    if (auto dropped = drop_privileges_to(plan.real_uid, plan.real_gid, "monitor"); !dropped) {
      kill(pid, SIGKILL);
      waitpid(wait_for, nullptr, 0);
      return dropped.error();
    }
    if (spec.die_with_parent) die_with_parent(parent_at_start());  // cleared with the ids
    for (const auto& line : options.stderr_after_drop) std::fputs(line.c_str(), stderr);
    if (options.stderr_after_drop_written) *options.stderr_after_drop_written = true;
  }
  if (auto written = write_child_info(spec, info); !written) {
    kill(pid, SIGKILL);
    waitpid(wait_for, nullptr, 0);
    return written.error();
  }
  if (spec.userns_block_fd >= 0) {
    // newuidmap (or the like) writes the maps now; one byte says it is done.
    char b;
    while (read(spec.userns_block_fd, &b, 1) < 0 && errno == EINTR) {
    }
    close(spec.userns_block_fd);
  }
  if (spec.userns2_fd >= 0 && setns(spec.userns2_fd, CLONE_NEWUSER) != 0) {
    kill(pid, SIGKILL);
    waitpid(wait_for, nullptr, 0);
    return fail(step::kJoinUserns2, "setns(CLONE_NEWUSER)", errno, "Setting userns2 failed");
  }
  if (plan.child_waits) channel::send(mine.get(), channel::Kind::Go);
  ShedOptions shed;
  shed.after_ms = plan.setuid || options.probe ? -1 : options.shed_after_ms;
  auto status = supervise(
      spec, Supervised{pid, wait_for, mine.get(), signal_fd.get(), plan.lock_userns}, shed);
  if (!status) {
    Error e = std::move(status).error();
    e.evidence.emplace_back("pid.sandbox", std::to_string(pid));
    return e;
  }
  return status;
}

}  // namespace

result<int> run(const Spec& spec, const RunOptions& options) {
  auto status = run_jail(spec, options);
  if (status) return status;
  // Which processes made the attempt: the diagnosis matches the kernel's audit records by pid.
  Error e = std::move(status).error();
  e.evidence.emplace_back("pid.monitor", std::to_string(getpid()));
  return e;
}

}  // namespace boxjail
