// SPDX-License-Identifier: Apache-2.0
// The setup order lives in setup_and_exec(): read it top to bottom; each line is a named step and
// the reason for its place is in steps.hpp.
#include "engine/child.hpp"

#include <boxjail/rlimits.hpp>

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include "engine/channel.hpp"
#include "engine/fs_ops.hpp"
#include "engine/identity.hpp"
#include "engine/log.hpp"
#include "engine/parent_death.hpp"
#include "engine/privilege.hpp"
#include "engine/rootfs.hpp"
#include "engine/seccomp_fd.hpp"
#include "engine/setuid_setup.hpp"
#include "engine/steps.hpp"
#include "sys/fd.hpp"

extern char** environ;

namespace boxjail {
namespace {

using boost::outcome_v2::success;

Error fail(std::string_view step_name, const char* syscall, const std::string& path, int err,
           std::string message) {
  return sys_error(std::string(step_name), syscall, path, err, std::move(message));
}

std::string env_value(const std::vector<std::string>& env, std::string_view name) {
  for (const auto& kv : env) {
    if (kv.size() > name.size() && kv.compare(0, name.size(), name) == 0 &&
        kv[name.size()] == '=') {
      return kv.substr(name.size() + 1);
    }
  }
  return {};
}

void set_env(std::vector<std::string>& env, const std::string& name, const std::string& value) {
  for (auto& kv : env) {
    if (kv.compare(0, name.size() + 1, name + "=") == 0) {
      kv = name + "=" + value;
      return;
    }
  }
  env.push_back(name + "=" + value);
}

result<void> wait_for_go(int channel) {
  BOOST_OUTCOME_TRY(msg, channel::receive(channel));
  if (!msg || msg->kind != channel::Kind::Go) {
    return fail(step::kWaitMonitor, "recv", "", EPIPE,
                "The monitor went away before the sandbox was set up");
  }
  return success();
}

result<void> limit_userns(const Plan& plan, int proc) {
  // Counted in this (the sandbox's first) user namespace: the nested namespace made next uses the
  // only slot, so the command can create none. The setuid rung's namespace is root's and its
  // command holds no capability in it, so none is nested there: the limit is 0 (the child,
  // root there, could not map a namespace nested as the caller; nothing in the sandbox can
  // write the limit back).
  const char* limit = plan.nested_userns ? "1" : "0";
  UniqueFd f(openat(proc, "sys/user/max_user_namespaces", O_WRONLY | O_CLOEXEC));
  if (!f || write(f.get(), limit, 1) != 1) {
    return fail(step::kLimitUserns, "write", "/proc/sys/user/max_user_namespaces", errno,
                std::string("sysctl user.max_user_namespaces = ") + limit);
  }
  return success();
}

result<void> enter_nested_userns(const Plan& plan, int proc) {
  if (unshare(CLONE_NEWUSER) != 0)
    return fail(step::kNestedUserns, "unshare(CLONE_NEWUSER)", "", errno, "unshare user ns");
  UniqueFd self(openat(proc, "self", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!self)
    return fail(step::kNestedUserns, "openat", "/proc/self", errno, "Can't open /proc/self");
  // setgroups is already denied in the outer namespace, and a child namespace inherits that.
  auto r = write_id_maps(self.get(), plan.sandbox_uid, plan.ns_uid, plan.sandbox_gid, plan.ns_gid,
                         false);
  if (!r) {
    Error e = r.error();
    e.step = std::string(step::kNestedUserns) + "/" + e.step;
    return e;
  }
  return success();
}

// A user namespace entered after the mounts, which the monitor maps while this process waits:
// the lock namespace (Plan::lock_userns: only a process that stays in the namespace the jail
// acted in, with CAP_SETUID there, can map more than one id, so the monitor maps every id of that
// namespace onto itself and the command's files keep their owners), or --host-user's (the child,
// host root outside, cannot map another host user's ids; the drop then switches to them).
result<void> enter_userns_mapped_by_monitor(int channel, std::string_view step,
                                            const char* cannot_create, const char* not_mapped) {
  if (unshare(CLONE_NEWUSER) != 0) {
    return fail(step, "unshare(CLONE_NEWUSER)", "", errno, cannot_create);
  }
  channel::send(channel, channel::Kind::MapLock);
  BOOST_OUTCOME_TRY(msg, channel::receive(channel));
  if (!msg || msg->kind != channel::Kind::Go) return fail(step, "recv", "", EPIPE, not_mapped);
  return success();
}

result<void> enter_lock_userns(int channel) {
  return enter_userns_mapped_by_monitor(
      channel, step::kLockUserns,
      "A jail run by root that keeps CAP_SYS_ADMIN runs in a user namespace of its own, so that "
      "it cannot undo its read-only mounts, and this one could not be created; drop the "
      "capability (--cap-drop CAP_SYS_ADMIN) or allow user namespaces to root",
      "The monitor did not map the lock user namespace");
}

result<void> enter_host_user_userns(int channel) {
  return enter_userns_mapped_by_monitor(channel, step::kHostUserUserns,
                                        "Can't create the host user's user namespace",
                                        "The monitor did not map the host user's user namespace");
}

result<void> assert_userns_disabled() {
  if (unshare(CLONE_NEWUSER) == 0) {
    return fail(step::kAssertUsernsDisabled, "unshare(CLONE_NEWUSER)", "", 0,
                "creation of new user namespaces was not disabled as requested");
  }
  return success();
}

result<std::vector<UniqueFd>> lock_files(const Spec& spec) {
  std::vector<UniqueFd> fds;
  for (const auto& path : spec.lock_files) {
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail(step::kLockFiles, "open", path, errno, "Unable to open lock file " + path);
    struct flock lock {};
    lock.l_type = F_RDLCK;
    lock.l_whence = SEEK_SET;
    if (fcntl(fd.get(), F_SETLK, &lock) < 0)
      return fail(step::kLockFiles, "fcntl(F_SETLK)", path, errno, "Unable to lock file " + path);
    fds.push_back(std::move(fd));
  }
  return fds;
}

result<void> read_block_fd(int fd) {
  char b;
  ssize_t n;
  do {
    n = read(fd, &b, 1);
  } while (n < 0 && errno == EINTR);
  close(fd);
  return success();
}

// bwrap: --chdir must work; otherwise the old cwd, then $HOME, then "/". PWD always follows.
result<std::string> change_dir(const Spec& spec, const Plan& plan) {
  if (spec.chdir) {
    if (chdir(spec.chdir->c_str()) != 0)
      return fail(step::kChdir, "chdir", *spec.chdir, errno, "Can't chdir to " + *spec.chdir);
    return *spec.chdir;
  }
  if (!plan.old_cwd.empty() && chdir(plan.old_cwd.c_str()) == 0) return plan.old_cwd;
  std::string home = env_value(spec.env, "HOME");
  if (!home.empty() && chdir(home.c_str()) == 0) return home;
  return std::string("/");
}

result<void> set_exec_label(const Spec& spec, int proc) {
  UniqueFd f(openat(proc, "thread-self/attr/exec", O_WRONLY | O_CLOEXEC));
  if (!f || write(f.get(), spec.exec_label->data(), spec.exec_label->size()) < 0) {
    return fail(step::kExecLabel, "write", "/proc/thread-self/attr/exec", errno,
                "Invalid --exec-label " + *spec.exec_label);
  }
  return success();
}

// Closes the fds that belong to bwrap's protocol, not to the command.
void close_setup_fds(const Spec& spec) {
  // Not userns2_fd: the child joins it after setup (join-userns2) and closes it then.
  for (int fd :
       {spec.info_fd, spec.json_status_fd, spec.userns_block_fd, spec.userns_fd, spec.pidns_fd}) {
    if (fd > 2) close(fd);
  }
}

// --keep-fd: every fd of the command's but 0-2 and `keep` becomes close-on-exec. close_range's
// CLOSE_RANGE_CLOEXEC (5.11) marks each range in one call; older kernels get fcntl on every
// number below the fd limit.
// `channel` is ours: a number the caller named but had not open may have become it.
result<void> keep_only_fds(std::vector<int> keep, int channel) {
  std::sort(keep.begin(), keep.end());
  auto mark = [](unsigned first, unsigned last) -> int {
    if (first > last) return 0;
    if (syscall(SYS_close_range, first, last, CLOSE_RANGE_CLOEXEC) == 0) return 0;
    if (errno != ENOSYS && errno != EINVAL) return errno;
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    const unsigned end = std::min<rlim_t>(lim.rlim_cur, last == ~0U ? lim.rlim_cur : last + 1);
    for (unsigned fd = first; fd < end; ++fd) {
      const int flags = fcntl(static_cast<int>(fd), F_GETFD);
      if (flags >= 0) fcntl(static_cast<int>(fd), F_SETFD, flags | FD_CLOEXEC);
    }
    return 0;
  };
  unsigned from = 3;
  for (int k : keep) {
    if (k < static_cast<int>(from)) continue;
    if (int err = mark(from, static_cast<unsigned>(k) - 1); err != 0) {
      return fail(step::kKeepFds, "close_range", "", err, "Can't close the fds not kept");
    }
    // A kept fd must reach the command: one the caller marked close-on-exec is cleared.
    const int flags = k == channel ? -1 : fcntl(k, F_GETFD);
    if (k == channel) errno = EBADF;
    if (flags < 0 || fcntl(k, F_SETFD, flags & ~FD_CLOEXEC) != 0) {
      return fail(step::kKeepFds, "fcntl", "fd " + std::to_string(k), errno,
                  "--keep-fd " + std::to_string(k) + " is not an open fd");
    }
    from = static_cast<unsigned>(k) + 1;
  }
  if (int err = mark(from, ~0U); err != 0) {
    return fail(step::kKeepFds, "close_range", "", err, "Can't close the fds not kept");
  }
  return success();
}

// The setup takes the signals the caller sends it as bwrap's child does: their default action
// (a namespace's init ignores what comes from outside, by the kernel's rule). The monitor blocked
// them to read them from its signalfd and this process inherited the block: left blocked, a
// SIGTERM for a setup that waits on the caller (--file data, --block-fd) would wait with it.
// Handlers first: this process may run in the monitor's memory (spawn.cpp's shared-memory
// clone), where a handler of the caller's must never run.
void take_signals_during_setup(const sigset_t& caller_mask) {
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction sa {};
    if (sigaction(sig, nullptr, &sa) != 0) continue;  // SIGKILL, SIGSTOP, libc's own
    if ((sa.sa_flags & SA_SIGINFO) != 0 || (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)) {
      signal(sig, SIG_DFL);
    }
  }
  sigset_t mask = caller_mask;
  sigaddset(&mask, SIGCHLD);  // the setuid rung's setup process is reaped by waitpid
  sigprocmask(SIG_SETMASK, &mask, nullptr);
}

result<void> setup_and_exec(const ChildArgs& a) {
  const Spec& spec = a.spec;
  const Plan& plan = a.plan;
  take_signals_during_setup(a.original_mask);
  // Not getppid() != monitor_pid: in a new pid namespace getppid() is 0 (the parent lives
  // outside it) and every --unshare-pid run would die here. On the setuid rung the privileged
  // stage never outlives its monitor, asked or not: nothing would be left to supervise or report
  // what it does with the caller's requests (the drop below clears it; --die-with-parent re-arms).
  if (spec.die_with_parent || plan.setuid) die_with_parent_of_channel(a.channel);
  // Closed before waiting for the go-ahead: the monitor writes --info-fd and closes it, and a
  // caller that reads it to EOF before writing the maps for --userns-block-fd (as bwrap lets it)
  // would wait forever while this copy stayed open.
  close_setup_fds(spec);
  if (plan.child_waits) BOXJAIL_TRY(wait_for_go(a.channel));
  if (plan.late_cgroupns && unshare(CLONE_NEWCGROUP) != 0) {
    return fail(step::kCloneNamespaces, "unshare(CLONE_NEWCGROUP)", "", errno,
                "Creating new namespace failed");
  }
  // The host's /proc, kept as a fd: the maps of the nested namespace, the userns limit and the
  // exec label are written through it after /proc may have vanished from the root.
  UniqueFd proc(open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!proc) return fail(step::kWriteUidMap, "open", "/proc", errno, "Can't open /proc");
  if (plan.map_writer == MapWriter::Child) {
    UniqueFd self(openat(proc.get(), "self", O_PATH | O_DIRECTORY | O_CLOEXEC));
    BOXJAIL_TRY(
        write_id_maps(self.get(), plan.ns_uid, plan.real_uid, plan.ns_gid, plan.real_gid, true));
  }
  if (spec.unshare_net) BOXJAIL_TRY(loopback_up());
  if (spec.hostname) BOXJAIL_TRY(set_hostname(*spec.hostname));
  // The setuid rung's privileged child needs from here on only CAP_SYS_ADMIN (mounts, pivot) and
  // what the final drop takes; lo, the hostname and the monitor's /proc reads are behind it. In
  // its own user namespace, --disable-userns also writes that namespace's user.max_user_namespaces,
  // which wants CAP_SYS_RESOURCE there (there only: the child holds nothing in the host's).
  if (plan.setuid && plan.map_writer == MapWriter::Monitor && spec.disable_userns) {
    BOXJAIL_TRY(keep_only_capabilities(
        {CAP_SYS_ADMIN, CAP_SETUID, CAP_SETGID, CAP_SETPCAP, CAP_SYS_RESOURCE}));
  } else if (plan.setuid) {
    BOXJAIL_TRY(keep_only_capabilities({CAP_SYS_ADMIN, CAP_SETUID, CAP_SETGID, CAP_SETPCAP}));
  }
  BOXJAIL_TRY(make_root_rslave());
  // The host's root, for what is reached through it during the operations (/proc and /dev when
  // they are bound from the host) and for the detach after the pivot.
  UniqueFd host_root(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!host_root) return fail(step::kResolveSources, "open", "/", errno, "Can't open /");
  const mode_t old_umask = umask(0);  // modes given by --perms are applied exactly
  // The new root, built by one engine: here, by this process, when it holds its privilege over
  // its own namespaces only (root and userns rungs); in the setuid rung, by an unprivileged
  // process whose mounts this one makes on request (setuid_setup.hpp).
  auto built = [&]() -> result<UniqueFd> {
    if (plan.setuid) {
      return build_new_root_unprivileged(spec, plan, host_root.get(), a.resolver);
    }
    const auto mounter = kernel_mounter();
    return build_new_root(spec, plan, *mounter, host_root.get(), a.resolver);
  }();
  if (!built) return std::move(built).error();
  UniqueFd base = std::move(built).value();
  if (spec.disable_userns) BOXJAIL_TRY(limit_userns(plan, proc.get()));
  BOXJAIL_TRY(enter_new_root(base.get(), host_root.get()));
  base.reset();
  host_root.reset();
  if (spec.userns2_fd >= 0 && setns(spec.userns2_fd, CLONE_NEWUSER) != 0) {
    return fail(step::kJoinUserns2, "setns(CLONE_NEWUSER)", "", errno, "Setting userns2 failed");
  }
  if (spec.userns2_fd > 2) close(spec.userns2_fd);
  if (plan.nested_userns) BOXJAIL_TRY(enter_nested_userns(plan, proc.get()));
  // After the last mount and the pivot (the command's mounts are all made), before the
  // capabilities are cut to the command's: those it keeps are then its own namespace's.
  if (plan.lock_userns) BOXJAIL_TRY(enter_lock_userns(a.channel));
  if (plan.host_user_userns) BOXJAIL_TRY(enter_host_user_userns(a.channel));
  if (spec.disable_userns || spec.assert_userns_disabled) BOXJAIL_TRY(assert_userns_disabled());
  if (plan.setuid) {
    // The caller's own supplementary groups stay, as with bwrap's setuid mode: dropping one
    // would give the caller what a group-denying mode (0604 with a group of its own) withholds
    // from it (CVE-2014-8989's class), and in the jail's own user namespace setgroups is denied
    // anyway. Inside that namespace the caller's ids are the sandbox's.
    BOXJAIL_TRY(drop_privileges_to(plan.caller_uid_inside, plan.caller_gid_inside,
                                   step::kDropPrivileges.data(), true));
    // The kernel cleared the parent-death signal with the credentials.
    if (spec.die_with_parent) die_with_parent_of_channel(a.channel);
  } else if (spec.host_user) {
    // Root's jail run as a host user of its choosing (--host-user): everything dropped as in the
    // setuid rung, with exactly the groups asked for (validated: no --cap-add). In a user
    // namespace the ids are the sandbox's, which the monitor mapped to the host user's, and the
    // groups are mapped onto themselves.
    BOXJAIL_TRY(drop_privileges_to(plan.caller_uid_inside, plan.caller_gid_inside,
                                   step::kDropPrivileges.data(), false, &spec.host_user->groups));
    if (spec.die_with_parent) die_with_parent_of_channel(a.channel);  // cleared with the ids
  } else {
    BOXJAIL_TRY(drop_capabilities(plan.keep_caps, spec.caps.specified));
  }
  BOOST_OUTCOME_TRY(locks, lock_files(spec));
  if (spec.block_fd >= 0) BOXJAIL_TRY(read_block_fd(spec.block_fd));
  // bwrap reads --seccomp late, after --block-fd: the caller may still be writing it.
  std::vector<std::string> command_programs;
  if (a.policy_seccomp) command_programs = *a.policy_seccomp;
  if (spec.seccomp_fd >= 0) {
    BOOST_OUTCOME_TRY(program, read_seccomp_program(spec.seccomp_fd));
    command_programs.push_back(std::move(program));
  }
  BOOST_OUTCOME_TRY(cwd, change_dir(spec, plan));
  std::vector<std::string> env = spec.env;
  set_env(env, "PWD", cwd);
  if (spec.new_session && setsid() == -1)
    return fail(step::kNewSession, "setsid", "", errno, "setsid");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return fail(step::kNoNewPrivs, "prctl(PR_SET_NO_NEW_PRIVS)", "", errno,
                "prctl(PR_SET_NO_NEW_PRIVS) failed");
  }
  if (spec.exec_label) BOXJAIL_TRY(set_exec_label(spec, proc.get()));
  proc.reset();
  // --add-seccomp-fd programs bind pid 1 as well as the command (bwrap installs them in both), so
  // they go on before the fork; --seccomp binds only the command, right before execve.
  if (a.add_seccomp) BOXJAIL_TRY(install_seccomp_programs(*a.add_seccomp));
  if (plan.needs_pid1) {
    // pid 1 waits for the forwarded signals with sigwaitinfo: blocked again before the fork, so
    // that none sent from now on is lost (or kills it) before it waits.
    sigset_t forwarded = forwarded_signals();
    sigprocmask(SIG_BLOCK, &forwarded, nullptr);
    // pid 1 never execs, so nothing gives this back: the command cannot ptrace it, open its
    // /proc/1/mem or process_vm_writev it (the kernel then wants CAP_SYS_PTRACE over the user
    // namespace pid 1's memory belongs to, the host's), even with every capability in its own
    // user namespace. The command becomes dumpable again at its execve.
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    const pid_t reaper = getpid();
    pid_t pid = fork();
    if (pid < 0) return fail(step::kForkCommand, "fork", "", errno, "Can't fork");
    if (pid > 0) {
      // And pid 1 runs under every filter the command runs under (bwrap's order), so that no
      // process of the sandbox can make a call the command's filters refuse.
      if (auto filtered = install_seccomp_programs(command_programs); !filtered) {
        kill(pid, SIGKILL);
        return std::move(filtered).error();
      }
      std::vector<int> keep;
      for (const auto& l : locks) keep.push_back(l.get());
      if (spec.sync_fd >= 0) keep.push_back(spec.sync_fd);
      reaper_main(pid, keep);  // holds the locks and the sync fd for the sandbox's lifetime
    }
    if (spec.die_with_parent) die_with_parent(reaper);  // fork cleared it
    locks.clear();
  }
  if (spec.sync_fd > 2 && !spec.as_pid_1) close(spec.sync_fd);

