#!/usr/bin/env bash
# fetch.sh [CACHE_DIR] — get Debian's own kernels and the guest userspace for the VM stage.
#
# For each suite (bookworm = Debian 12, kernel 6.1, AppArmor 3.0; trixie = Debian 13, kernel
# 6.12, AppArmor 4.1; bullseye = Debian 11, its 5.10 kernel only) this downloads .deb files with a private apt configuration, unpacks them
# (nothing is installed on the host, the host's apt state is never written), turns the
# kernel's bzImage into an ELF vmlinux and builds the cached base initramfs. A suite whose
# READY stamp matches this script's layout is left alone, so a warm cache does no network.
#
# Exit status: 0 ready; 77 packages cannot be had (no apt/dpkg-deb, no network): the caller
# skips; anything else is a bug in this stage.
set -euo pipefail

CACHE=${1:-/var/cache/boxjail-vm}
SUITES=(bookworm trixie)
# Suites whose kernel alone is wanted, booted with bookworm's userspace: Debian 11's 5.10, for
# the old-kernel scenario (bullseye's libc6 is not usrmerged; the guest needs none of its files).
KERNEL_SUITES=(bullseye)
# Bump when the cache layout or the base initramfs contents change: stale suites get rebuilt.
LAYOUT=2
# Packages unpacked into each suite's sysroot. The kernel comes from linux-image-amd64's
# dependency (resolved per suite below), never from the metapackage itself.
USERSPACE=(busybox-static apparmor libapparmor1 util-linux libcap-ng0 libc6)

skip() { echo "fetch.sh: $*" >&2; exit 77; }
die() { echo "fetch.sh: $*" >&2; exit 1; }

for tool in apt-get apt-cache dpkg-deb; do
  command -v "$tool" >/dev/null || skip "no $tool on this host: cannot get Debian packages"
done
# The archive signature is checked against Debian's keyring; without it apt refuses the lists.
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -r $KEYRING ]] || skip "no $KEYRING (package debian-archive-keyring): cannot verify the archive"

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
# Two boot.sh runs on a cold cache would otherwise download into the same directories at once.
exec 9>"$CACHE/.lock"
flock 9

# apt's configuration for one suite. Everything apt writes (lists, pkgcache, archives, status)
# lives under the suite's cache dir; the host's sources, preferences and installed-package
# status are not read so they cannot change what is resolved. /etc/apt/apt.conf.d is still read
# on purpose: a proxy configured there is what lets this host reach the archive.
write_apt_conf() {
  local suite=$1 dir=$2
  mkdir -p "$dir/lists/partial" "$dir/archives/partial" "$dir/sources.list.d" \
    "$dir/preferences.d"
  : >"$dir/status"
  cat >"$dir/sources.list" <<EOF
deb [signed-by=$KEYRING] http://deb.debian.org/debian $suite main
deb [signed-by=$KEYRING] http://deb.debian.org/debian-security $suite-security main
EOF
  cat >"$dir/apt.conf" <<EOF
Dir::Etc::sourcelist "$dir/sources.list";
Dir::Etc::sourceparts "$dir/sources.list.d";
Dir::Etc::preferences "$dir/preferences";
Dir::Etc::preferencesparts "$dir/preferences.d";
Dir::State "$dir";
Dir::State::Lists "$dir/lists";
Dir::State::status "$dir/status";
Dir::Cache "$dir";
Dir::Cache::archives "$dir/archives";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
Acquire::Languages "none";
Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";
EOF
}

