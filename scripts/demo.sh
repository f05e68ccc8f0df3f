#!/usr/bin/env bash
# Installs the dependencies, builds boxjail and runs a real jail, as root and as uid 65534.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target boxjail boxjail-suid
bin=$(mktemp -d); chmod 755 "$bin"; cp build/release/boxjail "$bin/"; trap 'rm -rf "$bin"' EXIT
probe='echo "uid: $(id -u)  pid: $$  hostname: $(hostname)"; echo "uid_map: $(cat /proc/self/uid_map)";
echo "mount ns: $(readlink /proc/self/ns/mnt)"; echo "network interfaces: $(awk -F: "NR>2{printf \"%s \", \$1}" /proc/net/dev)";
echo "/tmp: $(ls -A /tmp | wc -l) entries"; grep -E "CapEff|NoNewPrivs" /proc/self/status'
echo "host mount ns: $(readlink /proc/self/ns/mnt)"
for who in root nobody; do
  echo "--- jail as $who"
  run=("$bin/boxjail"); [ "$who" = nobody ] && run=(setpriv --reuid 65534 --regid 65534 --clear-groups "$bin/boxjail")
  (cd / && "${run[@]}" --unshare-all --hostname jail --ro-bind / / --proc /proc --dev /dev --tmpfs /tmp -- sh -c "$probe")
done
echo "--- the same jail as uid 65534 through the setuid rung (helper installed 4755 in a temp dir)"
cp build/release/boxjail-suid "$bin/" && chmod 4755 "$bin/boxjail-suid"
printf '[ladder]\nmode = "setuid"\nsetuid_helper = "%s"\n' "$bin/boxjail-suid" > "$bin/config.toml"
(cd / && setpriv --reuid 65534 --regid 65534 --clear-groups "$bin/boxjail" --config "$bin/config.toml" \
  --json-status-fd 2 --unshare-all --ro-bind / / --proc /proc --dev /dev --tmpfs /tmp -- sh -c "$probe")
echo "--- boxjail doctor (as uid 65534; ladder.mode = auto with that helper)"
printf '[ladder]\nmode = "auto"\nsetuid_helper = "%s"\n' "$bin/boxjail-suid" > "$bin/auto.toml"
(cd / && setpriv --reuid 65534 --regid 65534 --clear-groups "$bin/boxjail" doctor --config "$bin/auto.toml") || true
