// SPDX-License-Identifier: Apache-2.0
// An Error as a JSON value, for callers that add to it (the ladder's report) rather than print it.
#pragma once

#include <boxjail/error.hpp>

#include <nlohmann/json.hpp>

namespace boxjail {

nlohmann::json error_json(const Error& e);

}  // namespace boxjail
