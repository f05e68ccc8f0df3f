#!/usr/bin/env bash
# The fuzzing stage: builds every libFuzzer harness of tests/fuzz with clang under ASan + UBSan
# (build/fuzz), then runs each for SECONDS (default 60) from a copy of its seed corpus in
# tests/fuzz/corpus/<target>/. Any crash, leak, sanitizer report or timeout fails the stage; the
# input that caused it is kept in build/fuzz/findings/<target>/ (add it to the corpus once fixed:
# the next runs replay it first). One line per target.
#
#   bash scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
targets=(spec_json bwrap_args config seccomp_policy error_record)

CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBOXJAIL_FUZZ=ON -DBOXJAIL_SANITIZE=ON -DBOXJAIL_BUILD_TESTS=OFF -DBOXJAIL_BUILD_BENCH=OFF \
  >/dev/null
cmake --build build/fuzz --target fuzzers >/dev/null

# The option names, from the parser's table, as a dictionary for the command line's harness.
dict=build/fuzz/bwrap_args.dict
grep -oE '^ *\{"--[a-z0-9-]+"' src/frontend/bwrap_args.cpp | sed 's/^ *{//' >"$dict"
(($(wc -l <"$dict") > 60)) || { echo "fuzz.sh: no option names in $dict" >&2; exit 1; }

work=$(mktemp -d /tmp/boxjail-fuzz.XXXXXX)
trap 'rm -rf -- "$work"' EXIT
failed=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t" "build/fuzz/findings/$t"
  cp tests/fuzz/corpus/"$t"/* "$work/$t/"
  extra=()
  [[ $t == spec_json ]] && extra+=(-dict=tests/fuzz/spec_json.dict)
  [[ $t == bwrap_args ]] && extra+=(-dict="$dict")
  log=$work/$t.log
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "build/fuzz/tests/fuzz/${t}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="build/fuzz/findings/$t/" \
    "${extra[@]}" "$work/$t" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    printf 'ok   fuzz %-15s %10s inputs in %ss, corpus %s\n' "$t" "$runs" "$seconds" \
      "$(ls "$work/$t" | wc -l)"
  else
    failed=$((failed + 1))
    printf 'FAIL fuzz %s (the input: build/fuzz/findings/%s/)\n' "$t" "$t"
    grep -E 'ERROR|SUMMARY|runtime error|#[0-9]+ 0x' "$log" | head -n 30 | sed 's/^/     | /'
  fi
done
((failed == 0)) || { echo "fuzz: $failed target(s) failed"; exit 1; }
echo "fuzz: all targets clean"
