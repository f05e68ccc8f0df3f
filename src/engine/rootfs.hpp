// SPDX-License-Identifier: Apache-2.0
// Building the sandbox root: a private base tmpfs holding newroot, the filesystem operations run
// into it while the host root is still "/", then one pivot_root into it.
#pragma once

#include <boxjail/error.hpp>

#include "sys/fd.hpp"

namespace boxjail {

// make-root-rslave: from here on nothing mounted in this namespace propagates to the host.
result<void> make_root_rslave();

// mount-base-tmpfs is a Mounter call (mounts.hpp): in the setuid rung the privileged side
// makes it.

// The current top of newroot: an operation may have mounted over it (--bind / /), and a fd taken
// before that would still point at the covered directory.
result<UniqueFd> open_new_root(int base_fd);

// pivot-root, detach-old-root: afterwards "/" is newroot and no host path is reachable.
// `host_root_fd` is the host's root, opened before the pivot.
result<void> enter_new_root(int base_fd, int host_root_fd);

}  // namespace boxjail
