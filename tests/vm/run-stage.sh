#!/usr/bin/env bash
# The VM stage: boots Debian's own kernels under qemu with AppArmor and runs the AppArmor
# scenarios (tests/vm/scenarios/apparmor) on Debian 12's 6.1 and Debian 13's 6.12, and the
# rootfs scenario (a jail where the root is the initramfs, which pivot_root cannot leave), the
# cgroup scenario (cgroup v2 with every controller, which the host cannot offer), and the
# old-kernel scenario on Debian 11's 5.10 (classic mounts: no mount_setattr) and on 6.1.
#
#   bash tests/vm/run-stage.sh [--build DIR] [--cache DIR] [--only NAME]
#
# DIR defaults: build/release (boxjail and boxjail-suid, static) and /var/cache/boxjail-vm.
# Prints "vm stage skipped: <reason>" and exits 0 only where qemu or the packages cannot be had;
# any failing check fails the stage.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/build/release
cache=/var/cache/boxjail-vm
only=
while (($#)); do
  case $1 in
    --build) build=${2:?}; shift 2 ;;
    --cache) cache=${2:?}; shift 2 ;;
    --only) only=${2:?}; shift 2 ;;  # one run by name, e.g. cgroup-6.12
    *) echo "run-stage.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

skip() { echo "vm stage skipped: $*"; exit 0; }
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (package qemu-system-x86)"
for b in boxjail boxjail-suid; do
  [[ -x $build/$b ]] || { echo "run-stage.sh: $build/$b not built" >&2; exit 2; }
done
set +e
fetch_out=$(bash "$here/fetch.sh" "$cache" 2>&1)
fetch_rc=$?
set -e
if ((fetch_rc == 77)); then skip "$(tail -n 1 <<<"$fetch_out")"; fi
((fetch_rc == 0)) || { echo "$fetch_out" >&2; echo "run-stage.sh: fetch.sh failed ($fetch_rc)" >&2; exit 1; }

work=$(mktemp -d /tmp/boxjail-vm-stage.XXXXXX)
trap 'rm -rf "$work"' EXIT

# payload NAME SUITE SCENARIO_DIR: assembles a payload for boot.sh.
payload() {
  local dir=$work/$1 suite=$2 src=$3
  mkdir -p "$dir/bin" "$dir/profiles"
  cp "$build/boxjail" "$build/boxjail-suid" "$dir/bin/"
  # One file: boot.sh carries scenario.sh alone into the guest. Its "# vm:" lines stay lines of
  # their own, the suite and the shared checks come first.
  {
    grep -x '# vm: .*' "$src/scenario.sh" || true
    echo "suite=$suite"
    cat "$here/scenarios/common.sh"
    if [[ -f $src/lib.sh ]]; then cat "$src/lib.sh"; fi
    cat "$src/scenario.sh"
  } >"$dir/scenario.sh"
  # A scenario that lists kernel modules in modules.txt (paths below /usr/lib/modules/RELEASE/)
  # gets them from the suite's own kernel package, decompressed, in /payload/modules/ (the
  # guest's busybox insmod loads plain ELF): how the cgroup scenario has a block device, null_blk.
  if [[ -f $src/modules.txt ]]; then
    local deb release
    deb=$(ls "$cache/$suite"/debs/linux-image-*.deb | head -n 1)
    release=$(cat "$cache/$suite/kernel/release")
    mkdir -p "$dir/modules"
    while read -r module; do
      [[ -n $module ]] || continue
      dpkg-deb --fsys-tarfile "$deb" |
        tar -xO "./usr/lib/modules/$release/$module" >"$dir/modules/$(basename "$module")"
      case $module in
        *.xz) xz -d "$dir/modules/$(basename "$module")" ;;
        *.zst) zstd -q -d --rm "$dir/modules/$(basename "$module")" ;;
      esac
    done <"$src/modules.txt"
  fi
  # What the Debian package installs for AppArmor, as this build wrote it (cmake/Packaging.cmake):
  # the profile for the installed boxjail, and the maintainer scripts that load and unload it.
  if [[ -f $src/package.txt ]]; then
    mkdir -p "$dir/package"
    cp "$build/generated/apparmor/boxjail" "$dir/package/apparmor-profile"
    cp "$build/generated/debian/postinst" "$build/generated/debian/prerm" "$dir/package/"
  fi
  if [[ -d $src/profiles-common ]]; then cp "$src"/profiles-common/* "$dir/profiles/"; fi
  if [[ -d $src/profiles-$suite ]]; then cp "$src"/profiles-"$suite"/* "$dir/profiles/"; fi
  echo "$dir"
}

failed=0
run() {
  local name=$1 suite=$2 src=$3
  shift 3
  [[ -z $only || $only == "$name" ]] || return 0
  local dir start rc
  dir=$(payload "$name" "$suite" "$src")
  start=$(date +%s%N)
  set +e
  bash "$here/boot.sh" --cache "$cache" --kernel "$suite" --payload "$dir" "$@" >"$work/$name.log" 2>&1
  rc=$?
  set -e
  local ms=$((($(date +%s%N) - start) / 1000000))
  printf 'vm stage: %-22s %-8s exit %d in %d.%01d s\n' "$name" "$suite" "$rc" $((ms / 1000)) $((ms % 1000 / 100))
  if ((rc != 0)); then
    failed=$((failed + 1))
    sed 's/^/  | /' "$work/$name.log"
  else
    grep -E '^(ok|FAIL):' "$work/$name.log" | sed 's/^/  /' || true
  fi
}

run apparmor-6.1 bookworm "$here/scenarios/apparmor"
run apparmor-6.12 trixie "$here/scenarios/apparmor"
run rootfs-6.1 bookworm "$here/scenarios/rootfs" --no-switch-root
run cgroup-6.12 trixie "$here/scenarios/cgroup"
run oldkernel-5.10 bullseye "$here/scenarios/oldkernel" --bin "$build/tests/vm_deny"
run oldkernel-6.1 bookworm "$here/scenarios/oldkernel" --bin "$build/tests/vm_deny"
if ((failed)); then
  echo "vm stage: $failed run(s) failed"
  exit 1
fi
echo "vm stage: all passed"
