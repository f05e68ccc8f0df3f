#!/usr/bin/env bash
# boot.sh [--cache DIR] --kernel bookworm|trixie|bullseye --payload DIR [--no-switch-root] [--timeout S]
#         [--bin FILE]...
#
# Boots one of Debian's own kernels under qemu with AppArmor on, runs the payload's scenario.sh
# as root inside, and prints its combined output on stdout, then "== audit" and the kernel's
# apparmor audit lines. Exits with the scenario's status; 124 on timeout; 125 when the guest
# never reached the end marker (tail of the serial log on stderr); 126 when a profile did not
# load (the scenario did not run); 77 when the stage cannot run here (no packages, no qemu).
#
# Payload DIR: scenario.sh (required); profiles/ (AppArmor profiles, loaded with
# apparmor_parser -r -K before the scenario); bin/ (copied to /usr/local/bin; --bin FILE adds
# one more). A file named boxjail-suid there becomes root's with mode 4755. Any other file or
# directory in DIR is copied to /payload, the scenario's working directory. Lines
# "# vm: no-switch-root" and "# vm: open-dmesg" in scenario.sh ask for the same as the option
# and for kernel.dmesg_restrict=0.
#
# BOXJAIL_VM_ACCEL=kvm|tcg forces the accelerator; by default KVM is tried and TCG used when it
# does not boot the guest.
set -euo pipefail
umask 022

here=$(cd "$(dirname "$0")" && pwd)
cache=/var/cache/boxjail-vm
suite=
payload=
switch_root=1
timeout=300
extra_bins=()

usage() {
  echo "usage: $0 [--cache DIR] --kernel bookworm|trixie|bullseye --payload DIR [--no-switch-root]" \
    "[--timeout S] [--bin FILE]..." >&2
  exit 2
}
while (($#)); do
  case $1 in
    --cache) cache=${2:?}; shift 2 ;;
    --kernel) suite=${2:?}; shift 2 ;;
    --payload) payload=${2:?}; shift 2 ;;
    --no-switch-root) switch_root=0; shift ;;
    --bin) extra_bins+=("${2:?}"); shift 2 ;;
    --timeout) timeout=${2:?}; shift 2 ;;
    -h|--help) usage ;;
    *) echo "boot.sh: unknown argument $1" >&2; usage ;;
  esac
done
[[ $suite == bookworm || $suite == trixie || $suite == bullseye ]] || usage
[[ -f $payload/scenario.sh ]] || { echo "boot.sh: $payload/scenario.sh missing" >&2; exit 2; }
[[ $timeout =~ ^[0-9]+$ ]] || usage

qemu=$(command -v qemu-system-x86_64) ||
  { echo "boot.sh: no qemu-system-x86_64 (apt-get install qemu-system-x86)" >&2; exit 77; }
# qboot enters the ELF vmlinux through PVH without a decompression stage (SeaBIOS cannot).
qboot=/usr/share/qemu/qboot.rom
[[ -r $qboot ]] || { echo "boot.sh: no $qboot (package qemu-system-data)" >&2; exit 77; }

# fetch.sh fills a cold cache and rebuilds one left by an older layout; on a warm cache it is a
# few stat calls. Its listing is dropped to keep stdout the guest's; its reasons go to stderr.
rc=0
"$here/fetch.sh" "$cache" >/dev/null || rc=$?
((rc == 0)) || exit "$rc"
sdir=$cache/$suite
busybox=$sdir/root/usr/bin/busybox

