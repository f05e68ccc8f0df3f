// SPDX-License-Identifier: Apache-2.0
// run(): the monitor's side of the flow. Everything the child does is in child.cpp.
#include <boxjail/jail.hpp>
#include <boxjail/run.hpp>
#include <boxjail/validate.hpp>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/auxv.h>
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
#include <memory>

#include "engine/cgroup.hpp"
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
#include "engine/subid.hpp"
#include "sys/fd.hpp"
#include "sys/kernel_features.hpp"
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
         !plan.host_user_userns &&
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
  auto written = write_id_maps(proc_pid.get(), plan.sandbox_uid, plan.map_uid, plan.sandbox_gid,
                               plan.map_gid, true, plan.map_overflow_root);
  setfsuid(fsuid);
  if (static_cast<uid_t>(setfsuid(static_cast<uid_t>(-1))) != fsuid) {
    return sys_error("monitor", "setfsuid", "", EPERM, "Unable to re-set fsuid");
  }
  return written;
}

// --host-user's user namespace, entered by the child after its mounts (host-user-userns): the
// sandbox ids to the host user's, each supplementary group onto itself. setgroups stays allowed:
// the child's drop sets exactly these groups, and the command, never uid 0 there and without a
// capability, can change none of them.
result<void> write_host_user_maps(const Plan& plan, pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  UniqueFd proc_pid(open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!proc_pid) return sys_error(std::string(step::kHostUserUserns), "open", dir, errno, "open");
  auto written = write_id_maps(proc_pid.get(), plan.sandbox_uid, plan.map_uid, plan.sandbox_gid,
                               plan.map_gid, false, false, plan.map_extra_gids);
  if (!written) {
    Error e = std::move(written).error();
    e.step = std::string(step::kHostUserUserns) + "/" + e.step;
    return e;
  }
  return boost::outcome_v2::success();
}

// The jail's cgroup, made with the caller's own credentials: in the setuid rung by a process
// that holds the caller's ids and no capability, which hands back the open directories.
result<JailCgroup> make_jail_cgroup(const CgroupRequest& request, const Plan& plan) {
  if (!plan.setuid) return JailCgroup::create(request);
  BOOST_OUTCOME_TRY(answer, run_as_caller_with_fds(
                                plan.real_uid, plan.real_gid, "cgroup",
                                [&]() -> result<CallerAnswer> {
                                  BOOST_OUTCOME_TRY(made, JailCgroup::create(request));
                                  CallerAnswer out{made.path(), {}};
                                  auto [parent, dir] = made.release();
                                  out.fds.push_back(std::move(parent));
                                  out.fds.push_back(std::move(dir));
                                  return out;
                                },
                                4096));
  if (answer.fds.size() != 2 || answer.text.empty() || answer.text.front() != '/') {
    return make_error(std::string(step::kCgroup), "The unprivileged process made no cgroup");
  }
  return JailCgroup::adopt(std::move(answer.text), std::move(answer.fds[0]),
                           std::move(answer.fds[1]));
}

// Everything of a started jail the monitor (or a library Jail) still needs.
struct StartedJail {
  Supervised supervised{};
  SetupOutcome setup;
  UniqueFd channel;
  UniqueFd pidfd;          // of supervised.wait_for
  UniqueFd command_pidfd;  // of the command, for Jail::pidfd()
  std::vector<std::pair<std::string, unsigned long long>> namespaces;
  // Declared last: destroyed first, so that a jail abandoned during setup has every process of
  // its cgroup killed and the cgroup removed.
  JailCgroup cgroup;
};

// Why --handover cannot be had with `spec`, or empty.
std::string handover_refusal(const Spec& spec, const RunOptions& options) {
  if (options.setuid_helper) {
    return "--handover is not available on the setuid rung (the helper is a child of the "
           "boxjail front end, so the sandbox would become the front end's child, not yours)";
  }
  if (spec.json_status_fd >= 0) {
    return "--handover cannot be combined with --json-status-fd (its last line, the exit code, "
           "needs a process that outlives the command)";
  }
  if (spec.pidns_fd >= 0) {
    return "--handover cannot be combined with --pidns (joining a pid namespace needs an "
           "intermediate process that stays as the sandbox's parent)";
  }
  if (spec.cgroup) {
    return "--handover cannot be combined with a cgroup (the monitor empties and removes the "
           "jail's cgroup when it ends; a handed-over jail has no monitor)";
  }
  if (options.probe) return "--handover cannot be probed";
  return {};
}

