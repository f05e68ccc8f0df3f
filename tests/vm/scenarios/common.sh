# The checks every VM scenario shares; run-stage.sh puts this file first in each scenario.sh
# (busybox sh, as root). Each check prints "ok: ..." or "FAIL: ..."; a scenario exits with the
# number of failures. Debian's busybox sh runs its applets ahead of PATH: other tools are named by
# full path.
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
