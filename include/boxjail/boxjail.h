/* SPDX-License-Identifier: Apache-2.0 */
/*
 * boxjail's C API: start a jail from a JSON spec ("boxjail.spec/v1", docs/spec.md) and hold it by
 * an opaque handle. Pure C99; the same engine as the C++ API (boxjail/jail.hpp) and the boxjail
 * command.
 *
 * Linking: the library is a static archive, libboxjail.a, written in C++. A C program links it
 * with the C++ runtime and boxjail's dependencies:
 *
 *     cc prog.c $(pkg-config --cflags --libs --static boxjail)
 *
 * or, with CMake, find_package(boxjail) and target_link_libraries(prog boxjail::boxjail).
 *
 * Conventions, for every function below:
 *
 * - Functions that can fail return 0 on success and -1 on failure. On failure, when the
 *   `error_json` argument is not NULL, *error_json is set to a JSON object describing the failure
 *   (see "Errors" below), or to NULL when even that could not be allocated. On success
 *   *error_json is set to NULL. Free a non-NULL *error_json with boxjail_string_free().
 *   On failure errno is also set: the failed syscall's errno, or EINVAL (a bad argument or spec,
 *   a refused call), or ENOMEM.
 * - No C++ exception ever crosses this API.
 * - A handle is not thread-safe: do not use one boxjail_jail from two threads at once.
 *
 * Errors: the JSON object has the members
 *     "step"        the setup step that failed ("parse-spec", "spawn", "mount-root", "wait"...)
 *     "syscall"     the call that failed, "" when none was involved
 *     "path"        the path concerned, "" when none
 *     "source"      a second path (a bind's source...), "" when none
 *     "errno"       the errno, 0 when the failure is not an errno
 *     "errno_name"  "EACCES" for EACCES, "" for 0
 *     "message"     a human-readable sentence, with strerror when "errno" is not 0
 *     "evidence"    an object of facts gathered on failure (string values)
 *     "rung"        (when known) the privilege rung that was tried ("root", "userns")
 * A spec boxjail refuses has "step": "parse-spec", and its message names the JSON pointer
 * (RFC 6901) of the offending value, for example "spec: /ops/0/size: ...".
 * The text of an error may contain paths and arguments from the spec: when the spec comes from
 * an untrusted party, so does the text.
 */
#ifndef BOXJAIL_BOXJAIL_H
#define BOXJAIL_BOXJAIL_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A started jail: the jailed command and the processes boxjail made for it. Opaque. */
typedef struct boxjail_jail boxjail_jail;

/*
 * Starts the jail the spec describes and returns once its command runs (its execve is under
 * way). On success returns 0 and sets *out to a new handle, which the caller owns and must free
 * with boxjail_jail_free(). On failure returns -1, sets *out to NULL, and describes the failure in
 * *error_json (when error_json is not NULL). Nothing of a failed spawn keeps running.
 *
 * spec_json: `len` bytes of UTF-8 JSON (no terminating NUL needed; one inside is an error). The
 *   whole spec is checked before anything is started: an unknown key, a wrong type or a value
 *   out of range is refused with "step": "parse-spec". A spec without "env" gives the command
 *   this process's environment (as `boxjail run --spec` does): pass "env": [] or an explicit list
 *   when the environment holds secrets the command must not see.
 *
 * The jail runs with the privilege this process has and no more: as root (real uid 0) the spec
 * may do everything bwrap run as root can; any other caller gets an unprivileged user namespace
 * of its own ("unshare_user" is implied, as with a bwrap that is not setuid). The library uses
 * neither boxjail's setuid helper nor the operator's config (/etc/boxjail/config.toml, its
 * default seccomp policy included). A setuid or setgid program (AT_SECURE) is refused: the
 * library applies none of the setuid helper's checks on a less privileged caller's spec, so a
 * privileged program must not run specs on such a caller's behalf; the boxjail command does
 * that safely. A spec is trusted as far as this process's own privilege goes: check a spec
 * from an untrusted party before running it as root.
 *
 * File descriptors named in the spec (info_fd, json_status_fd, "fd" of an op...) are this
 * process's, as they would be boxjail's: they must be open, and the jail uses (and, as bwrap
 * does, may close) them. Fds this process has not marked close-on-exec are inherited by the
 * command unless the spec has "keep_fds": mark yours FD_CLOEXEC, or list what to keep.
 *
 * Requirements on the calling process, checked where possible:
 * - It must be single-threaded: the sandbox's first process is cloned from it without fork()'s
 *   care for other threads. A process with other threads is refused ("step": "spawn"); start
 *   jails from a process of its own (or run `boxjail run --spec fd:N --handover`).
 * - It must not ignore SIGCHLD (SIG_IGN or SA_NOCLDWAIT): the kernel would reap the jail behind
 *   boxjail's back. Such a caller is refused ("step": "spawn").
 * - The sandbox's first process is this process's child until boxjail_wait() or
 *   boxjail_jail_free() reaps it: do not reap it yourself (waitpid(-1, ...) or a SIGCHLD
 *   handler that reaps every child would steal its exit status). Signals, the signal mask and
 *   the dispositions are left as they were.
 */
