#!/usr/bin/env bash
# Checks what a system install and the Debian package put in place (docs/testing.md, issue 16):
#  1. `cmake --install` into a DESTDIR: the tree, modes and owners (the helper setuid root), the
#     man pages read by `man --warnings` with no warning, the AppArmor profile for the installed
#     path;
#  2. `cpack -G DEB`: `dpkg-deb --contents` lists it all, the conffiles and maintainer scripts are
#     in the control archive, lintian reports no error;
#  3. `apt-get install ./boxjail_*.deb` in a throw-away root (an overlay of / on a tmpfs, built by
#     BOXJAIL, the release build, as root in a private mount namespace: the host's dpkg
#     database and /usr are never written), a jail run as uid 65534 from the installed files,
#     `doctor` as uid 65534, `man boxjail`; then `apt-get purge`, after which /etc, /usr and
#     /var/lib hold exactly what they held before the install.
# Run as root. One line per check; exits non-zero on the first failure. Nothing is left behind.
#
#   bash scripts/check-package.sh PACKAGE_BUILD_DIR BOXJAIL
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 PACKAGE_BUILD_DIR BOXJAIL" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
jailer=$(realpath "$2")
src=$(cd "$(dirname "$0")/.." && pwd)
if ((EUID != 0)); then
  echo "check-package: must run as root (the package's files are root's)" >&2
  exit 2
