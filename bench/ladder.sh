#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What each ladder rung costs at start-up, as uid 65534 (the caller the setuid rung is for):
#   bash bench/ladder.sh [RUNS]        (default 300 runs per cell, as root on this machine)
# Mean wall time of a full run to exit (perf stat -r), interleaved round by round: the userns
# rung (boxjail's default path), the setuid rung (boxjail -> boxjail-suid, mode "setuid"), the
# auto ladder climbing from a denied userns rung to setuid, and Debian's bwrap. The climb is
# measured on a masked /proc (a file of /proc over-mounted, as containers do), where the kernel
# refuses the new procfs inside the user namespace: the userns attempt fails late, after the
# namespaces, maps, base tmpfs and binds, so this is the costliest climb.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-300}
cmake --preset release >/dev/null
cmake --build --preset release --target boxjail boxjail-suid >/dev/null
d=$(mktemp -d); chmod 755 "$d"; trap 'rm -rf "$d"' EXIT
cp build/release/boxjail build/release/boxjail-suid "$d/"; chmod 4755 "$d/boxjail-suid"
for m in userns setuid auto; do
  printf '[ladder]\nmode = "%s"\nsetuid_helper = "%s/boxjail-suid"\n' "$m" "$d" > "$d/$m.toml"
done
nobody=(setpriv --reuid 65534 --regid 65534 --clear-groups)
jail=(--unshare-all --ro-bind / / --proc /proc --dev /dev true)
mean_ms() {  # the "seconds time elapsed" line of perf stat -r, in ms
  perf stat -r "$RUNS" "$@" 2>&1 >/dev/null | awk '/seconds time elapsed/ {printf "%.3f", $1 * 1000}'
}
cd /
printf '%-34s %10s %10s\n' "cell (uid 65534, ${RUNS} runs)" "round 1" "round 2"
declare -A res
for round in 1 2; do
  res[floor,$round]=$(mean_ms "${nobody[@]}" true)
  res[userns,$round]=$(mean_ms "${nobody[@]}" "$d/boxjail" --config "$d/userns.toml" "${jail[@]}")
  res[setuid,$round]=$(mean_ms "${nobody[@]}" "$d/boxjail" --config "$d/setuid.toml" "${jail[@]}")
  res[climb,$round]=$(mean_ms unshare -m sh -c "mount --make-rprivate / && mount --bind /dev/null /proc/uptime && exec ${nobody[*]} $d/boxjail --config $d/auto.toml ${jail[*]}")
  res[climbfloor,$round]=$(mean_ms unshare -m sh -c "mount --make-rprivate / && mount --bind /dev/null /proc/uptime && exec ${nobody[*]} true")
  if [ -x /usr/bin/bwrap ]; then res[bwrap,$round]=$(mean_ms "${nobody[@]}" /usr/bin/bwrap "${jail[@]}"); fi
done
for k in floor userns setuid climbfloor climb bwrap; do
  case $k in
    floor) name="setpriv + true (floor)";; userns) name="userns rung";; setuid) name="setuid rung (mode setuid)";;
    climbfloor) name="masked-proc floor (unshare+mount)";; climb) name="auto: userns denied -> setuid";;
    bwrap) name="bwrap 0.8 (userns)";;
  esac
  printf '%-34s %8s ms %8s ms\n' "$name" "${res[$k,1]:--}" "${res[$k,2]:--}"
done
