# shellcheck shell=bash
# The one-line-per-check helpers of scripts/check-*.sh. The sourcing script sets $tmp (a temp
# dir of its own) first.
pass() { printf 'ok   %s\n' "$1"; }
fail() {
  printf 'FAIL %s\n' "$1"
  if [[ -n ${2-} && -s $2 ]]; then sed 's/^/     | /' "$2" | tail -n 40; fi
  exit 1
}
# check NAME CMD...: runs CMD with its output in a log, shown on failure.
check() {
  local name=$1
  shift
  local log=$tmp/log
  if "$@" >"$log" 2>&1; then pass "$name"; else fail "$name" "$log"; fi
}
