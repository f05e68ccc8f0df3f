// SPDX-License-Identifier: Apache-2.0
// libFuzzer harness for the operator's config (TOML, toml++ underneath): any text gives a Config
// or an Error that names the step, never a crash, a hang, an exception out of the reader or a
// sanitizer report. An accepted config holds only values boxjail knows.
#include <boxjail/config.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = boxjail::parse_config(text, "fuzz.toml");
  if (!config) {
    if (config.error().step != "config" || config.error().message.empty()) std::abort();
    return 0;
  }
  const auto& c = config.value();
  if (c.log_format != "text" && c.log_format != "json") std::abort();
  if (c.setuid_helper.empty()) std::abort();
  return 0;
}
