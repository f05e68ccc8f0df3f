// SPDX-License-Identifier: Apache-2.0
// `boxjail completion bash|zsh`: shell completion scripts made from the parser's own option
// table, so a new option is completed the day it is added. The build writes both into the
// install tree (bash-completion's and zsh's vendor directories); users may also source the output.
#include "cli/completion.hpp"

#include <boxjail/bwrap_args.hpp>
#include <boxjail/rlimits.hpp>

#include <cap-ng.h>
#include <linux/capability.h>
#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxjail::cli {
namespace {

constexpr const char* kUsage =
    "usage: boxjail completion bash|zsh\n"
    "Prints a completion script for the shell, made from boxjail's option table:\n"
    "  source <(boxjail completion bash)\n";

// What an operand completes to, by the name --help gives it. Every metavar word of the table has
// to be here: an unknown one makes the generator fail (a test runs it), so a new option cannot
// ship half-completed.
enum class Kind { Path, Dir, Capability, Level, Policy, User, Group, Rlimit, EnvName, Word };

struct OperandKind {
  std::string_view word;
  Kind kind;
};

constexpr OperandKind kOperandKinds[] = {
    {"SRC", Kind::Path},
    {"DEST", Kind::Path},
    {"PATH", Kind::Path},
    {"RWSRC", Kind::Dir},
    {"WORKDIR", Kind::Dir},
    {"DIR", Kind::Dir},
    {"CAP", Kind::Capability},
    {"LEVEL", Kind::Level},
    {"POLICY", Kind::Policy},
    {"USER", Kind::User},
    {"GROUP", Kind::Group},
    {"NAME=SOFT[:HARD]", Kind::Rlimit},
    {"VAR", Kind::EnvName},
    // Numbers and free text: nothing to offer.
    {"FD", Kind::Word},
    {"UID", Kind::Word},
    {"GID", Kind::Word},
    {"NAME", Kind::Word},
    {"VALUE", Kind::Word},
    {"LABEL", Kind::Word},
    {"OCTAL", Kind::Word},
    {"BYTES", Kind::Word},
    {"N", Kind::Word},
    {"LIMITS", Kind::Word},
    {"QUOTA[:PERIOD]", Kind::Word},
    {"INSIDE:OUTSIDE:COUNT", Kind::Word},
};

std::optional<Kind> kind_of(std::string_view word) {
  for (const auto& k : kOperandKinds) {
    if (k.word == word) return k.kind;
  }
  return std::nullopt;
}

std::string_view bash_kind(Kind k) {
  switch (k) {
    case Kind::Path:
      return "path";
    case Kind::Dir:
      return "dir";
    case Kind::Capability:
      return "cap";
    case Kind::Level:
      return "level";
    case Kind::Policy:
      return "policy";
    case Kind::User:
      return "user";
    case Kind::Group:
      return "group";
    case Kind::Rlimit:
      return "rlimit";
    case Kind::EnvName:
      return "env";
    case Kind::Word:
      return "word";
  }
  return "word";
}

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find(' ', start), text.size());
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& s : list) (out += out.empty() ? "" : " ") += s;
  return out;
}

std::vector<std::string> capability_names() {
  std::vector<std::string> names;
  for (int c = 0; c <= CAP_LAST_CAP; ++c) {
    const char* name = capng_capability_to_name(static_cast<capng_type_t>(c));
    if (name == nullptr) continue;
    std::string upper = "CAP_";
    for (const char* p = name; *p; ++p)
      upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(*p))));
    names.push_back(upper);
  }
  return names;
}

std::vector<std::string> rlimit_names() {
  std::vector<std::string> names;
  for (int r = 0; r < RLIM_NLIMITS; ++r) {
    const auto name = rlimit_name(r);
    if (!name.empty()) names.emplace_back(std::string(name) + "=");
  }
  return names;
}

constexpr const char* kLevels = "trace debug info warn error off";
constexpr const char* kSubcommands = "run spec doctor seccomp completion";

// Every operand's kind, or the first metavar word nobody classified.
bool classify(std::string* unknown) {
  for (const auto& o : option_table()) {
    for (auto w : words(o.metavar)) {
      if (!kind_of(w)) {
        *unknown = std::string(o.name) + " " + std::string(w);
        return false;
      }
    }
  }
  return true;
}

