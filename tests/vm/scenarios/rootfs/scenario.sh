# boxjail on a host whose root is rootfs (the initramfs, which pivot_root cannot leave: EINVAL):
# the new root is moved over "/" instead and the host's other mounts are detached. Run by
# tests/vm/run-stage.sh with --no-switch-root.
set -eu
if grep -q ' / / .* - rootfs ' /proc/self/mountinfo; then ok "the VM's root is rootfs"; else fail "the VM's root is not rootfs:"; cat /proc/self/mountinfo; fi

# What the jail's mount table holds besides its own mounts: nothing of the host's (/sys, /tmp,
# /run, /dev/shm of the VM); rootfs itself stays below, as no mount operation can remove it.
check_jail() {
  name=$1
  shift
  set +e
  "$@" >/tmp/$name.out 2>/tmp/$name.err
  status=$?
  set -e
  if [ "$status" = 0 ]; then ok "$name: the jail runs"; else fail "$name: exit $status:"; cat /tmp/$name.err; return; fi
  extra=$(awk '$5 != "/" && $5 != "/bin" && $5 != "/proc" && $5 != "/dev" && $5 !~ "^/dev/(pts|shm|mqueue|null|zero|full|random|urandom|tty|console|ptmx)$" && $5 !~ "^/proc/" { print $5 }' /tmp/$name.out | sort -u | tr '\n' ' ')
  if [ -z "$extra" ]; then ok "$name: no host mount is left in the jail"; else fail "$name: host mounts in the jail: $extra"; cat /tmp/$name.out; fi
}
check_jail user as_user /usr/local/bin/boxjail --ro-bind /bin /bin --proc /proc --dev /dev -- /bin/busybox cat /proc/self/mountinfo
check_jail user-nested as_user /usr/local/bin/boxjail --unshare-user --uid 5 --gid 5 --ro-bind /bin /bin --proc /proc --dev /dev -- /bin/busybox cat /proc/self/mountinfo
check_jail root /usr/local/bin/boxjail --ro-bind /bin /bin --unshare-pid --proc /proc --dev /dev -- /bin/busybox cat /proc/self/mountinfo
set +e
/usr/local/bin/boxjail --ro-bind / / --proc /proc -- /bin/busybox umount /proc/sys >/tmp/locked.out 2>&1
rc=$?
set -e
if [ "$rc" != 0 ]; then ok "root: the mounts stay locked"; else fail "root: a cover was unmounted"; fi
echo "failures: $failures"
exit "$failures"
