// SPDX-License-Identifier: Apache-2.0
#include "engine/monitor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "engine/channel.hpp"
#include "engine/child.hpp"
#include "engine/identity.hpp"
#include "engine/slim_monitor.hpp"
#include "engine/steps.hpp"

namespace boxjail {
namespace {

// Returns 0 or an errno.
int write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;
    off += static_cast<size_t>(n);
  }
  return 0;
}

// Namespace inodes in bwrap's order; mnt always, the others only when unshared.
std::vector<std::pair<const char*, unsigned long long>> namespace_ids(const Spec& spec, pid_t pid) {
  struct Entry {
    const char* name;
    bool present;
  };
  const Entry entries[] = {
      {"cgroup", spec.unshare_cgroup}, {"ipc", spec.unshare_ipc}, {"mnt", true},
      {"net", spec.unshare_net},       {"pid", spec.unshare_pid}, {"uts", spec.unshare_uts}};
  std::vector<std::pair<const char*, unsigned long long>> out;
  for (const auto& e : entries) {
    if (!e.present) continue;
    std::string path = "/proc/" + std::to_string(pid) + "/ns/" + e.name;
    struct stat st;
    if (stat(path.c_str(), &st) == 0) out.emplace_back(e.name, st.st_ino);
  }
  return out;
}

// The jailed command's pid, for a runtime that signals or watches it: written to a temporary
// file beside PATH and renamed over it, so a reader never sees a partial pid. By the monitor,
// which holds no privilege by then in the setuid rung: the caller's path, the caller's rights.
result<void> write_pid_file(const std::string& path, pid_t pid) {
  auto failed = [&](const char* call) {
    return sys_error("monitor", call, path, errno, "Can't write the pid file " + path);
  };
  if (pid <= 0) {
    errno = ESRCH;
    return failed("recvmsg(SCM_CREDENTIALS)");
  }
  std::string tmp = path + ".XXXXXX";
  const int fd = mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return failed("mkostemp");
  const std::string text = std::to_string(pid) + "\n";
  const int err = write_all(fd, text);
  if (fchmod(fd, 0644) != 0 || err != 0 || close(fd) != 0) {
    if (err != 0) errno = err;
    auto e = failed("write");
    unlink(tmp.c_str());
    return e;
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    auto e = failed("rename");
    unlink(tmp.c_str());
    return e;
  }
  return boost::outcome_v2::success();
}

}  // namespace

ChildInfo describe_child(const Spec& spec, pid_t child, const std::string& rung,
                         const std::string& ladder_mode, bool want_namespaces) {
  ChildInfo info;
  if (spec.info_fd < 0 && spec.json_status_fd < 0 && !want_namespaces) return info;
  auto ids = namespace_ids(spec, child);
  if (want_namespaces) {
    for (const auto& [name, ino] : ids) info.namespaces.emplace_back(name, ino);
    struct stat st;
    const std::string user = "/proc/" + std::to_string(child) + "/ns/user";
    if (spec.unshare_user && stat(user.c_str(), &st) == 0) {
      info.namespaces.emplace_back("user", st.st_ino);
    }
  }
  if (spec.info_fd >= 0) {
    std::string& s = info.info;
    s = "{\n    \"child-pid\": " + std::to_string(child);
    for (const auto& [name, ino] : ids) {
      s += ",\n    \"" + std::string(name) + "-namespace\": " + std::to_string(ino);
    }
    s += "\n}\n";
  }
  if (spec.json_status_fd >= 0) {
    std::string& s = info.json_status;
    s = "{ \"child-pid\": " + std::to_string(child);
    for (const auto& [name, ino] : ids) {
      s += ", \"" + std::string(name) + "-namespace\": " + std::to_string(ino);
    }
    if (!rung.empty()) s += ", \"boxjail-rung\": \"" + rung + "\"";
    if (!ladder_mode.empty()) s += ", \"boxjail-ladder-mode\": \"" + ladder_mode + "\"";
    s += " }\n";
  }
  return info;
}