std::string bash_script() {
  std::string s;
  s += "# bash completion for boxjail, made by `boxjail completion bash` from its option table.\n";
  s += "# Operand kinds: one word per operand of the option.\n";
  s += "declare -gA _boxjail_operands=(\n";
  for (const auto& o : option_table()) {
    std::vector<std::string> kinds;
    for (auto w : words(o.metavar)) kinds.emplace_back(bash_kind(*kind_of(w)));
    s += "  [" + std::string(o.name) + "]=\"" + join(kinds) + "\"\n";
  }
  s += ")\n";
  s += "_boxjail_caps=\"" + join(capability_names()) + "\"\n";
  s += "_boxjail_rlimits=\"" + join(rlimit_names()) + "\"\n";
  s += "_boxjail_seccomp_dir=\"" BOXJAIL_SECCOMP_DIR "\"\n";
  s += R"BASH(
_boxjail_operand() {
  local kind=$1 cur=$2
  case $kind in
    path) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
    dir) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")) ;;
    cap) COMPREPLY=($(compgen -W "$_boxjail_caps" -- "$cur")) ;;
    level) COMPREPLY=($(compgen -W ")BASH" +
       std::string(kLevels) + R"BASH(" -- "$cur")) ;;
    policy)
      local names=() f
      for f in "$_boxjail_seccomp_dir"/*.json; do
        [[ -e $f ]] && f=${f##*/} && names+=("${f%.json}")
      done
      compopt -o filenames 2>/dev/null
      COMPREPLY=($(compgen -W "${names[*]}" -- "$cur") $(compgen -f -- "$cur")) ;;
    user) COMPREPLY=($(compgen -u -- "$cur")) ;;
    group) COMPREPLY=($(compgen -g -- "$cur")) ;;
    rlimit) compopt -o nospace 2>/dev/null; COMPREPLY=($(compgen -W "$_boxjail_rlimits" -- "$cur")) ;;
    env) COMPREPLY=($(compgen -e -- "$cur")) ;;
    *) COMPREPLY=() ;;
  esac
}

# The command and its arguments, from word $1 on: bash-completion's own when it is loaded.
_boxjail_command() {
  if declare -F _command_offset >/dev/null; then
    _command_offset "$1"
  elif (($1 == COMP_CWORD)); then
    COMPREPLY=($(compgen -c -- "${COMP_WORDS[COMP_CWORD]}"))
  else
    COMPREPLY=($(compgen -f -- "${COMP_WORDS[COMP_CWORD]}"))
  fi
}

# Jail options from word $1 on: walks the words before the cursor, counting each option's
# operands, so the cursor is on an option, an operand of one, or the command.
_boxjail_jail() {
  local i=$1 cur=${COMP_WORDS[COMP_CWORD]} w pending=()
  while ((i < COMP_CWORD)); do
    w=${COMP_WORDS[i]}
    if ((${#pending[@]})); then
      pending=("${pending[@]:1}")
    elif [[ $w == -- ]]; then
      _boxjail_command $((i + 1))
      return
    elif [[ -v _boxjail_operands[$w] ]]; then
      read -ra pending <<<"${_boxjail_operands[$w]}"
    else
      _boxjail_command "$i"
      return
    fi
    i=$((i + 1))
  done
  if ((${#pending[@]})); then
    _boxjail_operand "${pending[0]}" "$cur"
  elif [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "${!_boxjail_operands[*]} --" -- "$cur"))
  else
    _boxjail_command "$COMP_CWORD"
  fi
}

_boxjail() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} i
  if ((COMP_CWORD == 1)) && [[ $cur != -* ]]; then
    COMPREPLY=($(compgen -W ")BASH" +
       std::string(kSubcommands) + R"BASH(" -- "$cur") $(compgen -c -- "$cur"))
    return
  fi
  case ${COMP_WORDS[1]} in
    doctor)
      for ((i = 2; i < COMP_CWORD; i++)); do
        [[ ${COMP_WORDS[i]} == -- ]] && { _boxjail_jail $((i + 1)); return; }
      done
      case $prev in
        --config) _boxjail_operand path "$cur" ;;
        --apparmor-profile) _boxjail_operand path "$cur" ;;
        *) COMPREPLY=($(compgen -W "--json --config --apparmor-profile --" -- "$cur")) ;;
      esac ;;
    seccomp)
      if ((COMP_CWORD == 2)); then
        COMPREPLY=($(compgen -W "check compile pfc precompile" -- "$cur"))
      elif [[ ${COMP_WORDS[2]} == precompile ]]; then
        _boxjail_operand dir "$cur"
      elif [[ $prev == -o ]]; then
        _boxjail_operand path "$cur"
      else
        _boxjail_operand policy "$cur"
      fi ;;
    run)
      case $prev in
        --spec | --config) _boxjail_operand path "$cur" ;;
        --log-level) _boxjail_operand level "$cur" ;;
        --report-fd) COMPREPLY=() ;;
        *) COMPREPLY=($(compgen -W "--spec --report-fd --config --log-level" -- "$cur")) ;;
      esac ;;
    spec)
      for ((i = 2; i < COMP_CWORD; i++)); do
        [[ ${COMP_WORDS[i]} == -- ]] && { _boxjail_jail $((i + 1)); return; }
      done
      case $prev in
        --check) _boxjail_operand path "$cur" ;;
        *) COMPREPLY=($(compgen -W "--from-args --check --" -- "$cur")) ;;
      esac ;;
    completion) ((COMP_CWORD == 2)) && COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
    *) _boxjail_jail 1 ;;
  esac
}
complete -F _boxjail boxjail
)BASH";
  return s;
}

