#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What --uid-range/--gid-range cost (issue 15): the start-up of `true` as uid 65534 without and
# with 65536 subordinate uids and gids (newuidmap and newgidmap run per jail), interleaved. The
# grants live in this run's own subuid/subgid, bind-mounted over /etc in a private mount
# namespace: the host's /etc is not touched.
#
#   bash bench/subid.sh [BUILD_DIR]        # as root, with uidmap installed
#
# Tunables: RUNS=100.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
RUNS=${RUNS:-100}
work=$(mktemp -d /tmp/boxjail-bench-subid.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
cp "$build/boxjail" "$work/"
echo "nobody:100000:65536" >"$work/subuid"
echo "nobody:100000:65536" >"$work/subgid"
chmod 644 "$work/subuid" "$work/subgid"
mkdir "$work/times" && chmod 1777 "$work/times"
# shellcheck disable=SC2016 # expanded by the inner shells
unshare -m --propagation private sh -c '
  mount --bind "$1/subuid" /etc/subuid && mount --bind "$1/subgid" /etc/subgid
  exec setpriv --reuid=65534 --regid=65534 --clear-groups bash -c "
    for ((i = 0; i < $2; i++)); do
      t0=\$(date +%s%N); $1/boxjail --ro-bind / / true; t1=\$(date +%s%N)
      $1/boxjail --ro-bind / / --uid-range 100000:100000:65536 --gid-range 100000:100000:65536 true
      t2=\$(date +%s%N); echo \$((t1 - t0)) >>$1/times/plain; echo \$((t2 - t1)) >>$1/times/ranges
    done"' sh "$work" "$RUNS"
median_ms() { sort -n "$work/times/$1" | awk '{ a[NR] = $1 } END { printf "%.3f", a[int((NR + 1) / 2)] / 1e6 }'; }
printf 'uid 65534 start-up of `true` (median of %d): own id only %s ms, with 65536 subordinate uids and gids %s ms\n' \
  "$RUNS" "$(median_ms plain)" "$(median_ms ranges)"
