// SPDX-License-Identifier: Apache-2.0
// libFuzzer harness for the bwrap-style command line, the one input every caller controls, the
// setuid rung's included: argv, and the NUL-separated words `--args FD` reads. The input is the
// argv (words separated by NUL), then a 0xff byte, then what fd 100 holds; `--args` may name
// fd 100 only (any other would read the fuzzer's own stdin or output). Whatever the bytes, the
// parser returns an Invocation or an Error, never a crash, a hang or a sanitizer report, and the
// usage and version texts it may print are well formed.
#include <boxjail/bwrap_args.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr int kArgsFd = 100;

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('\0', start), text.size());
    words.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t cut = std::min(input.find('\xff'), input.size());
  const std::vector<std::string> args = split_words(input.substr(0, cut));
  const std::string_view fd_data = cut < input.size() ? input.substr(cut + 1) : std::string_view();
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--args" && args[i + 1] != std::to_string(kArgsFd)) return 0;
  }
  // A fresh memfd at fd 100 for each input: the parser reads it to the end and closes it.
  const int fd = memfd_create("args", MFD_CLOEXEC);
  if (fd < 0) std::abort();
  if (write(fd, fd_data.data(), fd_data.size()) != static_cast<ssize_t>(fd_data.size()) ||
      lseek(fd, 0, SEEK_SET) != 0 || dup2(fd, kArgsFd) != kArgsFd) {
    std::abort();
  }
  close(fd);
  boxjail::ParseContext ctx;
  ctx.environ = {"PATH=/usr/bin:/bin", "HOME=/root"};
  auto parsed = boxjail::parse_bwrap_args(args, ctx);
  close(kArgsFd);  // still open if the parser never got to it
  if (!parsed) {
    // Every refusal names its step and says what is wrong.
    if (parsed.error().step.empty() || (parsed.error().message.empty() && !parsed.error().usage)) {
      std::abort();
    }
    return 0;
  }
  const std::string usage = boxjail::usage_text("bwrap");
  if (usage.rfind("usage: bwrap ", 0) != 0) std::abort();
  return 0;
}