// A zsh _arguments spec, single-quoted for the script.
std::string zsh_single_quote(std::string_view text) {
  std::string out = "'";
  for (const char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A description inside a spec's brackets: brackets, colons and backslashes are the spec's own.
std::string zsh_description(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '[' || c == ']' || c == ':' || c == '\\') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

std::string zsh_action(Kind k) {
  switch (k) {
    case Kind::Path:
      return "_files";
    case Kind::Dir:
      return "_files -/";
    case Kind::Capability:
      return "(" + join(capability_names()) + ")";
    case Kind::Level:
      return std::string("(") + kLevels + ")";
    case Kind::Policy:
      return "_boxjail_policy";
    case Kind::User:
      return "_users";
    case Kind::Group:
      return "_groups";
    case Kind::Rlimit:
      return "(" + join(rlimit_names()) + ")";
    case Kind::EnvName:
      return "_parameters -g \"*export*\"";
    case Kind::Word:
      return " ";
  }
  return " ";
}

std::string zsh_script() {
  std::string s;
  s += "#compdef boxjail\n";
  s += "# zsh completion for boxjail, made by `boxjail completion zsh` from its option table.\n";
  s += R"ZSH(
_boxjail_policy() {
  local -a names
  names=()ZSH" BOXJAIL_SECCOMP_DIR R"ZSH(/*.json(N:t:r))
  _alternative 'policies:policy:compadd -a names' 'files:file:_files'
}

_boxjail_jail() {
  local -a specs
  specs=(
)ZSH";
  for (const auto& o : option_table()) {
    std::string spec = o.repeatable ? "*" : "";
    if (!o.repeatable && o.metavar.empty()) spec = "(- *)";  // --help, --version: nothing else
    spec += std::string(o.name) + "[" + zsh_description(o.help) + "]";
    for (auto w : words(o.metavar))
      spec += ":" + zsh_description(w) + ":" + zsh_action(*kind_of(w));
    s += "    " + zsh_single_quote(spec) + "\n";
  }
  s += R"ZSH(  )
  _arguments -S -A '-*' : $specs '(-):command:_command_names -e' '*::arguments:_normal'
}

_boxjail() {
  if (( CURRENT == 2 )) && [[ $words[2] != -* ]]; then
    _alternative 'subcommands:subcommand:()ZSH" +
       std::string(kSubcommands) + R"ZSH()' 'commands:command:_command_names -e'
    return
  fi
  case $words[2] in
    doctor)
      local i
      for (( i = 3; i < CURRENT; i++ )); do
        if [[ $words[i] == -- ]]; then
          shift $i words; (( CURRENT -= i )); _boxjail_jail; return
        fi
      done
      _arguments '--json[Print the report as JSON]' '--config[Operator config]:config:_files' \
        '--apparmor-profile[Print the AppArmor profile for boxjail]::binary:_files' ;;
    seccomp)
      if (( CURRENT == 3 )); then
        compadd check compile pfc precompile
      elif [[ $words[3] == precompile ]]; then
        _files -/
      elif [[ $words[CURRENT-1] == -o ]]; then
        _files
      else
        _boxjail_policy
      fi ;;
    run)
      _arguments '--spec[The JSON spec]:spec:_files' '--report-fd[Report fd]:fd: ' \
        '--config[Operator config]:config:_files' '--log-level[Log level]:level:(trace debug info warn error off)' ;;
    spec)
      local i
      for (( i = 3; i < CURRENT; i++ )); do
        if [[ $words[i] == -- ]]; then
          shift $i words; (( CURRENT -= i )); _boxjail_jail; return
        fi
      done
      _arguments '--from-args[The spec bwrap-style options make]' '--check[Check a spec]:spec:_files' ;;
    completion) (( CURRENT == 3 )) && compadd bash zsh ;;
    *) _boxjail_jail ;;
  esac
}

_boxjail "$@"
)ZSH";
  return s;
}

}  // namespace

int completion_main(const std::vector<std::string>& args) {
  const std::string shell = args.size() == 2 ? args[1] : "";
  if (shell == "--help" || shell == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (shell != "bash" && shell != "zsh") {
    std::fputs(kUsage, stderr);
    return 1;
  }
  std::string unknown;
  if (!classify(&unknown)) {
    std::fprintf(stderr, "boxjail: completion: no completion kind for the operand %s\n",
                 unknown.c_str());
    return 1;
  }
  const std::string script = shell == "bash" ? bash_script() : zsh_script();
  std::fwrite(script.data(), 1, script.size(), stdout);
  return 0;
}

}  // namespace boxjail::cli
