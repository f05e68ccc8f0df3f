// SPDX-License-Identifier: Apache-2.0
// The library entry point: run a resolved Spec as a jail and supervise it to the end.
#pragma once

#include <boxjail/error.hpp>
#include <boxjail/spec.hpp>

namespace boxjail {

struct RunOptions {
  // Test hook: resolve destinations with the O_PATH walk instead of openat2, as on old kernels.
  bool force_path_walk = false;
};

// Runs the jail. On success returns the exit status to report (the command's status, or
// 128+signal); a setup failure anywhere, in the monitor or inside the child, is the Error.
// The Spec must have been through resolve_spec().
result<int> run(const Spec& spec, const RunOptions& options = {});

}  // namespace boxjail
