# Shared by the AppArmor scenarios (after tests/vm/scenarios/common.sh, before scenario.sh).
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
