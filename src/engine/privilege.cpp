// SPDX-License-Identifier: Apache-2.0
#include "engine/privilege.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "engine/steps.hpp"
#include "sys/fd.hpp"
#include "sys/fd_passing.hpp"
#include "sys/read_all.hpp"

namespace boxjail {
namespace {

Error failed(const char* step, const char* syscall, int err, const std::string& what) {
  return sys_error(step, syscall, "", err, what);
}

bool capabilities_empty() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &hdr, data) != 0) return false;
  for (const auto& d : data) {
    if (d.effective != 0 || d.permitted != 0 || d.inheritable != 0) return false;
  }
  return true;
}

// Every capability the kernel knows out of the bounding set (needs CAP_SETPCAP).
result<void> clear_bounding_set(const char* step) {
  for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      return failed(step, "prctl(PR_CAPBSET_DROP)", errno, "Can't clear the bounding set");
    }
  }
  return boost::outcome_v2::success();
}

}  // namespace

result<void> assume_caller_fs_ids(uid_t uid, gid_t gid) {
  const char* step = step::kCallerFsIds.data();
  // setfsuid() reports the previous value, not success: a second call reads the current one.
  setfsgid(gid);
  if (static_cast<gid_t>(setfsgid(static_cast<gid_t>(-1))) != gid) {
    return failed(step, "setfsgid", EPERM, "Can't take the caller's fs gid");
  }
  setfsuid(uid);
  if (static_cast<uid_t>(setfsuid(static_cast<uid_t>(-1))) != uid) {
    return failed(step, "setfsuid", EPERM, "Can't take the caller's fs uid");
  }
  return boost::outcome_v2::success();
}

result<void> keep_only_capabilities(std::initializer_list<int> caps) {
  const char* step = step::kLimitCapabilities.data();
  std::uint64_t keep = 0;
  for (int cap : caps) keep |= std::uint64_t{1} << cap;
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  for (int i = 0; i < 2; ++i) {
    data[i].effective = data[i].permitted = static_cast<std::uint32_t>(keep >> (32 * i));
  }
  if (syscall(SYS_capset, &hdr, data) != 0) {
    return failed(step, "capset", errno, "Can't limit the helper's capabilities");
  }
  __user_cap_data_struct now[2]{};
  if (syscall(SYS_capget, &hdr, now) != 0) return failed(step, "capget", errno, "capget");
  for (int i = 0; i < 2; ++i) {
    // Effective may hold less (the fs capabilities go with the fs ids), never more.
    if ((now[i].permitted | now[i].effective) & ~static_cast<std::uint32_t>(keep >> (32 * i)) ||
        now[i].inheritable != 0) {
      return failed(step, "capget", EPERM, "capabilities not limited as asked");
    }
  }
  return boost::outcome_v2::success();
}

result<void> keep_only_setup_capabilities() {
  BOXJAIL_TRY(clear_bounding_set(step::kLimitCapabilities.data()));
  return keep_only_capabilities(
      {CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID, CAP_SETPCAP, CAP_SYS_PTRACE});
}

