// SPDX-License-Identifier: Apache-2.0
// Unit tests of the operator's TOML config: every key, every kind of mistake and its message.
#include <boxjail/config.hpp>

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

namespace {

using boxjail::Config;
using boxjail::LadderMode;

Config MustParse(const std::string& text) {
  auto r = boxjail::parse_config(text, "/etc/boxjail/config.toml");
  if (!r) {
    ADD_FAILURE() << "unexpected error: " << r.error().message;
    return {};
  }
  return r.value();
}

boxjail::Error MustFail(const std::string& text) {
  auto r = boxjail::parse_config(text, "/etc/boxjail/config.toml");
  if (r) {
    ADD_FAILURE() << "accepted: " << text;
    return {};
  }
  EXPECT_EQ(r.error().step, "config");
  EXPECT_EQ(r.error().path, "/etc/boxjail/config.toml");
  return r.error();
}

std::string MessageOf(const std::string& text) { return MustFail(text).message; }

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "boxjail-config-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    ::unlink((dir_ + "/config.toml").c_str());
    ::rmdir((dir_ + "/sub").c_str());
    ::rmdir(dir_.c_str());
  }
  std::string dir_;
};

// Non-ASCII is refused before the TOML library sees it (Debian 12's toml++ reaches
// __builtin_unreachable on some characters outside strings: tests/fuzz/corpus/config has the
// input the fuzzer found); a string still carries any character as \uXXXX.
TEST(ConfigTest, NonAsciiIsRefusedWithItsPlace) {
  EXPECT_EQ(MessageOf("[log]\neS\xd1\x99"
                      "ev = 1\n"),
            "/etc/boxjail/config.toml:2:3: non-ASCII byte 0xd1: the config is ASCII; write other "
            "characters in strings as \\uXXXX escapes");
  EXPECT_EQ(MessageOf("# caf\xc3\xa9\n"),
            "/etc/boxjail/config.toml:1:6: non-ASCII byte 0xc3: the config is ASCII; write other "
            "characters in strings as \\uXXXX escapes");
  const Config c = MustParse("[cgroup]\nparent = \"/caf\\u00e9\"\n");
  EXPECT_EQ(c.cgroup_parent, "/caf\xc3\xa9");
}

TEST(ConfigTest, Defaults) {
  const Config c = MustParse("");
  EXPECT_EQ(c.mode, LadderMode::Auto);
  EXPECT_EQ(c.setuid_helper, boxjail::kDefaultSetuidHelper);
  EXPECT_EQ(c.log_level, "");
  EXPECT_EQ(c.log_format, "text");
  EXPECT_FALSE(c.default_policy);
  EXPECT_EQ(c.path, "/etc/boxjail/config.toml");
}

TEST(ConfigTest, DefaultPaths) {
  EXPECT_STREQ(boxjail::kDefaultConfigPath, "/etc/boxjail/config.toml");
  const std::string helper = boxjail::kDefaultSetuidHelper;
  ASSERT_FALSE(helper.empty());
  EXPECT_EQ(helper.front(), '/');
  EXPECT_TRUE(helper.ends_with("/boxjail/boxjail-suid")) << helper;
}

TEST(ConfigTest, LadderModeNames) {
  EXPECT_EQ(boxjail::to_string(LadderMode::Auto), "auto");
  EXPECT_EQ(boxjail::to_string(LadderMode::Userns), "userns");
  EXPECT_EQ(boxjail::to_string(LadderMode::Setuid), "setuid");
}

TEST(ConfigTest, EveryKey) {
  const Config c = MustParse(
      "# the operator's settings\n"
      "[ladder]\n"
      "mode = \"setuid\"\n"
      "setuid_helper = \"/opt/boxjail/boxjail-suid\"\n"
      "[log]\n"
      "level = \"debug\"\n"
      "format = \"json\"\n"
      "[seccomp]\n"
      "default_policy = \"default\"\n");
  EXPECT_EQ(c.mode, LadderMode::Setuid);
  EXPECT_EQ(c.setuid_helper, "/opt/boxjail/boxjail-suid");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.log_format, "json");
  EXPECT_EQ(c.default_policy, "default");
}

TEST(ConfigTest, LadderModes) {
  EXPECT_EQ(MustParse("[ladder]\nmode = \"auto\"\n").mode, LadderMode::Auto);
  EXPECT_EQ(MustParse("[ladder]\nmode = \"userns\"\n").mode, LadderMode::Userns);
  EXPECT_EQ(MustParse("[ladder]\nmode = \"setuid\"\n").mode, LadderMode::Setuid);
  // Dotted keys are the same table to TOML.
  EXPECT_EQ(MustParse("ladder.mode = \"userns\"\n").mode, LadderMode::Userns);
}

TEST(ConfigTest, LogLevels) {
  for (const char* level : {"error", "warn", "info", "debug", "trace"}) {
    EXPECT_EQ(MustParse(std::string("[log]\nlevel = \"") + level + "\"\n").log_level, level);
  }
  // "off" is the default, spelled as the empty string.
  EXPECT_EQ(MustParse("[log]\nlevel = \"off\"\n").log_level, "");
  EXPECT_EQ(MustParse("[log]\nformat = \"text\"\n").log_format, "text");
}

