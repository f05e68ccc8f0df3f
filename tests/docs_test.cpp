// SPDX-License-Identifier: Apache-2.0
// Docs that list the code's own tables must not drift from them.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "engine/steps.hpp"
#include "harness.hpp"

TEST(Docs, DesignListsEveryStepInOrder) {
  const std::string doc = boxjail::test::read_file(BOXJAIL_SOURCE_DIR "/docs/design.md");
  ASSERT_FALSE(doc.empty());
  const auto start = doc.find("## Setup steps, in order");
  ASSERT_NE(start, std::string::npos);
  std::regex row(R"(\n\| `([a-z0-9-]+)` \|)");
  std::vector<std::string> listed;
  for (auto it = std::sregex_iterator(doc.begin() + static_cast<long>(start), doc.end(), row);
       it != std::sregex_iterator(); ++it) {
    listed.push_back((*it)[1]);
  }
  std::vector<std::string> expected;
  for (const auto& info : boxjail::step::kOrder) expected.emplace_back(info.name);
  EXPECT_EQ(listed, expected);
}
