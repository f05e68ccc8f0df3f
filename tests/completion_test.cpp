// SPDX-License-Identifier: Apache-2.0
// What explains boxjail to its users must list what the parser takes: --help, the man page
// source and both shell completions against the one option table; the completions loaded in
// real bash and zsh; the shipped config template against the config parser.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boxjail/bwrap_args.hpp>
#include <boxjail/config.hpp>

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness.hpp"

namespace {

using boxjail::test::read_file;
using boxjail::test::run;
using boxjail::test::RunOpts;
using boxjail::test::RunResult;

std::set<std::string> table() {
  const auto names = boxjail::option_names();
  return {names.begin(), names.end()};
}

// Every first capture of `pattern` (one per line, multiline text).
std::set<std::string> captures(const std::string& text, const std::string& pattern) {
  std::set<std::string> out;
  const std::regex re(pattern);
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, re)) out.insert(m[1]);
  }
  return out;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

RunResult completion(const std::string& shell) { return run({"completion", shell}); }

TEST(OptionLists, HelpListsEveryOptionOfTheTable) {
  const RunResult r = run({"--help"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(captures(r.out, R"(^    (--[a-z0-9-]+))"), table());
}

TEST(OptionLists, ManPageDescribesEveryOptionOfTheTable) {
  const std::string page = read_file(BOXJAIL_SOURCE_DIR "/docs/man/boxjail.1.scd");
  ASSERT_FALSE(page.empty());
  // An option's entry starts its line: *--name* _OPERANDS_.
  EXPECT_EQ(captures(page, R"(^\*(--[a-z0-9-]+)\*)"), table());
}

TEST(OptionLists, BashCompletionKnowsEveryOptionOfTheTable) {
  const RunResult r = completion("bash");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(captures(r.out, R"(^  \[(--[a-z0-9-]+)\]=)"), table());
}

TEST(OptionLists, ZshCompletionKnowsEveryOptionOfTheTable) {
  const RunResult r = completion("zsh");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(captures(r.out, R"(^    '(?:\*|\(- \*\))?(--[a-z0-9-]+)\[)"), table());
}

TEST(Help, ListsSubcommandsAndManPagesButNotUnderTheNameBwrap) {
  const RunResult ours = run({"--help"});
  ASSERT_EQ(ours.status, 0);
  for (const char* s :
       {"Subcommands", "    run --spec", "    doctor", "    seccomp", "    completion bash|zsh",
        "boxjail(1), boxjail-suid(8), boxjail.toml(5)"}) {
    EXPECT_NE(ours.out.find(s), std::string::npos) << s;
  }
  RunOpts as_bwrap;
  as_bwrap.argv0 = "/x/bwrap";
  const RunResult bwrap = run({"--help"}, as_bwrap);
  ASSERT_EQ(bwrap.status, 0);
  EXPECT_EQ(bwrap.out.find("Subcommands"), std::string::npos);
  EXPECT_EQ(bwrap.out, boxjail::usage_text("/x/bwrap"));
}

TEST(Completion, UnknownShellIsAUsageError) {
  const RunResult r = completion("fish");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("usage: boxjail completion bash|zsh"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

// Completes the words (the last is the cursor's) with the generated script in a real bash,
// bash-completion's own functions loaded where installed; prints COMPREPLY one per line.
std::vector<std::string> bash_complete(const std::string& script,
                                       const std::vector<std::string>& words) {
  std::string cmd = "source /usr/share/bash-completion/bash_completion 2>/dev/null; source " +
                    shell_quote(script) + "; COMP_WORDS=(";
  for (const auto& w : words) cmd += shell_quote(w) + " ";
  cmd += "); COMP_CWORD=" + std::to_string(words.size() - 1) +
         "; COMP_LINE=\"${COMP_WORDS[*]}\"; COMP_POINT=${#COMP_LINE}"
         "; _boxjail 2>/dev/null; printf '%s\\n' \"${COMPREPLY[@]}\"";
  RunOpts o;
  o.program = "/bin/bash";
  const RunResult r = run({"-c", cmd}, o);
  EXPECT_EQ(r.status, 0) << r.err;
  std::vector<std::string> out;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

class CompletionScript : public ::testing::Test {
 protected:
  void SetUp() override {
    const RunResult r = completion("bash");
    ASSERT_EQ(r.status, 0) << r.err;
    path_ = dir_.file("boxjail.bash", r.out);
  }
  boxjail::test::TempDir dir_;
  std::string path_;
};

TEST_F(CompletionScript, BashCompletesOptionsOperandsSubcommandsAndTheCommand) {
  const auto options = bash_complete(path_, {"boxjail", "--ro-b"});
  EXPECT_TRUE(has(options, "--ro-bind")) << ::testing::PrintToString(options);
  EXPECT_TRUE(has(options, "--ro-bind-try"));
  EXPECT_FALSE(has(options, "--bind"));
  // The operands by kind: a path, a capability, a log level, a resource limit.
  EXPECT_TRUE(has(bash_complete(path_, {"boxjail", "--ro-bind", "/us"}), "/usr"));
  EXPECT_TRUE(has(bash_complete(path_, {"boxjail", "--ro-bind", "/usr", "/us"}), "/usr"));
  EXPECT_EQ(bash_complete(path_, {"boxjail", "--ro-bind", "/", "/", "--cap-add", "CAP_NET_R"}),
            std::vector<std::string>{"CAP_NET_RAW"});
  EXPECT_EQ(bash_complete(path_, {"boxjail", "--log-level", "de"}),
            std::vector<std::string>{"debug"});
  EXPECT_EQ(bash_complete(path_, {"boxjail", "--rlimit", "NOF"}),
            std::vector<std::string>{"NOFILE="});
  // An fd is not completed from the files of the current directory.
  EXPECT_TRUE(bash_complete(path_, {"boxjail", "--args", ""}).empty());
  // Subcommands at the first word; a jail's options again after `doctor --`.
  EXPECT_TRUE(has(bash_complete(path_, {"boxjail", "doc"}), "doctor"));
  EXPECT_TRUE(
      has(bash_complete(path_, {"boxjail", "doctor", "--", "--unshare-u"}), "--unshare-user"));
  EXPECT_EQ(bash_complete(path_, {"boxjail", "completion", "z"}), std::vector<std::string>{"zsh"});
  // After the operands, the command: a program on PATH, not an option of ours.
  const auto command = bash_complete(path_, {"boxjail", "--ro-bind", "/", "/", "--", "ech"});
  EXPECT_TRUE(has(command, "echo")) << ::testing::PrintToString(command);
}

TEST(Completion, ZshLoadsTheScriptAsTheCompletionOfBoxjail) {
  if (access("/usr/bin/zsh", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/zsh";
  boxjail::test::TempDir dir;
  const RunResult script = completion("zsh");
  ASSERT_EQ(script.status, 0);
  dir.file("_boxjail", script.out);
  RunOpts o;
  o.program = "/usr/bin/zsh";
  // Syntax first, then compinit from the directory as a vendor-completions dir would be.
  const RunResult syntax = run({"-n", dir.path() + "/_boxjail"}, o);
  EXPECT_EQ(syntax.status, 0) << syntax.err;
  const RunResult loaded =
      run({"-fc", "fpath=(" + shell_quote(dir.path()) +
                      " $fpath); autoload -Uz compinit; compinit -u -d " +
                      shell_quote(dir.path() + "/dump") + "; print -r -- ${_comps[boxjail]}"},
          o);
  EXPECT_EQ(loaded.status, 0) << loaded.err;
  EXPECT_EQ(loaded.err, "");
  EXPECT_EQ(loaded.out, "_boxjail\n");
}

// packaging/config.toml.in, as the build writes it: every key there and commented out at its
// default (or an example, where the default is unset), so that uncommenting every key line
// changes nothing but the examples.
TEST(ConfigTemplate, EveryKeyUncommentedIsItsDefault) {
  const std::string text = read_file(BOXJAIL_BUILD_DIR "/generated/config.toml");
  ASSERT_FALSE(text.empty());
  std::string uncommented;
  std::set<std::string> keys;
  std::istringstream in(text);
  const std::regex key_line(R"(^# ?(\[[a-z]+\]|([a-z_]+) = .*)$)");
  std::string table_name;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, key_line)) {
      const std::string body = m[1];
      const std::string key = m[2];
      if (body[0] == '[') {
        table_name = body.substr(1, body.size() - 2);
      } else {
        keys.insert(table_name + "." + key);
      }
      line = body;
    }
    uncommented += line + "\n";
  }
  EXPECT_EQ(keys, (std::set<std::string>{"ladder.mode", "ladder.setuid_helper", "log.level",
                                         "log.format", "seccomp.default_policy", "cgroup.parent"}));
  auto parsed = boxjail::parse_config(uncommented, "config.toml");
  ASSERT_TRUE(parsed) << parsed.error().message;
  auto defaults = boxjail::parse_config("", "empty.toml");
  ASSERT_TRUE(defaults);
  const auto& c = parsed.value();
  const auto& d = defaults.value();
  EXPECT_EQ(c.mode, d.mode);
  EXPECT_EQ(c.setuid_helper, d.setuid_helper);
  EXPECT_EQ(c.setuid_helper, boxjail::kDefaultSetuidHelper);
  EXPECT_EQ(c.log_level, d.log_level);
  EXPECT_EQ(c.log_format, d.log_format);
  // The two examples: unset by default, set to what the comment says.
  EXPECT_FALSE(d.default_policy);
  EXPECT_EQ(c.default_policy, "default");
  EXPECT_FALSE(d.cgroup_parent);
  EXPECT_EQ(c.cgroup_parent, "/jails");
  // Each key is described in boxjail.toml(5).
  const std::string page = read_file(BOXJAIL_SOURCE_DIR "/docs/man/boxjail.toml.5.scd");
  for (const auto& k : keys) {
    EXPECT_NE(page.find(k.substr(k.find('.') + 1)), std::string::npos)
        << k << " in boxjail.toml(5)";
  }
}

}  // namespace