tmp=$(mktemp -d "${TMPDIR:-/tmp}/boxjail-vm.XXXXXX")
qpid=
# shellcheck disable=SC2317 # run by the traps
cleanup() {
  if [[ -n $qpid ]]; then kill "$qpid" 2>/dev/null || true; wait "$qpid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Per-run archive: /init, its settings and the payload. It is appended to the cached base;
# the kernel unpacks concatenated newc archives in order, later entries replacing earlier ones.
grep -qx '# vm: no-switch-root' "$payload/scenario.sh" && switch_root=0
open_dmesg=0
grep -qx '# vm: open-dmesg' "$payload/scenario.sh" && open_dmesg=1
# The nonce keeps scenario output (or a jail printing our log) from forging a marker.
mark=BJVM-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
st=$tmp/stage
mkdir -p "$st/etc" "$st/payload/profiles" "$st/usr/local/bin"
install -m 0755 "$here/init" "$st/init"
printf 'MARK=%s\nSWITCH_ROOT=%s\nOPEN_DMESG=%s\n' "$mark" "$switch_root" "$open_dmesg" >"$st/etc/vm.conf"
# Other files beside scenario.sh (helpers it sources, data) go along into /payload, its cwd,
# readable by uid 1000 too whatever the host's modes were.
find "$payload" -mindepth 1 -maxdepth 1 ! -name bin ! -name profiles ! -name scenario.sh \
  -exec cp -rL -t "$st/payload" {} +
chmod -R a+rX,go-w "$st/payload"
install -m 0755 "$payload/scenario.sh" "$st/payload/scenario.sh"
if [[ -d $payload/profiles ]]; then
  find "$payload/profiles" -maxdepth 1 -type f -exec install -m 0644 -t "$st/payload/profiles" {} +
fi
if [[ -d $payload/bin ]]; then
  find -L "$payload/bin" -maxdepth 1 -type f -exec install -m 0755 -t "$st/usr/local/bin" {} +
fi
# --bin lets a checked-in scenario run freshly built binaries without copying them into it.
for f in "${extra_bins[@]}"; do install -m 0755 "$f" "$st/usr/local/bin/"; done
# cpio -R 0:0 makes it root's inside the guest; the mode bit comes from the staged file.
if [[ -f $st/usr/local/bin/boxjail-suid ]]; then chmod 4755 "$st/usr/local/bin/boxjail-suid"; fi
(cd "$st" && find . -mindepth 1 | LC_ALL=C sort | "$busybox" cpio -o -H newc -R 0:0 2>/dev/null) \
  >"$tmp/payload.cpio"
cat "$sdir/base.cpio" "$tmp/payload.cpio" >"$tmp/initrd"

log=$tmp/serial.log
cmdline="console=ttyS0 quiet apparmor=1 security=apparmor panic=-1 reboot=t rdinit=/init"
cmdline+=" mitigations=off cryptomgr.notests i8042.noaux i8042.nokbd i8042.nopnp"
# 128 KiB is Debian's log buffer: a busy scenario's audit lines would wrap out of it.
cmdline+=" log_buf_len=4M"

# Runs the guest once; sets qrc. With a watchdog (seconds), gives up with status 99 when /init's
# "alive" line has not appeared by then: the way a broken KVM shows itself. Callers send its
# stderr to /dev/null: bash reports a job killed by a signal (qemu aborting) there.
run_qemu() {
  local accel=$1 watchdog=${2:-0}
  : >"$log"
  timeout -k 5 "$timeout" "$qemu" -accel "$accel" -cpu max -m 512 -smp 1 \
    -nodefaults -nographic -no-reboot -monitor none -net none -serial "file:$log" \
    -bios "$qboot" -kernel "$sdir/kernel/vmlinux" -initrd "$tmp/initrd" -append "$cmdline" \
    </dev/null >"$tmp/qemu.out" 2>&1 &
  qpid=$!
  qrc=0
  if ((watchdog)); then
    local ticks=0
    until grep -q "== $mark alive" "$log"; do
      if ! kill -0 "$qpid" 2>/dev/null || ((ticks++ >= watchdog * 10)); then
        kill "$qpid" 2>/dev/null || true
        wait "$qpid" 2>/dev/null || true
        qpid=
        qrc=99
        return
      fi
      sleep 0.1
    done
  fi
  wait "$qpid" || qrc=$?
  qpid=
}

# /dev/kvm can exist and still not run a guest: on nested hosts qemu may abort setting an MSR,
# or the guest may hang without a word. Nothing short of booting tells, so KVM is tried with a
# watchdog and TCG takes over when it fails; the verdict is kept per host kernel and qemu so
# only the first run on such a host pays for the try.
kvm_key="$(uname -r) $("$qemu" --version | head -1)"
verdict=$cache/kvm-broken
accel=${BOXJAIL_VM_ACCEL:-}
start=$(date +%s.%N)
if [[ -z $accel ]]; then
  accel=tcg
  if [[ -r /dev/kvm && -w /dev/kvm ]] && ! grep -qxF "$kvm_key" "$verdict" 2>/dev/null; then
    run_qemu kvm 15 2>/dev/null
    if ((qrc == 99)); then
      echo "boot.sh: KVM did not boot the guest, using TCG from now on on this host" >&2
      echo "$kvm_key" >>"$verdict" 2>/dev/null || true
      start=$(date +%s.%N)
      run_qemu tcg 2>/dev/null
    else
      accel=kvm
    fi
  else
    run_qemu tcg 2>/dev/null
  fi
else
  run_qemu "$accel" 2>/dev/null
fi
elapsed=$(echo "$(date +%s.%N) $start" | awk '{printf "%.1f", $1 - $2}')

tail_log() {
  echo "boot.sh: $1 ($suite, $accel, ${elapsed}s); qemu said:" >&2
  tail -5 "$tmp/qemu.out" >&2
  echo "boot.sh: serial log tail:" >&2
  tr -d '\r' <"$log" | tail -40 >&2
}
if ((qrc == 124 || qrc == 137)); then
  tail_log "timed out after ${timeout}s"
  exit 124
fi

# Serial output has CRLF line ends. Markers are found anywhere in a line: scenario output that
# does not end in a newline is followed by the end marker on the same line.
tr -d '\r' <"$log" >"$tmp/log"
rc=$(awk -v m="== $mark end rc=" 'i = index($0, m) { print substr($0, i + length(m)); exit }' "$tmp/log")
if [[ ! $rc =~ ^[0-9]+$ ]]; then
  tail_log "the guest never reached the end marker (qemu exit $qrc)"
  exit 125
fi
awk -v b="== $mark begin" -v e="== $mark end rc=" -v a="== $mark audit" -v z="== $mark audit-end" '
  $0 == b { on = 1; next }
  on == 1 && (i = index($0, e)) { if (i > 1) print substr($0, 1, i - 1); on = 0; next }
  $0 == a { print "== audit"; on = 2; next }
  $0 == z { exit }
  on { print }
' "$tmp/log"
echo "boot.sh: $suite kernel, $accel, ${elapsed}s in qemu, scenario exit $rc" >&2
exit "$rc"
