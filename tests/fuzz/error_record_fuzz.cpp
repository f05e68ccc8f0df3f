// SPDX-License-Identifier: Apache-2.0
// libFuzzer harness for the error record that crosses from the sandbox child (whose memory the
// jailed program may reach once it runs) to the monitor: any bytes give an Error or "malformed",
// never a crash or a sanitizer report; a record read back from its own serialization is the same
// record; a serialization cut to a limit stays within it once the fixed fields fit.
#include <boxjail/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

bool same(const boxjail::Error& a, const boxjail::Error& b) {
  return a.step == b.step && a.syscall == b.syscall && a.path == b.path && a.source == b.source &&
         a.err == b.err && a.message == b.message && a.evidence == b.evidence;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  auto record = boxjail::deserialize(bytes);
  if (!record) return 0;
  const boxjail::Error& e = record.value().error;
  auto again = boxjail::deserialize(boxjail::serialize(e));
  if (!again || !same(again.value().error, e)) std::abort();
  // The channel's limit: what does not fit is cut, never overflowed, and still reads back.
  const std::size_t limit = 64 + (size > 0 ? data[0] : 0) * 8;
  const std::string cut = boxjail::serialize(e, limit);
  const std::size_t fixed = e.step.size() + e.syscall.size() + std::to_string(e.err).size() + 6;
  if (fixed <= limit && cut.size() > limit) std::abort();
  if (!boxjail::deserialize(cut)) std::abort();
  return 0;
}
