// SPDX-License-Identifier: Apache-2.0
// --seccomp-policy: seccomp policies as OCI runtime-spec / Docker JSON files, compiled with
// libseccomp into one more cBPF program for the list install_seccomp_programs() installs.
// The format and the shipped policies are described in docs/seccomp.md.
#pragma once

#include <boxjail/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace boxjail {

struct SeccompCondition {
  unsigned index = 0;  // syscall argument 0..5
  int op = 0;          // enum scmp_compare
  std::uint64_t value = 0;
  std::uint64_t value_two = 0;  // the datum of SCMP_CMP_MASKED_EQ (value is the mask)
};

struct SeccompRule {
  std::vector<std::string> names;
  std::uint32_t action = 0;  // libseccomp action, errno included
  std::vector<SeccompCondition> args;
  std::string pointer;  // JSON pointer of the entry, for compile errors
};

struct SeccompPolicy {
  std::string file;
  std::uint32_t default_action = 0;
  std::vector<std::uint32_t> arches;  // libseccomp arch tokens, native first
  std::vector<SeccompRule> rules;
};

// NAME (no '/') is looked up as NAME or NAME.json in the installed seccomp directory, then in
// the source tree's seccomp/ (build tree use); anything with a '/' is a path.
result<std::string> resolve_seccomp_policy_path(const std::string& name_or_path);

// A policy found by name chooses the filter of every jail that names it: the file must be owned
// by root or the caller, and writable by neither its group nor others. `path` when it is.
result<std::string> trusted_policy_file(const std::string& path);

// Every problem of the policy text (empty when it is valid). Each Error has step
// "seccomp-policy", path = file and the JSON pointer in evidence "pointer".
std::vector<Error> check_seccomp_policy(std::string_view json_text, const std::string& file);

// The policy, or the first problem check_seccomp_policy() would report.
result<SeccompPolicy> parse_seccomp_policy(std::string_view json_text, const std::string& file);

// The cBPF program (seccomp_export_bpf), as --seccomp accepts it.
result<std::string> compile_seccomp_policy(const SeccompPolicy& policy);

// libseccomp's pseudo filter code of the same filter (for review and tests).
result<std::string> seccomp_policy_pfc(const SeccompPolicy& policy);

// Reads (resolving NAME), parses and compiles in one go: what the monitor does before clone.
result<SeccompPolicy> load_seccomp_policy(const std::string& name_or_path);
// With the per-user cache: see default_seccomp_cache_dir().
result<std::string> compile_seccomp_policy_file(const std::string& name_or_path);

// The program for a policy text, from `cache_dir` when an entry with the same text, libseccomp,
// boxjail and kernel versions is there (and the dir is the caller's, mode 0700, the entry not
// writable by others); compiled and stored otherwise. An empty or unsafe cache_dir: no cache.
result<std::string> compile_seccomp_policy_text(std::string_view text, const std::string& file,
                                                const std::string& cache_dir);

// root: /run/boxjail-seccomp; others: /run/user/UID/boxjail-seccomp when that runtime dir is
// theirs; "" (no cache) otherwise.
std::string default_seccomp_cache_dir();

// Compiles every shipped policy (the policy dirs' *.json) into `out_dir` as precompiled entries
// (mode 0644), found later by any caller whose key matches: `boxjail seccomp precompile DIR`,
// run by the build and by `cmake --install`.
result<void> precompile_seccomp_policies(const std::string& out_dir);

}  // namespace boxjail
