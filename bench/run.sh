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
#
# The runtime interface of issue 14 (`startup_bench --runtime-interface`: options against
# `boxjail run --spec` against the library, next to bwrap and the kernel floors; the memory of
# RI_JAILS long-lived jails as monitor, slim monitor and handed over; bench/floor_phases.sh)
# runs after the above and rewrites its own section of docs/performance.md. Only it:
#
#   bash bench/run.sh --runtime-interface [startup_bench options, e.g. --rt-parts memory]
#
# Its tunables: RI_RUNS=40 RI_JAILS=200 FLOOR_RUNS=100 (0 skips bench/floor_phases.sh).
# BUILD_DIR=DIR builds and measures a plain Release build in DIR instead of the release preset
# (build/release), e.g. BUILD_DIR=build/bench.
set -euo pipefail
cd "$(dirname "$0")/.."

runtime_only=0
if [[ ${1:-} == --runtime-interface ]]; then
  runtime_only=1
  shift
fi
RI_RUNS=${RI_RUNS:-40}
RI_JAILS=${RI_JAILS:-200}
FLOOR_RUNS=${FLOOR_RUNS:-100}
BUILD_DIR=${BUILD_DIR:-build/release}

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

if [[ $BUILD_DIR == build/release ]]; then
  cmake --preset release >/dev/null
else
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBOXJAIL_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$BUILD_DIR" --target boxjail bench seccomp_precompiled

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
if [[ $BUILD_DIR == build/release ]]; then
  build_desc="release preset, $source_rev"
else
  build_desc="Release build in $BUILD_DIR, $source_rev"
fi

# Issue 14: the runtime interface, its own section of docs/performance.md.
runtime_interface() {
  "$BUILD_DIR/bench/startup_bench" --runtime-interface --boxjail "$BUILD_DIR/boxjail" \
    --spawn-bench "$BUILD_DIR/bench/spawn_bench" --bwrap /usr/bin/bwrap --source "$build_desc" \
    --runs "$RI_RUNS" --jails "$RI_JAILS" \
    --rt-json "$out/runtime.json" --rt-markdown "$out/runtime.md" "$@"
  rm -f "$out/floor_phases.txt"
  if ((FLOOR_RUNS > 0)); then
    for c in 1 2 4; do
      bash bench/floor_phases.sh "$c" nobody "$FLOOR_RUNS" "$BUILD_DIR/boxjail" | tee -a "$out/floor_phases.txt"
    done
  fi
  local section ri_env="RI_RUNS=$RI_RUNS RI_JAILS=$RI_JAILS FLOOR_RUNS=$FLOOR_RUNS"
  [[ $BUILD_DIR == build/release ]] || ri_env+=" BUILD_DIR=$BUILD_DIR"
  section=$(mktemp)
  {
    echo "<!-- runtime-results:begin (written by bench/run.sh; edit the text around it, not this) -->"
    echo
    echo "Command: \`$ri_env bash bench/run.sh --runtime-interface${*:+ $*}\`; \`nproc\`: $(nproc), \`uname -r\`: $(uname -r)."
    echo
    cat "$out/runtime.md"
    echo
    if [[ -f "$out/floor_phases.txt" ]]; then
      echo "#### Phases against the floor (\`bench/floor_phases.sh\`, as uid 65534, medians in ms)"
      echo
      echo '```'
      cat "$out/floor_phases.txt"
      echo '```'
      echo
    fi
    echo "<!-- runtime-results:end -->"
  } >"$section"
  if grep -q '<!-- runtime-results:begin' docs/performance.md; then
    awk -v section="$section" '
      /<!-- runtime-results:begin/ { while ((getline line < section) > 0) print line; skip = 1; next }
      /<!-- runtime-results:end -->/ { skip = 0; next }
      !skip { print }
    ' docs/performance.md >"$section.doc"
    cat "$section.doc" >docs/performance.md
  else
    { echo; echo "## Runtime interface (issue 14)"; echo; cat "$section"; } >>docs/performance.md
  fi
  rm -f "$section" "$section.doc"
  echo "bench/run.sh: wrote $out/runtime.{json,md}, $out/floor_phases.txt and its section of docs/performance.md"
}

if ((runtime_only)); then
  runtime_interface "$@"
  exit 0
fi

"$BUILD_DIR/bench/startup_bench" --boxjail "$BUILD_DIR/boxjail" --bwrap /usr/bin/bwrap \
  --source "$build_desc" \
  --runs "$RUNS" --batches "$BATCHES" --concurrency "$CONCURRENCY" --mem-runs "$MEM_RUNS" \
  --json "$out/latest.json" --markdown "$out/latest.md" --plot-data "$out/latency.dat" "$@"

if [[ -x "$BUILD_DIR/bench/micro_bench" ]]; then
  "$BUILD_DIR/bench/micro_bench" --benchmark_color=false --benchmark_min_time=0.2 \
    --benchmark_out="$out/micro.json" --benchmark_out_format=json | tee "$out/micro.txt"
fi

rm -f "$out/phases.txt"
if ((PHASE_RUNS > 0)); then
  for c in 1 2 4; do
    for u in root nobody; do
      bash bench/phases.sh "$c" "$u" "$PHASE_RUNS" "$BUILD_DIR/boxjail" | tee -a "$out/phases.txt"
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

runtime_interface
