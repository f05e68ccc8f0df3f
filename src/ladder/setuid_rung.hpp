// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boxjail/ladder.hpp>

namespace boxjail {

// The setuid rung from the caller's side: hands the Spec (as parsed, unresolved) to boxjail-suid
// as JSON on a sealed memfd, stays its parent, forwards signals to it, and returns its exit
// status, or the Error it reported on the error pipe. This process never gains privilege.
result<int> run_setuid_rung(const Spec& spec, const LadderOptions& options);

}  // namespace boxjail
