#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Check docs/spec.md against the JSON Schemas of the spec and the report.

    /usr/bin/python3 scripts/check-spec-docs.py [--boxjail PATH] [--doc FILE]

- Both schemas (docs/schema/*.schema.json) are valid draft 2020-12 schemas.
- Every ```json spec block of docs/spec.md is a complete spec that the spec schema accepts.
- Every line of every ```json report block is one report line that the report schema accepts.
- Every plain ```json block is valid JSON. An object in one is either spec fields, checked against
  the spec schema without its required fields, or one op (it has a "kind"), checked against the
  schema of an op. A complete spec or a report line in a plain block is an error (it must be
  tagged), and so is an object with no spec field.
- Every spec field, op kind, op key and report event is shown in at least one example.
- Each NEGATIVE case below is rejected by the spec schema (REPORT_NEGATIVE by the report schema),
  and each POSITIVE case accepted (REPORT_POSITIVE by the report schema).
- With --boxjail PATH, `PATH spec --check FILE` must exit 0 and print `FILE: ok` for each spec
  example, and exit 1 for each negative case.
- With --boxjail PATH, the jails of REPORT_RUNS run for real, from a copy of PATH in a fresh
  mode-755 temporary directory: as the caller, a plain jail, a handed-over one (whose sandbox_pid
  this script then reaps) and one from `run --spec`; as uid/gid 65534 (through setpriv when run as
  root; else as the caller), a jail that runs and one that fails with EROFS; as root only, one in a
  chroot that every rung refuses. Every line each writes on --report-fd must be accepted by the
  report schema, and the lines must come in order: "attempt" first, then its "failed" or
  "started", "cgroup" after "started" exactly when "started" names a cgroup (with the same path),
  "exit" after them (none with handover), "end" last; "end" must agree with them
  (its attempts are the failed lines, its result, rung and exit_status boxjail's outcome and exit
  status), and each run must come to what is expected of it. The temporary files are removed.

Exit status 0 when everything holds, 1 otherwise (each problem is printed, with the line of
docs/spec.md it is about). Needs the jsonschema module (Debian: python3-jsonschema).
"""

import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

try:
    import jsonschema
except ImportError:
    sys.stderr.write(
        "check-spec-docs: the jsonschema module is missing: apt-get install -y python3-jsonschema, "
        "then run this script with /usr/bin/python3\n")
    sys.exit(1)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC_SCHEMA = os.path.join(ROOT, "docs", "schema", "boxjail.spec.v1.schema.json")
REPORT_SCHEMA = os.path.join(ROOT, "docs", "schema", "boxjail.report.v1.schema.json")
DOC = os.path.join(ROOT, "docs", "spec.md")

V = "boxjail.spec/v1"

# Specs the schema must refuse: (what, spec). boxjail's parser must refuse them too (--boxjail).
NEGATIVE = [
    ("unknown rlimit", {"version": V, "command": ["true"], "rlimits": {"FILES": {"soft": 1, "hard": 1}}}),
    ("rlimit without hard", {"version": V, "command": ["true"], "rlimits": {"NOFILE": {"soft": 1}}}),
    ("rlimit as a word", {"version": V, "command": ["true"],
                          "rlimits": {"NOFILE": {"soft": "lots", "hard": 1}}}),
    ("unknown top-level key", {"version": V, "command": ["true"], "unshare_everything": True}),
    ("unknown op key", {"version": V, "command": ["true"],
                        "ops": [{"kind": "tmpfs", "dest": "/tmp", "mode": 493}]}),
    ('"size" on a "bind" op', {"version": V, "command": ["true"],
                               "ops": [{"kind": "bind", "source": "/", "dest": "/", "size": 1024}]}),
    ('"perms" on a "proc" op', {"version": V, "command": ["true"],
                                "ops": [{"kind": "proc", "dest": "/proc", "perms": 493}]}),
    ("unknown op kind", {"version": V, "command": ["true"], "ops": [{"kind": "mount", "dest": "/x"}]}),
    ("op without dest", {"version": V, "command": ["true"], "ops": [{"kind": "proc"}]}),
    ("bind without source", {"version": V, "command": ["true"], "ops": [{"kind": "bind", "dest": "/"}]}),
    ("chmod without perms", {"version": V, "command": ["true"], "ops": [{"kind": "chmod", "dest": "/"}]}),
    ("ro-overlay with one source", {"version": V, "command": ["true"],
                                    "ops": [{"kind": "ro-overlay", "overlay_sources": ["/a"],
                                             "dest": "/usr"}]}),
    ("wrong type: a boolean as a string", {"version": V, "command": ["true"], "unshare_net": "yes"}),
    ("wrong type: command a string", {"version": V, "command": "true"}),
    ("wrong type: an fd as a string", {"version": V, "command": ["true"], "sync_fd": "3"}),
    ("missing version", {"command": ["true"]}),
    ("wrong version string", {"version": "boxjail.spec/v2", "command": ["true"]}),
    ("version as a number", {"version": 1, "command": ["true"]}),
    ("missing command", {"version": V}),
    ("empty command", {"version": V, "command": []}),
    ("empty command[0]", {"version": V, "command": [""]}),
    ("hex with odd digits", {"version": V, "command": [{"hex": "2f7"}]}),
    ("hex with upper-case digits", {"version": V, "command": [{"hex": "2F"}]}),
    ("hex with a NUL byte", {"version": V, "command": ["true", {"hex": "6100"}]}),
    ("a NUL in a string", {"version": V, "command": ["true", "a\u0000b"]}),
    ("hex object with another key", {"version": V, "command": [{"hex": "2f", "text": "/"}]}),
    ("perms out of range", {"version": V, "command": ["true"],
                            "ops": [{"kind": "dir", "dest": "/d", "perms": 4096}]}),
    ("size 0", {"version": V, "command": ["true"], "ops": [{"kind": "tmpfs", "dest": "/t", "size": 0}]}),
    ("fd below -1", {"version": V, "command": ["true"], "info_fd": -2}),
    ("fd above INT_MAX", {"version": V, "command": ["true"], "block_fd": 2147483648}),
    ("uid 4294967295", {"version": V, "command": ["true"], "uid": 4294967295}),
    ("keep_fds with 2", {"version": V, "command": ["true"], "keep_fds": [2]}),
    ("add_seccomp_fds with -1", {"version": V, "command": ["true"], "add_seccomp_fds": [-1]}),
    ('"ALL" with another capability', {"version": V, "command": ["true"], "caps": ["ALL", "CAP_KILL"]}),
    ("cgroup not an object", {"version": V, "command": ["true"], "cgroup": "/jails"}),
    ("cgroup with an unknown key", {"version": V, "command": ["true"], "cgroup": {"memory": 1}}),
    ("cgroup parent empty", {"version": V, "command": ["true"], "cgroup": {"parent": ""}}),
    ('cgroup parent with ".."', {"version": V, "command": ["true"], "cgroup": {"parent": "/jails/../x"}}),
    ("cgroup parent with an empty component", {"version": V, "command": ["true"],
                                               "cgroup": {"parent": "/jails//x"}}),
    ("memory_max with a suffix", {"version": V, "command": ["true"], "cgroup": {"memory_max": "12Q"}}),
    ("memory_max 64M (the command line's form)", {"version": V, "command": ["true"],
                                                  "cgroup": {"memory_max": "64M"}}),
    ("memory_max above 2^63-1", {"version": V, "command": ["true"],
                                 "cgroup": {"memory_max": 9223372036854775808}}),
    ("memory_swap_max negative", {"version": V, "command": ["true"], "cgroup": {"memory_swap_max": -1}}),
    ("pids_max 0", {"version": V, "command": ["true"], "cgroup": {"pids_max": 0}}),
    ("pids_max above PID_MAX_LIMIT", {"version": V, "command": ["true"], "cgroup": {"pids_max": 4194305}}),
    ("cpu_max without quota", {"version": V, "command": ["true"], "cgroup": {"cpu_max": {"period": 100000}}}),
    ("cpu_max as a string", {"version": V, "command": ["true"], "cgroup": {"cpu_max": "50000 100000"}}),
    ("cpu_max quota below 1000", {"version": V, "command": ["true"], "cgroup": {"cpu_max": {"quota": 999}}}),
    ("cpu_max period above 1000000", {"version": V, "command": ["true"],
                                      "cgroup": {"cpu_max": {"quota": "max", "period": 1000001}}}),
    ("cpu_max period max", {"version": V, "command": ["true"],
                            "cgroup": {"cpu_max": {"quota": 50000, "period": "max"}}}),
    ("cpu_weight 0", {"version": V, "command": ["true"], "cgroup": {"cpu_weight": 0}}),
    ("cpu_weight max", {"version": V, "command": ["true"], "cgroup": {"cpu_weight": "max"}}),
    ("io_max a string", {"version": V, "command": ["true"], "cgroup": {"io_max": "8:0 rbps=1048576"}}),
    ("io_max line without a limit", {"version": V, "command": ["true"], "cgroup": {"io_max": ["8:0"]}}),
    ("io_max line with a device name", {"version": V, "command": ["true"],
                                        "cgroup": {"io_max": ["sda rbps=1"]}}),
    ("io_max line with an unknown key", {"version": V, "command": ["true"],
                                         "cgroup": {"io_max": ["8:0 foo=1"]}}),
    ("io_max line with a key twice", {"version": V, "command": ["true"],
                                      "cgroup": {"io_max": ["8:0 rbps=1 wbps=2 rbps=3"]}}),
    ("io_max line with a value 0", {"version": V, "command": ["true"],
                                    "cgroup": {"io_max": ["8:0 wiops=0"]}}),
    ("io_max line with a tab", {"version": V, "command": ["true"], "cgroup": {"io_max": ["8:0\trbps=1"]}}),
    ("uid_ranges not an array", {"version": V, "command": ["true"],
                                 "uid_ranges": {"inside": 1, "outside": 100000, "count": 10}}),
    ("uid_ranges without count", {"version": V, "command": ["true"],
                                  "uid_ranges": [{"inside": 1, "outside": 100000}]}),
    ("gid_ranges with count 0", {"version": V, "command": ["true"],
                                 "gid_ranges": [{"inside": 1, "outside": 100000, "count": 0}]}),
    ("uid_ranges with an unknown key", {"version": V, "command": ["true"],
                                        "uid_ranges": [{"inside": 1, "outside": 100000, "count": 10,
                                                        "length": 10}]}),
    ("gid_ranges with inside 4294967295", {"version": V, "command": ["true"],
                                           "gid_ranges": [{"inside": 4294967295, "outside": 100000,
                                                           "count": 1}]}),
    ("uid_ranges with a string", {"version": V, "command": ["true"],
                                  "uid_ranges": [{"inside": 1, "outside": "100000", "count": 10}]}),
    ("uid_ranges in the command line's form", {"version": V, "command": ["true"],
                                               "uid_ranges": ["1:100000:10"]}),
]

# Specs the schema must accept.
POSITIVE = [
    ("hex strings, the empty hex", {"version": V, "command": [{"hex": "2f62696e2f7368"}, {"hex": ""}],
                                     "env": [], "chdir": {"hex": "2fe9"}}),
    ("capabilities in every spelling", {"version": V, "command": ["true"],
                                        "caps": ["CAP_NET_RAW", "cap_kill", "Sys_Admin", "12"]}),
    ("no capability", {"version": V, "command": ["true"], "caps": []}),
    ("empty keep_fds", {"version": V, "command": ["true"], "keep_fds": []}),
    ("fds at -1", {"version": V, "command": ["true"], "userns_fd": -1, "seccomp_fd": -1}),
    ("largest values", {"version": V, "command": ["true"], "uid": 4294967294, "gid": 4294967294,
                        "sync_fd": 2147483647,
                        "ops": [{"kind": "tmpfs", "dest": "/t", "size": 9223372036854775807,
                                 "perms": 4095}]}),
    ("an empty cgroup (its parent from the config)", {"version": V, "command": ["true"], "cgroup": {}}),
    ("cgroup parent in the hex form", {"version": V, "command": ["true"],
                                       "cgroup": {"parent": {"hex": "2f6a61696c73"}}}),
    ("id ranges at their bounds", {"version": V, "command": ["true"],
                                   "uid_ranges": [{"inside": 0, "outside": 4294967294, "count": 1},
                                                  {"inside": 1, "outside": 0, "count": 4294967294}],
                                   "gid_ranges": []}),
    ("cgroup limits at their bounds", {"version": V, "command": ["true"],
                                       "cgroup": {"parent": "/", "memory_max": 9223372036854775807,
                                                  "memory_swap_max": 0, "pids_max": 4194304,
                                                  "cpu_max": {"quota": 1000, "period": 1000000},
                                                  "cpu_weight": 10000,
                                                  "io_max": ["8:0 rbps=1 wbps=max riops=1 wiops=max"]}}),
    ("cgroup limits at max, a relative parent", {"version": V, "command": ["true"],
                                                 "cgroup": {"parent": "jails/", "memory_max": "max",
                                                            "memory_swap_max": "max", "pids_max": "max",
                                                            "cpu_max": {"quota": "max"}, "cpu_weight": 1,
                                                            "io_max": []}}),
]

R = "boxjail.report/v1"


def _line(event, **keys):
    return {"report": R, "event": event, **keys}


# A failed attempt as boxjail writes it (src/cli/report.cpp, failure_json), and lines built on it;
# REPORT_POSITIVE checks that the schema takes them, so each negative case below is refused for the
# one change it makes.
_FAILURE = {"audit": {"log": "read, 0 AppArmor denial(s) of this attempt"},
            "cause": "unknown cause: no rule explains step mount-tmpfs failing with EROFS.",
            "cause_id": "unknown", "cause_known": False, "checked": ["self.uid = 1000 (/proc/self/status)"],
            "denial": False, "errno": 30, "errno_name": "EROFS", "evidence": {"pid.monitor": "41"},
            "fixes": [], "message": "Can't mkdir /nonexistent: Read-only file system",
            "path": "/nonexistent", "rung": "userns", "source": "", "step": "mount-tmpfs",
            "syscall": "mkdirat"}
_KNOWN = dict(_FAILURE, cause="The setuid helper does not exist.", cause_id="helper-missing",
              cause_known=True, denial=True, errno=2, errno_name="ENOENT", audit={},
              fixes=["Install the helper."], rung="setuid", step="helper-exec", syscall="stat")
_FACT = {"name": "kernel.release", "source": "/proc/sys/kernel/osrelease", "value": "6.1.0"}
_END_RAN = _line("end", attempts=[], boxjail="0.1.0", config="", exit_status=0, ladder_mode="auto",
                 result="ran", rung="userns")
_END_FAILED = _line("end", attempts=[_FAILURE], boxjail="0.1.0", config="/etc/boxjail/config.toml",
                    exit_status=None, facts=[_FACT], ladder_mode="auto", result="failed", rung=None)
_STARTED = _line("started", rung="userns", pid=1234, sandbox_pid=1233,
                 namespaces={"mnt": 4026532301, "pid": 4026532304, "user": 4026532300}, handover=False)
_CGROUP = _line("cgroup", path="/jails/boxjail-0123456789abcdef", memory_peak=16777216,
                cpu_usage_usec=227648, oom_kills=1, pids_max_hits=0, removed=True)


def _without(d, *keys):
    return {k: v for k, v in d.items() if k not in keys}


REPORT_POSITIVE = [
    ("attempt", _line("attempt", rung="root", ladder_mode="userns")),
    ("started", _STARTED),
    ("started, handed over", dict(_STARTED, handover=True)),
    ("started, in a cgroup", dict(_STARTED, cgroup="/jails/boxjail-0123456789abcdef")),
    ("cgroup", _CGROUP),
    ("cgroup at the hierarchy's root, no controller", dict(_CGROUP, path="/boxjail-fedcba9876543210",
                                                           memory_peak=None, oom_kills=None,
                                                           pids_max_hits=None, removed=False)),
    ("failed, cause unknown", _line("failed", **_FAILURE)),
    ("failed, cause known, errno 0", _line("failed", **dict(_KNOWN, errno=0, errno_name=""))),
    ("exit 143", _line("exit", exit_status=143)),
    ("end, ran", _END_RAN),
    ("end, ran after a failed attempt", dict(_END_RAN, attempts=[_FAILURE], rung="setuid")),
    ("end, failed", _END_FAILED),
    ("end, refused", dict(_END_FAILED, attempts=[_FAILURE, _KNOWN], result="refused")),
]

REPORT_NEGATIVE = [
    ("started without mnt", dict(_STARTED, namespaces={"user": 4026532300})),
    ("unknown event", _line("begin")),
    ("wrong report name", dict(_line("exit", exit_status=0), report="boxjail.report/v2")),
    ("no report key", _without(_line("exit", exit_status=0), "report")),
    ("unknown rung", _line("attempt", rung="chroot", ladder_mode="auto")),
    ("unknown ladder mode", _line("attempt", rung="userns", ladder_mode="fast")),
    ("started with an unknown namespace", dict(_STARTED, namespaces={"mnt": 4026532301,
                                                                      "time": 4026532309})),
    ("started with an inode as a string", dict(_STARTED, namespaces={"mnt": "4026532301"})),
    ("started without handover", _without(_STARTED, "handover")),
    ("started with pid 0", dict(_STARTED, pid=0)),
    ("started with a cgroup not named by boxjail", dict(_STARTED, cgroup="/jails")),
    ("started with an empty cgroup", dict(_STARTED, cgroup="")),
    ("cgroup without removed", _without(_CGROUP, "removed")),
    ("cgroup without memory_peak (null when unknown, never left out)", _without(_CGROUP, "memory_peak")),
    ("cgroup with a count as a string", dict(_CGROUP, oom_kills="1")),
    ("cgroup with a negative count", dict(_CGROUP, pids_max_hits=-1)),
    ("cgroup with a relative path", dict(_CGROUP, path="jails/boxjail-0123456789abcdef")),
    ("cgroup with a limit (limits are the spec's)", dict(_CGROUP, memory_max=16777216)),
    ('exit with a "signal" (boxjail cannot tell one)', _line("exit", exit_status=143, signal=15)),
    ("exit status 256", _line("exit", exit_status=256)),
    ("failed in the draft's nested form", _line(
        "failed", rung="userns", denial=True,
        error={"step": "clone-namespaces", "syscall": "clone3", "path": "", "errno": 1,
               "errno_name": "EPERM", "message": "Operation not permitted", "evidence": {}},
        diagnosis={"cause": "unknown", "summary": "", "fixes": []})),
    ('failed without "checked"', _line("failed", **_without(_FAILURE, "checked"))),
    ("failed with an unknown key", _line("failed", **_FAILURE, diagnosis={})),
    ("failed, cause unknown with a rule's id", _line("failed", **dict(_FAILURE, cause_id="helper-missing"))),
    ('failed, cause known with the id "unknown"', _line("failed", **dict(_KNOWN, cause_id="unknown"))),
    ("failed, errno 0 with a name", _line("failed", **dict(_FAILURE, errno=0))),
    ("failed, an errno without a name", _line("failed", **dict(_FAILURE, errno_name=""))),
    ("failed, evidence not a string", _line("failed", **dict(_FAILURE, evidence={"pid.monitor": 41}))),
    ("end in the draft's form", _line("end", ok=True, rung="userns", ladder_mode="auto", failures=[])),
    ("end ran without a rung", dict(_END_RAN, rung=None)),
    ("end ran without an exit status", dict(_END_RAN, exit_status=None)),
    ("end ran with facts", dict(_END_RAN, facts=[_FACT])),
    ("end failed without facts", _without(_END_FAILED, "facts")),
    ("end failed with a rung", dict(_END_FAILED, rung="userns")),
    ("end failed with an exit status", dict(_END_FAILED, exit_status=1)),
    ("end failed with no attempt", dict(_END_FAILED, attempts=[])),
    ('end with a result "ok"', dict(_END_RAN, result="ok")),
    ("end without boxjail's version", _without(_END_RAN, "boxjail")),
    ("end with facts as an object", dict(_END_FAILED, facts={"kernel.release": "6.1.0"})),
    ("end with a fact without source", dict(_END_FAILED, facts=[_without(_FACT, "source")])),
    ("end with an attempt that is a whole failed line", dict(_END_FAILED,
                                                              attempts=[_line("failed", **_FAILURE)])),
]

FENCE = re.compile(r"^( {0,3})(`{3,})(.*)$")
TAGS = {"json": "plain", "json spec": "spec", "json report": "report"}


class Checker:
    def __init__(self, doc):
        self.doc = doc
        full = os.path.abspath(doc)
        self.rel = os.path.relpath(full, ROOT) if full.startswith(ROOT + os.sep) else doc
        self.problems = 0

    def fail(self, line, text):
        where = f"{self.rel}:{line}: " if line else ""
        print(f"check-spec-docs: {where}{text}")
        self.problems += 1


def load_json(text):
    """json.loads that refuses what boxjail refuses and a schema cannot see: a duplicate key (json
    keeps the last) and a number with a fraction or an exponent (a schema's "integer" takes 1.0)."""
    def pairs(items):
        out = {}
        for k, v in items:
            if k in out:
                raise ValueError(f"duplicate key {k!r}")
            out[k] = v
        return out

    def no_float(text):
        raise ValueError(f"{text}: the formats have integers only")
    return json.loads(text, object_pairs_hook=pairs, parse_float=no_float)


def fenced_blocks(path):
    """Yields (info string, line of the opening fence, [(line, text)]) for each fenced block."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or "`" in m.group(3):
            i += 1
            continue
        indent, ticks, info = len(m.group(1)), m.group(2), m.group(3).strip()
        start = i + 1
        body = []
        i += 1
        while i < len(lines):
            c = FENCE.match(lines[i])
            if c and len(c.group(2)) >= len(ticks) and not c.group(3).strip():
                break
            text = lines[i]
            body.append((i + 1, text[min(indent, len(text) - len(text.lstrip(" "))):]))
            i += 1
        i += 1
        yield info, start, body


def pointer(path):
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)


def mismatched(branch_errors, at):
    """Whether a oneOf/anyOf branch is not the one meant: the value is not of its type, or the
    line's "event" is not its event."""
    for e in branch_errors:
        path = list(e.absolute_path)
        if e.validator == "type" and path == at:
            return True
        if e.validator == "const" and path == at + ["event"]:
            return True
    return False


def leaf_errors(e):
    """The errors under a oneOf/anyOf error that say what is wrong in the branch that was meant
    (the ones of every branch when no branch or several are meant)."""
    if not e.context:
        return [e]
    branches = {}
    for c in e.context:
        branches.setdefault(c.relative_schema_path[0], []).append(c)
    at = list(e.absolute_path)
    meant = [errs for errs in branches.values() if not mismatched(errs, at)]
    if len(meant) != 1:
        return [e]
    out = []
    for c in meant[0]:
        out.extend(leaf_errors(c))
    return out


def errors_of(validator, instance):
    """Every error, as 'POINTER: message' strings, in document order, without repeats."""
    out = []
    for e in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        for leaf in leaf_errors(e):
            where = pointer(leaf.absolute_path) if leaf.absolute_path else "(top level)"
            text = f"{where}: {leaf.message}"
            if text not in out:
                out.append(text)
    return out


def collect_keys(value, spec_keys, op_keys, kinds):
    """The spec fields, op keys and op kinds an example shows."""
    if isinstance(value, dict):
        if "kind" in value and isinstance(value["kind"], str):
            kinds.add(value["kind"])
            op_keys.update(value.keys())
        else:
            spec_keys.update(value.keys())
        for v in value.get("ops", []) if isinstance(value.get("ops"), list) else []:
            collect_keys(v, spec_keys, op_keys, kinds)


# The jails run with --boxjail, whose every report line is checked: (name, who, arguments, what
# must come out). "caller": as the user running this script; "nobody": as uid/gid 65534 (through
# setpriv when this script runs as root); "chroot": as 65534 inside a chroot, where the kernel
# refuses user namespaces (root only). {fd} is the report's fd; {spec} a spec made by
# `spec --from-args -- --ro-bind / / true`.
REPORT_RUNS = [
    ("root success", "caller", ["--report-fd", "{fd}", "--unshare-pid", "--ro-bind", "/", "/", "true"],
     {"result": "ran", "rung_if_root": "root", "status": 0}),
    ("handover", "caller", ["--report-fd", "{fd}", "--handover", "--ro-bind", "/", "/", "true"],
     {"result": "ran", "rung_if_root": "root", "status": 0, "handover": True}),
    ("spec", "caller", ["run", "--spec", "{spec}", "--report-fd", "{fd}"],
     {"result": "ran", "rung_if_root": "root", "status": 0}),
    ("unprivileged success", "nobody", ["--report-fd", "{fd}", "--ro-bind", "/", "/", "--proc", "/proc", "true"],
     {"result": "ran", "rung": "userns", "status": 0}),
    ("unprivileged EROFS failure", "nobody",
     ["--report-fd", "{fd}", "--ro-bind", "/", "/", "--tmpfs", "/nonexistent/x", "true"],
     {"result": "failed", "step": "mount-tmpfs", "errno_name": "EROFS"}),
    ("refused in a chroot", "chroot", ["--report-fd", "{fd}", "--ro-bind", "/", "/", "true"],
     {"result": "refused", "step": "clone-namespaces"}),
]

NOBODY = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]


def report_sequence(lines, rc, expect, is_root):
    """What is wrong with one run's report lines (already valid against the schema), as strings."""
    bad = []
    events = [line.get("event") for line in lines]
    if not lines:
        return ["no line written"]
    if events[0] != "attempt":
        bad.append(f"the first line is {events[0]!r}, not \"attempt\"")
    if events[-1] != "end" or events.count("end") != 1:
        bad.append(f"the last line is not the only \"end\": events {events}")
    # attempt (failed attempt)* (failed | started [cgroup] [exit]) end
    state, rung = "start", None
    for i, (e, line) in enumerate(zip(events, lines), 1):
        if e == "attempt" and state in ("start", "failed"):
            state, rung = "attempt", line["rung"]
        elif e in ("failed", "started") and state == "attempt":
            if line["rung"] != rung:
                bad.append(f"line {i}: {e} on rung {line['rung']!r} after an attempt on {rung!r}")
            state = e
        elif e == "cgroup" and state == "started":
            state = "cgroup"
        elif e == "exit" and state in ("started", "cgroup"):
            state = "exit"
        elif e == "end" and state in ("failed", "started", "exit"):
            state = "end"
        else:
            bad.append(f"line {i}: {e!r} out of order: events {events}")
            break
    if bad:
        return bad
    end = lines[-1]
    by_event = {}
    for line in lines:
        by_event.setdefault(line["event"], []).append(line)
    for a in by_event["attempt"]:
        if a["ladder_mode"] != end["ladder_mode"]:
            bad.append(f"attempt ladder_mode {a['ladder_mode']!r}, end {end['ladder_mode']!r}")
    failed = [{k: v for k, v in f.items() if k not in ("report", "event")}
              for f in by_event.get("failed", [])]
    if end["attempts"] != failed:
        bad.append("end's attempts are not the failed lines without report and event")
    started = by_event.get("started", [None])[0]
    exits = by_event.get("exit", [])
    cgroups = by_event.get("cgroup", [])
    if started and "cgroup" in started:
        if not cgroups:
            bad.append(f"started names the cgroup {started['cgroup']!r}, but no cgroup line follows")
        elif cgroups[0]["path"] != started["cgroup"]:
            bad.append(f"the cgroup line's path {cgroups[0]['path']!r} is not started's "
                       f"{started['cgroup']!r}")
    elif cgroups:
        bad.append("a cgroup line, but started names no cgroup")
    if started:
        handover = started["handover"]
        if end["result"] != "ran" or end["rung"] != started["rung"]:
            bad.append(f"started on {started['rung']!r}, but end says result {end['result']!r}, "
                       f"rung {end['rung']!r}")
        if handover and exits:
            bad.append("an exit line with handover")
        if not handover and not exits:
            bad.append("no exit line after started (and no handover)")
        want = 0 if handover else rc
        if exits and exits[0]["exit_status"] != rc:
            bad.append(f"exit says {exits[0]['exit_status']}, boxjail exited with {rc}")
        if end["exit_status"] != want or rc != (0 if handover else end["exit_status"]):
            bad.append(f"end's exit_status {end['exit_status']}, boxjail exited with {rc}")
    else:
        if end["result"] == "ran":
            bad.append("end says ran, with no started line")
        if rc != 1:
            bad.append(f"no rung ran the jail, but boxjail exited with {rc}, not 1")
        denied = bool(failed) and failed[-1]["denial"]
        if end["result"] != ("refused" if denied else "failed"):
            bad.append(f"end's result {end['result']!r} after a last attempt with denial {denied}")
    # What this run must come to.
    if end["result"] != expect["result"]:
        why = ""
        if failed:
            f = failed[-1]
            why = f" ({f['rung']} rung: {f['step']}: {f['syscall']}: {f['message']} ({f['errno_name']}))"
        bad.append(f"expected result {expect['result']!r}, got {end['result']!r}{why}")
        return bad
    rung = expect.get("rung") or (expect.get("rung_if_root") if is_root else None)
    if rung and end["rung"] != rung:
        bad.append(f"expected rung {rung!r}, got {end['rung']!r}")
    if "status" in expect and rc != expect["status"]:
        bad.append(f"expected exit status {expect['status']}, got {rc}")
    if started and started["handover"] != expect.get("handover", False):
        bad.append(f"started says handover {started['handover']}")
    if "step" in expect and failed and failed[0]["step"] != expect["step"]:
        bad.append(f"expected the step {expect['step']!r} to fail, got {failed[0]['step']!r}")
    if "errno_name" in expect and failed and failed[0]["errno_name"] != expect["errno_name"]:
        bad.append(f"expected {expect['errno_name']}, got {failed[0]['errno_name']!r}")
    return bad


def reap(pid, timeout=30):
    """Waits for our child `pid` (a handed-over sandbox); its exit status, or an error string."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            got, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return f"pid {pid} is not a child of the program that started boxjail"
        if got == pid:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            return f"pid {pid} did not end within {timeout}s"
        time.sleep(0.01)


def mounts_under(path):
    out = []
    for root, dirs, _ in os.walk(path):
        for d in list(dirs):
            if os.path.ismount(os.path.join(root, d)):
                out.append(os.path.join(root, d))
                dirs.remove(d)
    return out


def report_runs(c, boxjail, report_v):
    """Runs REPORT_RUNS and checks every line each writes; (runs, lines, skipped names)."""
    is_root = os.geteuid() == 0
    n_runs = n_lines = 0
    skipped = []
    tmp = tempfile.mkdtemp(prefix="check-spec-docs-runs.")
    try:
        # A copy in a fresh directory that uid 65534 may enter: one binary for every run, even if
        # PATH is rebuilt meanwhile.
        os.chmod(tmp, 0o755)
        bindir = os.path.join(tmp, "bin")
        os.mkdir(bindir, 0o755)
        exe = os.path.join(bindir, "boxjail")
        shutil.copyfile(boxjail, exe)
        os.chmod(exe, 0o755)
        spec = os.path.join(tmp, "spec.json")
        with open(os.open(spec, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            r = subprocess.run([exe, "spec", "--from-args", "--", "--ro-bind", "/", "/", "true"],
                               stdout=f, stderr=subprocess.PIPE, text=True, timeout=60)
        if r.returncode != 0:
            c.fail(0, f"report run: `boxjail spec --from-args` exited with {r.returncode}: {r.stderr!r}")
        for i, (name, who, arguments, expect) in enumerate(REPORT_RUNS):
            prefix = []
            cmd_exe = exe
            if who == "nobody" and is_root:
                if not shutil.which("setpriv"):
                    c.fail(0, f"report run {name!r}: setpriv is missing")
                    continue
                prefix = NOBODY
            elif who == "chroot":
                tools = [t for t in ("unshare", "mount", "chroot") if not shutil.which(t)]
                if not is_root or tools:
                    skipped.append(name + (" (needs root)" if not is_root else f" (no {', '.join(tools)})"))
                    continue
                jail_root = os.path.join(tmp, "chroot")
                os.mkdir(jail_root, 0o755)
                os.mkdir(os.path.join(jail_root, "proc"), 0o755)
                shutil.copyfile(exe, os.path.join(jail_root, "boxjail"))
                os.chmod(os.path.join(jail_root, "boxjail"), 0o755)
                # /proc bound in a mount namespace of its own, gone with it.
                prefix = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                          'mount --bind /proc "$1/proc" && shift && exec chroot --userspec=65534:65534 '
                          '--groups=65534 "$@"', "sh", jail_root, jail_root]
                cmd_exe = "/boxjail"
            report = os.path.join(tmp, f"report-{i}.jsonl")
            fd = os.open(report, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            argv = prefix + [cmd_exe] + [a.format(fd=fd, spec=spec) for a in arguments]
            try:
                r = subprocess.run(argv, pass_fds=(fd,), cwd="/", stdin=subprocess.DEVNULL,
                                   capture_output=True, text=True, errors="replace", timeout=60)
            except (OSError, subprocess.TimeoutExpired) as e:
                c.fail(0, f"report run {name!r}: {' '.join(argv)}: {e}")
                continue
            finally:
                os.close(fd)
            n_runs += 1
            with open(report, encoding="utf-8", errors="replace") as f:
                texts = f.read().split("\n")
            if texts and texts[-1] == "":
                texts.pop()
            else:
                c.fail(0, f"report run {name!r}: the report does not end with a newline")
            lines, valid = [], True
            for n, text in enumerate(texts, 1):
                n_lines += 1
                try:
                    value = load_json(text)
                except ValueError as e:
                    c.fail(0, f"report run {name!r}: line {n}: not one JSON object: {e}: {text[:200]!r}")
                    valid = False
                    continue
                for err in errors_of(report_v, value):
                    c.fail(0, f"report run {name!r}: line {n}: {err}")
                    valid = False
                lines.append(value)
            if valid:
                for problem in report_sequence(lines, r.returncode, expect, is_root):
                    c.fail(0, f"report run {name!r} ({' '.join(arguments).format(fd='FD', spec='SPEC')}): "
                              f"{problem}")
                started = [line for line in lines if line.get("event") == "started"]
                if expect.get("handover") and started:
                    # The sandbox is our child now: we reap it, as the doc says the caller must.
                    status = reap(started[0]["sandbox_pid"])
                    if status != 0:
                        c.fail(0, f"report run {name!r}: waiting for sandbox_pid: {status}")
            elif r.stderr:
                c.fail(0, f"report run {name!r}: boxjail's stderr: {r.stderr.strip()[:500]!r}")
    finally:
        left = mounts_under(tmp)
        if left:
            c.fail(0, f"report runs: {tmp} left in place: mount points {left}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return n_runs, n_lines, skipped


def main():
    ap = argparse.ArgumentParser(description="Check docs/spec.md against the JSON Schemas.")
    ap.add_argument("--boxjail", metavar="PATH",
                    help="also run `PATH spec --check FILE` on every spec example and negative case, "
                         "and run jails with --report-fd and check every report line")
    ap.add_argument("--doc", default=DOC, help="the document to check (default: docs/spec.md)")
    args = ap.parse_args()

    c = Checker(args.doc)
    schemas = {}
    for name, path in (("spec", SPEC_SCHEMA), ("report", REPORT_SCHEMA)):
        try:
            with open(path, encoding="utf-8") as f:
                schemas[name] = load_json(f.read())
            jsonschema.Draft202012Validator.check_schema(schemas[name])
        except (OSError, ValueError, jsonschema.exceptions.SchemaError) as e:
            c.fail(0, f"{os.path.relpath(path)}: not a valid draft 2020-12 schema: {e}")
    if c.problems:
        return 1

    spec_v = jsonschema.Draft202012Validator(schemas["spec"])
    report_v = jsonschema.Draft202012Validator(schemas["report"])
    partial = copy.deepcopy(schemas["spec"])
    partial["required"] = []
    partial_v = jsonschema.Draft202012Validator(partial)
    op_v = jsonschema.Draft202012Validator({"$schema": schemas["spec"]["$schema"],
                                            "$defs": schemas["spec"]["$defs"],
                                            "$ref": "#/$defs/op"})
    spec_props = set(schemas["spec"]["properties"])

    specs = []  # (line, spec, its text)
    n_report = n_plain = 0
    shown_spec, shown_op, shown_kinds, shown_events = set(), set(), set(), set()

    for info, start, body in fenced_blocks(args.doc):
        tag = TAGS.get(info)
        if tag is None:
            if info.lower().replace("-", " ").split()[:1] == ["json"]:
                c.fail(start, f"fence info {info!r}: use exactly ```json, ```json spec or ```json report")
            continue
        text = "\n".join(t for _, t in body)
        if tag == "report":
            for line, t in body:
                if not t.strip():
                    continue
                try:
                    value = load_json(t)
                except ValueError as e:
                    c.fail(line, f"json report line: not one JSON object on the line: {e}")
                    continue
                n_report += 1
                for err in errors_of(report_v, value):
                    c.fail(line, f"json report line: {err}")
                if isinstance(value, dict) and isinstance(value.get("event"), str):
                    shown_events.add(value["event"])
            continue
        try:
            value = load_json(text)
        except ValueError as e:
            c.fail(start, f"```{info} block: invalid: {e}")
            continue
        if tag == "spec":
            specs.append((start, value, text))
            for err in errors_of(spec_v, value):
                c.fail(start, f"json spec block: {err}")
            collect_keys(value, shown_spec, shown_op, shown_kinds)
            continue
        n_plain += 1
        if not isinstance(value, dict):
            continue
        if "report" in value and "event" in value:
            c.fail(start, "a report line in a plain ```json block: tag it ```json report")
        elif "version" in value and "command" in value:
            c.fail(start, "a complete spec in a plain ```json block: tag it ```json spec")
        elif "kind" in value:
            for err in errors_of(op_v, value):
                c.fail(start, f"json op snippet: {err}")
            collect_keys(value, shown_spec, shown_op, shown_kinds)
        elif set(value) & spec_props:
            for err in errors_of(partial_v, value):
                c.fail(start, f"json spec snippet: {err}")
            collect_keys(value, shown_spec, shown_op, shown_kinds)
        else:
            c.fail(start, "a plain ```json block holds spec fields or one op; "
                          f"none of {sorted(value)} is a spec field (other JSON goes in an untagged block)")

    if not specs:
        c.fail(0, "no ```json spec block found")
    if not n_report:
        c.fail(0, "no ```json report block found")

    # Every field, kind and event has an example.
    op_kinds = schemas["spec"]["$defs"]["op"]["properties"]["kind"]["enum"]
    op_keys = set()
    for k in op_kinds:
        op_keys.update(schemas["spec"]["$defs"]["op-" + k]["properties"])
    events = schemas["report"]["properties"]["event"]["enum"]
    for what, wanted, shown in (("spec field", spec_props, shown_spec),
                                ("op kind", set(op_kinds), shown_kinds),
                                ("op key", op_keys, shown_op),
                                ("report event", set(events), shown_events)):
        for name in sorted(wanted - shown):
            c.fail(0, f"no example shows the {what} {name!r}")

    for what, instance in NEGATIVE:
        if spec_v.is_valid(instance):
            c.fail(0, f"negative case accepted by the spec schema: {what}: {json.dumps(instance)}")
    for what, instance in POSITIVE:
        for err in errors_of(spec_v, instance):
            c.fail(0, f"positive case refused by the spec schema: {what}: {err}")
    for what, instance in REPORT_POSITIVE:
        for err in errors_of(report_v, instance):
            c.fail(0, f"positive case refused by the report schema: {what}: {err}")
    for what, instance in REPORT_NEGATIVE:
        if report_v.is_valid(instance):
            c.fail(0, f"negative case accepted by the report schema: {what}: {json.dumps(instance)}")

    n_run = n_jails = n_jail_lines = 0
    skipped = []
    if args.boxjail and not (os.path.isfile(args.boxjail) and os.access(args.boxjail, os.X_OK)):
        c.fail(0, f"--boxjail {args.boxjail}: not an executable file")
    elif args.boxjail:
        with tempfile.TemporaryDirectory(prefix="check-spec-docs.") as tmp:
            def check(name, text):
                path = os.path.join(tmp, name)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text + "\n")
                try:
                    r = subprocess.run([args.boxjail, "spec", "--check", path], capture_output=True,
                                       text=True, errors="replace", timeout=60)
                except (OSError, subprocess.TimeoutExpired) as e:
                    return None, f"{args.boxjail} spec --check {path}: {e}", path
                return r, f"exit {r.returncode}, stdout {r.stdout!r}, stderr {r.stderr!r}", path

            for line, _, text in specs:
                r, said, path = check(f"spec-line-{line}.json", text)
                n_run += 1
                if r is None or r.returncode != 0 or r.stdout.strip() != f"{path}: ok":
                    c.fail(line, f"json spec block: `boxjail spec --check` did not say ok: {said}")
            for i, (what, value) in enumerate(NEGATIVE):
                r, said, path = check(f"negative-{i}.json", json.dumps(value))
                n_run += 1
                if r is None or r.returncode != 1:
                    c.fail(0, f"negative case not refused (exit 1) by `boxjail spec --check`: {what}: {said}")
        n_jails, n_jail_lines, skipped = report_runs(c, args.boxjail, report_v)

    if c.problems:
        print(f"check-spec-docs: {c.problems} problem(s)")
        return 1
    print(f"check-spec-docs: ok: {len(specs)} spec examples, {n_report} report lines, "
          f"{n_plain} snippets, {len(NEGATIVE) + len(REPORT_NEGATIVE)} negative and "
          f"{len(POSITIVE) + len(REPORT_POSITIVE)} positive cases" +
          (f", {n_run} runs of `{args.boxjail} spec --check`, {n_jails} jails run with "
           f"--report-fd ({n_jail_lines} report lines)" if args.boxjail else "") +
          (f"; skipped: {'; '.join(skipped)}" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
