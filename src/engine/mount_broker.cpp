// SPDX-License-Identifier: Apache-2.0
#include "engine/mount_broker.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "engine/steps.hpp"
#include "sys/fd_passing.hpp"
#include "sys/kernel_features.hpp"

namespace boxjail {
namespace {

// One request is one SOCK_SEQPACKET message: a kind byte, the attrs (4 bytes, host order), then
// what the kind needs. Fds travel alongside in SCM_RIGHTS.
enum class Kind : char {
  MakeBase = 'B',  // no fd; answered with the base's fd
  Bind = 'M',      // + recursive byte; fds: source, target
  MountFs = 'F',   // + "type\0key\0value\0..."; fd: target; answered with the new root's fd
  SetAttr = 'A',   // fd: target
  Done = 'D',      // the new root is complete
  Failed = 'E',    // + the client's serialized Error
};
constexpr std::size_t kHeader = 1 + sizeof(std::uint32_t);
constexpr std::size_t kMaxMessage = 65536;
constexpr int kMaxFds = 2;
// The answer: errno (4 bytes) and the name of the call that failed.
constexpr std::size_t kSyscallName = 24;
constexpr const char* kPolicy = "mount-broker";  // the "syscall" of a refusal by the policy

std::string header(Kind kind, unsigned attrs) {
  std::string m(kHeader, '\0');
  m[0] = static_cast<char>(kind);
  const std::uint32_t a = attrs;
  std::memcpy(m.data() + 1, &a, sizeof a);
  return m;
}

using sys::Received;
using sys::send_with_fds;

Received receive_with_fds(int sock, std::size_t max_data) {
  return sys::receive_with_fds(sock, max_data, kMaxFds);
}

// ---- The privileged side's rules ---------------------------------------------------------------

constexpr unsigned kKnownAttrs =
    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;

// The filesystems the setuid rung may mount, the attributes each always gets, and the only
// options it may be given. Not overlay (CVE-2026-41163: overlays are what a user reached by
// hijacking setuid bwrap), not tmpfs's size (bwrap refuses --size in setuid mode) nor a SELinux
// context; devpts only as a new instance (a plain devpts mount is the host's, with its ptys).
struct FsRule {
  std::string_view type;
  unsigned forced;
  std::array<std::string_view, 3> keys;  // allowed option keys ("" = unused slot)
};
constexpr FsRule kFsRules[] = {
    {"tmpfs", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, {"mode", "", ""}},
    {"proc", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, {"", "", ""}},
    {"devpts", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, {"newinstance", "ptmxmode", "mode"}},
    {"mqueue", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, {"", "", ""}},
};

bool is_mode(std::string_view v) {
  if (v.empty() || v.size() > 5) return false;
  for (char c : v) {
    if (c < '0' || c > '7') return false;
  }
  return std::stoul(std::string(v), nullptr, 8) <= 07777;
}

// Parses "type\0key\0value\0..." and checks it against kFsRules. False: refused.
bool allowed_filesystem(std::string_view text, FsRequest* fs) {
  std::vector<std::string> parts;
  while (!text.empty()) {
    const auto end = text.find('\0');
    if (end == std::string_view::npos) return false;
    parts.emplace_back(text.substr(0, end));
    text.remove_prefix(end + 1);
  }
  if (parts.empty() || parts.size() % 2 != 1) return false;
  const FsRule* rule = nullptr;
  for (const auto& r : kFsRules) {
    if (r.type == parts[0]) rule = &r;
  }
  if (rule == nullptr) return false;
  fs->type = parts[0];
  fs->attrs |= rule->forced;
  bool new_instance = false;
  for (std::size_t i = 1; i < parts.size(); i += 2) {
    const std::string& key = parts[i];
    const std::string& value = parts[i + 1];
    bool known = false;
    for (auto k : rule->keys) known = known || (!k.empty() && k == key);
    if (!known) return false;
    if (key == "newinstance") {
      if (!value.empty()) return false;
      new_instance = true;
    } else if (!is_mode(value)) {
      return false;
    }
    fs->options.emplace_back(key, value);
  }
  return rule->type != "devpts" || new_instance;
}

// The caller may bind only what it could read or write itself (its terminal, a --perms 0200
// --bind-data file): faccessat2 without AT_EACCESS checks the real ids, the caller's, and the
// kernel drops the capabilities for that check. A directory only with its submounts, as the
// kernel demands in a user namespace: a bare copy would uncover what a mount on it hides.
MountCall check_bind(int src_fd, bool recursive) {
  struct stat st;
  if (fstat(src_fd, &st) != 0) return {errno, "fstat"};
  if (S_ISDIR(st.st_mode) && !recursive) return {EPERM, kPolicy};
  int readable = 0, writable = 0;
  const char* call = sys::access_fd(src_fd, R_OK, &readable);
  sys::access_fd(src_fd, W_OK, &writable);
  if (readable != 0 && writable != 0) return {EACCES, call};
  return {};
}

MountCall serve_one(Kind kind, std::string_view body, unsigned attrs, std::vector<UniqueFd>& fds,
                    Mounter& direct, UniqueFd* base, UniqueFd* fd_back) {
  if ((attrs & ~kKnownAttrs) != 0) return {EPERM, kPolicy};
  switch (kind) {
    case Kind::MakeBase:
      if (*base) return {EPERM, kPolicy};  // one base, the one the pivot uses
      if (MountCall call = direct.make_base(base); !call.ok()) return call;
      *fd_back = UniqueFd(fcntl(base->get(), F_DUPFD_CLOEXEC, 3));
      return {};
    case Kind::Bind: {
      if (body.size() != 1) return {EPROTO, kPolicy};
      const bool recursive = body[0] != 0;
      if (MountCall check = check_bind(fds[0].get(), recursive); !check.ok()) return check;
      // nosuid always: nothing bound may raise privileges in the sandbox.
      return direct.bind(fds[0].get(), fds[1].get(), recursive, attrs | MOUNT_ATTR_NOSUID);
    }
    case Kind::MountFs: {
      FsRequest fs;
      fs.attrs = attrs;
      if (!allowed_filesystem(body, &fs)) return {EPERM, kPolicy};
      return direct.mount_fs(fs, fds[0].get(), fd_back);
    }
    case Kind::SetAttr:
      // Only what --remount-ro does: add read-only, never take a flag away.
      if (attrs != MOUNT_ATTR_RDONLY) return {EPERM, kPolicy};
      return direct.set_attr(fds[0].get(), attrs);
    default:
      return {EPROTO, kPolicy};
  }
}

int fds_for(Kind kind) {
  switch (kind) {
    case Kind::Bind:
      return 2;
    case Kind::MountFs:
    case Kind::SetAttr:
      return 1;
    default:
      return 0;
  }
}

Error broker_error(int err, const std::string& what) {
  return sys_error(std::string(step::kUnprivilegedSetup), "recvmsg", "", err, what);
}

}  // namespace

// ---- The unprivileged side ---------------------------------------------------------------------

MountCall MountBrokerClient::call(const std::string& request, const int* fds, int nfds,
                                  UniqueFd* fd_back) {
  if (int err = send_with_fds(sock_, request, fds, nfds); err != 0) return {err, "sendmsg"};
  Received answer = receive_with_fds(sock_, sizeof(std::int32_t) + kSyscallName);
  if (answer.err != 0) return {answer.err, "recvmsg"};
  if (answer.data.size() != sizeof(std::int32_t) + kSyscallName) return {EPROTO, "recvmsg"};
  std::int32_t err;
  std::memcpy(&err, answer.data.data(), sizeof err);
  if (err != 0) {
    // The name of the failed call: one of a fixed set, so its literal outlives this message.
    static constexpr const char* kNames[] = {"fsopen",    "fsconfig",      "fsmount", "move_mount",
                                             "open_tree", "mount_setattr", "mount",   "mkdir",
                                             "fchdir",    "open",          "fstat",   "faccessat2",
                                             "faccessat", "mount-broker"};
    const std::string_view name(answer.data.data() + sizeof err);
    const char* known = kPolicy;
    for (const char* n : kNames) {
      if (name == n) known = n;
    }
    return {err, known};
  }
  if (fd_back) {
    if (answer.fds.size() != 1) return {EPROTO, "recvmsg"};
    *fd_back = std::move(answer.fds[0]);
  }
  return {};
}

MountCall MountBrokerClient::make_base(UniqueFd* base) {
  return call(header(Kind::MakeBase, 0), nullptr, 0, base);
}

MountCall MountBrokerClient::bind(int src_fd, int target_fd, bool recursive, unsigned attrs) {
  const int fds[] = {src_fd, target_fd};
  return call(header(Kind::Bind, attrs) + std::string(1, recursive ? 1 : 0), fds, 2, nullptr);
}

MountCall MountBrokerClient::mount_fs(const FsRequest& fs, int target_fd, UniqueFd* root) {
  std::string request = header(Kind::MountFs, fs.attrs);
  request.append(fs.type).push_back('\0');
  for (const auto& [key, value] : fs.options) {
    request.append(key).push_back('\0');
    request.append(value).push_back('\0');
  }
  UniqueFd unused;
  return call(request, &target_fd, 1, root ? root : &unused);
}

MountCall MountBrokerClient::set_attr(int target_fd, unsigned attrs) {
  return call(header(Kind::SetAttr, attrs), &target_fd, 1, nullptr);
}

void MountBrokerClient::done() { (void)send_with_fds(sock_, header(Kind::Done, 0), nullptr, 0); }

void MountBrokerClient::failed(const Error& e) {
  const std::string record = serialize(e, kMaxMessage - kHeader);
  (void)send_with_fds(sock_, header(Kind::Failed, 0) + record, nullptr, 0);
}

// ---- The privileged side -----------------------------------------------------------------------

result<UniqueFd> serve_mount_requests(int sock, Mounter& direct) {
  UniqueFd base;
  for (;;) {
    Received request = receive_with_fds(sock, kMaxMessage);
    if (request.err != 0) return broker_error(request.err, "Bad request from the setup process");
    if (request.data.empty()) {
      return broker_error(EPIPE, "The unprivileged setup process ended without a word");
    }
    if (request.data.size() < kHeader) return broker_error(EPROTO, "Short request");
    const auto kind = static_cast<Kind>(request.data[0]);
    std::uint32_t attrs;
    std::memcpy(&attrs, request.data.data() + 1, sizeof attrs);
    const std::string_view body = std::string_view(request.data).substr(kHeader);
    if (kind == Kind::Done) {
      if (!base) return broker_error(EPROTO, "Setup done without a new root");
      return base;
    }
    if (kind == Kind::Failed) {
      BOOST_OUTCOME_TRY(record, deserialize(std::string(body)));
      return std::move(record.error);
    }
    // Exactly the fds the kind takes: anything else is not a request we serve.
    if (static_cast<int>(request.fds.size()) != fds_for(kind)) {
      return broker_error(EPROTO, "Request with the wrong number of fds");
    }
    UniqueFd fd_back;
    const MountCall call = serve_one(kind, body, attrs, request.fds, direct, &base, &fd_back);
    if (call.err == EPROTO && std::string_view(call.syscall) == kPolicy) {
      return broker_error(EPROTO, "Malformed request from the setup process");
    }
    std::string answer(sizeof(std::int32_t) + kSyscallName, '\0');
    const std::int32_t err = call.err;
    std::memcpy(answer.data(), &err, sizeof err);
    std::strncpy(answer.data() + sizeof err, call.syscall, kSyscallName - 1);
    const int back = fd_back.get();
    if (int e = send_with_fds(sock, answer, &back, call.ok() && fd_back ? 1 : 0); e != 0) {
      return broker_error(e, "Can't answer the setup process");
    }
  }
}

}  // namespace boxjail