result<void> drop_privileges_to(uid_t uid, gid_t gid, const char* step, bool keep_groups,
                                const std::vector<gid_t>* groups) {
  // The bounding set first: with it empty, no later execve of a file-capability or setuid
  // program can hand any capability back. Needs CAP_SETPCAP, which we still hold.
  BOXJAIL_TRY(clear_bounding_set(step));
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return failed(step, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)", errno, "Can't clear ambient caps");
  }
  // Without keep-caps, the kernel clears permitted and effective sets when no uid is 0 any more.
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) {
    return failed(step, "prctl(PR_SET_KEEPCAPS)", errno, "Can't clear keep-caps");
  }
  // Groups before gids before uids: each needs the privilege the next one gives up.
  if (groups) {
    if (setgroups(groups->size(), groups->data()) != 0) {
      return failed(step, "setgroups", errno, "Can't set the supplementary groups");
    }
  } else if (!keep_groups && setgroups(0, nullptr) != 0) {
    return failed(step, "setgroups", errno, "Can't drop supplementary groups");
  }
  if (setresgid(gid, gid, gid) != 0) return failed(step, "setresgid", errno, "Can't set gids");
  if (setresuid(uid, uid, uid) != 0) return failed(step, "setresuid", errno, "Can't set uids");
  // The kernel clears the capability sets only when the uids leave 0 of the current user
  // namespace, and raises the effective set when they become 0 there. A process that holds
  // capabilities in a user namespace where it never was uid 0 (the setuid rung's child in the
  // namespace root made for it) keeps them across setresuid, and one that becomes uid 0 there
  // (--uid 0) gets them back: cleared here explicitly, whatever the namespace and the uid.
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct none[2]{};
  if (syscall(SYS_capset, &hdr, none) != 0) {
    return failed(step, "capset", errno, "Can't clear the capability sets");
  }

  // Verify from the kernel's side. Each of these must fail for an unprivileged process.
  uid_t r, e, s;
  gid_t rg, eg, sg;
  if (getresuid(&r, &e, &s) != 0 || r != uid || e != uid || s != uid ||
      getresgid(&rg, &eg, &sg) != 0 || rg != gid || eg != gid || sg != gid) {
    return failed(step, "getresuid", EPERM,
                  "privilege drop not verified: ids are not the caller's");
  }
  if (uid != 0 && setresuid(static_cast<uid_t>(-1), 0, static_cast<uid_t>(-1)) == 0) {
    return failed(step, "setresuid", EPERM, "privilege drop not verified: root was regained");
  }
  if (uid != 0 && setgroups(0, nullptr) == 0) {
    return failed(step, "setgroups", EPERM, "privilege drop not verified: setgroups succeeded");
  }
  // Exactly the groups asked for: none, the caller's own (not checked), or `groups`.
  if (groups) {
    std::vector<gid_t> now(groups->size() + 1);
    const int n = getgroups(static_cast<int>(now.size()), now.data());
    now.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
    std::vector<gid_t> asked = *groups;
    std::sort(asked.begin(), asked.end());
    asked.erase(std::unique(asked.begin(), asked.end()), asked.end());
    std::sort(now.begin(), now.end());
    if (n < 0 || now != asked) {
      return failed(step, "getgroups", EPERM,
                    "privilege drop not verified: the groups are not the ones asked for");
    }
  } else if (!keep_groups && getgroups(0, nullptr) != 0) {
    return failed(step, "getgroups", EPERM, "privilege drop not verified: groups remain");
  }
  if (!capabilities_empty()) {
    return failed(step, "capget", EPERM, "privilege drop not verified: capabilities remain");
  }
  if (prctl(PR_CAPBSET_READ, 0, 0, 0, 0) != 0) {
    return failed(step, "prctl(PR_CAPBSET_READ)", EPERM,
                  "privilege drop not verified: the bounding set is not empty");
  }
  return boost::outcome_v2::success();
}

result<CallerAnswer> run_as_caller_with_fds(uid_t uid, gid_t gid, const char* step,
                                            const std::function<result<CallerAnswer>()>& work,
                                            std::size_t limit) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return failed(step, "socketpair", errno, "socketpair");
  }
  UniqueFd from_child(sv[0]), to_parent(sv[1]);
  const pid_t pid = fork();
  if (pid < 0) return failed(step, "fork", errno, "Can't fork");
  if (pid == 0) {
    from_child.reset();
    auto r = [&]() -> result<CallerAnswer> {
      BOXJAIL_TRY(drop_privileges_to(uid, gid, step, true));
      return work();
    }();
    // One tag byte, carrying the fds: 'O' and the result, or 'E' and the Error record.
    const std::string out = r ? "O" + r.value().text : "E" + serialize(r.error());
    std::vector<int> fds;
    if (r) {
      for (const auto& fd : r.value().fds) fds.push_back(fd.get());
    }
    if (sys::send_with_fds(to_parent.get(), out.substr(0, 1), fds.data(),
                           static_cast<int>(fds.size())) != 0) {
      _exit(1);
    }
    for (size_t off = 1; off < out.size();) {
      const ssize_t n = write(to_parent.get(), out.data() + off, out.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) _exit(1);
      off += static_cast<size_t>(n);
    }
    _exit(0);
  }
  to_parent.reset();
  CallerAnswer answer;
  // The tag byte and the fds, then the rest of the stream.
  sys::Received first = sys::receive_with_fds(from_child.get(), 1, kMaxCallerFds);
  answer.fds = std::move(first.fds);
  const char tag = first.data.size() == 1 ? first.data[0] : 0;
  const int err = first.err != 0           ? first.err
                  : first.data.size() == 1 ? sys::read_all(from_child.get(), answer.text, limit + 1)
                                           : EPIPE;
  from_child.reset();  // a child still writing past the limit gets EPIPE, not a wait forever
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (err != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return failed(step, "fork", err != 0 ? err : EPIPE,
                  "The unprivileged process ended without an answer");
  }
  if (tag == 'O') return answer;
  BOOST_OUTCOME_TRY(record, deserialize(answer.text));
  return std::move(record.error);
}

result<std::string> run_as_caller(uid_t uid, gid_t gid, const char* step,
                                  const std::function<result<std::string>()>& work,
                                  std::size_t limit) {
  BOOST_OUTCOME_TRY(answer, run_as_caller_with_fds(
                                uid, gid, step,
                                [&]() -> result<CallerAnswer> {
                                  BOOST_OUTCOME_TRY(text, work());
                                  return CallerAnswer{std::move(text), {}};
                                },
                                limit));
  return std::move(answer.text);
}

}  // namespace boxjail
