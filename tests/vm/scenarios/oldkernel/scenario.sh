# Debian 11's own 5.10 kernel (no mount_setattr, which came with 5.12), booted with bookworm's
# userspace: boxjail probes it, says so, and mounts the classic way; the core jails run as root
# and as uid 1000, read-only stays read-only, symlinks in the sandbox tree never reach the host,
# and nothing is left behind. Run by tests/vm/run-stage.sh on the bullseye kernel (and on 6.1,
# where the same jails take the new mount API: the scenario checks which path each kernel gets).
set -eu
bj=/usr/local/bin/boxjail
release=$(uname -r)
echo "kernel $release ($suite)"
case $release in
  5.*) classic=1 ;;
  *) classic=0 ;;
esac
mounts_before=$(cat /proc/self/mountinfo)

# --- which way this kernel mounts --------------------------------------------------------------
$bj --version >/tmp/version.out
as_user $bj doctor --json >/tmp/doctor.json 2>&1 || true
if [ "$classic" = 1 ]; then
  contains /tmp/version.out "mounts on this kernel: classic mount(2), staged: this kernel ($release) has no mount_setattr (Linux 5.12+)" "--version names the classic path and why"
  contains /tmp/doctor.json '"path": "classic"' "doctor names the classic path"
else
  contains /tmp/version.out "mounts on this kernel: the new mount API" "--version names the new mount API"
  contains /tmp/doctor.json '"path": "new-mount-api"' "doctor names the new mount API"
fi
contains /tmp/doctor.json '"usable": true' "doctor: jails can run"

# --- the core jails, as root and as uid 1000 ----------------------------------------------------
# run_as WHO NAME ARGS...: the jail's output in /tmp/NAME.out, its status in $status.
run_as() {
  who=$1 name=$2
  shift 2
  set +e
  if [ "$who" = user ]; then as_user $bj "$@" >/tmp/$name.out 2>/tmp/$name.err; else $bj "$@" >/tmp/$name.out 2>/tmp/$name.err; fi
  status=$?
  set -e
}