TEST(ConfigTest, SeccompPolicyPath) {
  EXPECT_EQ(MustParse("[seccomp]\ndefault_policy = \"/etc/boxjail/p.json\"\n").default_policy,
            "/etc/boxjail/p.json");
}

TEST(ConfigTest, BadValueNamesLineAndAcceptedValues) {
  EXPECT_EQ(MessageOf("[ladder]\n\nmode = \"fast\"\n"),
            "/etc/boxjail/config.toml:3: ladder.mode: \"fast\" is not one of \"auto\", "
            "\"userns\", \"setuid\"");
  EXPECT_EQ(MessageOf("[log]\nlevel = \"loud\"\n"),
            "/etc/boxjail/config.toml:2: log.level: \"loud\" is not one of \"off\", \"error\", "
            "\"warn\", \"info\", \"debug\", \"trace\"");
  EXPECT_EQ(MessageOf("[log]\nformat = \"xml\"\n"),
            "/etc/boxjail/config.toml:2: log.format: \"xml\" is not one of \"text\", \"json\"");
  // Case matters, as in --log-level.
  EXPECT_NE(MessageOf("[log]\nlevel = \"DEBUG\"\n").find("is not one of"), std::string::npos);
}

TEST(ConfigTest, WrongType) {
  EXPECT_EQ(MessageOf("[ladder]\nmode = 3\n"),
            "/etc/boxjail/config.toml:2: ladder.mode: expected a string (\"auto\", \"userns\", "
            "\"setuid\"), got an integer");
  EXPECT_EQ(MessageOf("[log]\nlevel = true\n"),
            "/etc/boxjail/config.toml:2: log.level: expected a string (\"off\", \"error\", "
            "\"warn\", \"info\", \"debug\", \"trace\"), got a boolean");
  EXPECT_EQ(MessageOf("[log]\nformat = [\"json\"]\n"),
            "/etc/boxjail/config.toml:2: log.format: expected a string (\"text\", \"json\"), got "
            "an array");
  EXPECT_EQ(MessageOf("[ladder]\nsetuid_helper = 1.5\n"),
            "/etc/boxjail/config.toml:2: ladder.setuid_helper: expected a string (an absolute "
            "path), got a float");
  EXPECT_EQ(MessageOf("[seccomp]\ndefault_policy = {}\n"),
            "/etc/boxjail/config.toml:2: seccomp.default_policy: expected a string (a policy "
            "name or a path), got a table");
  EXPECT_EQ(MessageOf("\nladder = \"auto\"\n"),
            "/etc/boxjail/config.toml:2: ladder: expected a table, got a string (accepted "
            "tables: [ladder], [log], [seccomp], [cgroup])");
  EXPECT_EQ(MessageOf("[[log]]\nlevel = \"info\"\n"),
            "/etc/boxjail/config.toml:1: log: expected a table, got an array (accepted tables: "
            "[ladder], [log], [seccomp], [cgroup])");
}

TEST(ConfigTest, UnknownKey) {
  EXPECT_EQ(MessageOf("[ladder]\nmod = \"auto\"\n"),
            "/etc/boxjail/config.toml:2: unknown key \"ladder.mod\" (accepted keys in [ladder]: "
            "mode, setuid_helper)");
  EXPECT_EQ(MessageOf("[log]\n\n\nlevl = \"info\"\n"),
            "/etc/boxjail/config.toml:4: unknown key \"log.levl\" (accepted keys in [log]: "
            "level, format)");
  EXPECT_EQ(MessageOf("[cgroup]\nparents = \"/x\"\n"),
            "/etc/boxjail/config.toml:2: unknown key \"cgroup.parents\" (accepted keys in "
            "[cgroup]: parent)");
  EXPECT_EQ(MessageOf("[cgroup]\nparent = \"/a/../b\"\n"),
            "/etc/boxjail/config.toml:2: cgroup.parent: the cgroup parent \"/a/../b\" may not "
            "have empty, \".\" or \"..\" components");
  EXPECT_EQ(MessageOf("[seccomp]\npolicy = \"x\"\n"),
            "/etc/boxjail/config.toml:2: unknown key \"seccomp.policy\" (accepted keys in "
            "[seccomp]: default_policy)");
  // A sub-table is a key of its parent table.
  EXPECT_EQ(MessageOf("[ladder.extra]\nx = 1\n"),
            "/etc/boxjail/config.toml:1: unknown key \"ladder.extra\" (accepted keys in [ladder]: "
            "mode, setuid_helper)");
  EXPECT_EQ(MessageOf("mode = \"auto\"\n"),
            "/etc/boxjail/config.toml:1: unknown key \"mode\" (keys belong in the tables "
            "[ladder], [log], [seccomp], [cgroup])");
}

TEST(ConfigTest, UnknownTable) {
  EXPECT_EQ(MessageOf("[ladder]\nmode = \"auto\"\n[network]\nx = 1\n"),
            "/etc/boxjail/config.toml:3: unknown table \"[network]\" (accepted tables: [ladder], "
            "[log], [seccomp], [cgroup])");
}

