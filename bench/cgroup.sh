#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What the jail's own cgroup costs (issue 15): the start-up of `true` in a jail without and with
# --cgroup-parent (create, limit, clone into it, empty and remove it at the end), interleaved,
# as root and as uid 65534 (in a parent delegated to it), and the monitor's memory (PSS) for a
# long-lived jail without a cgroup and with one (the slim monitor takes over after 20 ms in both,
# the cgroup going along: it empties and removes it at the end).
#
#   bash bench/cgroup.sh [BUILD_DIR]        # as root; BUILD_DIR defaults to build/release
#
# Tunables: RUNS=200 (start-ups per configuration and user). Needs a cgroup v2 hierarchy; makes
# its parent cgroup under the hierarchy's root and removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
RUNS=${RUNS:-200}
mount=$(awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
[[ -n $mount ]] || { echo "bench/cgroup.sh: no cgroup v2 hierarchy here" >&2; exit 1; }
work=$(mktemp -d /tmp/boxjail-bench-cgroup.XXXXXX)
parent=$mount/boxjail-bench-$$
cleanup() {
  rmdir "$parent/session" "$parent" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"
mkdir "$work/times"
chmod 1777 "$work/times"
cp "$build/boxjail" "$work/"
bj=$work/boxjail
mkdir "$parent" "$parent/session"
chown 65534:65534 "$parent" "$parent"/cgroup.{procs,subtree_control,threads}
rel=${parent#"$mount"}

# median_ms NAME: the median of the per-run times (ns) in $work/NAME, in ms with 3 decimals.
median_ms() {
  sort -n "$work/times/$1" | awk '{ a[NR] = $1 } END { printf "%.3f", a[int((NR + 1) / 2)] / 1e6 }'
}

# One shell per user runs the loop, so that the user switch is not timed; the two
# configurations alternate run by run.
for who in root nobody; do
  if [[ $who == nobody ]]; then
    run_as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    userns=(--unshare-user)
  else
    run_as=()
    userns=()
  fi
  # shellcheck disable=SC2016 # expanded by the inner shell
  sh -c 'echo $$ > "$1/session/cgroup.procs"; shift; exec "$@"' sh "$parent" "${run_as[@]}" \
    bash -c '
      bj=$1 rel=$2 runs=$3 out=$4; shift 4
      for ((i = 0; i < runs; i++)); do
        t0=$(date +%s%N); "$bj" --ro-bind / / "$@" true; t1=$(date +%s%N)
        "$bj" --ro-bind / / "$@" --cgroup-parent "$rel" true; t2=$(date +%s%N)
        echo $((t1 - t0)) >>"$out.plain"; echo $((t2 - t1)) >>"$out.cgroup"
      done' bash "$bj" "$rel" "$RUNS" "$work/times/$who" "${userns[@]}"
  printf '%-7s start-up of `true` (median of %d): without a cgroup %s ms, with --cgroup-parent %s ms\n' \
    "$who" "$RUNS" "$(median_ms "$who.plain")" "$(median_ms "$who.cgroup")"
done

# pss_kib PID: the process's proportional set size.
pss_kib() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup"; }
for config in plain cgroup; do
  extra=()
  [[ $config == cgroup ]] && extra=(--cgroup-parent "$rel")
  "$bj" --ro-bind / / "${extra[@]}" sleep 5 &
  monitor=$!
  sleep 1
  printf 'monitor PSS of a long-lived jail, %-6s: %s KiB\n' "$config" "$(pss_kib "$monitor")"
  kill "$monitor"
  wait "$monitor" || true
done
