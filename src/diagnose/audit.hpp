// SPDX-License-Identifier: Apache-2.0
// The kernel's own account of a denial: AppArmor's audit records, as the kernel log carries them
// (/dev/kmsg, when no audit daemon takes them). Pure functions over the log's text, so tests feed
// them recorded lines; facts.cpp reads the log.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace boxjail::diag {

struct AuditRecord {
  std::uint64_t usec = 0;                     // the record's time, microseconds since boot
  std::string text;                           // from `apparmor="DENIED"` on, as the kernel wrote it
  std::map<std::string, std::string> fields;  // key=value pairs, quotes removed
};

// The apparmor="DENIED" records in a kernel log text (/dev/kmsg records, "PRIO,SEQ,USEC,FLAGS;
// message" per line, or `journalctl -k -o short-monotonic` lines, "[SECONDS.MICROS] host
// kernel: message") made by one of `pids` at or after `since_usec`, oldest first.
std::vector<AuditRecord> apparmor_denials(std::string_view log, const std::set<long>& pids,
                                          std::uint64_t since_usec);

// The record that explains a failure of `step` among the attempt's records: the operation that
// step makes (a capability or userns_create for the clone, a mount for a mount step, the file for
// a map write), else the last one; nullptr when there is none.
const AuditRecord* record_for_step(const std::vector<AuditRecord>& records, std::string_view step);

// What a record says was denied, in words ("the capability sys_admin (CAP_SYS_ADMIN)", "write
// access to /proc/123/uid_map", ...).
std::string denied_what(const AuditRecord& r);

// The profile rule that would allow it (`capability sys_admin,`, `userns,`, ...), or nullopt when
// the record does not say enough to write one.
std::optional<std::string> allowing_rule(const AuditRecord& r);

}  // namespace boxjail::diag
