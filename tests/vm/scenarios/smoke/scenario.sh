#!/bin/sh
# Smoke test of the VM stage: which kernel, what AppArmor offers, and whether an unprivileged
# boxjail jail runs at all. Runs as root under busybox sh; setpriv drops to uid 1000.
set -u
echo "uname -r: $(uname -r)"
echo "lsm: $(cat /sys/kernel/security/lsm)"
echo "apparmor enabled: $(cat /sys/module/apparmor/parameters/enabled)"
echo "--- /sys/kernel/security/apparmor/profiles"
cat /sys/kernel/security/apparmor/profiles
ns=/sys/kernel/security/apparmor/features/namespaces
if [ -d "$ns" ]; then
  echo "--- $ns"
  for f in "$ns"/*; do
    if [ -f "$f" ]; then echo "${f##*/}: $(cat "$f")"; else echo "${f##*/}/"; fi
  done
fi
echo "--- sysctls"
for s in kernel/unprivileged_userns_clone kernel/apparmor_restrict_unprivileged_userns \
  kernel/apparmor_restrict_unprivileged_unconfined user/max_user_namespaces; do
  [ -e /proc/sys/$s ] && echo "$s = $(cat /proc/sys/$s)" || echo "$s: absent"
done
echo "--- boxjail as uid 1000"
/usr/bin/setpriv --reuid=1000 --regid=1000 --init-groups \
  /usr/local/bin/boxjail --ro-bind / / -- /bin/busybox id