TEST(ConfigTest, RelativeHelper) {
  EXPECT_EQ(MessageOf("[ladder]\nsetuid_helper = \"bin/boxjail-suid\"\n"),
            "/etc/boxjail/config.toml:2: ladder.setuid_helper: \"bin/boxjail-suid\" is not an "
            "absolute path");
  EXPECT_NE(MessageOf("[ladder]\nsetuid_helper = \"\"\n").find("is not an absolute path"),
            std::string::npos);
}

TEST(ConfigTest, EmptyPolicy) {
  EXPECT_EQ(MessageOf("[seccomp]\ndefault_policy = \"\"\n"),
            "/etc/boxjail/config.toml:2: seccomp.default_policy: must not be empty (a policy name "
            "or a path)");
}

TEST(ConfigTest, NulInStringIsRefused) {
  EXPECT_EQ(MessageOf("[ladder]\nsetuid_helper = \"/usr/bin/x\\u0000y\"\n"),
            "/etc/boxjail/config.toml:2: ladder.setuid_helper: \"/usr/bin/x\\x00y\" contains a "
            "NUL character");
}

TEST(ConfigTest, ControlCharactersAreEscapedInMessages) {
  EXPECT_EQ(MessageOf("[ladder]\nmode = \"\\u001b[31m\"\n"),
            "/etc/boxjail/config.toml:2: ladder.mode: \"\\x1b[31m\" is not one of \"auto\", "
            "\"userns\", \"setuid\"");
}

TEST(ConfigTest, SyntaxErrorHasLineAndColumn) {
  const std::string m = MessageOf("[ladder]\nmode = \"auto\"\nmode = \"userns\"\n");
  EXPECT_TRUE(m.starts_with("/etc/boxjail/config.toml:3:")) << m;
  const std::string m2 = MessageOf("[ladder]\nmode = auto\n");
  EXPECT_TRUE(m2.starts_with("/etc/boxjail/config.toml:2:8: ")) << m2;
  EXPECT_GT(m2.size(), std::string("/etc/boxjail/config.toml:2:8: ").size());
  const std::string m3 = MessageOf("[ladder\n");
  EXPECT_TRUE(m3.starts_with("/etc/boxjail/config.toml:1:")) << m3;
}

TEST_F(ConfigFileTest, LoadsAFile) {
  const std::string path = dir_ + "/config.toml";
  std::ofstream(path) << "[ladder]\nmode = \"userns\"\n";
  auto r = boxjail::load_config(path, true);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().mode, LadderMode::Userns);
  EXPECT_EQ(r.value().path, path);
  EXPECT_EQ(r.value().setuid_helper, boxjail::kDefaultSetuidHelper);
}

TEST_F(ConfigFileTest, ErrorsNameTheFile) {
  const std::string path = dir_ + "/config.toml";
  std::ofstream(path) << "[ladder]\nmode = \"fast\"\n";
  auto r = boxjail::load_config(path, false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().step, "config");
  EXPECT_EQ(r.error().path, path);
  EXPECT_TRUE(r.error().message.starts_with(path + ":2: ladder.mode:")) << r.error().message;
}

TEST_F(ConfigFileTest, MissingFileIsDefaultsUnlessRequired) {
  const std::string path = dir_ + "/config.toml";
  auto r = boxjail::load_config(path, false);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().path, "");
  EXPECT_EQ(r.value().mode, LadderMode::Auto);
  EXPECT_EQ(r.value().setuid_helper, boxjail::kDefaultSetuidHelper);
  EXPECT_EQ(r.value().log_level, "");

  auto e = boxjail::load_config(path, true);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().step, "config");
  EXPECT_EQ(e.error().syscall, "open");
  EXPECT_EQ(e.error().path, path);
  EXPECT_EQ(e.error().err, ENOENT);
  EXPECT_EQ(e.error().message, "Can't read config " + path);
}

TEST_F(ConfigFileTest, MissingDirectoryIsMissingToo) {
  auto r = boxjail::load_config(dir_ + "/sub/config.toml", false);
  EXPECT_TRUE(r);
}

TEST_F(ConfigFileTest, UnreadableIsAnErrorEvenIfOptional) {
  // A directory opens but cannot be read: an operator's mistake, not "no config".
  for (bool must_exist : {false, true}) {
    auto r = boxjail::load_config(dir_, must_exist);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().step, "config");
    EXPECT_EQ(r.error().syscall, "read");
    EXPECT_EQ(r.error().err, EISDIR);
    EXPECT_EQ(r.error().path, dir_);
    EXPECT_EQ(r.error().message, "Can't read config " + dir_);
  }
  // A path through a regular file is not "missing" either.
  const std::string file = dir_ + "/config.toml";
  std::ofstream(file) << "";
  auto r = boxjail::load_config(file + "/x", false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().syscall, "open");
  EXPECT_EQ(r.error().err, ENOTDIR);
}

}  // namespace
