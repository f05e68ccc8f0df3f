#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Issue 14: where the time between a jail and its kernel floor goes. Like bench/phases.sh (perf
# tracepoints, N runs per tool in 5 alternating chunks, medians per phase), but boxjail given as
# options and as a spec (`boxjail run --spec`) against `unshare`. Only the scheduler's
# tracepoints are recorded (exec, fork, exit): a syscall tracepoint would put every syscall of
# the system on the slow path, which costs boxjail (twice the floor's syscalls) more than the
# floor and inflated its setup by 0.5 ms in trials.
#
#   clone     the tool's execve done -> its first child created (boxjail: the sandbox's clone3,
#             loader, start-up and parsing before it; `unshare --fork`: the fork after
#             unshare(2); `unshare -Urm true` has no child: "n/a")
#   setup     -> the command's (`true`) execve done (id maps, mounts, pivot_root, caps; the
#             floor: id maps, --mount-proc)
#   before    the tool's execve done -> the command's execve done (clone + setup, or all of
#             `unshare -Urm`'s work: its loader, unshare(2), the id maps)
#   command   the command's execve done -> the command's exit
#   after     the command's exit -> the loop's sh forks the next run, i.e. the tool's first
#             process has been reaped: the namespace teardown (after the exit event), boxjail's
#             monitor waking up and exiting, the sh's wait4 and a few builtins (the same for all)
#   total     the tool's execve done -> the next run forked
#
# Then, with SYSCALLS=N (default 20; 0 skips), `perf trace -s` over N more runs of each tool: the
# syscalls that take the most time, summed over every process of a run, per run, and how many
# calls (perf trace's own overhead inflates every call, so compare tools with each other, not
# with the phases).
#
# usage (as root): bash bench/floor_phases.sh [CONFIG=1|2|4] [root|nobody] [RUNS=100] [BOXJAIL]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/perf_fields.sh
. bench/perf_fields.sh
config=${1:-1}
user=${2:-nobody}
runs=${3:-100}
boxjail=${4:-build/release/boxjail}
syscall_runs=${SYSCALLS:-20}

dir=$(mktemp -d /tmp/boxjail-floor-phases.XXXXXX)
trap 'rm -rf "$dir"' EXIT
chmod 755 "$dir"
cp "$boxjail" "$dir/boxjail"
mkdir "$dir/rw" "$dir/ro"
chown 65534:65534 "$dir/rw"

case $config in
  1) args=(--ro-bind / /) floors=("-Urm") ;;
  2)
    args=(--unshare-all --ro-bind / / --proc /proc --dev /dev)
    # -c (issue 14's spelling) is --map-current-user, no cgroup namespace; -C makes one.
    floors=("-UrmpiunC --fork --mount-proc" "-Urmpiunc --fork --mount-proc")
    ;;
  4)
    args=(--unshare-user --unshare-pid --unshare-ipc --unshare-uts --die-with-parent --new-session)
    for p in /usr /lib /lib64 /bin /sbin /etc/resolv.conf; do
      [[ -e $p ]] && args+=(--ro-bind "$p" "$p")
    done
    args+=(--dev /dev --proc /proc --tmpfs /tmp --bind "$dir/rw" "$dir/rw" --ro-bind "$dir/ro" "$dir/ro"
      --clearenv --setenv PATH /usr/bin:/bin --setenv HOME /root --chdir / --)
    floors=("-Urmpiu --fork --mount-proc")
    ;;
  *) echo "config must be 1, 2 or 4" >&2; exit 2 ;;
esac
drop=()
[[ $user == nobody ]] && drop=(setpriv --reuid 65534 --regid 65534 --clear-groups)
env=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C)

# The spec, made once as the user with the same environment.
"${env[@]}" "${drop[@]}" "$dir/boxjail" spec --from-args -- "${args[@]}" true >"$dir/spec.json"
chmod 644 "$dir/spec.json"

tools=(boxjail spec)
declare -A argv_of binary_of
argv_of[boxjail]=$(printf '%q ' "$dir/boxjail" "${args[@]}" true)
argv_of[spec]=$(printf '%q ' "$dir/boxjail" run --spec "$dir/spec.json")
binary_of[boxjail]=boxjail binary_of[spec]=boxjail
i=0
for f in "${floors[@]}"; do
  t=floor$i
  tools+=("$t")
  # shellcheck disable=SC2086 # $f is a list of options
  argv_of[$t]=$(printf '%q ' /usr/bin/unshare $f true)
  binary_of[$t]=unshare
  i=$((i + 1))
done

