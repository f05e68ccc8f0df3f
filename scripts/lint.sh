#!/usr/bin/env bash
# Static checks of src/ and include/, each with zero findings: clang-format (the whole tree's C++,
# tests included), cppcheck, and clang-tidy with the checked-in .clang-tidy (which says what it
# leaves out and why). Needs a configured build for its compile_commands.json.
#
#   bash scripts/lint.sh [BUILD_DIR]     # default build/release
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
[[ -f $build/compile_commands.json ]] || { echo "lint.sh: no $build/compile_commands.json" >&2; exit 2; }
mapfile -t cxx < <(git ls-files 'src/*.cpp' 'src/*.hpp' 'include/*.hpp' 'include/*.h' \
  'tests/*.cpp' 'tests/*.hpp' 'bench/*.cpp' 'docs/examples/*.c' 'docs/examples/*.cpp')

clang-format --dry-run --Werror "${cxx[@]}"
echo "ok   clang-format: ${#cxx[@]} files"

# useStlAlgorithm: a style preference (a loop often reads better than an algorithm call).
# unusedStructMember: cppcheck 2.10 misses members read through a constexpr table's iterator.
cppcheck --enable=style,warning,performance,portability --std=c++20 --inline-suppr --quiet \
  --error-exitcode=1 -j2 --suppress=useStlAlgorithm --suppress=unusedStructMember \
  -I include -I src src include
echo "ok   cppcheck: src include"

log=$(mktemp /tmp/boxjail-tidy.XXXXXX)
trap 'rm -f "$log"' EXIT
run-clang-tidy -p "$build" -j 2 -extra-arg=-Wno-unknown-warning-option -quiet "$PWD/src/" \
  >"$log" 2>&1 || true
if grep -qE '(warning|error):' "$log"; then
  grep -E -A3 '(warning|error):' "$log" | sed 's/^/     | /'
  echo "FAIL clang-tidy: $(grep -cE '(warning|error):' "$log") findings"
  exit 1
fi
echo "ok   clang-tidy: $(grep -c '^' <(find src -name '*.cpp')) files of src/, the headers they include"
