// SPDX-License-Identifier: Apache-2.0
// Subordinate ids (--uid-range, --gid-range): what /etc/subuid and /etc/subgid grant the caller,
// checked before anything starts so that a missing grant is named by file and line, and the maps
// written by Debian's newuidmap and newgidmap (package uidmap), the setuid programs that enforce
// those grants: boxjail never writes a subordinate id itself.
#pragma once

#include <boxjail/error.hpp>
#include <boxjail/spec.hpp>

#include <sys/types.h>

#include <string_view>
#include <vector>

namespace boxjail {

// Each range's outside ids must lie in one range that `file` ("/etc/subuid" or "/etc/subgid")
// grants `uid` (by its name in /etc/passwd or by number). `what` is "uid" or "gid"; `step` the
// step the error names. errno 0: no call failed, the host's policy says no.
result<void> check_subid_grants(uid_t uid, const std::vector<IdRange>& ranges, const char* file,
                                std::string_view what, std::string_view step,
                                const char* passwd = "/etc/passwd");

// Runs `program` ("newuidmap" or "newgidmap") for `pid`: the jail's own id (`inside` -> `outside`)
// and the ranges. Its stderr is the error's message when it fails.
result<void> run_id_mapper(const char* program, pid_t pid, std::uint32_t inside,
                           std::uint32_t outside, const std::vector<IdRange>& ranges,
                           std::string_view step);

}  // namespace boxjail