# Unpack one .deb into the sysroot. Debian 12 packages still ship /bin, /lib, /lib64 while
# Debian 13 ships /usr: fold both into /usr so the sysroot is merged-/usr like a real system
# (the symlinks bin -> usr/bin etc. are made once, in prepare_root).
unpack_deb() {
  local deb=$1 root=$2 tmp
  tmp=$(mktemp -d "$root.unpack.XXXXXX")
  dpkg-deb -x "$deb" "$tmp"
  local d
  for d in bin sbin lib lib64; do
    if [[ -d $tmp/$d && ! -L $tmp/$d ]]; then
      mkdir -p "$tmp/usr/$d"
      cp -a "$tmp/$d/." "$tmp/usr/$d/"
      rm -rf "${tmp:?}/$d"
    fi
  done
  cp -a "$tmp/." "$root/"
  rm -rf "$tmp"
}

prepare_root() {
  local root=$1 d
  rm -rf "$root"
  mkdir -p "$root/usr"
  for d in bin sbin lib lib64; do
    mkdir -p "$root/usr/$d"
    ln -s "usr/$d" "$root/$d"
  done
}

# The kernel decompresses itself under emulation slowly (7-9 s under TCG); booting the ELF
# through its PVH entry skips that. The bzImage header (boot protocol >= 2.08) says where the
# compressed payload is; the magic at that spot says which decompressor to use. The kernel
# build appends the decompressed size (le32) after xz/zstd/lzma payloads: it is used as a check.
extract_vmlinux() {
  local bz=$1 out=$2
  local setup_sects payload_off payload_len start magic
  le32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
  [[ $(od -An -c -j 514 -N4 "$bz" | tr -d ' ') == HdrS ]] || die "$bz: not a bzImage"
  setup_sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$bz" | tr -d ' ')
  ((setup_sects == 0)) && setup_sects=4
  payload_off=$(le32 "$bz" $((0x248)))
  payload_len=$(le32 "$bz" $((0x24c)))
  start=$(((setup_sects + 1) * 512 + payload_off))
  magic=$(od -An -tx1 -j "$start" -N6 "$bz" | tr -d ' ')
  local -a dec
  case $magic in
    fd377a585a00) dec=(xz -dc --single-stream) ;;
    28b52ffd*) dec=(zstd -dcq) ;;
    1f8b*) dec=(gzip -dc) ;;
    *) die "$bz: unknown payload compression (magic $magic)" ;;
  esac
  command -v "${dec[0]}" >/dev/null || die "need ${dec[0]} to unpack $bz (apt-get install ${dec[0]/xz/xz-utils})"
  # Decompressors complain about the size trailer after the stream: the result is checked below.
  dd if="$bz" iflag=skip_bytes,count_bytes skip="$start" count="$payload_len" bs=1M status=none |
    { "${dec[@]}" >"$out.tmp" 2>/dev/null || true; }
  [[ $(od -An -tx1 -N4 "$out.tmp" | tr -d ' ') == 7f454c46 ]] || die "$bz: payload is not an ELF"
  local want got
  want=$(le32 "$bz" $((start + payload_len - 4)))
  got=$(stat -c %s "$out.tmp")
  [[ $magic == 1f8b* || $want == "$got" ]] || die "$bz: vmlinux is $got bytes, trailer says $want"
  mv "$out.tmp" "$out"
}

