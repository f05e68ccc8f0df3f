# The jail's own cgroup where cgroup v2 owns every controller (the host's development machines
# bind them all to v1): each limit takes effect and is hit for real, as root and as uid 1000 in
# a delegated subtree, on the root, userns and setuid rungs; a parent that is not delegated is
# refused; nothing is left behind. Run by tests/vm/run-stage.sh.
set -eu
# json_number FILE EVENT KEY: KEY's value in the report line of EVENT ("" if absent or null).
json_number() {
  grep "\"event\":\"$2\"" "$1" | sed -n "s/.*\"$3\":\([0-9][0-9]*\).*/\1/p"
}
no_jail_cgroups() {
  left=$(find /sys/fs/cgroup -name 'boxjail-*' -type d | tr '\n' ' ')
  if [ -z "$left" ]; then ok "$1: no jail cgroup is left"; else fail "$1: left behind: $left"; fi
}
no_sleepers() {
  # busybox ps: PID USER TIME COMMAND
  if ps | grep -v grep | grep -q 'sleep 3[0-9]'; then fail "$1: a jailed sleep survived"; ps; else ok "$1: no jailed process survived"; fi
}
BJ=/usr/local/bin/boxjail

mount -t cgroup2 none /sys/fs/cgroup
controllers=$(cat /sys/fs/cgroup/cgroup.controllers)
echo "cgroup2 controllers: $controllers"
for c in memory pids cpu io; do
  case " $controllers " in
    *" $c "*) echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control ;;
    *) fail "the $c controller is not in the VM's cgroup v2" ;;
  esac
done
mkdir /sys/fs/cgroup/jails
# The controllers the limits below need, enabled for /jails's children once, by root: the uid 1000
# case that is refused then fails at its own mkdir, not at enabling a controller in /jails.
echo "+memory +pids +cpu +io" > /sys/fs/cgroup/jails/cgroup.subtree_control

# ---- root: every limit is in the cgroup's files, as the command sees them ----
# shellcheck disable=SC2016 # expanded inside the jail
show='cg=$(sed -n "s/^0:://p" /proc/self/cgroup); d=/sys/fs/cgroup$cg; echo "$cg"; cat $d/memory.max $d/memory.swap.max $d/pids.max $d/cpu.max $d/cpu.weight'
set +e
$BJ --ro-bind / / --cgroup-parent /jails --memory-max 32M --memory-swap-max 0 --pids-max 16 \
  --cpu-max 50000:100000 --cpu-weight 50 -- /bin/sh -c "$show" >/tmp/files.out 2>/tmp/last.err
status_is $? 0 "root: a jail with every limit"
set -e
if sed -n 1p /tmp/files.out | grep -qE '^/jails/boxjail-[0-9a-f]{16}$'; then ok "root: the command runs in its own cgroup"; else fail "root: cgroup $(sed -n 1p /tmp/files.out)"; fi
printf '33554432\n0\n16\n50000 100000\n50\n' >/tmp/files.expected
if sed 1d /tmp/files.out | cmp -s - /tmp/files.expected; then ok "root: memory.max, memory.swap.max, pids.max, cpu.max, cpu.weight as asked"; else fail "root: the limits read:"; cat /tmp/files.out; fi
no_jail_cgroups "root"

# ---- pids.max: a fork bomb is contained, reported, and cleaned up ----
# shellcheck disable=SC2016
bomb='i=0; while [ $i -lt 40 ]; do sleep 31 & i=$((i+1)); done 2>/dev/null; echo forked'
set +e
$BJ --ro-bind / / --dev /dev --cgroup-parent /jails --pids-max 8 --report-fd 3 -- /bin/sh -c "$bomb" 3>/tmp/pids.json >/tmp/pids.out 2>/tmp/pids.err
# busybox sh gives up (exit 2) at the first fork refused; what matters is that it was refused.
rc=$?; if [ $rc -lt 128 ]; then ok "root: the fork bomb's shell ends (exit $rc)"; else fail "root: the fork bomb's shell was killed ($rc)"; fi
set -e
hits=$(json_number /tmp/pids.json cgroup pids_max_hits)
if [ "${hits:-0}" -gt 0 ]; then ok "root: the report counts $hits forks refused at pids.max"; else fail "root: pids_max_hits '$hits'"; cat /tmp/pids.json; fi
contains /tmp/pids.err "boxjail: cgroup: pids.max reached: " "root: stderr says pids.max was reached"
no_sleepers "root fork bomb"
no_jail_cgroups "root fork bomb"

