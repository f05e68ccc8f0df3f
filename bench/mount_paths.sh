#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The classic mount path's start-up next to the new mount API's, on this kernel (issue 18):
#
#   bash bench/mount_paths.sh [startup_bench options]
#
# builds the release preset's boxjail and the two wrappers of bench/mount_path_wrap.cpp, then
# runs startup_bench with mount_path_classic in the "boxjail" column and mount_path_new in the
# "bwrap" column: the same exec and the same size of seccomp filter before boxjail, so the
# difference is the mount path's. Configurations 1 (--ro-bind / /), 2 (--unshare-all with /proc
# and /dev) and 4 (the per-VM jail), as root and as uid 65534. Tunables: RUNS=40 WARMUP=5.
# Results in bench/results/mount-paths.{md,json}; docs/performance.md quotes them.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) -eq 0 ]] || { echo "bench/mount_paths.sh: run as root" >&2; exit 1; }
cmake --preset release >/dev/null
cmake --build --preset release --target boxjail mount_path_classic mount_path_new startup_bench >/dev/null
b=build/release/bench
"$b/mount_path_classic" --version | grep -q 'classic mount(2)' ||
  { echo "bench/mount_paths.sh: the classic wrapper does not get the classic path" >&2; exit 1; }
"$b/mount_path_new" --version | grep -q 'the new mount API' ||
  { echo "bench/mount_paths.sh: this kernel has no new mount API to compare with" >&2; exit 1; }
mkdir -p bench/results
"$b/startup_bench" --boxjail "$b/mount_path_classic" --bwrap "$b/mount_path_new" \
  --configs 1,2,4 --runs "${RUNS:-40}" --warmup "${WARMUP:-5}" --batches 0 --mem-runs 0 \
  --json bench/results/mount-paths.json --markdown bench/results/mount-paths.md \
  --plot-data /dev/null --source "$(git rev-parse --short HEAD 2>/dev/null || echo unknown): classic (boxjail column) vs new mount API (bwrap column)" "$@"
cat bench/results/mount-paths.md
