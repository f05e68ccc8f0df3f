// SPDX-License-Identifier: Apache-2.0
// The setuid rung's privilege split, its wire: the unprivileged setup process (no capability,
// the caller's ids) asks the privileged process for each mount over a SOCK_SEQPACKET socketpair,
// passing the fds it resolved with SCM_RIGHTS. The privileged side serves a closed set of
// requests (the Mounter calls), checks each against what the caller could do with a user
// namespace of its own, and touches no path, file or data the caller chose.
#pragma once

#include <boxjail/error.hpp>

#include "engine/mounts.hpp"
#include "sys/fd.hpp"

namespace boxjail {

// The unprivileged side's Mounter: every call is one request and one answer.
class MountBrokerClient final : public Mounter {
 public:
  explicit MountBrokerClient(int sock) : sock_(sock) {}
  MountCall make_base(UniqueFd* base) override;
  MountCall bind(int src_fd, int target_fd, bool recursive, unsigned attrs) override;
  MountCall mount_fs(const FsRequest& fs, int target_fd, UniqueFd* root) override;
  MountCall set_attr(int target_fd, unsigned attrs) override;

  // The end of the setup: the new root is complete, or the setup failed with `e`.
  void done();
  void failed(const Error& e);

 private:
  MountCall call(const std::string& request, const int* fds, int nfds, UniqueFd* fd_back);
  int sock_;
};

// The privileged side: serves requests on `sock` with `direct` until the client says it is done,
// and returns the base tmpfs it made (for the pivot). The client's own failure comes back as its
// Error; a malformed request, or a client gone without a word, ends the service with an error.
// Requests that a user namespace would not allow the caller are answered EPERM (or EACCES for a
// bind source the caller cannot read), never performed. Uses the real ids as the caller's.
result<UniqueFd> serve_mount_requests(int sock, Mounter& direct);

}  // namespace boxjail