# ---- memory.max: an allocation over it is killed by the OOM killer and reported ----
set +e
$BJ --ro-bind / / --dev /dev --cgroup-parent /jails --memory-max 16M --memory-swap-max 0 --report-fd 3 \
  -- /bin/dd if=/dev/zero of=/dev/null bs=64M count=1 3>/tmp/mem.json >/tmp/mem.out 2>/tmp/mem.err
status_is $? 137 "root: dd of 64 MiB under memory.max 16M is killed (SIGKILL)"
set -e
kills=$(json_number /tmp/mem.json cgroup oom_kills)
peak=$(json_number /tmp/mem.json cgroup memory_peak)
if [ "${kills:-0}" -ge 1 ]; then ok "root: the report counts $kills OOM kill(s)"; else fail "root: oom_kills '$kills'"; cat /tmp/mem.json; fi
if [ -n "$peak" ] && [ "$peak" -le 16777216 ] && [ "$peak" -gt 1048576 ]; then ok "root: memory.peak $peak is within memory.max"; else fail "root: memory_peak '$peak'"; fi
contains /tmp/mem.err "boxjail: cgroup: out of memory (memory.max, or the host's): the kernel's OOM killer killed 1 process(es) of the jail" "root: stderr says the OOM killer struck"
no_jail_cgroups "root oom"

# ---- cpu.max: a busy loop gets its quota and no more ----
set +e
$BJ --ro-bind / / --cgroup-parent /jails --cpu-max 10000:100000 --report-fd 3 \
  -- /bin/timeout 2 /bin/sh -c 'while :; do :; done' 3>/tmp/cpu.json 2>/tmp/last.err
rc=$?
set -e
usec=$(json_number /tmp/cpu.json cgroup cpu_usage_usec)
# 10 % of one CPU for 2 s is 200 ms; unthrottled it would be about 2 s.
if [ -n "$usec" ] && [ "$usec" -le 400000 ] && [ "$usec" -gt 50000 ]; then ok "root: cpu.max 10% held a 2 s busy loop to ${usec} us of CPU (exit $rc)"; else fail "root: cpu_usage_usec '$usec' (exit $rc)"; cat /tmp/cpu.json; fi

# ---- io.max: on null_blk's /dev/nullb0 (modules from the suite's own kernel, modules.txt), the
# limit is in the file and a direct read of 2 MiB at rbps=1 MiB/s takes about 2 s; a device that
# does not exist is a clear error ----
dev=
if [ -f /payload/modules/configfs.ko ] && insmod /payload/modules/configfs.ko &&
  insmod /payload/modules/null_blk.ko && [ -f /sys/block/nullb0/dev ]; then
  dev=$(cat /sys/block/nullb0/dev)
  ok "null_blk gives /dev/nullb0 ($dev)"
else
  fail "no null_blk device for io.max"
fi
if [ -n "$dev" ]; then
  # shellcheck disable=SC2016 # expanded inside the jail
  io_read='cg=$(sed -n "s/^0:://p" /proc/self/cgroup); grep "^'"$dev"' " /sys/fs/cgroup$cg/io.max;
    t0=$(cut -d" " -f1 /proc/uptime); dd if=/dev/nullb0 of=/dev/null bs=64k count=32 iflag=direct 2>/dev/null;
    t1=$(cut -d" " -f1 /proc/uptime); echo "$t0 $t1" | awk "{ printf \"%d\n\", (\$2 - \$1) * 1000 }"'
  set +e
  $BJ --ro-bind / / --dev /dev --dev-bind /dev/nullb0 /dev/nullb0 --cgroup-parent /jails \
    --io-max "$dev rbps=1048576 wiops=100" -- /bin/sh -c "$io_read" >/tmp/io.out 2>/tmp/last.err
  status_is $? 0 "root: a jail with io.max on /dev/nullb0"
  $BJ --ro-bind / / --dev /dev --dev-bind /dev/nullb0 /dev/nullb0 --cgroup-parent /jails \
    -- /bin/sh -c "$io_read" >/tmp/io-free.out 2>&1
  set -e
  contains /tmp/io.out "$dev rbps=1048576 wbps=max riops=max wiops=100" "root: io.max as asked"
  ms=$(tail -n 1 /tmp/io.out)
  free_ms=$(tail -n 1 /tmp/io-free.out)
  if [ "${ms:-0}" -ge 1500 ] && [ "${free_ms:-99999}" -lt "$ms" ]; then
    ok "root: io.max rbps 1 MiB/s held a 2 MiB read to ${ms} ms (${free_ms} ms without it)"
  else
    fail "root: the 2 MiB read took '${ms}' ms under io.max, '${free_ms}' ms without"
    cat /tmp/io.out /tmp/io-free.out
  fi
