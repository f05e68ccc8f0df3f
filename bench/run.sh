#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The benchmarks of issue 5 in one command, as root on Debian 12:
#
#   bash bench/run.sh
#
# installs what they need (the build deps, Google Benchmark, gnuplot, perf), builds the release
# preset and the `bench` target, waits (at most WAIT_S seconds) for a quiet machine, then runs
# startup_bench (boxjail against /usr/bin/bwrap, interleaved, as root and as uid 65534),
# micro_bench and bench/phases.sh (the phase split of configurations 1, 2 and 4 with perf
# tracepoints), draws the plot and rewrites the results section of docs/performance.md.
# Tunables (environment): RUNS=50 BATCHES=10 CONCURRENCY=64 MEM_RUNS=5 WAIT_S=600 PHASE_RUNS=100
# (PHASE_RUNS=0 skips the phase split).
# Extra arguments go to startup_bench, e.g. `bash bench/run.sh --configs true,unshare,1`.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-50}
BATCHES=${BATCHES:-10}
CONCURRENCY=${CONCURRENCY:-64}
MEM_RUNS=${MEM_RUNS:-5}
WAIT_S=${WAIT_S:-600}
PHASE_RUNS=${PHASE_RUNS:-100}
out=bench/results

if [[ $(id -u) -ne 0 ]]; then
  echo "bench/run.sh: run as root (the harness drops to uid 65534 itself)" >&2
  exit 1
fi

# Dependencies: the project's own, plus what only the benchmarks need (kept out of CI's deps).
bash scripts/deps.sh libbenchmark-dev gnuplot-nox linux-perf

cmake --preset release >/dev/null
cmake --build --preset release --target boxjail bench

# Other work on the machine moves the absolute figures (the ratios are measured side by side and
# move less): wait, for at most WAIT_S seconds, until no test suite runs (orphaned, sleeping
# leftovers of killed suites do not count) and the CPUs are at least 85% idle over 3 seconds.
cpu_busy_pct() {
  local a b c d e f g h t1 i1 t2 i2
  read -r _ a b c d e f g h _ </proc/stat
  t1=$((a + b + c + d + e + f + g + h)) i1=$((d + e))
  sleep 3
  read -r _ a b c d e f g h _ </proc/stat
  t2=$((a + b + c + d + e + f + g + h)) i2=$((d + e))
  echo $((100 * ((t2 - t1) - (i2 - i1)) / (t2 - t1 > 0 ? t2 - t1 : 1)))
}
busy() {
  local p
  for p in $(pgrep -f 'boxjail_tests|ctest'); do
    [[ $(ps -o ppid= -p "$p" 2>/dev/null | tr -d ' ') == 1 ]] || { echo "tests running (pid $p)"; return 0; }
  done
  p=$(cpu_busy_pct)
  ((p > 15)) && { echo "CPU ${p}% busy"; return 0; }
  return 1
}
waited=0
while why=$(busy) && ((waited < WAIT_S)); do
  echo "bench/run.sh: waiting for a quiet machine: $why (${waited}s of ${WAIT_S}s)" >&2
  sleep 10
  waited=$((waited + 13))
done
why=$(busy) && echo "bench/run.sh: WARNING: measuring on a busy machine: $why" >&2

mkdir -p "$out"
source_rev="git $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
git diff --quiet HEAD -- src include CMakeLists.txt 2>/dev/null || source_rev+=" with uncommitted changes"
build/release/bench/startup_bench --boxjail build/release/boxjail --bwrap /usr/bin/bwrap \
  --source "release preset, $source_rev" \
  --runs "$RUNS" --batches "$BATCHES" --concurrency "$CONCURRENCY" --mem-runs "$MEM_RUNS" \
  --json "$out/latest.json" --markdown "$out/latest.md" --plot-data "$out/latency.dat" "$@"

if [[ -x build/release/bench/micro_bench ]]; then
  build/release/bench/micro_bench --benchmark_color=false --benchmark_min_time=0.2 \
    --benchmark_out="$out/micro.json" --benchmark_out_format=json | tee "$out/micro.txt"
fi

rm -f "$out/phases.txt"
if ((PHASE_RUNS > 0)); then
  for c in 1 2 4; do
    for u in root nobody; do
      bash bench/phases.sh "$c" "$u" "$PHASE_RUNS" build/release/boxjail | tee -a "$out/phases.txt"
    done
  done
fi

gnuplot -e "datafile='$out/latency.dat'; outfile='$out/latency.png'; subtitle='$(head -n1 "$out/latency.dat" | sed "s/^# //; s/'//g")'" bench/plot.gp
cp "$out/latency.png" docs/performance.png

# Rewrite what lies between the two markers of docs/performance.md.
section=$(mktemp)
{
  echo "<!-- results:begin (written by bench/run.sh; edit the text around it, not this) -->"
  echo
  cat "$out/latest.md"
  echo
  echo "![latency per configuration](performance.png)"
  echo
  if [[ -f "$out/phases.txt" ]]; then
    echo "#### Phases (\`bench/phases.sh\`, medians in ms; see \"Where the time goes\")"
    echo
    echo '```'
    cat "$out/phases.txt"
    echo '```'
    echo
  fi
  if [[ -f "$out/micro.txt" ]]; then
    echo "#### Microbenchmarks (\`micro_bench\`, Google Benchmark)"
    echo
    echo '```'
    grep -E '^(Benchmark|-{10}|[a-z_]+/|normalize)' "$out/micro.txt"
    echo '```'
    echo
  fi
  echo "<!-- results:end -->"
} >"$section"
awk -v section="$section" '
  /<!-- results:begin/ { while ((getline line < section) > 0) print line; skip = 1; next }
  /<!-- results:end -->/ { skip = 0; next }
  !skip { print }
' docs/performance.md >"$section.doc"
cat "$section.doc" >docs/performance.md
rm -f "$section" "$section.doc"
echo "bench/run.sh: wrote $out/latest.{json,md}, $out/latency.png, docs/performance.{md,png}"
