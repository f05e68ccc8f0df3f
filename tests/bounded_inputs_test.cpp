// SPDX-License-Identifier: Apache-2.0
// Inputs a caller chooses are bounded: --args data and a --seccomp-policy file larger than their
// documented bounds are refused with a clear error, never read until the allocator throws (which
// aborted with std::bad_alloc, exit 134) or the OOM killer acts. Run under `ulimit -v 400000`, as
// the issue found it, for boxjail as root and as uid 65534 and for the setuid helper.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness.hpp"

namespace {

namespace bt = boxjail::test;

struct Input {
  const char* name;
  std::string options;  // before the command, after the binary
  std::string message;  // the refusal names the bound
};

struct Binary {
  const char* name;
  bool nobody;
  bool helper;
};

class BoundedInput : public ::testing::TestWithParam<std::tuple<Input, Binary>> {};

TEST_P(BoundedInput, RefusedWithItsBound) {
  const auto& [input, binary] = GetParam();
  const std::string& program = binary.helper ? bt::setuid_helper_binary() : bt::boxjail_binary();
  bt::RunOpts o;
  o.as_nobody = binary.nobody;
  o.program = "/bin/sh";
  // Under AddressSanitizer the shadow memory alone exceeds any such address-space limit: there
  // the bound is checked without it (the input is still endless).
#ifdef __SANITIZE_ADDRESS__
  const std::string limit;
#else
  const std::string limit = "ulimit -v 400000; ";
#endif
  const auto r =
      bt::run({"-c", limit + "exec '" + program + "' " + input.options + " true 3</dev/zero"}, o);
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find(input.message), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("bad_alloc"), std::string::npos) << r.err;
}

const Input kInputs[] = {
    {"Args", "--args 3", "Can't read --args data: more than 16 MiB"},
    {"SeccompPolicy", "--ro-bind / / --seccomp-policy /dev/zero",
     "seccomp policy /dev/zero is larger than 1 MiB"},
};

const Binary kBinaries[] = {
    {"Root", false, false},
    {"Nobody", true, false},
    {"SetuidHelper", true, true},
};

INSTANTIATE_TEST_SUITE_P(Inputs, BoundedInput,
                         ::testing::Combine(::testing::ValuesIn(kInputs),
                                            ::testing::ValuesIn(kBinaries)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param).name) + "_" +
                                  std::get<1>(info.param).name;
                         });

}  // namespace
