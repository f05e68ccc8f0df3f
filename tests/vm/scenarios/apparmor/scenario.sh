# AppArmor denials as a jailer meets them, on a real kernel: one case per kind of denial, each run
# as uid 1000 and checked against boxjail's own output (the first line, the cause, the fixes, the
# kernel's record, --report-fd) and against `boxjail doctor --json`. Run by tests/vm/run-stage.sh
# on Debian 12's 6.1 and Debian 13's 6.12; $suite says which.
# vm: open-dmesg
set -eu
# run-stage.sh puts lib.sh and `suite=bookworm|trixie` in front of this file.
echo "kernel $(uname -r) ($suite), $(cat /sys/kernel/security/apparmor/profiles | wc -l) profiles"
run_args="--ro-bind / / --report-fd 3 -- /bin/busybox true"

# --- 1. capabilities denied at the clone (a profile attached to boxjail's path) -------------------
refused caps /usr/local/bin/bj-nocaps clone-namespaces EPERM "the capability sys_admin (CAP_SYS_ADMIN)" \
  'fix:   Add `capability sys_admin,` to the profile "bj-nocaps"'
first_line /tmp/caps.err "clone-namespaces: clone3: " "caps: the first line names the syscall"
lacks /tmp/caps.err "unprivileged_userns_clone" "caps: no Debian-switch hint (the sysctl is 1)"
contains /tmp/caps.err 'profile "bj-nocaps" (enforce), attached to it' "caps: cause names the profile, mode and origin"
contains /tmp/caps.json '"cause_id":"apparmor-profile-attached"' "caps: --report-fd names the cause"
contains /tmp/caps.json 'capname=\"sys_admin\"' "caps: --report-fd's record is the capability's"

# --- 2. mount mediation ------------------------------------------------------------------------
# Measured: Debian 12's 6.1 does not mediate the mounts boxjail makes in its user namespace under
# a profile without mount rules (the jail runs); Debian 13's 6.12 answers EACCES.
if [ "$suite" = bookworm ]; then
  jail mount /usr/local/bin/bj-nomount $run_args
  status_is "$status" 0 "mount: 6.1 lets the jail's mounts through"
  BOXJAIL_CONFIG=/tmp/userns.toml as_user /usr/local/bin/bj-nomount doctor --json >/tmp/mount-doctor.json 2>&1 || true
  contains /tmp/mount-doctor.json '"usable": true' "mount: doctor agrees"
else
  refused mount /usr/local/bin/bj-nomount make-root-rslave EACCES 'mount of / (flags "rw, rslave")' \
    'Add `mount options=(rw,rslave) -> /,`'
  first_line /tmp/mount.err "make-root-rslave: mount(MS_SLAVE|MS_REC) /: " "mount: the first line names the call"
  contains /tmp/mount.json 'operation=\"mount\"' "mount: --report-fd's record is the mount's"
fi