for tool in "${tools[@]}"; do
  {
    echo '#!/bin/sh'
    echo "cd /"
    # shellcheck disable=SC2016 # $i belongs to the loop script; the last run of a chunk has no
    # next fork, hence the one more
    printf 'i=0; while [ $i -lt %d ]; do ' $(((runs + 4) / 5 + 1))
    printf '%q ' "${env[@]}" "${drop[@]}"
    echo "${argv_of[$tool]} >/dev/null 2>&1; i=\$((i+1)); done"
  } >"$dir/loop-$tool.sh"
  chmod 755 "$dir/loop-$tool.sh"
done
events=sched:sched_process_exec,sched:sched_process_fork,sched:sched_process_exit
for chunk in 1 2 3 4 5; do
  for tool in "${tools[@]}"; do
    perf record -a -q -o "$dir/$tool-$chunk.data" -e "$events" -- "$dir/loop-$tool.sh" >/dev/null 2>&1
  done
done

phases() {  # perf script text -> one line per run: clone setup before command after total (ms)
  awk -v bin="$1" "$PERF_FIELDS_AWK"'
    ev == "sched:sched_process_fork:" {
      c = $0; sub(/.*child_pid=/, "", c); sub(/ .*/, "", c)
      parent[c] = pid
      if (pid == mon && tfork == 0 && tcmd == 0) tfork = t
      if (pid == sh && done) {  # the next run: the previous tool has been reaped
        printf "%s %.3f %.3f\n", line, t - tcmdexit, t - texec
        done = 0; sh = ""
      }
      next
    }
    ev == "sched:sched_process_exec:" {
      f = $0; sub(/.*filename=/, "", f); sub(/ .*/, "", f)
      if (f ~ ("/" bin "$")) { mon = pid; sh = parent[pid]; texec = t; tfork = tcmd = tcmdexit = 0; cmd = ""; done = 0 }
      else if (f ~ /\/true$/ && mon != "" && tcmd == 0) { tcmd = t; cmd = pid }
      next
    }
    ev == "sched:sched_process_exit:" {
      if (pid == cmd && tcmdexit == 0) tcmdexit = t
      if (pid == mon && tcmd > 0 && tcmdexit > 0) {
        if (tfork > 0) line = sprintf("%.3f %.3f", tfork - texec, tcmd - tfork)
        else line = "n/a n/a"
        line = line sprintf(" %.3f %.3f", tcmd - texec, tcmdexit - tcmd)
        done = 1; mon = ""
      }
    }'
}
median() {  # column N of stdin ("n/a" values left out)
  awk -v c="$1" '$c != "n/a" { print $c }' | sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "n/a"; exit } m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f", m }'
}

echo "config $config as $user against its floor, median of $runs runs per tool (ms)"
for tool in "${tools[@]}"; do
  echo "  $tool: ${argv_of[$tool]//$dir/DIR}"
done
printf '%-8s %8s %8s %8s %8s %8s %8s %5s\n' tool clone setup before command after total runs
for tool in "${tools[@]}"; do
  for chunk in 1 2 3 4 5; do
    perf script -i "$dir/$tool-$chunk.data" 2>/dev/null
  done | phases "${binary_of[$tool]}" >"$dir/$tool.txt"
  printf '%-8s' "$tool"
  for col in 1 2 3 4 5 6; do printf ' %8s' "$(median $col <"$dir/$tool.txt")"; done
  printf ' %5s\n' "$(wc -l <"$dir/$tool.txt")"
done

if ((syscall_runs > 0)); then
  echo "syscalls with the most time per run (perf trace -s, $syscall_runs runs each, ms per run; calls per run)"
  blocking='wait4|waitid|read|poll|ppoll|epoll_wait|epoll_pwait|rt_sigtimedwait|rt_sigsuspend|pause'
  blocking+='|nanosleep|clock_nanosleep|select|pselect6|vfork|clone3'
  for tool in "${tools[@]}"; do
    sed -i "s/-lt [0-9]* ]/-lt $syscall_runs ]/" "$dir/loop-$tool.sh"
    perf trace -s -o "$dir/$tool.trace" -- "$dir/loop-$tool.sh" >/dev/null 2>&1 || true
    printf '  %-8s' "$tool"
    # Rows of the per-thread tables: syscall calls errors total min avg max stddev.
    awk -v n="$syscall_runs" '
      $1 ~ /^[a-z_0-9]+$/ && $2 ~ /^[0-9]+$/ && $4 ~ /^[0-9.]+$/ { ms[$1] += $4; calls[$1] += $2 }
      END { for (s in ms) printf "%s %.3f %.1f\n", s, ms[s] / n, calls[s] / n }' "$dir/$tool.trace" |
      grep -v -E "^($blocking) " | sort -k2 -nr | head -10 |
      awk '{ printf " %s %s (%s)", $1, $2, $3 } END { print "" }'
  done
  echo "  (left out: calls that block waiting for another process (${blocking//|/, }: vfork and"
  echo "  clone3 with CLONE_VFORK last until the child's execve); the loop's own sh, env and setpriv"
  echo "  are in every tool's figures alike)"
fi
