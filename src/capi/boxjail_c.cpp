// SPDX-License-Identifier: Apache-2.0
// The C API (include/boxjail/boxjail.h) over the C++ one (boxjail/jail.hpp). Every entry point
// catches everything: no exception crosses into C.
#include <boxjail/boxjail.h>

#include <boxjail/error.hpp>
#include <boxjail/jail.hpp>
#include <boxjail/spec_json.hpp>

#include "frontend/report_events.hpp"

#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

extern char** environ;

struct boxjail_jail {
  explicit boxjail_jail(boxjail::Jail&& j) : jail(std::move(j)) {}
  boxjail::Jail jail;
};

namespace {

// A malloc'ed copy of `s` (the caller frees it with free(), through boxjail_string_free), or
// null when there is no memory.
char* malloc_copy(const char* s, std::size_t n) noexcept {
  char* out = static_cast<char*>(std::malloc(n + 1));
  if (!out) return nullptr;
  std::memcpy(out, s, n);
  out[n] = '\0';
  return out;
}

// An error object built without allocating but for its copy, for when nothing else could be
// had. `step` is one of the fixed step names; another text is left out.
char* fixed_error(const char* step, int err, const char* message) noexcept {
  bool plain = step[0] != '\0';
  for (const char* p = step; *p; ++p) {
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')) plain = false;
  }
  char text[320];
  const int n = std::snprintf(text, sizeof text,
                              R"({"step":"%s","syscall":"","path":"","source":"","errno":%d,)"
                              R"("errno_name":"%s","message":"%s","evidence":{}})",
                              plain ? step : "", err, err == ENOMEM ? "ENOMEM" : "", message);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof text) return nullptr;
  return malloc_copy(text, static_cast<std::size_t>(n));
}

// Fails a call: *error_json gets the error (or null when none could be had), errno its errno
// (EINVAL when it has none). Returns -1.
int fail(const boxjail::Error& e, char** error_json) noexcept {
  const int err = e.err != 0 ? e.err : EINVAL;
  if (error_json) {
    *error_json = nullptr;
    try {
      // error_to_json replaces bytes that are not UTF-8 (a path is bytes): it throws nothing
      // but an allocation failure.
      const std::string text = boxjail::error_to_json(e);
      *error_json = malloc_copy(text.data(), text.size());
    } catch (const std::bad_alloc&) {
      *error_json = fixed_error(e.step.c_str(), ENOMEM, "out of memory: Cannot allocate memory");
    }
  }
  errno = err;
  return -1;
}

int fail(const char* step, int err, const char* message, char** error_json) noexcept {
  try {
    boxjail::Error e;
    e.step = step;
    e.err = err;
    e.message = message;
    return fail(e, error_json);
  } catch (const std::bad_alloc&) {
    if (error_json)
      *error_json = fixed_error(step, ENOMEM, "out of memory: Cannot allocate memory");
    errno = ENOMEM;
    return -1;
  }
}

// An exception caught at the boundary, as an error of `step`.
int fail_exception(const char* step, char** error_json) noexcept {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    // Nothing may be left to build a std::string with: a fixed text, if even that can be had.
    if (error_json) {
      *error_json = fixed_error(step, ENOMEM, "out of memory: Cannot allocate memory");
    }
    errno = ENOMEM;
    return -1;
  } catch (const std::exception& x) {
    return fail(step, 0, (std::string("internal error: ") + x.what()).c_str(), error_json);
  } catch (...) {
    return fail(step, 0, "internal error: an unknown exception", error_json);
  }
}

}  // namespace

extern "C" {

int boxjail_spawn(const char* spec_json, size_t len, boxjail_jail** out, char** error_json) {
  if (error_json) *error_json = nullptr;
  if (out) *out = nullptr;
  if (!out) return fail("spawn", EINVAL, "boxjail_spawn: out is NULL", error_json);
  if (!spec_json && len != 0) {
    return fail("spawn", EINVAL, "boxjail_spawn: spec_json is NULL", error_json);
  }
  try {
    // As `boxjail run --spec`: a spec without "env" gets this process's environment.
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
    boxjail::SpecReadOptions read_options;
    read_options.inherited_env = &env;
    auto spec =
        boxjail::spec_from_json(std::string_view(spec_json ? spec_json : "", len), read_options);
    if (!spec) return fail(spec.error(), error_json);
    auto jail = boxjail::spawn(spec.value());
    if (!jail) return fail(jail.error(), error_json);
    // Should this allocation fail, the bad_alloc destroys `jail`, which kills and reaps the
    // jail: nothing of a failed call keeps running.
    *out = new boxjail_jail(std::move(jail).value());
    return 0;
  } catch (...) {
    return fail_exception("spawn", error_json);
  }
}

pid_t boxjail_pid(const boxjail_jail* jail) { return jail ? jail->jail.pid() : -1; }

pid_t boxjail_sandbox_pid(const boxjail_jail* jail) { return jail ? jail->jail.sandbox_pid() : -1; }

int boxjail_pidfd(const boxjail_jail* jail) { return jail ? jail->jail.pidfd() : -1; }

int boxjail_signal(boxjail_jail* jail, int sig, char** error_json) {
  if (error_json) *error_json = nullptr;
  if (!jail) return fail("signal", EINVAL, "boxjail_signal: jail is NULL", error_json);
  try {
    auto sent = jail->jail.signal(sig);
    if (!sent) return fail(sent.error(), error_json);
    return 0;
  } catch (...) {
    return fail_exception("signal", error_json);
  }
}

int boxjail_wait(boxjail_jail* jail, int* exit_status, char** error_json) {
  if (error_json) *error_json = nullptr;
  if (!jail) return fail("wait", EINVAL, "boxjail_wait: jail is NULL", error_json);
  try {
    auto status = jail->jail.wait();
    if (!status) return fail(status.error(), error_json);
    if (exit_status) *exit_status = status.value();
    return 0;
  } catch (...) {
    return fail_exception("wait", error_json);
  }
}

char* boxjail_cgroup_json(const boxjail_jail* jail) {
  if (!jail || jail->jail.cgroup().empty()) return nullptr;
  try {
    nlohmann::ordered_json j;
    if (const auto usage = jail->jail.cgroup_usage()) {
      j = boxjail::report::cgroup_end(*usage);
      j.erase("report");
      j.erase("event");
    } else {
      j["path"] = jail->jail.cgroup();
    }
    const std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return malloc_copy(text.data(), text.size());
  } catch (const std::exception&) {
    return nullptr;  // the one failure here is the allocation's: NULL, as documented
  }
}

// ~Jail kills and reaps a jail not waited for. It is noexcept (as every destructor): nothing
// can escape it into C.
void boxjail_jail_free(boxjail_jail* jail) { delete jail; }

void boxjail_string_free(char* s) { std::free(s); }

const char* boxjail_version(void) { return BOXJAIL_VERSION; }

}  // extern "C"