# Base initramfs: only what the guest runs from the sysroot. Everything else (docs, locales,
# gconv, the rest of util-linux) would only slow the kernel's unpacking and /init's copy.
build_base() {
  local root=$1 out=$2 stage
  stage=$(mktemp -d "$out.stage.XXXXXX")
  local d
  for d in bin sbin lib lib64; do ln -s "usr/$d" "$stage/$d"; done
  mkdir -p "$stage"/usr/{bin,sbin,lib/x86_64-linux-gnu,lib64,local/bin} "$stage/etc" \
    "$stage"/{dev,proc,sys,tmp,run,root,home,mnt,payload}
  cp -a "$root/usr/bin/busybox" "$root/usr/bin/setpriv" "$stage/usr/bin/"
  cp -a "$root/usr/sbin/apparmor_parser" "$stage/usr/sbin/"
  cp -a "$root/usr/lib64/." "$stage/usr/lib64/"
  cp -a "$root/usr/lib/x86_64-linux-gnu/." "$stage/usr/lib/x86_64-linux-gnu/"
  rm -rf "$stage/usr/lib/x86_64-linux-gnu/gconv"
  cp -a "$root/etc/apparmor" "$root/etc/apparmor.d" "$stage/etc/"
  # parser.conf pins the policy feature set to this file (what "no abi line" compiles against).
  mkdir -p "$stage/usr/share"
  cp -a "$root/usr/share/apparmor-features" "$stage/usr/share/"
  # Busybox's applets as symlinks, without shadowing the real setpriv/apparmor_parser.
  local p
  while read -r p; do
    [[ -e $stage/$p || -L $stage/$p ]] || ln -s /usr/bin/busybox "$stage/$p"
  done < <("$root/usr/bin/busybox" --list-full)
  # Every dynamic ELF must find its libraries inside the guest. The suite's own ld.so answers
  # that on the host even when the host's glibc is older (trixie's needs >= 2.38).
  local ldso=$stage/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 f out_l
  for f in "$stage/usr/sbin/apparmor_parser" "$stage/usr/bin/setpriv"; do
    out_l=$("$ldso" --library-path "$stage/usr/lib/x86_64-linux-gnu" --list "$f" 2>&1) ||
      die "$f: $out_l"
    ! grep -q 'not found' <<<"$out_l" || die "$f misses libraries: $out_l"
  done
  (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
    "$root/usr/bin/busybox" cpio -o -H newc -R 0:0 2>/dev/null) >"$out.tmp"
  rm -rf "$stage"
  mv "$out.tmp" "$out"
}

# suite_lists SUITE DIR: the suite's package lists in DIR/apt, fetched once (a later run reuses
# them, so the versions it picks stay the same). Prints the kernel package linux-image-amd64
# depends on.
suite_lists() {
  local suite=$1 dir=$2
  write_apt_conf "$suite" "$dir/apt"
  local -a apt=(-c "$dir/apt/apt.conf" -q)
  if ! compgen -G "$dir/apt/lists/*_Packages*" >/dev/null; then
    # apt-get update exits 0 when a source cannot be reached: what it left behind tells.
    apt-get "${apt[@]}" update >"$dir/apt/update.log" 2>&1 || true
    compgen -G "$dir/apt/lists/*_dists_${suite}_main_binary-amd64_Packages*" >/dev/null ||
      skip "apt-get update for $suite got no package list (no network?): $(grep -m1 -E '^(E|W|Err):' "$dir/apt/update.log" || tail -1 "$dir/apt/update.log")"
  fi
  local kpkg
  kpkg=$( (apt-cache "${apt[@]}" show --no-all-versions linux-image-amd64 2>/dev/null || true) |
    sed -n 's/^Depends: \(linux-image-[^ ,]*\).*/\1/p' | head -1)
  [[ -n $kpkg ]] || die "$suite: cannot resolve linux-image-amd64"
  echo "$kpkg"
}

# download SUITE DIR PKG...: each package's .deb into DIR/debs, unless already there.
download() {
  local suite=$1 dir=$2 pkg
  shift 2
  mkdir -p "$dir/debs"
  for pkg in "$@"; do
    compgen -G "$dir/debs/${pkg}_*.deb" >/dev/null && continue
    (cd "$dir/debs" && apt-get -c "$dir/apt/apt.conf" -q download "$pkg" >>"$dir/apt/download.log" 2>&1) ||
      skip "apt-get download $pkg ($suite) failed: $(tail -1 "$dir/apt/download.log")"
  done
}

