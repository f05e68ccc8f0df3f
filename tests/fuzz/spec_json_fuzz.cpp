// SPDX-License-Identifier: Apache-2.0
// libFuzzer harness for the JSON spec reader: the setuid helper reads this format from an
// untrusted caller, and `run --spec` from any runtime. Whatever the bytes, the reader returns a
// Spec or an Error (never a crash, a hang or a sanitizer report), and a Spec it accepts writes back
// to text it reads to the same text (the writer and the reader agree on every accepted value).
#include <boxjail/spec_json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto spec = boxjail::spec_from_json(text);
  if (!spec) return 0;
  const std::string written = boxjail::spec_to_json(spec.value());
  auto again = boxjail::spec_from_json(written);
  if (!again || boxjail::spec_to_json(again.value()) != written) std::abort();
  return 0;
}