result<void> write_child_info(const Spec& spec, const ChildInfo& info) {
  if (spec.info_fd >= 0) {
    int err = write_all(spec.info_fd, info.info);
    close(spec.info_fd);
    // bwrap dies here: a caller that asked for the info and cannot get it must not get a jail.
    if (err != 0) return sys_error("monitor", "write", "info-fd", err, "Write to info_fd");
  }
  if (spec.json_status_fd >= 0) {
    if (int err = write_all(spec.json_status_fd, info.json_status); err != 0) {
      return sys_error("monitor", "write", "json-status-fd", err, "Write to json_status_fd");
    }
  }
  return boost::outcome_v2::success();
}

std::optional<int> forward_until_exit(const Supervised& s, int timeout_ms) {
  for (;;) {
    pollfd p{s.signal_fd, POLLIN, 0};
    const int n = poll(&p, 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return std::nullopt;
    if (n < 0) break;  // cannot poll: fall back to a blocking wait below
    signalfd_siginfo si;
    const ssize_t got = read(s.signal_fd, &si, sizeof si);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    // EOF, an error, or a fd that is no signalfd: nothing more will come from it, so the
    // blocking wait below ends the supervision instead of polling it again for ever.
    if (got != sizeof si) break;
    if (static_cast<int>(si.ssi_signo) != SIGCHLD) {
      // Forwarded to the sandbox's first process: the command itself, or pid 1, which passes it
      // on to the command.
      kill(s.child, static_cast<int>(si.ssi_signo));
      continue;
    }
    int status;
    if (waitpid(s.wait_for, &status, WNOHANG) == s.wait_for) return propagate_status(status);
  }
  int status = 0;
  pid_t waited;
  while ((waited = waitpid(s.wait_for, &status, 0)) < 0 && errno == EINTR) {
  }
  if (waited < 0) return 255;  // not our child (ECHILD): no status to report
  return propagate_status(status);
}

void write_exit_code(int json_status_fd, int exit_status) {
  if (json_status_fd < 0) return;
  // The command has run; a reader that went away by now changes nothing of its outcome.
  (void)write_all(json_status_fd, "{ \"exit-code\": " + std::to_string(exit_status) + " }\n");
  close(json_status_fd);
}

namespace {

// Whether `s.wait_for` has ended; its status is reaped unless our parent reaps it (handover).
std::optional<int> poll_exit(const Supervised& s) {
  if (s.parent_reaps) {
    // WNOWAIT never reaps, and for a process that is not our child waitid fails: the pidfd's
    // readiness is the only sign, and its status belongs to the caller.
    return 255;
  }
  int status;
  if (waitpid(s.wait_for, &status, WNOHANG) == s.wait_for) return propagate_status(status);
  return std::nullopt;
}

}  // namespace

result<SetupOutcome> await_exec(const Spec& spec, const Supervised& s) {
  std::optional<Error> setup_error;
  std::optional<int> ended_by;  // the signal that ended the setup
  SetupOutcome out;
  // The command's own record, sent right before its execve: the kernel names its sender.
  auto on_exec = [&](const channel::Message& msg) {
    out.exec_started = true;
    out.command = msg.sender;
    if (!spec.pid_file) return;
    if (auto written = write_pid_file(*spec.pid_file, msg.sender); !written) {
      setup_error = std::move(written).error();
      kill(s.child, SIGKILL);
    }
  };

  // The child's records (exec, or a failure) come on the channel, which reaches EOF when the
  // command execs (close-on-exec; pid 1 closes its copy).
  bool channel_open = true;
  while (channel_open && !out.exit_status) {
    pollfd fds[3] = {{s.channel, POLLIN, 0}, {s.pidfd, POLLIN, 0}, {s.signal_fd, POLLIN, 0}};
    // Without a pidfd or a signalfd nothing tells of the child's death but a look now and then.
    const int timeout = s.pidfd < 0 && s.signal_fd < 0 ? 10 : -1;
    const int n = poll(fds, 3, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("monitor", "poll", "", errno, "poll");
    }
    if (fds[0].revents != 0) {
      auto received = channel::receive(s.channel);
      // A sandbox we killed (ended_by) may leave its end reset rather than closed: its end.
      if (!received && ended_by) {
        channel_open = false;
        continue;
      }
      BOOST_OUTCOME_TRY(msg, std::move(received));
      if (!msg) {
        channel_open = false;
      } else if (msg->kind == channel::Kind::Exec) {
        on_exec(*msg);
      } else if (msg->kind == channel::Kind::Fail) {
        setup_error = std::move(msg->error);
      } else if (msg->kind == channel::Kind::MapLock) {
        auto mapped = s.write_requested_maps
                          ? s.write_requested_maps()
                          : result<void>(sys_error(std::string(step::kLockUserns), "recv", "",
                                                   EPROTO, "Unexpected request for id maps"));
        if (mapped) {
          channel::send(s.channel, channel::Kind::Go);
        } else {
          // The child waits for Go; without it no command may run.
          setup_error = std::move(mapped).error();
          kill(s.child, SIGKILL);
        }
      }
      continue;  // the records first: an exit seen below must not hide the record before it
    }
    if ((fds[2].revents & POLLIN) && out.exec_started) {
      out.exit_status = forward_until_exit(s, 0);
    } else if (fds[2].revents & POLLIN) {
      // Before the command exists, a signal for it ends the setup. Forwarded, it might never
      // act: a namespace's init ignores it from outside by the kernel's rule, and the setuid
      // rung's privileged stage must not wait on after its caller asked it to end. SIGKILL
      // reaches every process the monitor may signal; the status is the signal's own.
      signalfd_siginfo si;
      const ssize_t got = read(s.signal_fd, &si, sizeof si);
      if (got == sizeof si && static_cast<int>(si.ssi_signo) != SIGCHLD) {
        if (!ended_by) ended_by = static_cast<int>(si.ssi_signo);
        kill(s.child, SIGKILL);
      } else if (got == sizeof si) {
        out.exit_status = poll_exit(s);
      } else if (got < 0 && errno != EINTR && errno != EAGAIN) {
        return sys_error("monitor", "read", "signalfd", errno, "read");
      }
    } else if ((fds[1].revents & POLLIN) || n == 0) {
      out.exit_status = poll_exit(s);
    }
  }
  // Records sent just before the child exited are still queued.
  while (channel_open) {
    pollfd p{s.channel, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) break;
    auto received = channel::receive(s.channel);
    if (!received && ended_by) break;
    BOOST_OUTCOME_TRY(msg, std::move(received));
    if (!msg) break;
    if (msg->kind == channel::Kind::Exec) on_exec(*msg);
    if (msg->kind == channel::Kind::Fail) setup_error = std::move(msg->error);
  }
  if (ended_by && !out.exec_started) {
    if (!out.exit_status && !s.parent_reaps) {
      while (waitpid(s.wait_for, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    out.exit_status = 128 + *ended_by;
  }
  if (!setup_error && !out.exec_started && out.exit_status && s.parent_reaps) {
    setup_error =
        sys_error("monitor", "pidfd", "", ECHILD, "The sandbox ended before its command ran");
  }
  if (setup_error) {
    if (!out.exit_status && !s.parent_reaps) {
      int status;
      while (waitpid(s.wait_for, &status, 0) < 0 && errno == EINTR) {
      }
    }
    return std::move(*setup_error);
  }
  return out;
}

int supervise_command(const Spec& spec, const Supervised& s, const SetupOutcome& setup,
                      const ShedOptions& shed) {
  std::optional<int> exit_status = setup.exit_status;
  // A long-lived jail sheds the setup image (slim_monitor.hpp).
  if (!exit_status && setup.exec_started && shed.after_ms >= 0) {
    exit_status = forward_until_exit(s, shed.after_ms);
    // Returns only if the exec failed.
    if (!exit_status) shed_setup_image(s, spec.json_status_fd, shed.cgroup);
  }
  if (!exit_status) exit_status = forward_until_exit(s, -1);
  if (setup.exec_started) {
    write_exit_code(spec.json_status_fd, *exit_status);
  } else if (spec.json_status_fd >= 0) {
    close(spec.json_status_fd);
  }
  return *exit_status;
}

}  // namespace boxjail
