#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Where the start-up time goes, phase by phase, for boxjail and bwrap side by side. Records
# scheduler and syscall tracepoints with perf (Debian's linux-perf) over N runs of each tool,
# alternating in chunks, and prints the median of each phase:
#
#   init      the jailer's execve done -> its first clone/clone3 entered (dynamic loader, static
#             initialisers, argv parsing, planning)
#   clone     clone entered -> child created (the kernel creates the namespaces here)
#   setup     child created -> the command's execve done (id maps, mounts, pivot_root, caps;
#             with a pid namespace also the fork of pid 1)
#   command   the command's execve done -> the command exits (`true`)
#   teardown  the command exits -> the supervisor exits (namespaces torn down, pid 1 and the
#             supervisor woken up and exiting)
#   total     the jailer's execve done -> the supervisor exits
#
# usage (as root): bash bench/phases.sh [CONFIG=1..4] [root|nobody] [RUNS=100] [BOXJAIL]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/perf_fields.sh
. bench/perf_fields.sh
config=${1:-1}
user=${2:-root}
runs=${3:-100}
boxjail=${4:-build/release/boxjail}

dir=$(mktemp -d /tmp/boxjail-phases.XXXXXX)
trap 'rm -rf "$dir"' EXIT
chmod 755 "$dir"
cp "$boxjail" "$dir/boxjail"
cp /usr/bin/bwrap "$dir/bwrap"
mkdir "$dir/rw" "$dir/ro"
chown 65534:65534 "$dir/rw"

c2=(--unshare-all --ro-bind / / --proc /proc --dev /dev)
case $config in
  1) args=(--ro-bind / /) ;;
  2) args=("${c2[@]}") ;;
  3) args=("${c2[@]}" --die-with-parent --new-session) ;;
  4)
    args=(--unshare-user --unshare-pid --unshare-ipc --unshare-uts --die-with-parent --new-session)
    for p in /usr /lib /lib64 /bin /sbin /etc/resolv.conf; do
      [[ -e $p ]] && args+=(--ro-bind "$p" "$p")
    done
    args+=(--dev /dev --proc /proc --tmpfs /tmp --bind "$dir/rw" "$dir/rw" --ro-bind "$dir/ro" "$dir/ro"
      --clearenv --setenv PATH /usr/bin:/bin --setenv HOME /root --chdir / --)
    ;;
  *) echo "config must be 1..4" >&2; exit 2 ;;
esac
drop=()
[[ $user == nobody ]] && drop=(setpriv --reuid 65534 --regid 65534 --clear-groups)

# One loop script per tool; 5 alternating chunks so drift hits both alike.
for tool in boxjail bwrap; do
  {
    echo '#!/bin/sh'
    echo "cd /"
    printf 'i=0; while [ $i -lt %d ]; do ' $((runs / 5))
    printf '%q ' "${drop[@]}" "$dir/$tool" "${args[@]}" true
    echo '>/dev/null 2>&1; i=$((i+1)); done'
  } >"$dir/loop-$tool.sh"
  chmod 755 "$dir/loop-$tool.sh"
done
events=sched:sched_process_exec,sched:sched_process_fork,sched:sched_process_exit
events+=,syscalls:sys_enter_clone,syscalls:sys_enter_clone3
for chunk in 1 2 3 4 5; do
  for tool in boxjail bwrap; do
    perf record -q -o "$dir/$tool-$chunk.data" -e "$events" -- "$dir/loop-$tool.sh" >/dev/null 2>&1
  done
done

phases() {  # perf script text -> one line per run: init clone setup command teardown total (ms)
  awk -v tool="$1" "$PERF_FIELDS_AWK"'
    ev == "sched:sched_process_exec:" {
      f = $0; sub(/.*filename=/, "", f); sub(/ .*/, "", f)
      if (f ~ ("/" tool "$")) { mon = pid; texec = t; tclone = tfork = tcmd = tcmdexit = 0; child = cmd = "" }
      else if (f ~ /\/true$/ && mon != "" && tcmd == 0) { tcmd = t; cmd = pid }
      next
    }
    ev ~ /^syscalls:sys_enter_clone3?:$/ && pid == mon && tclone == 0 { tclone = t; next }
    ev == "sched:sched_process_fork:" && pid == mon && tfork == 0 { tfork = t; next }
    ev == "sched:sched_process_exit:" {
      if (pid == cmd && tcmdexit == 0) tcmdexit = t
      if (pid == mon && tcmd > 0) {
        printf "%.3f %.3f %.3f %.3f %.3f %.3f\n", tclone - texec, tfork - tclone, tcmd - tfork, tcmdexit - tcmd, t - tcmdexit, t - texec
        mon = ""
      }
    }'
}
median() {  # column N of stdin
  sort -n -k"$1","$1" | awk -v c="$1" '{ v[NR] = $c } END { if (NR == 0) { print "n/a"; exit } m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f", m }'
}

echo "config $config as $user, median of $runs runs per tool (ms)"
printf '%-8s %8s %8s %8s %8s %9s %8s %5s\n' tool init clone setup command teardown total runs
for tool in boxjail bwrap; do
  for chunk in 1 2 3 4 5; do
    perf script -i "$dir/$tool-$chunk.data" 2>/dev/null
  done | phases "$tool" >"$dir/$tool.txt"
  printf '%-8s' "$tool"
  for col in 1 2 3 4 5 6; do printf ' %8s' "$(median $col <"$dir/$tool.txt")"; done
  printf ' %5s\n' "$(wc -l <"$dir/$tool.txt")"
done
