// SPDX-License-Identifier: Apache-2.0
// Building the sandbox root: the two pivots around the filesystem operations.
#pragma once

#include <boxjail/error.hpp>

namespace boxjail {

// make-root-rslave, mount-base-tmpfs, pivot-root: afterwards "/" is a private tmpfs holding
// /newroot (a mount point for the sandbox tree) and /oldroot (the host root).
result<void> enter_base_root();

// detach-old-root, pivot-new-root: afterwards "/" is /newroot and no host path is reachable.
result<void> enter_new_root();

}  // namespace boxjail
