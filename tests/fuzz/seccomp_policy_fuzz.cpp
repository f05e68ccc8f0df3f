// SPDX-License-Identifier: Apache-2.0
// libFuzzer harness for seccomp policy files (`--seccomp-policy PATH`, a caller's file, read by
// the setuid rung too): any text gives a policy or errors, never a crash, a hang or a sanitizer
// report. The checker and the reader agree (a policy is read exactly when the check finds
// nothing), and an accepted policy compiles to a filter or says why not.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/seccomp_policy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto problems = boxjail::check_seccomp_policy(text, "fuzz.json");
  auto policy = boxjail::parse_seccomp_policy(text, "fuzz.json");
  if (problems.empty() != static_cast<bool>(policy)) std::abort();
  if (!policy) {
    if (policy.error().message.empty()) std::abort();
    return 0;
  }
  auto program = boxjail::compile_seccomp_policy(policy.value());
  if (program && program.value().size() % 8 != 0) std::abort();  // whole sock_filter entries
  return 0;
}