# unpack_kernel DIR KPKG: DIR/kernel/vmlinux (an ELF, see extract_vmlinux) and its release.
unpack_kernel() {
  local dir=$1 kpkg=$2 kdeb vmlinuz release
  kdeb=$(compgen -G "$dir/debs/${kpkg}_*.deb" | head -1)
  # Only the bzImage and its config are wanted: the module tree is hundreds of MB.
  rm -rf "$dir/kernel.tmp"
  mkdir -p "$dir/kernel.tmp"
  dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$dir/kernel.tmp" --wildcards './boot/*'
  vmlinuz=$(compgen -G "$dir/kernel.tmp/boot/vmlinuz-*" | head -1)
  [[ -n $vmlinuz ]] || die "$kdeb has no boot/vmlinuz-*"
  release=${vmlinuz##*/vmlinuz-}
  extract_vmlinux "$vmlinuz" "$dir/kernel.tmp/vmlinux"
  echo "$release" >"$dir/kernel.tmp/release"
  rm -rf "$dir/kernel"
  mv "$dir/kernel.tmp" "$dir/kernel"
}

# is_ready DIR: the suite in DIR was prepared with this layout.
is_ready() { [[ -f $1/READY ]] && grep -qx "layout=$LAYOUT" "$1/READY"; }

fetch_suite() {
  local suite=$1 dir=$CACHE/$1
  is_ready "$dir" && return 0
  echo "fetch.sh: preparing $suite in $dir" >&2
  mkdir -p "$dir/debs"
  local kpkg pkg
  kpkg=$(suite_lists "$suite" "$dir")
  download "$suite" "$dir" "$kpkg" "${USERSPACE[@]}"
  unpack_kernel "$dir" "$kpkg"
  prepare_root "$dir/root"
  for pkg in "${USERSPACE[@]}"; do
    unpack_deb "$(compgen -G "$dir/debs/${pkg}_*.deb" | head -1)" "$dir/root"
  done
  build_base "$dir/root" "$dir/base.cpio"
  {
    echo "layout=$LAYOUT"
    echo "kernel=$(cat "$dir/kernel/release")"
    local deb
    for deb in "$dir"/debs/*.deb; do
      echo "pkg=$(dpkg-deb -f "$deb" Package)=$(dpkg-deb -f "$deb" Version)"
    done
  } >"$dir/READY.tmp"
  mv "$dir/READY.tmp" "$dir/READY"
}

# A kernel-only suite: its kernel, and bookworm's root and base initramfs by symlink.
fetch_kernel_suite() {
  local suite=$1 dir=$CACHE/$1
  is_ready "$dir" && return 0
  echo "fetch.sh: preparing $suite's kernel in $dir" >&2
  mkdir -p "$dir/debs"
  local kpkg
  kpkg=$(suite_lists "$suite" "$dir")
  download "$suite" "$dir" "$kpkg"
  unpack_kernel "$dir" "$kpkg"
  ln -sfn ../bookworm/root "$dir/root"
  ln -sfn ../bookworm/base.cpio "$dir/base.cpio"
  {
    echo "layout=$LAYOUT"
    echo "kernel=$(cat "$dir/kernel/release")"
    echo "pkg=$kpkg=$(dpkg-deb -f "$(compgen -G "$dir/debs/${kpkg}_*.deb" | head -1)" Version)"
    echo "userspace=bookworm"
  } >"$dir/READY.tmp"
  mv "$dir/READY.tmp" "$dir/READY"
}

for suite in "${SUITES[@]}"; do fetch_suite "$suite"; done
for suite in "${KERNEL_SUITES[@]}"; do fetch_kernel_suite "$suite"; done

for suite in "${SUITES[@]}" "${KERNEL_SUITES[@]}"; do
  dir=$CACHE/$suite
  echo "$suite: kernel $(cat "$dir/kernel/release") in $dir/kernel/vmlinux" \
    "($(($(stat -c %s "$dir/kernel/vmlinux") >> 20)) MiB), base initramfs $dir/base.cpio" \
    "($(($(stat -L -c %s "$dir/base.cpio") >> 20)) MiB)"
  sed -n 's/^pkg=/  /p' "$dir/READY"
done
