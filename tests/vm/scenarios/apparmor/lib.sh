# Shared by the AppArmor scenarios; sourced by scenario.sh inside the VM (busybox sh, as root).
# Each check prints "ok: ..." or "FAIL: ..."; the scenario exits with the number of failures.
# Debian's busybox sh runs its applets ahead of PATH: other tools are named by full path.
failures=0
ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# contains FILE TEXT WHAT: the file holds TEXT (fixed string).
contains() {
  if grep -qF -- "$2" "$1"; then ok "$3"; else fail "$3: '$2' not in $1:"; sed 's/^/    | /' "$1"; fi
}
lacks() {
  if grep -qF -- "$2" "$1"; then fail "$3: '$2' in $1:"; sed 's/^/    | /' "$1"; else ok "$3"; fi
}
# first_line FILE TEXT WHAT: the first line of the file holds TEXT.
first_line() {
  head -n 1 "$1" > "$1.first"
  contains "$1.first" "$2" "$3"
}
status_is() {
  if [ "$1" = "$2" ]; then ok "$3 (exit $1)"; else fail "$3: exit $1, expected $2"; fi
}

# as_user CMD...: runs CMD as uid/gid 1000 with no supplementary groups.
as_user() { /usr/bin/setpriv --reuid=1000 --regid=1000 --clear-groups -- "$@"; }

# jail NAME BINARY ARGS...: runs BINARY (a path) as uid 1000 with the userns-only config, the JSON
# report in /tmp/NAME.json and stderr in /tmp/NAME.err; its status in $status.
jail() {
  name=$1
  shift
  set +e
  BOXJAIL_CONFIG=/tmp/userns.toml as_user "$@" 3>/tmp/$name.json 2>/tmp/$name.err >/tmp/$name.out
  status=$?
  set -e
}

# refused NAME BINARY STEP ERRNO CAUSE FIX: a jail under BINARY's profile is refused at STEP with
# ERRNO, with CAUSE and FIX in the report and the kernel's record quoted, and `doctor --json`
# agrees that jails cannot run. Further checks read /tmp/NAME.err and /tmp/NAME.json.
refused() {
  jail "$1" "$2" $run_args
  status_is "$status" 1 "$1: the jail is refused"
  first_line "/tmp/$1.err" "boxjail: userns rung: $3: " "$1: the first line names rung and step"
  first_line "/tmp/$1.err" "($4)" "$1: the first line names the errno the kernel returned"
  contains "/tmp/$1.err" "cause: AppArmor denied $5" "$1: the cause names AppArmor and what it denied"
  contains "/tmp/$1.err" "$6" "$1: the fix gives the exact rule"
  contains "/tmp/$1.err" 'kernel: apparmor="DENIED"' "$1: the kernel's record is quoted"
  contains "/tmp/$1.json" '"audit":{"apparmor":"apparmor=\"DENIED\"' "$1: --report-fd quotes the record"
  BOXJAIL_CONFIG=/tmp/userns.toml as_user "$2" doctor --json >"/tmp/$1-doctor.json" 2>&1 || true
  contains "/tmp/$1-doctor.json" '"usable": false' "$1: doctor agrees jails cannot run"
}

cat > /tmp/userns.toml <<'TOML'
[ladder]
mode = "userns"
TOML
chmod 644 /tmp/userns.toml

# Every boxjail copy the profiles attach to: the same binary under the path its profile names.
for name in bj-ladder bj-nocaps bj-nomount bj-nomap bj-nosetgroups bj-nogidmap bj-nouserns bj-fixed; do
  cp /usr/local/bin/boxjail /usr/local/bin/$name
  chmod 755 /usr/local/bin/$name
done
# A shell under a profile of its own, which boxjail then inherits.
mkdir -p /usr/local/lib/caller && cp /bin/busybox /usr/local/lib/caller/sh
chmod 755 /usr/local/lib/caller/sh
