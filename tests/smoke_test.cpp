// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "harness.hpp"

using namespace boxjail::test;

TEST(Smoke, RunsTrueAsRootAndNobody) {
  auto r = run({"--ro-bind", "/", "/", "true"});
  EXPECT_EQ(r.status, 0) << r.err;
  r = run({"--ro-bind", "/", "/", "true"}, RunOpts{.as_nobody = true});
  EXPECT_EQ(r.status, 0) << r.err;
}
