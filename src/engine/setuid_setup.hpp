// SPDX-License-Identifier: Apache-2.0
// The setuid rung's privilege split, its processes: the privileged child forks the unprivileged
// setup process, which drops to the caller's ids with no capability and builds the new root
// (build_new_root, the same code every rung runs), while the privileged child serves its mount
// requests (mount_broker.hpp) and keeps nothing of it but the base tmpfs to pivot into.
#pragma once

#include <boxjail/error.hpp>
#include <boxjail/spec.hpp>

#include "engine/paths.hpp"
#include "engine/plan.hpp"
#include "sys/fd.hpp"

namespace boxjail {

// Returns the base tmpfs holding the finished newroot. `host_root_fd` is the host's "/".
result<UniqueFd> build_new_root_unprivileged(const Spec& spec, const Plan& plan, int host_root_fd,
                                             Resolver resolver);

}  // namespace boxjail