int boxjail_spawn(const char* spec_json, size_t len, boxjail_jail** out, char** error_json);

/*
 * The jailed command's pid, as this process's pid namespace sees it (not pid 1 of the jail's pid
 * namespace). -1 for a NULL handle, or when the command never ran. Only a hint once the command
 * may have exited (pids are recycled): signal the jail with boxjail_signal(), watch it with
 * boxjail_pidfd().
 */
pid_t boxjail_pid(const boxjail_jail* jail);

/*
 * The sandbox's first process: this process's child, the one boxjail_wait() reaps. With
 * "unshare_pid" it is pid 1 of the new pid namespace (a reaper that passes signals on to the
 * command and exits with its status); without it, the command itself. -1 for a NULL handle.
 */
pid_t boxjail_sandbox_pid(const boxjail_jail* jail);

/*
 * A pidfd of the command (readable, for poll(), once the command exits), or -1 when the kernel
 * has none or the command had already exited when it started. Owned by the jail: valid until
 * boxjail_jail_free(); do not close it. It is close-on-exec.
 */
int boxjail_pidfd(const boxjail_jail* jail);

/*
 * Sends `sig` to the sandbox's first process (with "unshare_pid", the reaper, which passes it on
 * to the command). Through a pidfd where possible, so never to a recycled pid. Returns 0, or -1
 * (with the error in *error_json): an invalid signal, or the jail was already waited for
 * ("errno": ESRCH).
 */
int boxjail_signal(boxjail_jail* jail, int sig, char** error_json);

/*
 * Waits for the jail to end (blocking, restarted on EINTR) and reaps it. On success returns 0
 * and, when exit_status is not NULL, sets *exit_status as bwrap reports it: the command's exit
 * code, or 128+N when it was killed by signal N. A second call returns the same status at once.
 * When the spec has a json_status_fd, the first call writes bwrap's last status line to it.
 */
int boxjail_wait(boxjail_jail* jail, int* exit_status, char** error_json);

/*
 * Frees the handle. A jail not yet waited for is killed (SIGKILL to the sandbox's first
 * process, which takes the whole jail with it when it has a pid namespace) and reaped first:
 * nothing outlives its handle unless the command left the jail's processes behind without a
 * pid namespace ("unshare_pid": false, a daemon that forked away). NULL is allowed. After
 * fork(), only the process that called boxjail_spawn() may free (or use) the handle.
 */
void boxjail_jail_free(boxjail_jail* jail);

/*
 * The jail's cgroup (the spec's "cgroup") as a JSON object, freed with boxjail_string_free():
 * {"path": "/jails/boxjail-0123456789abcdef"} (its path in the cgroup v2 hierarchy) while the jail
 * runs; once boxjail_wait() returned, also what the cgroup saw, the keys of the report's "cgroup"
 * line: "memory_peak", "cpu_usage_usec", "oom_kills", "pids_max_hits" (null where the kernel
 * offers none) and "removed". NULL for a NULL handle, a jail without a cgroup, or no memory.
 */
char* boxjail_cgroup_json(const boxjail_jail* jail);

/* Frees a string this API returned (an error JSON). NULL is allowed. */
void boxjail_string_free(char* s);

/* The library's version, "MAJOR.MINOR.PATCH": a static string, never NULL. */
const char* boxjail_version(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BOXJAIL_BOXJAIL_H */