  // From here on only what execve needs: the caller's signal state and umask come back.
  umask(old_umask);
  signal(SIGCHLD, SIG_DFL);
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (auto& kv : env) envp.push_back(kv.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  for (const auto& s : spec.command) argv.push_back(const_cast<char*>(s.c_str()));
  if (spec.argv0) argv[0] = const_cast<char*>(spec.argv0->c_str());
  argv.push_back(nullptr);
  environ = envp.data();  // execvp searches this PATH, as bwrap's does after --setenv PATH
  for (const auto& r : spec.rlimits) {
    const rlimit lim{r.soft, r.hard};
    if (setrlimit(static_cast<__rlimit_resource>(r.resource), &lim) != 0) {
      const std::string name(rlimit_name(r.resource));
      return fail(step::kRlimits, "setrlimit", name, errno,
                  errno == EPERM
                      ? "Can't raise the hard limit of " + name + " above the caller's own"
                      : "Can't set the limit " + name);
    }
  }
  if (spec.keep_fds) {
    std::vector<int> keep = *spec.keep_fds;
    if (spec.sync_fd > 2 && spec.as_pid_1) keep.push_back(spec.sync_fd);
    BOXJAIL_TRY(keep_only_fds(std::move(keep), a.channel));
  }
  BOXJAIL_LOG(Debug, "exec: " + spec.command[0]);
  channel::send(a.channel, channel::Kind::Exec);
  sigprocmask(SIG_SETMASK, &a.original_mask, nullptr);
  BOXJAIL_TRY(install_seccomp_programs(command_programs));
  if (a.probe) _exit(0);  // doctor's probe: every step ran; the Exec record says so
  execvp(spec.command[0].c_str(), argv.data());
  return fail(step::kExec, "execvp", spec.command[0], errno, "execvp " + spec.command[0]);
}

}  // namespace

const sigset_t& forwarded_signals() {
  static const sigset_t set = [] {
    sigset_t s;
    sigemptyset(&s);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&s, sig);
    return s;
  }();
  return set;
}