# --- 3. file mediation of the id maps ----------------------------------------------------------
for c in nosetgroups:write-setgroups:setgroups nomap:write-uid-map:uid_map nogidmap:write-gid-map:gid_map; do
  n=${c%%:*}; rest=${c#*:}; step=${rest%%:*}; file=${rest#*:}
  refused "$n" "/usr/local/bin/bj-$n" "$step" EACCES '"w" access to /proc/' "Add \`/proc/[0-9]*/$file w,\`"
  contains "/tmp/$n.err" "/$file" "$n: cause names $file"
done

# --- 4. a profile inherited from the caller ------------------------------------------------------
# The caller forks boxjail (as a runtime does): its label is then boxjail's parent's. (One that
# exec'd boxjail in its place would leave no trace of itself: the kernel keeps a profile's
# attachment only compiled, shown as "<unknown>", so boxjail could not tell.)
set +e
BOXJAIL_CONFIG=/tmp/userns.toml as_user /usr/local/lib/caller/sh -c \
  "/usr/local/bin/boxjail $run_args 3>/tmp/inherited.json 2>/tmp/inherited.err; exit \$?"
status=$?
set -e
status_is "$status" 1 "inherited: the jail is refused"
first_line /tmp/inherited.err "(EPERM)" "inherited: first line names EPERM"
contains /tmp/inherited.err 'runs under the profile "bj-caller" (enforce) of the process that started it' "inherited: cause names the caller's profile"
contains /tmp/inherited.err "fix:   Run boxjail from a process outside that profile" "inherited: fix is to run outside it"
contains /tmp/inherited.json '"cause_id":"apparmor-profile-inherited"' "inherited: --report-fd names the cause"
BOXJAIL_CONFIG=/tmp/userns.toml as_user /usr/local/lib/caller/sh -c \
  "/usr/local/bin/boxjail doctor --json >/tmp/inherited-doctor.json 2>&1; exit 0"
contains /tmp/inherited-doctor.json '"usable": false' "inherited: doctor, run by the same caller, agrees"

# --- 5. the kernel log not readable --------------------------------------------------------------
echo 1 > /proc/sys/kernel/dmesg_restrict
jail restricted /usr/local/bin/bj-nocaps $run_args
echo 0 > /proc/sys/kernel/dmesg_restrict
contains /tmp/restricted.err "kernel log: not readable: /dev/kmsg" "restricted log: says the log was not readable"
contains /tmp/restricted.err "kernel.dmesg_restrict = 1" "restricted log: names the sysctl"
contains /tmp/restricted.err "sudo dmesg | grep" "restricted log: says how to see it"
contains /tmp/restricted.err "cause: AppArmor denied the capability sys_admin" "restricted log: the cause still follows from the step"

# --- 6. the ladder climbs to the setuid helper where user namespaces are denied -----------------
cat > /tmp/auto.toml <<'TOML'
[ladder]
mode = "auto"
setuid_helper = "/usr/local/bin/boxjail-suid"
TOML
chmod 644 /tmp/auto.toml
echo 0 > /proc/sys/kernel/unprivileged_userns_clone
host_mnt=$(readlink /proc/self/ns/mnt)
set +e
BOXJAIL_CONFIG=/tmp/auto.toml as_user /usr/local/bin/boxjail --ro-bind / / --report-fd 3 -- \
  /bin/busybox readlink /proc/self/ns/mnt 3>/tmp/auto.json 2>/tmp/auto.err >/tmp/auto.out
status=$?
BOXJAIL_CONFIG=/tmp/auto.toml as_user /usr/local/bin/boxjail doctor --json >/tmp/auto-doctor.json 2>&1
# The runtime's per-VM jail (with a user namespace of its own) through doctor and for real: the
# verdicts agree, whatever the rungs make of it.
set +e
BOXJAIL_CONFIG=/tmp/auto.toml as_user /usr/local/bin/boxjail --unshare-user --ro-bind / / -- /bin/busybox sh -c \
  'tr -s " " < /proc/self/uid_map; readlink /proc/self/ns/user' >/tmp/preflight.out 2>/tmp/preflight.err
preflight_status=$?
set -e
status_is "$preflight_status" 0 "auto: the preflight (--unshare-user) runs on the setuid rung"
 contains /tmp/preflight.out " 1000 1000 1" "auto: its user namespace maps the caller's uid"
if ! grep -qF "$(readlink /proc/self/ns/user)" /tmp/preflight.out; then ok "auto: its user namespace is not the host's"; else fail "auto: the host's user namespace"; fi
set +e
vm_jail="--unshare-user --unshare-pid --unshare-ipc --unshare-uts --die-with-parent --new-session --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp -- /bin/busybox true"
BOXJAIL_CONFIG=/tmp/auto.toml as_user /usr/local/bin/boxjail $vm_jail 2>/tmp/vmjail.err
vmjail_status=$?
BOXJAIL_CONFIG=/tmp/auto.toml as_user /usr/local/bin/boxjail doctor --json -- $vm_jail >/tmp/vmjail-doctor.json 2>&1
set -e
echo 1 > /proc/sys/kernel/unprivileged_userns_clone
status_is "$vmjail_status" 0 "auto: the per-VM jail (--unshare-user) runs on the setuid rung"
contains /tmp/vmjail-doctor.json '"usable": true' "auto: doctor -- <the per-VM jail> agrees"
if grep -q '^  "rung": "setuid"' /tmp/vmjail-doctor.json; then ok "auto: doctor -- <the per-VM jail> names the setuid rung"; else fail "auto: doctor's rung for the per-VM jail"; fi
status_is "$status" 0 "auto: the jail runs"
contains /tmp/auto.json '"rung":"setuid"' "auto: on the setuid rung"
contains /tmp/auto.json '"cause_id":"debian-userns-clone-disabled"' "auto: the userns rung's refusal is explained"
lacks /tmp/auto.json "Let the ladder use the setuid rung" "auto: no fix that is already in effect (mode auto, helper installed)"
if [ -s /tmp/auto.out ] && [ "$(cat /tmp/auto.out)" != "$host_mnt" ]; then ok "auto: the command sees its own mount namespace"; else fail "auto: mount namespace '$(cat /tmp/auto.out)' vs host '$host_mnt'"; fi
if grep -q '^  "rung": "setuid"' /tmp/auto-doctor.json; then ok "auto: doctor picks the same rung"; else fail "auto: doctor's rung:"; grep '^  "rung"' /tmp/auto-doctor.json; fi
contains /tmp/auto-doctor.json '"usable": true' "auto: doctor agrees the jail can run"

# Even the helper cannot make a user namespace where the limit is 0 (it binds root too).
max=$(cat /proc/sys/user/max_user_namespaces)
echo 0 > /proc/sys/user/max_user_namespaces
set +e
BOXJAIL_CONFIG=/tmp/auto.toml as_user /usr/local/bin/boxjail --unshare-user --ro-bind / / -- /bin/busybox true 2>/tmp/limit.err
status=$?
set -e
echo "$max" > /proc/sys/user/max_user_namespaces
status_is "$status" 1 "limit 0: the jail is refused"
contains /tmp/limit.err "boxjail: setuid rung: clone-namespaces: clone3: " "limit 0: the setuid rung's clone is named"
contains /tmp/limit.err "(ENOSPC)" "limit 0: with ENOSPC"
contains /tmp/limit.err "user.max_user_namespaces = 0: no process (root included) may create a user namespace" "limit 0: the cause says so"
contains /tmp/limit.err "sysctl user.max_user_namespaces=" "limit 0: with the fix"

# A profile on boxjail's path that denies capabilities and runs the helper unconfined: the userns
# rung is refused by AppArmor, the setuid rung runs the per-VM jail.
set +e
BOXJAIL_CONFIG=/tmp/auto.toml as_user /usr/local/bin/bj-ladder --report-fd 3 $vm_jail 3>/tmp/ladder.json 2>/tmp/ladder.err
status=$?
set -e
status_is "$status" 0 "apparmor ladder: the per-VM jail runs"
contains /tmp/ladder.json '"rung":"setuid"' "apparmor ladder: on the setuid rung"
contains /tmp/ladder.json '"cause_id":"apparmor-profile-attached"' "apparmor ladder: the userns rung's refusal is AppArmor's"

# --- 7. the profile `doctor --apparmor-profile` prints loads ------------------------------------
/usr/local/bin/bj-fixed doctor --apparmor-profile > /tmp/fixed.profile
if [ "$suite" = bookworm ]; then
  # AppArmor 3.0 knows neither abi 4.0 nor `userns,`: the rest of the profile must load.
  sed -e 's|abi <abi/4.0>|abi <abi/3.0>|' -e '/^ *userns,$/d' /tmp/fixed.profile > /tmp/fixed3.profile
  if /usr/sbin/apparmor_parser -r -K /tmp/fixed3.profile > /tmp/fixed.load 2>&1; then ok "profile: loads on AppArmor 3.0 without userns,"; else fail "profile: does not load:"; cat /tmp/fixed.load; fi
else
  if /usr/sbin/apparmor_parser -r -K /tmp/fixed.profile > /tmp/fixed.load 2>&1; then ok "profile: loads on AppArmor 4"; else fail "profile: does not load:"; cat /tmp/fixed.load; fi
fi
jail fixed /usr/local/bin/bj-fixed --ro-bind / / -- /bin/busybox cat /proc/self/attr/apparmor/current
status_is "$status" 0 "profile: a jail runs under it"
contains /tmp/fixed.out "boxjail (unconfined)" "profile: the jail's label is the generated profile's"

# --- 8. AppArmor 4: creating the user namespace is mediated -------------------------------------
if [ "$suite" = trixie ]; then
  refused userns /usr/local/bin/bj-nouserns clone-namespaces EACCES "creating a user namespace" \
    'Add `userns,` to the profile "bj-nouserns"'
  contains /tmp/userns.err 'operation="userns_create"' "userns: the kernel's record is the creation's"
  # The generated profile, in place of the one that denied it, makes the userns rung work.
  /usr/sbin/apparmor_parser -R /payload/profiles/bj-nouserns
  /usr/local/bin/bj-nouserns doctor --apparmor-profile > /tmp/nouserns-fixed.profile
  /usr/sbin/apparmor_parser -r -K /tmp/nouserns-fixed.profile
  jail userns-fixed /usr/local/bin/bj-nouserns --ro-bind / / -- /bin/busybox true
  status_is "$status" 0 "userns: the generated profile makes the userns rung work"
fi

# --- 9. the package's profile, loaded by its postinst and unloaded by its prerm ------------------
# The build's profile attaches to the installed boxjail, here /usr/local/bin/boxjail (the release
# build's prefix; the package's is /usr/bin/boxjail, checked by scripts/check-package.sh).
grep -qx 'profile boxjail /usr/local/bin/boxjail flags=(unconfined) {' /payload/package/apparmor-profile &&
  ok "package: the profile attaches to the installed boxjail" ||
  fail "package: the profile attaches elsewhere: $(grep '^profile' /payload/package/apparmor-profile)"
# The profiles generated above are named "boxjail" too: none may be loaded before the postinst.
printf boxjail > /sys/kernel/security/apparmor/.remove 2>/dev/null || true
grep -q '^boxjail ' /sys/kernel/security/apparmor/profiles && fail "package: a profile boxjail is still loaded before the postinst" || ok "package: no profile boxjail loaded before the postinst"
cp /payload/package/apparmor-profile /etc/apparmor.d/boxjail
set +e
sh /payload/package/postinst configure > /tmp/postinst.out 2>&1
status=$?
set -e
status_is "$status" 0 "package: postinst configure succeeds"
if [ "$suite" = bookworm ]; then
  contains /tmp/postinst.out "AppArmor older than 4.0 (no user namespace mediation); /etc/apparmor.d/boxjail not loaded" \
    "package: on AppArmor 3.0 the postinst leaves the profile out, saying why"
  grep -q '^boxjail ' /sys/kernel/security/apparmor/profiles && fail "package: loaded on AppArmor 3.0" || ok "package: not loaded on AppArmor 3.0"
else
  if /usr/sbin/apparmor_parser -QT /etc/apparmor.d/boxjail > /tmp/parse.out 2>&1; then ok "package: apparmor_parser -QT parses the profile"; else fail "package: apparmor_parser -QT:"; cat /tmp/parse.out; fi
  lacks /tmp/postinst.out "warning" "package: the postinst loads it without a warning"
  grep -q '^boxjail (unconfined)$' /sys/kernel/security/apparmor/profiles && ok "package: postinst loaded the profile" || fail "package: the profile is not loaded"
  # A jail of the runtime's kind (a user namespace, as uid 1000) under the loaded profile.
  set +e
  as_user /usr/local/bin/boxjail --unshare-all --ro-bind / / --proc /proc --dev /dev -- \
    /bin/busybox cat /proc/self/attr/apparmor/current > /tmp/pkg.out 2>/tmp/pkg.err
  status=$?
  set -e
  status_is "$status" 0 "package: a user-namespace jail runs as uid 1000 under the profile"
  contains /tmp/pkg.out "boxjail (unconfined)" "package: the jail's label is the package's profile"
  sh /payload/package/prerm remove > /tmp/prerm.out 2>&1 && ok "package: prerm remove succeeds" || fail "package: prerm remove failed: $(cat /tmp/prerm.out)"
  grep -q '^boxjail ' /sys/kernel/security/apparmor/profiles && fail "package: prerm left the profile loaded" || ok "package: prerm unloaded the profile"
fi
rm -f /etc/apparmor.d/boxjail

echo "failures: $failures"
exit "$failures"
