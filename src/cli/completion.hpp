// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

namespace boxjail::cli {

// `boxjail completion bash|zsh` (args[0] is "completion"): prints the script; 0, or 1 on a usage
// error or an option operand the generator cannot classify.
int completion_main(const std::vector<std::string>& args);

}  // namespace boxjail::cli
