/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Starts a jail through boxjail's C API and waits for it.
 *
 *   spawn            runs `sh -c 'exit 7'` with the host's / read-only, a new /proc and /dev, in
 *                    a new pid namespace, and checks that its exit status is 7
 *   spawn SPEC_JSON  runs the spec given (docs/spec.md) and prints its exit status
 *
 * Build (README.md): cc spawn.c $(pkg-config --cflags --libs --static boxjail)
 */
#include <boxjail/boxjail.h>

#include <stdio.h>
#include <string.h>
#include <sys/types.h>

static const char kDefaultSpec[] =
    "{"
    "\"version\": \"boxjail.spec/v1\","
    "\"command\": [\"sh\", \"-c\", \"exit 7\"],"
    "\"env\": [\"PATH=/usr/bin:/bin\"],"
    "\"unshare_pid\": true,"
    "\"ops\": ["
    "{\"kind\": \"bind\", \"source\": \"/\", \"dest\": \"/\", \"readonly\": true},"
    "{\"kind\": \"proc\", \"dest\": \"/proc\"},"
    "{\"kind\": \"dev\", \"dest\": \"/dev\"}"
    "]"
    "}";

/* Prints a failed call's error object (or what little is known without one) and frees it. */
static void report(const char* what, char* error_json) {
  fprintf(stderr, "spawn: %s failed: %s\n", what, error_json ? error_json : "(no details)");
  boxjail_string_free(error_json);
}

int main(int argc, char** argv) {
  const char* spec = argc > 1 ? argv[1] : kDefaultSpec;
  boxjail_jail* jail = NULL;
  char* error = NULL;
  int status = -1;
  int ok;

  if (argc > 2) {
    fprintf(stderr, "usage: %s [SPEC_JSON]\n", argv[0]);
    return 2;
  }
  printf("boxjail %s\n", boxjail_version());
  fflush(stdout); /* before the command writes to the same stdout */
  if (boxjail_spawn(spec, strlen(spec), &jail, &error) != 0) {
    report("boxjail_spawn", error);
    return 1;
  }
  printf("jail started: command pid %ld, sandbox pid %ld\n", (long)boxjail_pid(jail),
         (long)boxjail_sandbox_pid(jail));
  if (boxjail_wait(jail, &status, &error) != 0) {
    report("boxjail_wait", error);
    boxjail_jail_free(jail);
    return 1;
  }
  boxjail_jail_free(jail);
  printf("jail exited with status %d\n", status);
  if (argc > 1) return 0; /* a spec of the caller's: any status is an answer */
  ok = status == 7;
  if (!ok) fprintf(stderr, "spawn: expected exit status 7, got %d\n", status);
  return ok ? 0 : 1;
}
