// SPDX-License-Identifier: Apache-2.0
#include <boxjail/error.hpp>

#include "engine/error_json.hpp"
#include "sys/decimal.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <climits>
#include <cstring>

namespace boxjail {

std::string errno_name(int err) {
  if (err == 0) return "";
  const char* name = strerrorname_np(err);
  return name ? name : "errno " + std::to_string(err);
}

std::string describe(const Error& e) {
  std::string out = e.message;
  if (e.err == 0) return out;
  // bwrap replaces strerror(ENOSPC) from mount with this hint: the limit that bites is
  // fs.mount-max, and "No space left on device" sends people looking at their disks.
  if (e.err == ENOSPC && e.syscall.find("mount") != std::string::npos) {
    return out +
           ": Limit exceeded (ENOSPC). (Hint: Check that /proc/sys/fs/mount-max is "
           "sufficient, typically 100000)";
  }
  if (!out.empty()) out += ": ";
  out += std::strerror(e.err);
  return out;
}

std::string format_error_line(const std::string& prog, const Error& e) {
  std::string line = e.level_prefix ? "<3>" : "";
  line += prog + ": ";
  // Under the name "bwrap" the wording must match bwrap's byte for byte after the prefix (callers
  // grep for it).
  if (prog == "bwrap") {
    for (const auto& [key, wording] : e.evidence) {
      if (key == kBwrapWording) return line + wording;
    }
    return line + describe(e);
  }
  // Under our own name every error has one shape: the rung (of a call that failed on it) and the
  // stable step name lead, then the call and its target, the message, and the errno by name. A
  // refusal of the request itself (no errno) is the same on every rung: no rung is named.
  if (!e.rung.empty() && e.err != 0) line += e.rung + " rung: ";
  if (!e.step.empty() && e.step != "parse-args" && e.step != "validate-spec") {
    line += e.step + ": ";
  }
  // The call and its target, unless the message already starts with them ("execvp X").
  if (e.err != 0 && !e.syscall.empty() && e.message.rfind(e.syscall, 0) != 0) {
    line += e.syscall;
    if (!e.path.empty()) line += " " + e.path;
    line += ": ";
  }
  // bwrap's hint for a mount's ENOSPC names the errno mid-line; ours ends the line with it.
  const bool mount_limit = e.err == ENOSPC && e.syscall.find("mount") != std::string::npos;
  const std::string text =
      mount_limit ? e.message +
                        ": Limit exceeded; check that /proc/sys/fs/mount-max is sufficient, "
                        "typically 100000"
                  : describe(e);
  line += text;
  const std::string name = "(" + errno_name(e.err) + ")";
  if (e.err != 0 && text.find(name) == std::string::npos) line += " " + name;
  return line;
}

nlohmann::json error_json(const Error& e) {
  nlohmann::json j;
  j["step"] = e.step;
  j["syscall"] = e.syscall;
  j["path"] = e.path;
  j["source"] = e.source;
  j["errno"] = e.err;
  j["errno_name"] = errno_name(e.err);
  if (!e.rung.empty()) j["rung"] = e.rung;
  j["message"] = describe(e);
  nlohmann::json ev = nlohmann::json::object();
  for (const auto& [k, v] : e.evidence) ev[k] = v;
  j["evidence"] = ev;
  return j;
}

// An Error's path, message or evidence may hold bytes that are not UTF-8 (paths are bytes): they
// are replaced (U+FFFD) rather than thrown over.
std::string error_to_json(const Error& e) {
  return error_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Encoding: fields separated by NUL, numbers as decimal text, evidence as alternating key/value.
// The child writes it in one SOCK_SEQPACKET message; the monitor never trusts a length it did not
// receive, so a malformed record is an error, not a crash.
namespace {

std::string encode(const Error& e) {
  std::string out;
  auto put = [&out](const std::string& s) {
    out += s;
    out.push_back('\0');
  };
  put(e.step);
  put(e.syscall);
  put(e.path);
  put(e.source);
  put(std::to_string(e.err));
  put(e.message);
  for (const auto& [k, v] : e.evidence) {
    put(k);
    put(v);
  }
  return out;
}

}  // namespace

std::string serialize(const Error& e, std::size_t limit) {
  std::string out = encode(e);
  if (out.size() <= limit) return out;
  Error s = e;
  while (!s.evidence.empty() && (out = encode(s)).size() > limit) s.evidence.pop_back();
  // Each round cuts the longest text field by what is still too much (plus its marker); three
  // fields, so three rounds at most, unless the fixed fields alone are over the limit.
  for (int round = 0; round < 3 && (out = encode(s)).size() > limit; ++round) {
    std::string* longest = &s.message;
    for (std::string* f : {&s.path, &s.source}) {
      if (f->size() > longest->size()) longest = f;
    }
    const std::size_t excess = out.size() - limit;
    const std::string marker = " [...cut...] ";
    if (longest->size() <= excess + marker.size()) {
      longest->clear();
      continue;
    }
    const std::size_t keep = longest->size() - excess - marker.size();
    // The first and the last keep/2 bytes stay, the middle becomes the marker.
    longest->replace(keep / 2, longest->size() - 2 * (keep / 2), marker);
  }
  return encode(s);
}

result<ErrorRecord> deserialize(const std::string& bytes) {
  std::vector<std::string> fields;
  std::string::size_type start = 0;
  while (start < bytes.size()) {
    auto end = bytes.find('\0', start);
    if (end == std::string::npos) break;
    fields.emplace_back(bytes.substr(start, end - start));
    start = end + 1;
  }
  if (fields.size() < 6 || (fields.size() - 6) % 2 != 0) {
    return make_error("monitor", "malformed error record from the sandbox child");
  }
  Error e;
  e.step = fields[0];
  e.syscall = fields[1];
  e.path = fields[2];
  e.source = fields[3];
  // The errno as the child wrote it (std::to_string of a non-negative int); anything else is a
  // record nobody of ours wrote.
  const auto err = sys::parse_decimal(fields[4]);
  if (!err || *err > INT_MAX) {
    return make_error("monitor", "malformed error record from the sandbox child");
  }
  e.err = static_cast<int>(*err);
  e.message = fields[5];
  for (size_t i = 6; i + 1 < fields.size(); i += 2)
    e.evidence.emplace_back(fields[i], fields[i + 1]);
  return ErrorRecord{std::move(e)};
}

}  // namespace boxjail
