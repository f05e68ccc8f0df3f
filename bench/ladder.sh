#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What each ladder rung costs at start-up, as uid 65534 (the caller the setuid rung is for):
#   bash bench/ladder.sh [RUNS]        (default 300 runs per cell, as root on this machine)
#   BASELINE=DIR bash bench/ladder.sh  also times the userns and setuid rungs of the boxjail and
#                                      boxjail-suid in DIR (another build), interleaved: an A/B
#                                      of a change on the same machine in the same minutes
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
if [ -n "${BASELINE:-}" ]; then
  mkdir "$d/base"; chmod 755 "$d/base"
  cp "$BASELINE/boxjail" "$BASELINE/boxjail-suid" "$d/base/"; chmod 4755 "$d/base/boxjail-suid"
  for m in userns setuid; do
    printf '[ladder]\nmode = "%s"\nsetuid_helper = "%s/base/boxjail-suid"\n' "$m" "$d" > "$d/base/$m.toml"
  done
fi
nobody=(setpriv --reuid 65534 --regid 65534 --clear-groups)
jail=(--unshare-all --ro-bind / / --proc /proc --dev /dev true)
mean_ms() {  # the "seconds time elapsed" line of perf stat -r, in ms
  perf stat -r "$RUNS" "$@" 2>&1 >/dev/null | awk '/seconds time elapsed/ {printf "%.3f", $1 * 1000}'
}
cd /
rounds=$(seq "${ROUNDS:-2}")
printf '%-34s' "cell (uid 65534, ${RUNS} runs)"; for r in $rounds; do printf ' %10s' "round $r"; done; echo
declare -A res
for round in $rounds; do
  res[floor,$round]=$(mean_ms "${nobody[@]}" true)
  res[userns,$round]=$(mean_ms "${nobody[@]}" "$d/boxjail" --config "$d/userns.toml" "${jail[@]}")
  res[setuid,$round]=$(mean_ms "${nobody[@]}" "$d/boxjail" --config "$d/setuid.toml" "${jail[@]}")
  if [ -n "${BASELINE:-}" ]; then
    res[base_userns,$round]=$(mean_ms "${nobody[@]}" "$d/base/boxjail" --config "$d/base/userns.toml" "${jail[@]}")
    res[base_setuid,$round]=$(mean_ms "${nobody[@]}" "$d/base/boxjail" --config "$d/base/setuid.toml" "${jail[@]}")
  fi
  res[climb,$round]=$(mean_ms unshare -m sh -c "mount --make-rprivate / && mount --bind /dev/null /proc/uptime && exec ${nobody[*]} $d/boxjail --config $d/auto.toml ${jail[*]}")
  res[climbfloor,$round]=$(mean_ms unshare -m sh -c "mount --make-rprivate / && mount --bind /dev/null /proc/uptime && exec ${nobody[*]} true")
  if [ -x /usr/bin/bwrap ]; then res[bwrap,$round]=$(mean_ms "${nobody[@]}" /usr/bin/bwrap "${jail[@]}"); fi
done
for k in floor userns base_userns setuid base_setuid climbfloor climb bwrap; do
  case $k in
    floor) name="setpriv + true (floor)";; userns) name="userns rung";; setuid) name="setuid rung (mode setuid)";;
    climbfloor) name="masked-proc floor (unshare+mount)";; climb) name="auto: userns denied -> setuid";;
    bwrap) name="bwrap 0.8 (userns)";;
    base_userns) name="userns rung (baseline)";; base_setuid) name="setuid rung (baseline)";;
  esac
  [ -n "${res[$k,1]:-}" ] || continue
  printf '%-34s' "$name"; for r in $rounds; do printf ' %8s ms' "${res[$k,$r]:--}"; done; echo
done
