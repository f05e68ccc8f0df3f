// SPDX-License-Identifier: Apache-2.0
// The JSON form of a Spec: how the front end hands a jail to the setuid helper (on a fd), and a
// front end of its own. The reader is strict: unknown keys, wrong types and out-of-range values
// are errors, because the helper reads specs from an untrusted caller.
#pragma once

#include <boxjail/error.hpp>
#include <boxjail/spec.hpp>

#include <string>
#include <string_view>

namespace boxjail {

// Every field of Spec, lossless: spec_from_json(spec_to_json(s)) == s.
std::string spec_to_json(const Spec& spec);

// Error::step is "parse-spec"; the message names the offending key (as a JSON pointer).
result<Spec> spec_from_json(std::string_view text);

}  // namespace boxjail