// The monitor's side up to the command's execve: plan, clone, maps, status fds, the child's
// requests. `original_mask` is the caller's signal mask (the child restores it before execve);
// `signal_fd` (or -1) the signalfd of the signals to forward meanwhile.
// `library`: the monitor is a library caller's own process, which must not be changed beyond the
// jail (no parent-death signal of its own: --die-with-parent is the sandbox's, relative to it).
result<std::unique_ptr<StartedJail>> start_jail(const Spec& spec, const RunOptions& options,
                                                const sigset_t& original_mask, int signal_fd,
                                                bool want_namespaces, bool library) {
  if ((spec.exec_label || spec.file_label) && !selinux_enabled()) {
    return make_error("validate-spec", "labeling not supported on this system");
  }
  // The kernel's calls are probed here, once, in the monitor: the sandbox's processes inherit
  // the answer (a copy, or this very memory), and none probes later under the jail's filters.
  (void)sys::kernel_features();
  Caller caller = current_caller();
  caller.via_setuid_helper = options.setuid_helper;
  Plan plan = make_plan(spec, caller, caller.is_root() ? effective_caps() : 0);
  // The namespaces a report or a Jail names are read from /proc/PID/ns: the child waits until
  // they are, or a command that ends at once would take them with it.
  want_namespaces = want_namespaces || static_cast<bool>(options.on_started);
  if (want_namespaces) plan.child_waits = true;
  if (spec.handover) {
    if (auto why = handover_refusal(spec, options); !why.empty()) {
      return make_error("validate-spec", why);
    }
  }
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
  char flags_hex[32];
  snprintf(flags_hex, sizeof flags_hex, "%#llx", static_cast<unsigned long long>(plan.clone_flags));
  BOXJAIL_LOG(Debug, std::string("plan: clone flags ") + flags_hex + ", uid " +
                         std::to_string(plan.sandbox_uid) + " (first map " +
                         std::to_string(plan.ns_uid) + " -> " + std::to_string(plan.real_uid) +
                         (plan.nested_userns ? ", nested" : "") + ")" +
                         (plan.lock_userns ? ", lock userns" : "") +
                         (plan.needs_pid1 ? ", pid-1 reaper" : ""));

  // A range the host's files do not grant is named now, file and line, before anything exists.
  if (plan.map_writer == MapWriter::Subid) {
    BOXJAIL_TRY(check_subid_grants(plan.real_uid, spec.uid_ranges, "/etc/subuid", "uid",
                                   step::kWriteUidMap));
    BOXJAIL_TRY(check_subid_grants(plan.real_uid, spec.gid_ranges, "/etc/subgid", "gid",
                                   step::kWriteGidMap));
  }
  // Made before anything else of the jail, so that its first process is born limited.
  JailCgroup cgroup;
  int clone_into_cgroup = -1;
  if (spec.cgroup) {
    BOOST_OUTCOME_TRY(made, make_jail_cgroup(*spec.cgroup, plan));
    cgroup = std::move(made);
    if (kernel_clones_into_cgroups()) {
      clone_into_cgroup = cgroup.fd();
    } else {
      plan.child_waits = true;  // the monitor moves it in by cgroup.procs first
      if ((plan.clone_flags & CLONE_NEWCGROUP) != 0) {
        plan.clone_flags &= ~static_cast<std::uint64_t>(CLONE_NEWCGROUP);
        plan.late_cgroupns = true;
      }
    }
  }

  const pid_t monitor_pid = getpid();
  // The boxjail command dies with its parent, and the sandbox with it (the channel's EOF, then its
  // own parent-death signal). A library caller is the sandbox's parent itself.
  if (spec.die_with_parent && !library) die_with_parent(parent_at_start());
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

  auto jail = std::make_unique<StartedJail>();
  jail->cgroup = std::move(cgroup);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return fail("monitor", "socketpair", errno, "Can't create the status channel");
  }
  jail->channel.reset(sv[0]);
  UniqueFd theirs(sv[1]);
  const int mine = jail->channel.get();
  // Each record then carries its sender's pid, as our pid namespace sees it: the Exec record
  // names the command (for --pid-file, the report and Jail::pid()).
  const int passcred = 1;
  if (setsockopt(mine, SOL_SOCKET, SO_PASSCRED, &passcred, sizeof passcred) != 0) {
    return fail("monitor", "setsockopt(SO_PASSCRED)", errno, "Can't ask for the sender's pid");
  }

  const bool via_intermediate =
      spec.pidns_fd >= 0 && (plan.clone_flags & (CLONE_NEWPID | CLONE_NEWUSER)) != 0;
  // --handover: the sandbox is born our parent's child, so nothing of ours needs to stay.
  const std::uint64_t flags = plan.clone_flags | (spec.handover ? CLONE_PARENT : 0);
  auto spawned = spawn_sandbox(
      flags, via_intermediate, spec.die_with_parent, child_may_share_memory(spec, plan), mine,
      theirs.get(), clone_into_cgroup, [&] {
        // close(), not reset(): the child may be running in our memory (spawn_sandbox), where
        // resetting would close nothing of ours yet leave our objects pointing at -1.
        close(mine);
        if (signal_fd >= 0) close(signal_fd);
        // The cgroup's lock must die with the monitor alone (a pid-1 reaper never execs).
        if (jail->cgroup) {
          close(jail->cgroup.fd());
          close(jail->cgroup.parent_fd());
        }
        ChildArgs child{spec,         plan,
                        theirs.get(), original_mask,
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
  jail->pidfd.reset(spawned.value().pidfd);
  theirs.reset();
  BOXJAIL_LOG(Debug, "clone-namespaces: child " + std::to_string(pid));
  // Until the jail is handed back, a failure kills what was started and reaps it (unless our
  // parent is its parent: then the caller reaps it, and the report names its pid).
  auto abandon = [&](Error e) -> Error {
    kill(pid, SIGKILL);
    if (!spec.handover) {
      while (waitpid(wait_for, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    return e;
  };

  const ChildInfo info =
      describe_child(spec, pid, options.status_rung, options.status_ladder_mode, want_namespaces);
  jail->namespaces = info.namespaces;
  // Cloned in the caller's user namespace: the jail's own comes later (host-user-userns).
  if (plan.host_user_userns) {
    std::erase_if(jail->namespaces, [](const auto& ns) { return ns.first == "user"; });
  }
  if (plan.map_writer == MapWriter::Monitor) {
    if (auto mapped = write_child_maps(plan, pid); !mapped) return abandon(mapped.error());
  }
  if (plan.map_writer == MapWriter::Subid) {
    // The setuid programs that enforce /etc/subuid and /etc/subgid write the maps; run as the
    // caller (this monitor holds no privilege on this rung).
    auto uids = run_id_mapper("newuidmap", pid, plan.sandbox_uid, plan.real_uid, spec.uid_ranges,
                              step::kWriteUidMap);
    if (!uids) return abandon(uids.error());
    auto gids = run_id_mapper("newgidmap", pid, plan.sandbox_gid, plan.real_gid, spec.gid_ranges,
                              step::kWriteGidMap);
    if (!gids) return abandon(gids.error());
  }
  if (plan.setuid) {
    // The monitor needs no privilege from here on: it only writes the caller's fds, waits,
    // forwards signals and reports. Dropped for good now, while the child is still setting up,
    // and before the first write to a fd the caller chose.
    if (auto dropped = drop_privileges_to(plan.real_uid, plan.real_gid, "monitor"); !dropped) {
      return abandon(dropped.error());
    }
    if (spec.die_with_parent) die_with_parent(parent_at_start());  // cleared with the ids
    for (const auto& line : options.stderr_after_drop) std::fputs(line.c_str(), stderr);
    if (options.stderr_after_drop_written) *options.stderr_after_drop_written = true;
  }
  if (auto written = write_child_info(spec, info); !written) return abandon(written.error());
  if (spec.userns_block_fd >= 0) {
    // newuidmap (or the like) writes the maps now; one byte says it is done.
    char b;
    while (read(spec.userns_block_fd, &b, 1) < 0 && errno == EINTR) {
    }
    close(spec.userns_block_fd);
  }
  if (spec.userns2_fd >= 0 && setns(spec.userns2_fd, CLONE_NEWUSER) != 0) {
    return abandon(
        fail(step::kJoinUserns2, "setns(CLONE_NEWUSER)", errno, "Setting userns2 failed"));
  }
  if (jail->cgroup && clone_into_cgroup < 0) {
    if (auto placed = jail->cgroup.place(pid); !placed) return abandon(placed.error());
  }
  if (plan.child_waits) channel::send(mine, channel::Kind::Go);

  jail->supervised =
      Supervised{pid, wait_for, mine, signal_fd, {}, jail->pidfd.get(), spec.handover};
  if (plan.lock_userns) {
    jail->supervised.write_requested_maps = [pid] { return write_identity_maps(pid); };
  } else if (plan.host_user_userns) {
    StartedJail* started = jail.get();
    jail->supervised.write_requested_maps = [plan, pid, started]() -> result<void> {
      BOOST_OUTCOME_TRY(write_host_user_maps(plan, pid));
      // The namespace the command runs in is this one, not the one it was cloned in.
      struct stat st;
      const std::string user = "/proc/" + std::to_string(pid) + "/ns/user";
      if (stat(user.c_str(), &st) == 0) started->namespaces.emplace_back("user", st.st_ino);
      return boost::outcome_v2::success();
    };
  }
  auto setup = await_exec(spec, jail->supervised);
  if (!setup) {
    Error e = std::move(setup).error();
    e.evidence.emplace_back("pid.sandbox", std::to_string(pid));
    return e;
  }
  jail->setup = setup.value();
  if (spec.handover && spec.die_with_parent && jail->setup.exec_started &&
      getppid() != parent_at_start()) {
    // The child armed its parent-death signal before its Exec record. Our parent, its parent
    // too, was still alive after that (we saw it as ours): had it died before the arming, both
    // of us would have been reparented at once, under the same lock. Gone now, it took the
    // child with it, or the signal is on its way; make sure.
    return abandon(sys_error("monitor", "getppid", "", ESRCH,
                             "The caller died while the jail started (--die-with-parent)"));
  }
  if (jail->setup.exec_started && jail->setup.command > 0) {
    jail->command_pidfd.reset(sys::pidfd_open(jail->setup.command));
  }
  if (options.on_started && jail->setup.exec_started) {
    Started started;
    started.pid = jail->setup.command;
    started.sandbox_pid = pid;
    started.namespaces = jail->namespaces;
    started.handover = spec.handover;
    started.cgroup = jail->cgroup.path();
    options.on_started(started);
  }
  return jail;
}

// The CLI's whole jail: start it, then supervise the command, forwarding the signals.
result<int> run_jail(const Spec& spec, const RunOptions& options) {
  // A caller that ignores SIGCHLD would make the kernel reap our child behind our back.
  signal(SIGCHLD, SIG_DFL);
  sigset_t block = forwarded_signals();
  sigaddset(&block, SIGCHLD);
  SignalMaskGuard mask(block);
  UniqueFd signal_fd(signalfd(-1, &block, SFD_CLOEXEC));
  if (!signal_fd) return fail("monitor", "signalfd", errno, "signalfd");
  BOOST_OUTCOME_TRY(jail, start_jail(spec, options, mask.old(), signal_fd.get(), false, false));
  // Handed over: the sandbox is our parent's child now; nothing of ours stays.
  if (spec.handover) return 0;
  // The slim monitor takes the cgroup along, but not the report callback: a jail whose cgroup's
  // end is reported keeps its monitor's image.
  ShedOptions shed;
  const bool reported = jail->cgroup && static_cast<bool>(options.on_cgroup_end);
  shed.after_ms = options.setuid_helper || options.probe || reported ? -1 : options.shed_after_ms;
  shed.cgroup = &jail->cgroup;
  const int status = supervise_command(spec, jail->supervised, jail->setup, shed);
  if (jail->cgroup) {
    const CgroupUsage usage = jail->cgroup.end();
    if (options.on_cgroup_end) {
      options.on_cgroup_end(usage);
    } else {
      print_cgroup_notes(usage);
    }
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

// ---- The library API ----

struct Jail::State {
  Spec spec;  // the status fds the end still writes to
  std::unique_ptr<StartedJail> started;
  bool waited = false;
  int status = 0;
  std::optional<CgroupUsage> cgroup_usage;
};

Jail::Jail(std::unique_ptr<State> state) : state_(std::move(state)) {}
Jail::Jail(Jail&&) noexcept = default;
Jail& Jail::operator=(Jail&&) noexcept = default;

// Raw calls only: a destructor must not throw, and the error paths of signal() and wait()
// allocate.
Jail::~Jail() {
  if (!state_ || state_->waited) return;
  const StartedJail& s = *state_->started;
  // Reaped already when it ended during setup: its pid may name another process by now.
  if (!s.setup.exit_status) {
    if (s.supervised.wait_for == s.supervised.child && s.pidfd) {
      sys::pidfd_send_signal(s.pidfd.get(), SIGKILL);
    } else {
      ::kill(s.supervised.child, SIGKILL);
    }
    while (waitpid(s.supervised.wait_for, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  if (state_->spec.json_status_fd >= 0) close(state_->spec.json_status_fd);
}

pid_t Jail::pid() const { return state_->started->setup.command; }
pid_t Jail::sandbox_pid() const { return state_->started->supervised.child; }
int Jail::pidfd() const { return state_->started->command_pidfd.get(); }
const std::vector<std::pair<std::string, unsigned long long>>& Jail::namespaces() const {
  return state_->started->namespaces;
}

std::optional<CgroupUsage> Jail::cgroup_usage() const { return state_->cgroup_usage; }
std::string Jail::cgroup() const { return state_->started->cgroup.path(); }

result<void> Jail::signal(int sig) {
  const StartedJail& s = *state_->started;
  if (state_->waited || s.setup.exit_status) {
    return sys_error("signal", "kill", "", ESRCH, "The jail has ended");
  }
  // Through the pidfd of the process we wait for: the sandbox's first process unless there is a
  // --pidns intermediate, whose pid the kernel cannot recycle while we have not reaped it.
  const bool direct = s.supervised.wait_for == s.supervised.child && s.pidfd;
  const int rc =
      direct ? sys::pidfd_send_signal(s.pidfd.get(), sig) : ::kill(s.supervised.child, sig);
  if (rc != 0)
    return sys_error("signal", direct ? "pidfd_send_signal" : "kill", "", errno,
                     "Can't signal the jail");
  return boost::outcome_v2::success();
}

result<int> Jail::wait() {
  if (state_->waited) return state_->status;
  const StartedJail& s = *state_->started;
  int status = 0;
  if (s.setup.exit_status) {
    status = *s.setup.exit_status;
  } else {
    int ws = 0;
    pid_t got;
    while ((got = waitpid(s.supervised.wait_for, &ws, 0)) < 0 && errno == EINTR) {
    }
    if (got < 0) return sys_error("wait", "waitpid", "", errno, "Can't wait for the jail");
    status = propagate_status(ws);
  }
  state_->waited = true;
  state_->status = status;
  if (state_->started->cgroup) state_->cgroup_usage = state_->started->cgroup.end();
  if (s.setup.exec_started) {
    write_exit_code(state_->spec.json_status_fd, status);
  } else if (state_->spec.json_status_fd >= 0) {
    close(state_->spec.json_status_fd);
  }
  return status;
}

namespace {

// The number of threads of this process (/proc/self/stat's 20th field), or 0 if unknown.
long thread_count() {
  UniqueFd fd(open("/proc/self/stat", O_RDONLY | O_CLOEXEC));
  if (!fd) return 0;
  char buf[1024];
  const ssize_t n = read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');  // the command name may hold spaces and parentheses
  for (int field = 2; p && field < 20; ++field) p = std::strchr(p + 1, ' ');
  return p ? std::strtol(p + 1, nullptr, 10) : 0;
}

}  // namespace

result<Jail> spawn(const Spec& spec, const RunOptions& options) {
  // A setuid or setgid program (AT_SECURE) acts for a caller it does not trust: the library
  // applies none of the setuid helper's checks (check_setuid_spec, the privilege split).
  if (getauxval(AT_SECURE) != 0) {
    return make_error("spawn",
                      "boxjail::spawn refuses to run in a setuid or setgid program (AT_SECURE): it "
                      "applies none of the setuid helper's checks; use the boxjail command");
  }
  // The kernel would reap the sandbox's first process behind our back.
  struct sigaction chld {};
  if (sigaction(SIGCHLD, nullptr, &chld) == 0 &&
      (chld.sa_handler == SIG_IGN || (chld.sa_flags & SA_NOCLDWAIT) != 0)) {
    return make_error("spawn",
                      "boxjail::spawn needs SIGCHLD not ignored (SIG_IGN or SA_NOCLDWAIT): the "
                      "kernel would reap the jail before it could be waited for");
  }
  // The sandbox's first process is cloned from this one without fork()'s care for other
  // threads: a lock another thread held at the clone (malloc's, say) would stay locked in it.
  if (const long threads = thread_count(); threads > 1) {
    return make_error("spawn", "boxjail::spawn needs a single-threaded caller (this process has " +
                                   std::to_string(threads) +
                                   " threads): spawn from a process of its own, or run "
                                   "`boxjail run --spec fd:N --handover`");
  }
  if (spec.handover) {
    return make_error("validate-spec",
                      "handover is for the boxjail command: a library caller is the sandbox's "
                      "parent already");
  }
  BOOST_OUTCOME_TRY(resolved, resolve_spec(spec, current_caller()));
  auto state = std::make_unique<Jail::State>();
  state->spec = resolved;
  // The signals stay the caller's: blocked only while the child is cloned (it restores the
  // caller's mask before execve), and no signalfd steals a SIGCHLD meant for another child.
  sigset_t block = forwarded_signals();
  sigaddset(&block, SIGCHLD);
  SignalMaskGuard mask(block);
  auto started = start_jail(state->spec, options, mask.old(), -1, true, true);
  if (!started) {
    Error e = std::move(started).error();
    e.evidence.emplace_back("pid.monitor", std::to_string(getpid()));
    return e;
  }
  state->started = std::move(started).value();
  return Jail(std::move(state));
}

}  // namespace boxjail
