// SPDX-License-Identifier: Apache-2.0
#include "engine/channel.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace boxjail::channel {
namespace {

// Well under the smallest SOCK_SEQPACKET message the kernel takes (its send buffer, ~200 kB).
constexpr std::size_t kMaxRecord = 60000;

}  // namespace

void send_error(int fd, const Error& e) {
  std::string msg(1, static_cast<char>(Kind::Fail));
  // A record larger than one message would be lost whole, and one cut blindly is unreadable.
  msg += serialize(e, kMaxRecord);
  (void)::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL);
}

void send(int fd, Kind kind) {
  char c = static_cast<char>(kind);
  (void)::send(fd, &c, 1, MSG_NOSIGNAL);
}

result<std::optional<Message>> receive(int fd) {
  std::string buf(65536, '\0');
  // The sender's credentials arrive when the receiving end has SO_PASSCRED; the kernel gives its
  // pid as the receiver's pid namespace sees it.
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
  iovec iov{buf.data(), buf.size()};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("monitor", "recv", "", errno, "Reading the sandbox's status failed");
  if (n == 0) return std::optional<Message>{};
  buf.resize(static_cast<size_t>(n));
  Message m{static_cast<Kind>(buf[0]), {}, 0};
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
      ucred cred{};
      std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
      m.sender = cred.pid;
    }
  }
  if (m.kind == Kind::Fail) {
    BOOST_OUTCOME_TRY(record, deserialize(buf.substr(1)));
    m.error = std::move(record.error);
  }
  return std::optional<Message>{std::move(m)};
}

}  // namespace boxjail::channel