mkdir -p /srv/victim /srv/box
chmod 0777 /srv/victim /srv/box
for who in root user; do
  # A read-only root: every mount the jail sees is read-only (no mount here is stacked under
  # another, so none is out of a remount's reach), and a write fails.
  run_as $who ro-$who --ro-bind / / -- /bin/busybox sh -c 'cat /proc/self/mountinfo; touch /x 2>&1 || echo refused'
  status_is "$status" 0 "$who: --ro-bind / / runs"
  contains /tmp/ro-$who.out "refused" "$who: the root is read-only"
  rw=$(awk '$1 ~ /^[0-9]+$/ && NF >= 10 && $6 !~ /^ro(,|$)/ { print $5 }' /tmp/ro-$who.out)
  if [ -z "$rw" ]; then ok "$who: every mount of the jail is read-only"; else fail "$who: writable mounts: $rw"; fi

  # --unshare-all with /proc, /dev and a tmpfs.
  run_as $who all-$who --unshare-all --ro-bind / / --proc /proc --dev /dev --tmpfs /tmp -- \
    /bin/busybox sh -c 'echo data >/tmp/t && cat /tmp/t; test -c /dev/null && echo dev; test -r /proc/self/status && echo proc; echo $$'
  status_is "$status" 0 "$who: --unshare-all with /proc, /dev, a tmpfs runs"
  contains /tmp/all-$who.out "data" "$who: the tmpfs is writable"
  contains /tmp/all-$who.out "dev" "$who: /dev has its nodes"
  contains /tmp/all-$who.out "proc" "$who: /proc is mounted"

  # The runtime's per-VM jail (a user namespace of its own).
  run_as $who vm-$who --unshare-user --unshare-pid --unshare-ipc --unshare-uts --die-with-parent \
    --new-session --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp -- /bin/busybox true
  status_is "$status" 0 "$who: the runtime's per-VM jail runs"

  # Symlinks planted in the sandbox tree (in a bound directory the caller writes) never send a
  # created directory, file or mount to the host.
  rm -rf /srv/box/* /srv/victim/*
  ln -s /srv/victim /srv/box/abs
  ln -s ../victim /srv/box/rel
  chown -h 1000:1000 /srv/box/abs /srv/box/rel
  for link in abs rel; do
    run_as $who esc-$who-$link --ro-bind / / --bind /srv/box /box --dir /box/$link/made \
      --tmpfs /box/$link/t --ro-bind /bin /box/$link/b -- /bin/busybox true
    if [ -z "$(ls -A /srv/victim)" ]; then ok "$who: --dir, --tmpfs, --ro-bind through $link stay in the jail"; else fail "$who: through $link on the host: $(ls -A /srv/victim)"; fi
  done
done

# --- the setuid rung on this kernel --------------------------------------------------------------
printf '[ladder]\nmode = "setuid"\nsetuid_helper = "/usr/local/bin/boxjail-suid"\n' >/tmp/setuid.toml
chmod 0644 /tmp/setuid.toml
set +e
BOXJAIL_CONFIG=/tmp/setuid.toml as_user $bj --unshare-user --unshare-pid --die-with-parent \
  --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp -- /bin/busybox sh -c 'touch /x 2>/dev/null || echo refused' >/tmp/suid.out 2>/tmp/suid.err
status=$?
set -e
status_is "$status" 0 "setuid rung: the per-VM jail runs"
[ "$status" = 0 ] || sed 's/^/    | /' /tmp/suid.err
contains /tmp/suid.out "refused" "setuid rung: the root is read-only"

# --- further back: this kernel with the calls older ones lack answering ENOSYS (vm_deny) ----------
# Ubuntu 20.04's 5.4 and RHEL 8's 4.18 have no statx mount id (5.8), openat2 (5.6), faccessat2
# (5.8), close_range (5.9); 4.18 no new mount API (5.2), clone3 or pidfd_open (5.3). On this
# kernel's procfs, older than 5.14, /proc/self/fdinfo is closed to the setuid rung's privileged
# side (its fs uid is the caller's), which the mount ids then come from.
old_calls=statx,openat2,faccessat2,close_range,open_tree,move_mount,fsopen,fsconfig,fsmount,fspick,mount_setattr,clone3,pidfd_open,pidfd_send_signal
for who in 0 1000; do
  set +e
  /usr/local/bin/vm_deny "$old_calls" "$who" $bj --unshare-all --ro-bind / / --proc /proc --dev /dev \
    --tmpfs /tmp -- /bin/busybox sh -c 'touch /x 2>/dev/null || echo refused; echo data >/tmp/t && cat /tmp/t' >/tmp/old-$who.out 2>/tmp/old-$who.err
  status=$?
  set -e
  status_is "$status" 0 "uid $who, as on 4.18: the core jail runs"
  [ "$status" = 0 ] || sed 's/^/    | /' /tmp/old-$who.err
  contains /tmp/old-$who.out "refused" "uid $who, as on 4.18: the root is read-only"
done
set +e
BOXJAIL_CONFIG=/tmp/setuid.toml /usr/local/bin/vm_deny "$old_calls" 1000 $bj --unshare-user --unshare-pid \
  --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp -- /bin/busybox sh -c 'touch /x 2>/dev/null || echo refused' >/tmp/old-suid.out 2>/tmp/old-suid.err
status=$?
set -e
status_is "$status" 0 "setuid rung, as on 4.18: the per-VM jail runs"
[ "$status" = 0 ] || sed 's/^/    | /' /tmp/old-suid.err
contains /tmp/old-suid.out "refused" "setuid rung, as on 4.18: the root is read-only"

# --- nothing left behind ------------------------------------------------------------------------
if [ "$(cat /proc/self/mountinfo)" = "$mounts_before" ]; then ok "no mount left on the host"; else fail "the host's mounts changed"; fi
left=$(ps -o comm 2>/dev/null | grep -c boxjail || true)
if [ "$left" = 0 ]; then ok "no boxjail process left"; else fail "$left boxjail processes left"; fi
echo "failures: $failures"
exit "$failures"
