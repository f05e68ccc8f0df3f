# SPDX-License-Identifier: Apache-2.0
# Sourced by bench/phases.sh and bench/floor_phases.sh: the awk rule that reads one line of
# `perf script` output into t (the time in ms), ev (the event name with its colon) and pid
# (skipping the [cpu] column that system-wide recordings add).
# shellcheck disable=SC2034  # used by the scripts that source this file
PERF_FIELDS_AWK='
    {
      for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+:$/) {
        t = substr($i, 1, length($i) - 1) * 1000; ev = $(i + 1)
        pid = ($(i - 1) ~ /^\[[0-9]+\]$/) ? $(i - 2) : $(i - 1)  # skip the [cpu] column
        break
      }
    }'
