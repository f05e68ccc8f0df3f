// SPDX-License-Identifier: Apache-2.0
// The JSON form of a Spec: how the front end hands a jail to the setuid helper (on a fd), and a
// front end of its own. The reader is strict: unknown keys, wrong types and out-of-range values
// are errors, because the helper reads specs from an untrusted caller.
#pragma once

#include <boxjail/error.hpp>
#include <boxjail/spec.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace boxjail {

// The format's name, the required value of "version" (docs/spec.md).
inline constexpr const char* kSpecVersion = "boxjail.spec/v1";

// Every field of Spec, lossless: spec_from_json(spec_to_json(s)) == s. Defaults are left out;
// `pretty` indents by two (for people: `boxjail spec --from-args`).
std::string spec_to_json(const Spec& spec, bool pretty = false);

struct SpecReadOptions {
  // The environment a spec without "env" gets (`run --spec` passes boxjail's own, as bwrap
  // passes its own on). Null: none (the setuid helper, whose environment is not the caller's).
  const std::vector<std::string>* inherited_env = nullptr;
};

// Error::step is "parse-spec"; the message names the offending key (as a JSON pointer).
result<Spec> spec_from_json(std::string_view text, const SpecReadOptions& options = {});

}  // namespace boxjail