fi
[[ $(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt") == /usr ]] || {
  echo "check-package: $build is not configured for /usr (cmake --preset package)" >&2
  exit 2
}

tmp=$(mktemp -d /tmp/boxjail-package.XXXXXX)
trap 'rm -rf -- "$tmp"' EXIT
# shellcheck source=scripts/check-lib.sh
source "$src/scripts/check-lib.sh"
multiarch=$(gcc -print-multiarch)

# --- 1. the install tree -------------------------------------------------------------------------
root=$tmp/destdir
check "cmake --install $build into a DESTDIR" env DESTDIR="$root" cmake --install "$build"

# mode owner path: each must exist with exactly that mode and owner.
expect_file() {
  local mode=$1 owner=$2 path=$3 got
  got=$(stat -c '%a %U:%G' "$root$path" 2>/dev/null) || fail "installed: $path"
  [[ $got == "$mode $owner" ]] || fail "$path is $got, not $mode $owner"
}
expect_file 755 root:root /usr/bin/boxjail
expect_file 4755 root:root /usr/libexec/boxjail/boxjail-suid
expect_file 644 root:root /etc/boxjail/config.toml
expect_file 644 root:root /etc/apparmor.d/boxjail
expect_file 644 root:root /usr/share/boxjail/seccomp/default.json
expect_file 644 root:root /usr/share/man/man1/boxjail.1.gz
expect_file 644 root:root /usr/share/man/man8/boxjail-suid.8.gz
expect_file 644 root:root /usr/share/man/man5/boxjail.toml.5.gz
expect_file 644 root:root /usr/share/bash-completion/completions/boxjail
expect_file 644 root:root /usr/share/zsh/vendor-completions/_boxjail
expect_file 644 root:root /usr/share/doc/boxjail/copyright
expect_file 644 root:root /usr/share/doc/boxjail/changelog.Debian.gz
expect_file 644 root:root "/usr/lib/$multiarch/libboxjail.a"
expect_file 644 root:root "/usr/lib/$multiarch/pkgconfig/boxjail.pc"
expect_file 644 root:root "/usr/lib/$multiarch/cmake/boxjail/boxjailConfig.cmake"
expect_file 644 root:root /usr/include/boxjail/boxjail.h
compiled=$(find "$root/usr/lib/$multiarch/boxjail/seccomp-bpf" -type f | wc -l)
((compiled > 0)) || fail "precompiled seccomp policies in /usr/lib/$multiarch/boxjail/seccomp-bpf"
[[ ! -e $root/usr/bin/bwrap ]] || fail "no bin/bwrap unless BOXJAIL_BWRAP_SYMLINK=ON"
pass "install tree: programs, helper 4755 root:root, config, profile, man pages, completions, library, $compiled precompiled policies, no bwrap link"
# Only root may change any of it (the helper refuses to run otherwise, and so should we ship).
bad=$(find "$root" \( ! -user root -o ! -group root -o -perm /022 \) ! -type l -printf '%M %u:%g %P\n')
[[ -z $bad ]] || fail "files not root's or writable by others: $bad"
pass "every installed file is root's and writable by root alone"

grep -qx 'profile boxjail /usr/bin/boxjail flags=(unconfined) {' "$root/etc/apparmor.d/boxjail" ||
  fail "the AppArmor profile attaches to /usr/bin/boxjail"
grep -qx '  userns,' "$root/etc/apparmor.d/boxjail" || fail "the AppArmor profile allows userns"
pass "AppArmor profile for /usr/bin/boxjail with userns,"

for page in man1/boxjail.1 man8/boxjail-suid.8 man5/boxjail.toml.5; do
  MANWIDTH=80 man --warnings -E UTF-8 -l "$root/usr/share/man/$page.gz" >"$tmp/page" 2>"$tmp/warn" ||
    fail "man -l $page" "$tmp/warn"
  [[ ! -s $tmp/warn ]] || fail "man --warnings $page" "$tmp/warn"
  [[ $(wc -l <"$tmp/page") -gt 20 ]] || fail "$page renders" "$tmp/page"
done
pass "man --warnings: boxjail(1), boxjail-suid(8), boxjail.toml(5) render with no warning"

# The optional drop-in link: configured on, installed, run under bwrap's name; then off again
# (the package is built without it).
link_root=$tmp/destdir-bwrap
cmake -DBOXJAIL_BWRAP_SYMLINK=ON "$build" >/dev/null
trap 'cmake -DBOXJAIL_BWRAP_SYMLINK=OFF "$build" >/dev/null; rm -rf -- "$tmp"' EXIT
check "cmake --install with BOXJAIL_BWRAP_SYMLINK=ON" env DESTDIR="$link_root" cmake --install "$build"
[[ $(readlink "$link_root/usr/bin/bwrap") == boxjail ]] || fail "bin/bwrap -> boxjail"
[[ $("$link_root/usr/bin/bwrap" --version) == "bubblewrap 0.11.1" ]] ||
  fail "bin/bwrap --version prints bwrap's line"
cmake -DBOXJAIL_BWRAP_SYMLINK=OFF "$build" >/dev/null
pass "BOXJAIL_BWRAP_SYMLINK=ON: bin/bwrap -> boxjail, which answers as bwrap (bubblewrap 0.11.1)"

# --- 2. the package ------------------------------------------------------------------------------
rm -f "$build"/boxjail_*.deb
check "cpack -G DEB" bash -c "cd '$build' && cpack -G DEB"
deb=$(ls "$build"/boxjail_*.deb)
dpkg-deb --contents "$deb" >"$tmp/contents"
for line in 'rwxr-xr-x root/root .* ./usr/bin/boxjail$' \
  'rwsr-xr-x root/root .* ./usr/libexec/boxjail/boxjail-suid$' \
  ' ./etc/boxjail/config.toml$' ' ./etc/apparmor.d/boxjail$' \
  ' ./usr/share/man/man1/boxjail.1.gz$' ' ./usr/share/man/man8/boxjail-suid.8.gz$' \
  ' ./usr/share/man/man5/boxjail.toml.5.gz$' ' ./usr/share/bash-completion/completions/boxjail$' \
  ' ./usr/share/zsh/vendor-completions/_boxjail$' ' ./usr/share/boxjail/seccomp/default.json$' \
  " ./usr/lib/$multiarch/libboxjail.a\$" " ./usr/lib/$multiarch/pkgconfig/boxjail.pc\$" \
  ' ./usr/share/doc/boxjail/copyright$'; do
  grep -qE -- "$line" "$tmp/contents" || fail "dpkg-deb --contents has $line" "$tmp/contents"
done
! grep -qv ' root/root ' "$tmp/contents" || fail "every entry root/root" "$tmp/contents"
pass "dpkg-deb --contents: $(wc -l <"$tmp/contents") entries, all root/root, helper -rwsr-xr-x"
mkdir "$tmp/control"
dpkg-deb -e "$deb" "$tmp/control"
[[ $(sort "$tmp/control/conffiles") == $'/etc/apparmor.d/boxjail\n/etc/boxjail/config.toml' ]] ||
  fail "conffiles: the config and the AppArmor profile" "$tmp/control/conffiles"
for s in postinst prerm postrm; do
  [[ -x $tmp/control/$s ]] || fail "control archive has an executable $s"
  sh -n "$tmp/control/$s" || fail "$s parses"
done
pass "control: conffiles (config, AppArmor profile), postinst, prerm, postrm"
depends=$(dpkg-deb -f "$deb" Depends)
if [[ -z $depends ]]; then
  file -L "$build/boxjail" | grep -q 'statically linked' || fail "no Depends, yet boxjail is dynamic"
fi
pass "Depends: ${depends:-none (static binaries)}"
# Its scratch files (mldbm-elf-*) in our own temp dir, removed with it, not in the host's /tmp.
mkdir -p "$tmp/lintian-tmp"
TMPDIR=$tmp/lintian-tmp lintian --fail-on error --tag-display-limit 0 "$deb" >"$tmp/lintian" 2>&1 ||
  fail "lintian: no error" "$tmp/lintian"
pass "lintian: no error ($(grep -c '^W:' "$tmp/lintian" || true) warnings, in the log below)"
sed 's/^/     | /' "$tmp/lintian"

# --- 3. install, use, purge, in a throw-away root --------------------------------------------------
mkdir "$tmp/deb"
cat >"$tmp/deb/inside.sh" <<'INSIDE'
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
# What the system holds apart from dpkg's and apt's own records (and logs and caches).
snapshot() {
  find /etc /usr /var/lib -xdev \( -path /var/lib/dpkg -o -path /var/lib/apt \) -prune -o -print |
    sort
}
snapshot >/tmp/before
apt-get install -y -q /deb/boxjail.deb >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 1; }
echo "installed: $(dpkg-query -W -f='${Package} ${Version} ${Status}' boxjail)"
stat -c 'helper: %a %U:%G' /usr/libexec/boxjail/boxjail-suid
cd /
as_nobody() { setpriv --reuid 65534 --regid 65534 --clear-groups -- "$@"; }
as_nobody /usr/bin/boxjail --unshare-all --ro-bind / / --proc /proc --dev /dev -- \
  sh -c 'echo "jail: uid $(id -u), uid_map $(echo $(cat /proc/self/uid_map))"'
as_nobody /usr/bin/boxjail doctor >/tmp/doctor 2>&1 && echo "doctor: exit 0" ||
  { echo "doctor: exit $?"; cat /tmp/doctor; }
man -w boxjail
apt-get purge -y -q boxjail >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 1; }
echo "after purge: $(dpkg-query -W -f='${Status}' boxjail 2>&1 || true)"
snapshot >/tmp/after
if diff /tmp/before /tmp/after; then echo "left behind: nothing"; else echo "left behind: the above"; fi
INSIDE
cp "$deb" "$tmp/deb/boxjail.deb"
chmod -R a+rX "$tmp/deb"
# The host's /proc, bound: a jail inside needs a /proc with nothing mounted over it to mount its
# own (a new one here would get read-only /proc/sys and friends over it).
"$jailer" --overlay-src / --tmp-overlay / --bind /proc /proc --dev /dev --tmpfs /tmp \
  --ro-bind "$tmp/deb" /deb --unshare-ipc --die-with-parent -- bash /deb/inside.sh >"$tmp/run" 2>&1 ||
  fail "install, run and purge in a throw-away root" "$tmp/run"
sed 's/^/     | /' "$tmp/run"
expect_run() { grep -qE -- "$1" "$tmp/run" || fail "$2" "$tmp/run"; }
expect_run '^installed: boxjail .* install ok installed$' "apt-get install ./boxjail_*.deb"
expect_run '^helper: 4755 root:root$' "installed helper 4755 root:root"
# As bwrap, two user namespaces: the outer maps the caller to 0 for the setup, the inner maps the
# sandbox's 65534 to that 0.
expect_run '^jail: uid 65534, uid_map 65534 0 1$' "a jail as uid 65534 from the package"
expect_run '^doctor: exit 0$' "boxjail doctor as uid 65534: a rung works"
expect_run '^/usr/share/man/man1/boxjail.1.gz$' "man -w boxjail finds the page"
expect_run '^after purge: .*(not-installed|no packages found)' "apt-get purge"
expect_run '^left behind: nothing$' "the purge leaves nothing behind"
pass "apt-get install, a jail and doctor as uid 65534, man, apt-get purge: nothing left behind"
echo "check-package: all checks passed"
