// SPDX-License-Identifier: Apache-2.0
// Names of host users and groups, read from /etc/passwd and /etc/group themselves: boxjail is
// linked statically and calls no NSS function, so only the files' entries are known (an LDAP or
// systemd-homed user is named by number instead).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>

namespace boxjail {

// "name" or "uid" (its primary gid from /etc/passwd, or the same number when it has no entry),
// or "uid:gid". The error names the file when a name is not in it.
std::optional<std::pair<uid_t, gid_t>> resolve_host_user(const std::string& text,
                                                         std::string* error,
                                                         const std::string& passwd = "/etc/passwd");

// "name" (from /etc/group) or "gid".
std::optional<gid_t> resolve_host_group(const std::string& text, std::string* error,
                                        const std::string& group = "/etc/group");

// The name /etc/passwd gives `uid`, or nullopt.
std::optional<std::string> host_user_name(uid_t uid, const std::string& passwd = "/etc/passwd");

}  // namespace boxjail
