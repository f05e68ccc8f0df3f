// SPDX-License-Identifier: Apache-2.0
// The privileged calls of the filesystem setup, as a closed set of operations on fds: a Mounter.
//
// The steps (fs_ops.cpp, proc_dev.cpp) resolve every destination inside the new root, create the
// directories, files and symlinks and write the data themselves, then ask a Mounter to mount onto
// the fd they resolved. Two Mounters, one engine:
//  - DirectMounter makes the calls in the same process. The root and userns rungs use it: the
//    process that runs the steps already holds the privilege, and only over its own namespaces.
//  - MountBrokerClient (mount_broker.hpp) sends each call as a request to the privileged process
//    of the setuid rung, so that the process that touches caller-chosen paths and data holds no
//    capability at all, and the one that holds them touches none (docs/design.md).
//
// Every mount is built detached with the new mount API (Linux 5.2+; mount_setattr 5.12+), given its
// final flags while nobody can see it, and attached to a destination fd resolved inside the new
// root: no window where a bind is writable before its read-only remount, no path resolved twice.
// Older kernels get ClassicMounter, which stages each mount where nobody can see it instead.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sys/fd.hpp"

namespace boxjail {

// The outcome of one Mounter call: err 0 on success, else the errno and the call that failed.
struct MountCall {
  int err = 0;
  const char* syscall = "";
  bool ok() const { return err == 0; }
};

// A new filesystem instance: its type, string options ({"mode","0755"}; an empty value sets a
// flag, {"newinstance",""}) and MOUNT_ATTR_* flags.
struct FsRequest {
  std::string type;
  std::vector<std::pair<std::string, std::string>> options;
  unsigned attrs = 0;
};

class Mounter {
 public:
  virtual ~Mounter() = default;
  // mount-base-tmpfs: an unbindable tmpfs on /tmp holding newroot/, a private mount point of its
  // own; *base gets a fd of the base's root. Host paths under /tmp are covered from then on.
  virtual MountCall make_base(UniqueFd* base) = 0;
  // A detached copy of the tree at `src_fd` (with its submounts when `recursive`), `attrs`
  // applied to every mount in it, attached onto the object `target_fd` names.
  virtual MountCall bind(int src_fd, int target_fd, bool recursive, unsigned attrs) = 0;
  // A new filesystem attached onto `target_fd`; `root` (if given) gets a fd of its root.
  virtual MountCall mount_fs(const FsRequest& fs, int target_fd, UniqueFd* root) = 0;
  // Adds `attrs` to the mount whose root `target_fd` is (not recursive): --remount-ro.
  virtual MountCall set_attr(int target_fd, unsigned attrs) = 0;
};

// The calls themselves, in this process.
class DirectMounter final : public Mounter {
 public:
  MountCall make_base(UniqueFd* base) override;
  MountCall bind(int src_fd, int target_fd, bool recursive, unsigned attrs) override;
  MountCall mount_fs(const FsRequest& fs, int target_fd, UniqueFd* root) override;
  MountCall set_attr(int target_fd, unsigned attrs) override;
};

// The same calls with classic mount(2), for kernels without mount_setattr (before 5.12):
// mounts_classic.cpp says how, and what it cannot promise.
class ClassicMounter final : public Mounter {
 public:
  MountCall make_base(UniqueFd* base) override;
  MountCall bind(int src_fd, int target_fd, bool recursive, unsigned attrs) override;
  MountCall mount_fs(const FsRequest& fs, int target_fd, UniqueFd* root) override;
  MountCall set_attr(int target_fd, unsigned attrs) override;

 private:
  std::string new_stage(bool directory, MountCall* call);
  MountCall staged(bool directory, bool need_point, int target_fd, UniqueFd* root,
                   const std::function<int(const std::string&)>& do_mount,
                   const std::function<MountCall(int, const std::string&)>& finish);
  UniqueFd staging_;  // base/staging, mode 0700, made with the base
  unsigned next_stage_ = 0;
};

// Both Mounters' last part of mount-base-tmpfs, on the base just attached: newroot/ as a mount
// point of its own, the base unbindable. Leaves the cwd at the base.
MountCall lay_out_base(int base_fd);

// The Mounter this kernel takes, chosen once per process by probing (sys::mount_api()).
std::unique_ptr<Mounter> kernel_mounter();

}  // namespace boxjail