fi
set +e
$BJ --ro-bind / / --cgroup-parent /jails --io-max "250:250 rbps=1048576" -- /bin/true 2>/tmp/io.err
status_is $? 1 "root: io.max for a missing device fails"
set -e
contains /tmp/io.err "cgroup: write /sys/fs/cgroup/jails/boxjail-" "root: the io.max error names the file"
contains /tmp/io.err "Can't set io.max to \"250:250 rbps=1048576\"" "root: and the value"
no_jail_cgroups "root io.max"

# ---- uid 1000 in a delegated subtree: user namespace and setuid rungs ----
d=/sys/fs/cgroup/user-1000
mkdir $d $d/session
chown 1000:1000 $d $d/cgroup.procs $d/cgroup.subtree_control $d/cgroup.threads \
  $d/session $d/session/cgroup.procs $d/session/cgroup.threads
printf '[ladder]\nmode = "userns"\n' >/tmp/userns.toml
printf '[ladder]\nmode = "setuid"\nsetuid_helper = "/usr/local/bin/boxjail-suid"\n' >/tmp/setuid.toml
for rung in userns setuid; do
  set +e
  # From the user's own session below the delegated cgroup, as a logind session would be.
  /bin/sh -c 'echo $$ > /sys/fs/cgroup/user-1000/session/cgroup.procs; exec "$@"' sh \
    /usr/bin/setpriv --reuid=1000 --regid=1000 --clear-groups -- \
    $BJ --config /tmp/$rung.toml --unshare-user --ro-bind / / --dev /dev --cgroup-parent /user-1000 \
    --memory-max 32M --pids-max 8 --report-fd 3 -- /bin/sh -c "$show 2>/dev/null | head -3; $bomb" \
    3>/tmp/u-$rung.json >/tmp/u-$rung.out 2>/tmp/last.err
  rc=$?; if [ $rc -lt 128 ]; then ok "uid 1000, $rung rung: a limited jail in the delegated cgroup (exit $rc)"; else fail "uid 1000, $rung rung: exit $rc"; cat /tmp/last.err; fi
  set -e
  contains /tmp/u-$rung.out "/user-1000/boxjail-" "uid 1000, $rung rung: in its own cgroup below the delegated one"
  contains /tmp/u-$rung.out "33554432" "uid 1000, $rung rung: memory.max as asked"
  contains /tmp/u-$rung.json "\"event\":\"started\",\"rung\":\"$rung\"" "uid 1000, $rung rung: ran on that rung"
  hits=$(json_number /tmp/u-$rung.json cgroup pids_max_hits)
  if [ "${hits:-0}" -gt 0 ]; then ok "uid 1000, $rung rung: the fork bomb hit pids.max ($hits)"; else fail "uid 1000, $rung rung: pids_max_hits '$hits'"; cat /tmp/u-$rung.json; fi
  no_sleepers "uid 1000, $rung rung"
  no_jail_cgroups "uid 1000, $rung rung"

  set +e
  /bin/sh -c 'echo $$ > /sys/fs/cgroup/user-1000/session/cgroup.procs; exec "$@"' sh \
    /usr/bin/setpriv --reuid=1000 --regid=1000 --clear-groups -- \
    $BJ --config /tmp/$rung.toml --unshare-user --ro-bind / / --cgroup-parent /jails --pids-max 8 -- /bin/true 2>/tmp/nd-$rung.err
  status_is $? 1 "uid 1000, $rung rung: a parent that is not delegated is refused"
  set -e
  contains /tmp/nd-$rung.err "$rung rung: cgroup: mkdir /sys/fs/cgroup/jails/boxjail-" "uid 1000, $rung rung: the error names the cgroup"
  contains /tmp/nd-$rung.err "the cgroup parent is not delegated to this user (/sys/fs/cgroup/jails is owned by 0:0, mode 0755; this is uid 1000, gid 1000)" "uid 1000, $rung rung: and its owner"
  no_jail_cgroups "uid 1000 refused, $rung rung"
done

echo "failures: $failures"
exit "$failures"
