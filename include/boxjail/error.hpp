// SPDX-License-Identifier: Apache-2.0
// The one error type of boxjail: every fallible call returns result<T> whose error says
// which setup step failed, in which syscall, on which path, with which errno.
#pragma once

#include <boost/outcome/basic_result.hpp>
#include <boost/outcome/policy/terminate.hpp>
#include <boost/outcome/try.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace boxjail {

struct Error {
  std::string step;     // stable step name (see steps.hpp), "parse-args" for the front ends
  std::string rung;     // the ladder rung that was running ("root", "userns", "setuid"), or empty
  std::string syscall;  // the call that failed, empty when no syscall was involved
  std::string path;     // the target path (inside the sandbox where it applies)
  std::string source;   // a second path: the bind source, the overlay lower dir...
  int err = 0;          // errno, 0 when the failure is not an errno (a bad option)
  std::string message;  // bwrap's wording, without the program prefix and strerror
  std::vector<std::pair<std::string, std::string>> evidence;  // facts gathered on failure
  bool usage = false;  // print the usage text to stderr after the message (bwrap: no COMMAND)
  bool level_prefix = false;  // print with the syslog "<3>" prefix (--level-prefix)
};

// Evidence key for bwrap's own wording of an error, when it differs from `message` because it
// carries bwrap's guess at the cause: under the name bwrap only, the whole line after "bwrap: ",
// verbatim (with strerror where bwrap prints it).
inline constexpr const char* kBwrapWording = "bwrap.message";

template <class T>
using result = boost::outcome_v2::basic_result<T, Error, boost::outcome_v2::policy::terminate>;

// Returns the error of a failed result from the enclosing function. A single statement, unlike
// Boost 1.74's BOOST_OUTCOME_TRYV, so it is safe under an unbraced `if`.
#define BOXJAIL_TRY(...)                             \
  do {                                               \
    auto&& boxjail_try_result_ = (__VA_ARGS__);      \
    if (!boxjail_try_result_) {                      \
      return std::move(boxjail_try_result_).error(); \
    }                                                \
  } while (0)

inline Error make_error(std::string step, std::string message) {
  Error e;
  e.step = std::move(step);
  e.message = std::move(message);
  return e;
}

// An error from a failed syscall; `message` is the human wording (bwrap's where it has one).
inline Error sys_error(std::string step, std::string syscall, std::string path, int err,
                       std::string message) {
  Error e;
  e.step = std::move(step);
  e.syscall = std::move(syscall);
  e.path = std::move(path);
  e.err = err;
  e.message = std::move(message);
  return e;
}

// "EACCES" for EACCES; "" for 0; "errno N" for a number glibc has no name for.
std::string errno_name(int err);

// "<message>: <strerror>" as bwrap prints it (ENOSPC from mount gets bwrap's hint instead).
std::string describe(const Error& e);

// One line: "<prog>: <step>: <describe>"; under the program name "bwrap" the step is left out so
// that callers matching bwrap's messages verbatim keep working.
std::string format_error_line(const std::string& prog, const Error& e);

// The same error as one JSON object (for --report-fd and machine readers).
std::string error_to_json(const Error& e);

// Flat encoding used to carry an Error from the sandboxed child to the monitor over a socket.
struct ErrorRecord {
  Error error;
};
// At most `limit` bytes (a socket message): when the whole record is longer, evidence goes first
// (from the end), then the longest of message, path and source is cut in its middle, marked; the
// step, syscall and errno always arrive.
std::string serialize(const Error& e, std::size_t limit = SIZE_MAX);
result<ErrorRecord> deserialize(const std::string& bytes);

}  // namespace boxjail
