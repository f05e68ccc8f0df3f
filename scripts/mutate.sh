#!/usr/bin/env bash
# Mutation testing: plants one small deliberate bug at a time in security-critical code (the
# engine, the ladder, the setuid helper, the diagnosis, the seccomp cache), rebuilds, runs the
# tests that guard that code, and counts the mutation as killed when they fail. A mutation that
# survives is a hole in the tests. Prints one line per mutation and the score; the latest result is
# in docs/testing.md. Not in CI (about a minute per mutation on 2 CPUs). Run as root (the tests
# need it); the source tree is restored after each mutation, and on any exit.
#
#   bash scripts/mutate.sh [NAME...]     # all mutations, or only those named
#   MUTATE_FULL=1 bash scripts/mutate.sh # the whole suite for each, not just its guarding tests
#   MUTATE_CHECK=1 bash scripts/mutate.sh # only check that every mutation still applies
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/mutate

if [[ ${MUTATE_CHECK-} != 1 ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBOXJAIL_BUILD_BENCH=OFF >/dev/null
  cmake --build "$build" >/dev/null
fi

exec python3 - "$build" "$@" <<'PY'
import os, shutil, signal, subprocess, sys, time

# SIGTERM as an exception, so that the finally below restores the source tree.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

build, only = sys.argv[1], set(sys.argv[2:])
full = os.environ.get("MUTATE_FULL") == "1"

# name, file, original text (exactly once in the file), mutated text, tests (a gtest filter).
MUTATIONS = [
    ("resolve-in-root", "src/engine/paths.cpp",
     "RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS", "RESOLVE_NO_MAGICLINKS",
     "Mounts*:*Symlink*"),
    ("walk-follows-links", "src/engine/paths.cpp",
     "int next = openat(cur.get(), comp.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);",
     "int next = openat(cur.get(), comp.c_str(), O_PATH | O_CLOEXEC);",
     "Mounts*"),
    ("ensure-file-follows-links", "src/engine/paths.cpp",
     "O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, mode",
     "O_CREAT | O_WRONLY | O_CLOEXEC, mode",
     "Mounts*"),
    ("write-file-follows-links", "src/engine/fs_ops.cpp",
     "O_CREAT | O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,",
     "O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC,",
     "Mounts*"),
    ("bind-without-nosuid", "src/engine/fs_ops.cpp",
     "unsigned attrs = MOUNT_ATTR_NOSUID;\n  if (!op.devices)",
     "unsigned attrs = 0;\n  if (!op.devices)",
     "Mounts*:Differential*"),
    ("bind-without-nodev", "src/engine/fs_ops.cpp",
     "  if (!op.devices) attrs |= MOUNT_ATTR_NODEV;\n",
     "",
     "Mounts*:Differential*"),
    ("ro-bind-writable", "src/engine/fs_ops.cpp",
     "  if (op.readonly) attrs |= MOUNT_ATTR_RDONLY;\n",
     "",
     "Mounts*:Smoke*"),
    ("ro-bind-data-writable", "src/engine/fs_ops.cpp",
     "(op.readonly ? MOUNT_ATTR_RDONLY : 0)", "0",
     "Mounts*:Differential*"),
    ("remount-ro-noop", "src/engine/fs_ops.cpp",
     "ctx.mounter.set_attr(target.get(), MOUNT_ATTR_RDONLY)",
     "ctx.mounter.set_attr(target.get(), 0)",
     "Mounts*:Differential*"),
    ("no-new-privs-skipped", "src/engine/child.cpp",
     "if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {", "if (false) {",
     "Process*:Differential*:Seccomp*"),
    ("new-session-skipped", "src/engine/child.cpp",
     "if (spec.new_session && setsid() == -1)", "if (false && setsid() == -1)",
     "Process*:Differential*"),
    ("bounding-set-kept", "src/engine/identity.cpp",
     "prctl(kept ? PR_CAPBSET_READ : PR_CAPBSET_DROP, cap, 0, 0, 0)",
     "prctl(PR_CAPBSET_READ, cap, 0, 0, 0)",
     "Process*:Differential*:*HostRootJail*"),
    ("setgroups-allowed", "src/engine/identity.cpp",
     'write_file_at(proc_pid_dir, "setgroups", "deny\\n")',
     'write_file_at(proc_pid_dir, "setgroups", "allow\\n")',
     "Process*:Differential*"),
    ("old-root-left-attached", "src/engine/rootfs.cpp",
     '  if (umount2(".", MNT_DETACH) != 0)\n    return fail(step::kDetachOldRoot, "umount2(MNT_DETACH)", "/oldroot", errno, "unmount old root");',
     "",
     "Mounts*:*HostRootJail*:Smoke*"),
    ("nested-userns-not-limited", "src/engine/child.cpp",
     'const char* limit = plan.nested_userns ? "1" : "0";', 'const char* limit = "9";',
     "Process*:Differential*:*HostRootJail*"),
    ("pdeathsig-not-rearmed", "src/engine/parent_death.cpp",
     "  prctl(PR_SET_PDEATHSIG, SIGKILL);\n  if (getppid() != expected) _exit(1);",
     "  if (getppid() != expected) _exit(1);",
     "*DieWithParent*"),
    ("parent-not-rechecked", "src/engine/parent_death.cpp",
     "  if (getppid() != expected) _exit(1);\n", "",
     "*DieWithParent*"),
    ("signals-not-forwarded", "src/engine/monitor.cpp",
     "kill(s.child, static_cast<int>(si.ssi_signo));", "(void)si;",
     "*ProcessSignals*:*SlimMonitor*"),
    ("keep-fd-closes-nothing", "src/engine/child.cpp",
     "if (syscall(SYS_close_range, first, last, CLOSE_RANGE_CLOEXEC) == 0) return 0;",
     "if (first <= last) return 0;",
     "*RunSpec*:Process*"),
    ("seccomp-cache-group-writable", "src/engine/seccomp_policy.cpp",
     "(st.st_mode & 022) == 0", "(st.st_mode & 002) == 0",
     "Seccomp*"),
    ("named-policy-group-writable", "src/engine/seccomp_policy.cpp",
     "(st.st_mode & (S_IWGRP | S_IWOTH)) != 0", "(st.st_mode & S_IWOTH) != 0",
     "Seccomp*"),
    ("seccomp-cache-dir-open-to-group", "src/engine/seccomp_policy.cpp",
     "st.st_uid != geteuid() || (st.st_mode & 077) != 0", "st.st_uid != geteuid() || (st.st_mode & 007) != 0",
     "Seccomp*"),
    ("helper-group-writable", "src/cli/suid_main.cpp",
     "((st.st_mode & S_IWGRP) != 0 && st.st_gid != 0)", "false",
     "Ladder*:*HelperRefuses*:*Install*"),
    ("helper-not-setuid-root", "src/cli/suid_main.cpp",
     "if (st.st_uid != 0 || (st.st_mode & S_ISUID) == 0) {", "if (false) {",
     "Ladder*:*HelperRefuses*:*Install*"),
    ("setuid-hostname-without-uts", "src/frontend/validate.cpp",
     "if (s.hostname && !s.unshare_uts) {", "if (false) {",
     "Validate*:Ladder*:*PrivilegeSplit*"),
    ("setuid-labels", "src/frontend/validate.cpp",
     "if (s.exec_label || s.file_label) {", "if (false) {",
     "Validate*:Ladder*:*PrivilegeSplit*"),
    ("setuid-overlays", "src/frontend/validate.cpp",
     '      return refuse("overlay mounts (--overlay, --tmp-overlay, --ro-overlay)");',
     "      continue;",
     "Validate*:Ladder*:*PrivilegeSplit*"),
    ("setuid-cap-add", "src/frontend/validate.cpp",
     "if (s.caps.specified && s.caps.mask != 0) {", "if (false) {",
     "Validate*:Ladder*:*PrivilegeSplit*"),
    ("setuid-userns2", "src/frontend/validate.cpp",
     "  if (s.userns2_fd != -1) {\n", "  if (false) {\n",
     "Validate*:Ladder*:*PrivilegeSplit*"),
    ("denial-any-syscall-in-mount-steps", "src/ladder/ladder.cpp",
     "return (permission || limit) && mount_family(e.syscall);", "return permission || limit;",
     "Ladder*:StepErrors*"),
    ("denial-map-step-not-write", "src/ladder/ladder.cpp",
     '      e.syscall != "write") {', "      false) {",
     "Ladder*:StepErrors*:IdRanges*"),
    ("retry-after-add-seccomp-fd", "src/ladder/ladder.cpp",
     '  if (!spec.add_seccomp_fds.empty()) return no("the --add-seccomp-fd programs were read");\n',
     "",
     "Ladder*"),
    ("retry-after-file-read", "src/ladder/ladder.cpp",
     "if (reads_fds && order_of(step) >= order_of(step::kBindMount)) {", "if (false) {",
     "Ladder*"),
    ("apparmor-userns-eperm", "src/diagnose/rules.cpp",
     '          .id = "apparmor-userns-create-denied",\n          .rungs = {"userns"},\n'
     '          .steps = {"clone-namespaces"},\n          .errnos = {EACCES},',
     '          .id = "apparmor-userns-create-denied",\n          .rungs = {"userns"},\n'
     '          .steps = {"clone-namespaces"},\n          .errnos = {EACCES, EPERM},',
     "Diagnose*:Doctor*:Ladder*"),
    ("broker-allows-any-attr", "src/engine/mount_broker.cpp",
     "if (attrs != MOUNT_ATTR_RDONLY) return {EPERM, kPolicy};", "",
     "*MountBroker*:*PrivilegeSplit*:Ladder*"),
    # Issue 17's signals and memory.
    ("setup-keeps-signals-blocked", "src/engine/child.cpp",
     "  take_signals_during_setup(a.original_mask);\n", "",
     "*HelperStall*:*ProcessSignals*"),
    ("signal-before-command-forwarded", "src/engine/monitor.cpp",
     "        kill(s.child, SIGKILL);\n      } else if (got == sizeof si) {",
     "        kill(s.child, static_cast<int>(si.ssi_signo));\n      } else if (got == sizeof si) {",
     "*HelperStall*:*ProcessSignals*"),
    ("privileged-stage-outlives-monitor", "src/engine/child.cpp",
     "if (spec.die_with_parent || plan.setuid) die_with_parent_of_channel(a.channel);",
     "if (spec.die_with_parent) die_with_parent_of_channel(a.channel);",
     "*HelperStall*"),
    ("out-of-memory-aborts", "src/cli/main.cpp",
     "  } catch (const std::bad_alloc&) {\n    std::fputs(name, stderr);",
     "  } catch (const std::length_error&) {\n    std::fputs(name, stderr);",
     "*ResourceFailures*:*BoundedInput*"),
    # Issue 18's classic mount path (its tests force it: the sixth field is their environment).
    ("classic-skips-submounts", "src/engine/mounts_classic.cpp",
     "  if (!recursive) return {};\n  std::map<int, MountEntry> mounts;",
     "  return {};\n  std::map<int, MountEntry> mounts;",
     "Mounts*", {"BOXJAIL_TEST_MOUNTS": "classic"}),
    ("classic-binds-in-place", "src/engine/mounts_classic.cpp",
     "  if (do_mount(fd_path(node.get())) != 0) return failed(\"mount\");",
     "  if (do_mount(fd_path(target_fd)) != 0) return failed(\"mount\");",
     "Mounts*:Jail/ClassicMounts*:Jail/OlderKernels*", {"BOXJAIL_TEST_MOUNTS": "classic"}),
    ("classic-walk-follows-links", "src/engine/mounts_classic.cpp",
     "cur = UniqueFd(openat(cur.get(), part.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));",
     "cur = UniqueFd(openat(cur.get(), part.c_str(), O_PATH | O_CLOEXEC));",
     "Mounts*:Jail/OlderKernels*", {"BOXJAIL_TEST_MOUNTS": "classic"}),
    ("classic-remount-drops-flags", "src/engine/mounts_classic.cpp",
     "MS_REMOUNT | MS_BIND | flags | add", "MS_REMOUNT | MS_BIND | add",
     "Mounts*:Differential*:-*Seccomp*", {"BOXJAIL_TEST_MOUNTS": "classic"}),
    ("probe-ignores-enosys", "src/sys/kernel_features.cpp",
     "bool has(long rc) { return rc == 0 || errno != ENOSYS; }", "bool has(long) { return true; }",
     "Jail/ClassicMounts*:Jail/OlderKernels*"),
]

def sh(cmd, timeout=None, env=None):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                          env=env)

selected = [m for m in MUTATIONS if not only or m[0] in only]
if only - {m[0] for m in MUTATIONS}:
    sys.exit("mutate.sh: unknown mutation(s): " + " ".join(sorted(only - {m[0] for m in MUTATIONS})))
for name, path, old, *_ in selected:
    count = open(path).read().count(old)
    if count != 1:
        sys.exit(f"mutate.sh: {name}: the original text is in {path} {count} times, not once: "
                 "update the mutation")
if os.environ.get("MUTATE_CHECK") == "1":
    sys.exit(print(f"mutate: {len(selected)} mutations, each applies once") or 0)
tests = os.path.join(build, "tests", "boxjail_tests")
# The guarding tests must pass before anything is planted, or every mutation would look killed.
def env_of(m):
    return {**os.environ, **(m[5] if len(m) > 5 else {})}
groups = {}  # one baseline run per environment, over every filter run in it
for m in selected:
    groups.setdefault(tuple(sorted((m[5] if len(m) > 5 else {}).items())), set()).add(m[4])
# A filter with a negative part ("-...") cannot be joined to others: those run on their own.
for extra, filters in groups.items():
    plain = sorted(f for f in filters if "-" not in f)
    runs = ([":".join(plain)] if plain else []) + sorted(f for f in filters if "-" in f)
    for f in runs:
        if not full and sh([tests, "--gtest_filter=" + f, "--gtest_brief=1"], timeout=1800,
                           env={**os.environ, **dict(extra)}).returncode:
            sys.exit(f"mutate.sh: the tests fail without any mutation ({f}): fix them first")
print(f"baseline: the guarding tests pass unmutated", flush=True)
killed, survived, invalid = [], [], []
for m in selected:
    name, path, old, new, gfilter = m[:5]
    text = open(path).read()
    backup = path + ".mutate-orig"
    shutil.copy2(path, backup)
    start = time.time()
    try:
        open(path, "w").write(text.replace(old, new))
        b = sh(["cmake", "--build", build])
        if b.returncode != 0:
            invalid.append(name)
            verdict = "INVALID (does not build)"
        else:
            cmd = ["ctest", "--test-dir", build, "-j2", "--stop-on-failure"] if full else \
                  [tests, "--gtest_filter=" + gfilter, "--gtest_brief=1"]
            try:
                r = sh(cmd, timeout=900, env=env_of(m))
                dead = r.returncode != 0
            except subprocess.TimeoutExpired:
                dead = True
            (killed if dead else survived).append(name)
            verdict = "killed" if dead else "SURVIVED"
    finally:
        shutil.move(backup, path)
        os.utime(path)  # newer than the mutated build, so the next build recompiles it
    print(f"{verdict:9s} {name:36s} {path} ({time.time() - start:.0f} s)", flush=True)

sh(["cmake", "--build", build])  # the unmutated build again
counted = len(killed) + len(survived)
print(f"mutate: {len(killed)} of {counted} killed"
      + (f", {len(invalid)} invalid" if invalid else "")
      + (f"; survivors: {' '.join(survived)}" if survived else ""))
sys.exit(1 if survived or invalid else 0)
PY