int propagate_status(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 255;
}

namespace {

std::string read_first_line(const char* path) {
  UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  char buf[256];
  const ssize_t n = read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return {};
  std::string s(buf, static_cast<size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s.substr(0, s.find('\n'));
}

// What only the child can see, gathered after a failure (never on the success path): the
// AppArmor label it runs under now that the user namespace exists (Ubuntu 24.04 moves an
// unprivileged creator into "unprivileged_userns", which CapEff does not show) and its CapEff.
// Before the pivot /proc is the host's; after it, the sandbox's if it has one.
void add_child_evidence(Error& e, const Plan& plan) {
  if ((plan.clone_flags & CLONE_NEWUSER) == 0) return;
  const std::string base = "/proc/thread-self/";
  struct stat st;
  if (stat(base.c_str(), &st) != 0) return;
  std::string label = read_first_line((base + "attr/apparmor/current").c_str());
  if (label.empty()) label = read_first_line((base + "attr/current").c_str());
  if (!label.empty()) e.evidence.emplace_back("apparmor.label_in_userns", label);
  UniqueFd status(open((base + "status").c_str(), O_RDONLY | O_CLOEXEC));
  char buf[4096];
  const ssize_t n = status ? read(status.get(), buf, sizeof buf - 1) : -1;
  if (n > 0) {
    const std::string text(buf, static_cast<size_t>(n));
    const auto at = text.find("CapEff:\t");
    if (at != std::string::npos) {
      e.evidence.emplace_back("userns.cap_eff", text.substr(at + 8, text.find('\n', at) - at - 8));
    }
  }
}

}  // namespace

void child_main(const ChildArgs& args) {
  // No exception may unwind out of the sandbox's process: it may run on a stack of its own in the
  // monitor's memory, with the monitor's frames above it. Out of memory is a failure of the setup
  // like any other, told to the monitor when a record can still be made.
  try {
    auto r = setup_and_exec(args);
    Error e = std::move(r).error();
    add_child_evidence(e, args.plan);
    channel::send_error(args.channel, e);
  } catch (const std::bad_alloc&) {
    try {
      channel::send_error(args.channel,
                          sys_error("memory", "malloc", "", ENOMEM, "Out of memory during setup"));
    } catch (const std::bad_alloc&) {
      static constexpr char kLine[] =
          "boxjail: memory: malloc: Out of memory during setup: Cannot allocate memory (ENOMEM)\n";
      (void)!write(STDERR_FILENO, kLine, sizeof kLine - 1);
    }
  }
  _exit(1);
}

}  // namespace boxjail
