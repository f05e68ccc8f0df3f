// SPDX-License-Identifier: Apache-2.0
// The JSON form of a Spec. The reader is the setuid helper's only view of what an untrusted
// caller asks for, so it accepts exactly what the writer produces and nothing looser: unknown
// keys, duplicate keys, wrong types and out-of-range numbers are errors, never defaults or
// silent truncations that another parser of the same text might read differently.
#include <boxjail/spec_json.hpp>

#include <boxjail/bwrap_args.hpp>
#include <boxjail/cgroup_limits.hpp>
#include <boxjail/id_ranges.hpp>
#include <boxjail/rlimits.hpp>

#include <cap-ng.h>
#include <strings.h>
#include <sys/resource.h>
#include <nlohmann/json.hpp>

#include <cctype>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boxjail {

namespace {

using json = nlohmann::json;
// Written in a fixed, readable order ("version" and "command" first), not sorted.
using ojson = nlohmann::ordered_json;

constexpr const char* kStep = "parse-spec";
constexpr const char* kVersion = kSpecVersion;
// Deepest nesting the format has: root / "ops" / op / "overlay_sources" / {"hex": ...}. A limit
// a little above it stops a hostile caller from making the parser build deep garbage first.
constexpr std::size_t kMaxDepth = 8;

// ---- Shared by writer and reader: one table per field type, so the two cannot drift apart. ----

template <class T>
struct Field {
  const char* name;
  T Spec::*member;
};

template <class T>
struct OpField {
  const char* name;
  T MountOp::*member;
};

constexpr Field<bool> kSpecBools[] = {
    {"unshare_user", &Spec::unshare_user},
    {"unshare_user_try", &Spec::unshare_user_try},
    {"unshare_ipc", &Spec::unshare_ipc},
    {"unshare_pid", &Spec::unshare_pid},
    {"unshare_net", &Spec::unshare_net},
    {"unshare_uts", &Spec::unshare_uts},
    {"unshare_cgroup", &Spec::unshare_cgroup},
    {"unshare_cgroup_try", &Spec::unshare_cgroup_try},
    {"disable_userns", &Spec::disable_userns},
    {"assert_userns_disabled", &Spec::assert_userns_disabled},
    {"new_session", &Spec::new_session},
    {"die_with_parent", &Spec::die_with_parent},
    {"as_pid_1", &Spec::as_pid_1},
    {"level_prefix", &Spec::level_prefix},
    {"handover", &Spec::handover},
};

constexpr Field<int> kSpecFds[] = {
    {"userns_fd", &Spec::userns_fd},   {"userns2_fd", &Spec::userns2_fd},
    {"pidns_fd", &Spec::pidns_fd},     {"sync_fd", &Spec::sync_fd},
    {"block_fd", &Spec::block_fd},     {"userns_block_fd", &Spec::userns_block_fd},
    {"info_fd", &Spec::info_fd},       {"json_status_fd", &Spec::json_status_fd},
    {"seccomp_fd", &Spec::seccomp_fd},
};

constexpr Field<std::optional<std::string>> kSpecOptStrings[] = {
    {"argv0", &Spec::argv0},           {"hostname", &Spec::hostname},
    {"chdir", &Spec::chdir},           {"exec_label", &Spec::exec_label},
    {"file_label", &Spec::file_label}, {"seccomp_policy", &Spec::seccomp_policy},
    {"pid_file", &Spec::pid_file},
};

constexpr Field<std::vector<std::string>> kSpecStringLists[] = {
    {"command", &Spec::command},
    {"env", &Spec::env},
    {"lock_files", &Spec::lock_files},
};

constexpr OpField<bool> kOpBools[] = {
    {"readonly", &MountOp::readonly},
    {"devices", &MountOp::devices},
    {"allow_missing", &MountOp::allow_missing},
};

constexpr OpField<std::string> kOpStrings[] = {
    {"source", &MountOp::source},
    {"dest", &MountOp::dest},
    {"overlay_upper", &MountOp::overlay_upper},
    {"overlay_work", &MountOp::overlay_work},
};

// Each kind takes only the keys that mean something for it (a "size" on a bind is refused, not
// ignored: the caller meant something the jail would not do). "dest" is required for every kind.
enum OpKey : unsigned {
  kSource = 1U << 0,
  kFd = 1U << 1,
  kReadonly = 1U << 2,
  kDevices = 1U << 3,
  kAllowMissing = 1U << 4,
  kPerms = 1U << 5,
  kSize = 1U << 6,
  kOverlay = 1U << 7,  // overlay_sources
  kUpperWork = 1U << 8,
};

struct KindInfo {
  OpKind kind;
  const char* name;
  unsigned keys;      // allowed besides "kind" and "dest"
  unsigned required;  // of those, required
  std::size_t min_overlay_sources = 0;
};

constexpr KindInfo kOpKinds[] = {
    {OpKind::Bind, "bind", kSource | kReadonly | kDevices | kAllowMissing, kSource},
    {OpKind::BindFd, "bind-fd", kFd | kReadonly, kFd},
    {OpKind::RemountRo, "remount-ro", 0, 0},
    {OpKind::Proc, "proc", 0, 0},
    {OpKind::Dev, "dev", 0, 0},
    {OpKind::Tmpfs, "tmpfs", kPerms | kSize, 0},
    {OpKind::Mqueue, "mqueue", 0, 0},
    {OpKind::Dir, "dir", kPerms, 0},
    {OpKind::File, "file", kFd | kPerms, kFd},
    {OpKind::BindData, "bind-data", kFd | kReadonly | kPerms, kFd},
    {OpKind::Symlink, "symlink", kSource, kSource},
    {OpKind::Chmod, "chmod", kPerms, kPerms},
    {OpKind::Overlay, "overlay", kOverlay | kUpperWork, kOverlay | kUpperWork, 1},
    {OpKind::TmpOverlay, "tmp-overlay", kOverlay, kOverlay, 1},
    {OpKind::RoOverlay, "ro-overlay", kOverlay, kOverlay, 2},
};

constexpr std::pair<unsigned, const char*> kOpKeyNames[] = {
    {kSource, "source"},
    {kFd, "fd"},
    {kReadonly, "readonly"},
    {kDevices, "devices"},
    {kAllowMissing, "allow_missing"},
    {kPerms, "perms"},
    {kSize, "size"},
    {kOverlay, "overlay_sources"},
    {kUpperWork, "overlay_upper"},
    {kUpperWork, "overlay_work"},
};

const KindInfo& kind_info(OpKind kind) {
  for (const auto& k : kOpKinds) {
    if (k.kind == kind) return k;
  }
  return kOpKinds[0];  // unreachable: kOpKinds lists every OpKind
}

// The largest --size bwrap takes (its MAX_TMPFS_BYTES).
constexpr std::uint64_t kMaxTmpfsBytes = SIZE_MAX >> 1;

const char* kind_name(OpKind kind) { return kind_info(kind).name; }

// ---- Writer ----

// True when `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most
// U+10FFFF), which is exactly what nlohmann's dump and parse accept.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xbf;  // bounds of the second byte
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf)) return false;
    }
    i += len;
  }
  return true;
}

// Linux paths, arguments and environment strings are bytes, not text. JSON strings must be
// UTF-8, so a string that is not is written as {"hex": "<lower-case hex bytes>"}: lossless,
// and never a replacement character that would name a different file.
ojson string_to_json(const std::string& s) {
  if (valid_utf8(s)) return s;
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(s.size() * 2);
  for (unsigned char c : s) {
    hex += kDigits[c >> 4];
    hex += kDigits[c & 0xf];
  }
  return ojson::object({{"hex", std::move(hex)}});
}

ojson strings_to_json(const std::vector<std::string>& v) {
  ojson a = ojson::array();
  for (const auto& s : v) a.push_back(string_to_json(s));
  return a;
}

// Only the keys of the op's kind, and of those only what differs from the default: what
// `spec --from-args` prints is read by people migrating a runtime.
ojson op_to_json(const MountOp& op) {
  const unsigned keys = kind_info(op.kind).keys;
  ojson j = ojson::object();
  j["kind"] = kind_name(op.kind);
  if (keys & kSource) j["source"] = string_to_json(op.source);
  j["dest"] = string_to_json(op.dest);
  if (keys & kFd) j["fd"] = op.fd;
  if ((keys & kReadonly) && op.readonly) j["readonly"] = true;
  if ((keys & kDevices) && op.devices) j["devices"] = true;
  if ((keys & kAllowMissing) && op.allow_missing) j["allow_missing"] = true;
  if ((keys & kPerms) && op.perms) j["perms"] = *op.perms;
  if ((keys & kSize) && op.size) j["size"] = *op.size;
  if (keys & kOverlay) j["overlay_sources"] = strings_to_json(op.overlay_sources);
  if (keys & kUpperWork) {
    j["overlay_upper"] = string_to_json(op.overlay_upper);
    j["overlay_work"] = string_to_json(op.overlay_work);
  }
  return j;
}

// Capabilities by name, as --cap-add takes them; every bit is ["ALL"].
ojson caps_to_json(std::uint64_t mask) {
  if (mask == ~std::uint64_t{0}) return ojson::array({"ALL"});
  ojson a = ojson::array();
  for (unsigned bit = 0; bit < 64; ++bit) {
    if (!(mask & (std::uint64_t{1} << bit))) continue;
    const char* name = capng_capability_to_name(static_cast<unsigned>(bit));
    std::string text = name ? std::string("CAP_") + name : std::to_string(bit);
    for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    a.push_back(text);
  }
  return a;
}

// ---- Reader ----

// Thrown from the parser callback to stop parsing at once; caught right around json::parse.
struct CallbackStop {
  std::string pointer;
  std::string problem;
};

// A pointer is only ever shown to a person, and the duplicate-key check builds it from keys the
// caller chose: control characters are shown as \u00XX so they cannot drive the terminal.
std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::string child(const std::string& pointer, std::string_view key) {
  return pointer + "/" + pointer_token(key);
}

std::string child(const std::string& pointer, std::size_t index) {
  return pointer + "/" + std::to_string(index);
}

// Keys and values from the caller go into an error message on a terminal: json's own string
// escaping keeps control characters out of it.
std::string quote(const std::string& s) {
  return json(s).dump(-1, ' ', true, json::error_handler_t::replace);
}

Error spec_error(const std::string& pointer, const std::string& problem) {
  return make_error(kStep, "spec: " + (pointer.empty() ? "" : pointer + ": ") + problem);
}

// Tracks where the parser is, so that a duplicate key (which nlohmann would otherwise resolve
// silently, last one wins) is reported by its JSON pointer.
class DuplicateKeyGuard {
 public:
  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (stack_.size() >= kMaxDepth) {
          throw CallbackStop{container_pointer(true), "nested deeper than the spec format allows"};
        }
        stack_.push_back(Frame{event == json::parse_event_t::array_start, {}, 0, {}});
        break;
      case json::parse_event_t::key: {
        Frame& top = stack_.back();
        const std::string& key = parsed.get_ref<const std::string&>();
        if (!top.keys.insert(key).second) {
          throw CallbackStop{container_pointer(false), "duplicate key " + quote(key)};
        }
        top.key = key;
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        stack_.pop_back();
        element_done();
        break;
      case json::parse_event_t::value:
        element_done();
        break;
    }
    return true;
  }

 private:
  struct Frame {
    bool is_array;
    std::string key;
    std::size_t index;
    std::set<std::string> keys;
  };

  void element_done() {
    if (!stack_.empty() && stack_.back().is_array) ++stack_.back().index;
  }

  // The pointer of the innermost open container (with `include_top`, of the element about to
  // be opened in it).
  std::string container_pointer(bool include_top) const {
    std::string p;
    const std::size_t n = include_top ? stack_.size() : stack_.size() - 1;
    for (std::size_t i = 0; i < n; ++i) {
      p = stack_[i].is_array ? child(p, stack_[i].index) : child(p, stack_[i].key);
    }
    return p;
  }

  std::vector<Frame> stack_;
};

class Reader {
 public:
  std::optional<Error> error;
  const std::vector<std::string>* inherited_env = nullptr;

  bool fail(const std::string& pointer, const std::string& problem) {
    if (!error) error = spec_error(pointer, problem);
    return false;
  }

  bool check_keys(const json& obj, const std::string& pointer,
                  const std::vector<std::string>& accepted, const std::string& where = "") {
    for (const auto& [key, value] : obj.items()) {
      bool known = false;
      for (const auto& a : accepted) known = known || a == key;
      if (!known) {
        std::string list;
        for (const auto& a : accepted) list += (list.empty() ? "" : ", ") + a;
        return fail(pointer, "unknown key " + quote(key) + where + " (accepted: " + list + ")");
      }
    }
    return true;
  }

  bool object(const json& j, const std::string& pointer) {
    return j.is_object() || fail(pointer, "must be an object");
  }

  bool boolean(const json& j, const std::string& pointer, bool* out) {
    if (!j.is_boolean()) return fail(pointer, "must be true or false");
    *out = j.get<bool>();
    return true;
  }

  // Integers only: a float (1.0, 1e3) or a number beyond 64 bits (which nlohmann turns into a
  // float) is refused rather than rounded.
  bool integer(const json& j, const std::string& pointer, std::int64_t min, std::uint64_t max,
               std::uint64_t* out_unsigned, std::int64_t* out_signed) {
    const std::string range = "(" + std::to_string(min) + ".." + std::to_string(max) + ")";
    if (j.type() == json::value_t::number_unsigned) {
      const auto v = j.get<std::uint64_t>();
      if (v > max || (min > 0 && v < static_cast<std::uint64_t>(min))) {
        return fail(pointer, std::to_string(v) + " is out of range " + range);
      }
      if (out_unsigned) *out_unsigned = v;
      if (out_signed) *out_signed = static_cast<std::int64_t>(v);
      return true;
    }
    if (j.type() == json::value_t::number_integer) {
      const auto v = j.get<std::int64_t>();
      if (v < min) return fail(pointer, std::to_string(v) + " is out of range " + range);
      if (out_signed) *out_signed = v;
      if (out_unsigned) *out_unsigned = static_cast<std::uint64_t>(v);
      return true;
    }
    return fail(pointer, "must be an integer " + range);
  }

  bool fd(const json& j, const std::string& pointer, int min, int* out) {
    std::int64_t v = 0;
    if (!integer(j, pointer, min, INT_MAX, nullptr, &v)) return false;
    *out = static_cast<int>(v);
    return true;
  }

  bool string(const json& j, const std::string& pointer, std::string* out) {
    if (j.is_string()) {
      *out = j.get<std::string>();
    } else if (j.is_object()) {
      if (!check_keys(j, pointer, {"hex"})) return false;
      if (!j.contains("hex")) return fail(child(pointer, "hex"), "missing");
      const json& h = j["hex"];
      const std::string hp = child(pointer, "hex");
      if (!h.is_string()) return fail(hp, "must be a string of hex digits");
      const auto& hex = h.get_ref<const std::string&>();
      if (hex.size() % 2 != 0) return fail(hp, "odd number of hex digits");
      std::string bytes;
      for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
        if (hi < 0 || lo < 0) return fail(hp, "not a lower-case hex digit at " + std::to_string(i));
        bytes += static_cast<char>(hi << 4 | lo);
      }
      *out = std::move(bytes);
    } else {
      return fail(pointer, "must be a string");
    }
    // Every string here ends up as a C string (a path, an argument, a variable): a NUL would cut
    // it short, so the helper would act on something other than what the text says.
    if (out->find('\0') != std::string::npos) return fail(pointer, "contains a NUL byte");
    return true;
  }

  bool strings(const json& j, const std::string& pointer, std::vector<std::string>* out) {
    if (!j.is_array()) return fail(pointer, "must be an array of strings");
    out->clear();
    for (std::size_t i = 0; i < j.size(); ++i) {
      std::string s;
      if (!string(j[i], child(pointer, i), &s)) return false;
      out->push_back(std::move(s));
    }
    return true;
  }

  bool op(const json& j, const std::string& pointer, MountOp* out) {
    if (!object(j, pointer)) return false;
    const std::string kp = child(pointer, "kind");
    if (!j.contains("kind")) return fail(kp, "missing");
    if (!j["kind"].is_string()) return fail(kp, "must be a string");
    const auto& kind = j["kind"].get_ref<const std::string&>();
    const KindInfo* info = nullptr;
    for (const auto& k : kOpKinds) {
      if (kind == k.name) info = &k;
    }
    if (!info) {
      std::string list;
      for (const auto& k : kOpKinds) list += (list.empty() ? "" : ", ") + std::string(k.name);
      return fail(kp, "unknown op kind " + quote(kind) + " (accepted: " + list + ")");
    }
    out->kind = info->kind;
    std::vector<std::string> keys = {"kind", "dest"};
    for (const auto& [bit, name] : kOpKeyNames) {
      if (info->keys & bit) keys.push_back(name);
    }
    if (!check_keys(j, pointer, keys, " for kind " + quote(kind))) return false;
    for (const auto& [bit, name] : kOpKeyNames) {
      if ((info->required & bit) && !j.contains(name)) return fail(child(pointer, name), "missing");
    }
    if (!j.contains("dest")) return fail(child(pointer, "dest"), "missing");
    for (const auto& f : kOpStrings) {
      if (j.contains(f.name) && !string(j[f.name], child(pointer, f.name), &(out->*f.member))) {
        return false;
      }
    }
    for (const auto& f : kOpBools) {
      if (j.contains(f.name) && !boolean(j[f.name], child(pointer, f.name), &(out->*f.member))) {
        return false;
      }
    }
    if (j.contains("fd") && !fd(j["fd"], child(pointer, "fd"), 0, &out->fd)) return false;
    if (j.contains("perms")) {
      std::uint64_t v = 0;
      if (!integer(j["perms"], child(pointer, "perms"), 0, 07777, &v, nullptr)) return false;
      out->perms = static_cast<unsigned>(v);
    }
    if (j.contains("size")) {
      std::uint64_t v = 0;
      if (!integer(j["size"], child(pointer, "size"), 1, kMaxTmpfsBytes, &v, nullptr)) {
        return false;
      }
      out->size = v;
    }
    if (j.contains("overlay_sources")) {
      const std::string sp = child(pointer, "overlay_sources");
      if (!strings(j["overlay_sources"], sp, &out->overlay_sources)) return false;
      if (out->overlay_sources.size() < info->min_overlay_sources) {
        return fail(sp, "needs at least " + std::to_string(info->min_overlay_sources) + " layer" +
                            (info->min_overlay_sources > 1 ? "s" : ""));
      }
    }
    return true;
  }

  bool caps(const json& j, const std::string& pointer, CapRequest* out) {
    if (!j.is_array()) return fail(pointer, "must be an array of capability names");
    out->specified = true;
    out->mask = 0;
    for (std::size_t i = 0; i < j.size(); ++i) {
      const std::string p = child(pointer, i);
      if (!j[i].is_string()) return fail(p, "must be a capability name");
      const auto& name = j[i].get_ref<const std::string&>();
      if (strcasecmp(name.c_str(), "ALL") == 0) {
        if (j.size() != 1) return fail(p, "\"ALL\" must be the only entry");
        out->mask = ~std::uint64_t{0};
        return true;
      }
      const auto cap = parse_capability(name);
      if (!cap) return fail(p, "unknown capability " + quote(name));
      out->mask |= std::uint64_t{1} << *cap;
    }
    return true;
  }

  // {"uid": 1000, "gid": 1000, "groups": [994]}: numbers only (names are the front end's).
  bool host_user(const json& j, const std::string& pointer, std::optional<HostIdentity>* out) {
    if (!object(j, pointer) || !check_keys(j, pointer, {"uid", "gid", "groups"})) return false;
    constexpr std::uint64_t kMaxId = static_cast<uid_t>(-1) - 1;
    HostIdentity h;
    std::uint64_t uid = 0, gid = 0;
    if (!j.contains("uid")) return fail(child(pointer, "uid"), "missing");
    if (!integer(j["uid"], child(pointer, "uid"), 0, kMaxId, &uid, nullptr)) return false;
    if (!j.contains("gid")) return fail(child(pointer, "gid"), "missing");
    if (!integer(j["gid"], child(pointer, "gid"), 0, kMaxId, &gid, nullptr)) return false;
    h.uid = static_cast<uid_t>(uid);
    h.gid = static_cast<gid_t>(gid);
    if (j.contains("groups")) {
      const std::string gp = child(pointer, "groups");
      if (!j["groups"].is_array()) return fail(gp, "must be an array of gids");
      for (std::size_t i = 0; i < j["groups"].size(); ++i) {
        std::uint64_t v = 0;
        if (!integer(j["groups"][i], child(gp, i), 0, kMaxId, &v, nullptr)) return false;
        h.groups.push_back(static_cast<gid_t>(v));
      }
    }
    *out = std::move(h);
    return true;
  }

  // {"NOFILE": {"soft": 1024, "hard": 4096}, "CORE": {"soft": 0, "hard": "unlimited"}}
  bool rlimits(const json& j, const std::string& pointer, std::vector<RlimitRequest>* out) {
    if (!j.is_object()) return fail(pointer, "must be an object of limits by name");
    for (const auto& [name, limit] : j.items()) {
      const std::string p = child(pointer, name);
      const auto resource = rlimit_resource(name);
      if (!resource) return fail(p, "unknown limit " + quote(name));
      if (!object(limit, p) || !check_keys(limit, p, {"soft", "hard"})) return false;
      RlimitRequest r{*resource, 0, 0};
      for (const auto& [key, member] :
           {std::pair{"soft", &RlimitRequest::soft}, std::pair{"hard", &RlimitRequest::hard}}) {
        const std::string kp = child(p, key);
        if (!limit.contains(key)) return fail(kp, "missing");
        const json& v = limit[key];
        if (v.is_string() && v.get_ref<const std::string&>() == "unlimited") {
          r.*member = RLIM_INFINITY;
        } else if (!integer(v, kp, 0, RLIM_INFINITY - 1, &(r.*member), nullptr)) {
          return false;
        }
      }
      if (r.soft > r.hard) return fail(p, "the soft limit is above the hard one");
      set_rlimit(*out, r);
    }
    return true;
  }

  // An integer in min..max, or the string "max" (kCgroupMax).
  bool cgroup_value(const json& j, const std::string& pointer, std::uint64_t min, std::uint64_t max,
                    std::uint64_t* out) {
    if (j.is_string() && j.get_ref<const std::string&>() == "max") {
      *out = kCgroupMax;
      return true;
    }
    if (j.is_string()) return fail(pointer, "must be an integer or \"max\"");
    return integer(j, pointer, static_cast<std::int64_t>(min), max, out, nullptr);
  }

  // {"parent": "/jails", "memory_max": 67108864, "pids_max": 64, "cpu_max": {"quota": 50000,
  // "period": 100000}, "cpu_weight": 100, "io_max": ["8:0 rbps=1048576"]}: the same bounds as
  // the options' (cgroup_limits.hpp).
  bool cgroup(const json& j, const std::string& pointer, std::optional<CgroupRequest>* out) {
    if (!object(j, pointer) || !check_keys(j, pointer,
                                           {"parent", "memory_max", "memory_swap_max", "pids_max",
                                            "cpu_max", "cpu_weight", "io_max"})) {
      return false;
    }
    constexpr std::uint64_t kMaxBytes = (std::uint64_t{1} << 63) - 1;
    CgroupRequest r;
    std::string why;
    if (j.contains("parent")) {
      const std::string p = child(pointer, "parent");
      if (!string(j["parent"], p, &r.parent)) return false;
      if (!valid_cgroup_parent(r.parent, &why)) return fail(p, why);
    }
    for (const auto& [key, member] :
         {std::pair{"memory_max", &CgroupRequest::memory_max},
          std::pair{"memory_swap_max", &CgroupRequest::memory_swap_max}}) {
      if (!j.contains(key)) continue;
      std::uint64_t v = 0;
      if (!cgroup_value(j[key], child(pointer, key), 0, kMaxBytes, &v)) return false;
      r.*member = v;
    }
    if (j.contains("pids_max")) {
      std::uint64_t v = 0;
      if (!cgroup_value(j["pids_max"], child(pointer, "pids_max"), 1, 4194304, &v)) return false;
      r.pids_max = v;
    }
    if (j.contains("cpu_max")) {
      const std::string p = child(pointer, "cpu_max");
      const json& c = j["cpu_max"];
      if (!object(c, p) || !check_keys(c, p, {"quota", "period"})) return false;
      CpuMax cpu;
      if (!c.contains("quota")) return fail(child(p, "quota"), "missing");
      if (!cgroup_value(c["quota"], child(p, "quota"), 1000, kMaxBytes, &cpu.quota)) return false;
      if (c.contains("period") &&
          !integer(c["period"], child(p, "period"), 1000, 1000000, &cpu.period, nullptr)) {
        return false;
      }
      r.cpu_max = cpu;
    }
    if (j.contains("cpu_weight")) {
      std::uint64_t v = 0;
      if (!integer(j["cpu_weight"], child(pointer, "cpu_weight"), 1, 10000, &v, nullptr)) {
        return false;
      }
      r.cpu_weight = v;
    }
    if (j.contains("io_max")) {
      const std::string p = child(pointer, "io_max");
      if (!j["io_max"].is_array()) return fail(p, "must be an array of io.max lines");
      for (std::size_t i = 0; i < j["io_max"].size(); ++i) {
        const json& line = j["io_max"][i];
        if (!line.is_string()) return fail(child(p, i), "must be an io.max line");
        const auto parsed = parse_cgroup_io_max(line.get_ref<const std::string&>(), &why);
        if (!parsed) return fail(child(p, i), why);
        r.io_max.push_back(*parsed);
      }
    }
    *out = std::move(r);
    return true;
  }

  // [{"inside": 1, "outside": 100000, "count": 65536}]: the bounds of parse_id_range.
  bool id_ranges(const json& j, const std::string& pointer, std::vector<IdRange>* out) {
    if (!j.is_array()) return fail(pointer, "must be an array of ranges");
    for (std::size_t i = 0; i < j.size(); ++i) {
      const std::string p = child(pointer, i);
      if (!object(j[i], p) || !check_keys(j[i], p, {"inside", "outside", "count"})) return false;
      std::uint64_t v[3] = {};
      const char* keys[3] = {"inside", "outside", "count"};
      for (int k = 0; k < 3; ++k) {
        if (!j[i].contains(keys[k])) return fail(child(p, keys[k]), "missing");
        if (!integer(j[i][keys[k]], child(p, keys[k]), k == 2 ? 1 : 0, kMaxMappedId, &v[k],
                     nullptr)) {
          return false;
        }
      }
      if (v[0] + v[2] - 1 > kMaxMappedId || v[1] + v[2] - 1 > kMaxMappedId) {
        return fail(p, "the range ends past " + std::to_string(kMaxMappedId));
      }
      out->push_back({static_cast<std::uint32_t>(v[0]), static_cast<std::uint32_t>(v[1]),
                      static_cast<std::uint32_t>(v[2])});
    }
    return true;
  }

  bool fds(const json& j, const std::string& pointer, int min, std::vector<int>* out) {
    if (!j.is_array()) return fail(pointer, "must be an array of fds");
    out->clear();
    for (std::size_t i = 0; i < j.size(); ++i) {
      int v = -1;
      if (!fd(j[i], child(pointer, i), min, &v)) return false;
      out->push_back(v);
    }
    return true;
  }

  bool spec(const json& j, Spec* out) {
    if (!object(j, "")) return false;
    std::vector<std::string> keys = {"version",         "uid",      "gid",        "caps",
                                     "add_seccomp_fds", "keep_fds", "ops",        "rlimits",
                                     "host_user",       "cgroup",   "uid_ranges", "gid_ranges"};
    for (const auto& f : kSpecBools) keys.push_back(f.name);
    for (const auto& f : kSpecFds) keys.push_back(f.name);
    for (const auto& f : kSpecOptStrings) keys.push_back(f.name);
    for (const auto& f : kSpecStringLists) keys.push_back(f.name);
    if (!check_keys(j, "", keys)) return false;

    // The version first: a newer format's fields must not be misread as this one's.
    const std::string expected = std::string("must be \"") + kVersion + "\"";
    if (!j.contains("version")) return fail("/version", "missing (" + expected + ")");
    if (!j["version"].is_string() || j["version"].get_ref<const std::string&>() != kVersion) {
      return fail("/version", expected + ", not " +
                                  j["version"].dump(-1, ' ', true, json::error_handler_t::replace));
    }

    for (const auto& f : kSpecStringLists) {
      if (j.contains(f.name) && !strings(j[f.name], child("", f.name), &(out->*f.member))) {
        return false;
      }
    }
    if (!j.contains("env") && inherited_env) out->env = *inherited_env;
    if (out->command.empty())
      return fail("/command", j.contains("command") ? "must not be empty" : "missing");
    if (out->command[0].empty()) return fail("/command/0", "must not be empty");
    for (const auto& f : kSpecOptStrings) {
      if (j.contains(f.name)) {
        std::string s;
        if (!string(j[f.name], child("", f.name), &s)) return false;
        out->*f.member = std::move(s);
      }
    }
    for (const auto& f : kSpecBools) {
      if (j.contains(f.name) && !boolean(j[f.name], child("", f.name), &(out->*f.member))) {
        return false;
      }
    }
    for (const auto& f : kSpecFds) {
      if (j.contains(f.name) && !fd(j[f.name], child("", f.name), -1, &(out->*f.member))) {
        return false;
      }
    }
    // (uid_t)-1 is not an id: setresuid and friends read it as "leave unchanged".
    constexpr std::uint64_t kMaxId = static_cast<uid_t>(-1) - 1;
    if (j.contains("uid")) {
      std::uint64_t v = 0;
      if (!integer(j["uid"], "/uid", 0, kMaxId, &v, nullptr)) return false;
      out->uid = static_cast<uid_t>(v);
    }
    if (j.contains("gid")) {
      std::uint64_t v = 0;
      if (!integer(j["gid"], "/gid", 0, static_cast<gid_t>(-1) - 1, &v, nullptr)) return false;
      out->gid = static_cast<gid_t>(v);
    }
    if (j.contains("caps") && !caps(j["caps"], "/caps", &out->caps)) return false;
    if (j.contains("add_seccomp_fds") &&
        !fds(j["add_seccomp_fds"], "/add_seccomp_fds", 0, &out->add_seccomp_fds)) {
      return false;
    }
    if (j.contains("rlimits") && !rlimits(j["rlimits"], "/rlimits", &out->rlimits)) return false;
    if (j.contains("host_user") && !host_user(j["host_user"], "/host_user", &out->host_user)) {
      return false;
    }
    if (j.contains("cgroup") && !cgroup(j["cgroup"], "/cgroup", &out->cgroup)) return false;
    if (j.contains("uid_ranges") && !id_ranges(j["uid_ranges"], "/uid_ranges", &out->uid_ranges)) {
      return false;
    }
    if (j.contains("gid_ranges") && !id_ranges(j["gid_ranges"], "/gid_ranges", &out->gid_ranges)) {
      return false;
    }
    if (j.contains("keep_fds")) {
      out->keep_fds.emplace();
      if (!fds(j["keep_fds"], "/keep_fds", 3, &*out->keep_fds)) return false;
    }
    if (j.contains("ops")) {
      const json& a = j["ops"];
      if (!a.is_array()) return fail("/ops", "must be an array of objects");
      for (std::size_t i = 0; i < a.size(); ++i) {
        MountOp m;
        if (!op(a[i], child("/ops", i), &m)) return false;
        out->ops.push_back(std::move(m));
      }
    }
    return true;
  }

 private:
  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  }
};

}  // namespace

std::string spec_to_json(const Spec& spec, bool pretty) {
  ojson j = ojson::object();
  j["version"] = kVersion;
  // Defaults are left out (a reader fills them in), except "env": an absent one means "inherit"
  // to `run --spec`, and the jail's environment is exactly this list.
  for (const auto& f : kSpecStringLists) {
    const auto& list = spec.*f.member;
    if (!list.empty() || f.member != &Spec::lock_files) j[f.name] = strings_to_json(list);
  }
  for (const auto& f : kSpecOptStrings) {
    if (spec.*f.member) j[f.name] = string_to_json(*(spec.*f.member));
  }
  for (const auto& f : kSpecBools) {
    if (spec.*f.member) j[f.name] = true;
  }
  for (const auto& f : kSpecFds) {
    if (spec.*f.member >= 0) j[f.name] = spec.*f.member;
  }
  if (spec.uid) j["uid"] = *spec.uid;
  if (spec.gid) j["gid"] = *spec.gid;
  if (spec.caps.specified) j["caps"] = caps_to_json(spec.caps.mask);
  if (!spec.add_seccomp_fds.empty()) j["add_seccomp_fds"] = spec.add_seccomp_fds;
  if (spec.keep_fds) j["keep_fds"] = *spec.keep_fds;
  if (spec.host_user) {
    j["host_user"] = {{"uid", spec.host_user->uid},
                      {"gid", spec.host_user->gid},
                      {"groups", spec.host_user->groups}};
  }
  if (!spec.rlimits.empty()) {
    ojson limits = ojson::object();
    auto value = [](std::uint64_t v) { return v == RLIM_INFINITY ? ojson("unlimited") : ojson(v); };
    for (const auto& r : spec.rlimits) {
      limits[std::string(rlimit_name(r.resource))] = {{"soft", value(r.soft)},
                                                      {"hard", value(r.hard)}};
    }
    j["rlimits"] = std::move(limits);
  }
  for (const auto& [key, ranges] :
       {std::pair{"uid_ranges", &spec.uid_ranges}, std::pair{"gid_ranges", &spec.gid_ranges}}) {
    if (ranges->empty()) continue;
    ojson list = ojson::array();
    for (const auto& r : *ranges) {
      list.push_back({{"inside", r.inside}, {"outside", r.outside}, {"count", r.count}});
    }
    j[key] = std::move(list);
  }
  if (spec.cgroup) {
    const CgroupRequest& c = *spec.cgroup;
    auto value = [](std::uint64_t v) { return v == kCgroupMax ? ojson("max") : ojson(v); };
    ojson cg = ojson::object();
    if (!c.parent.empty()) cg["parent"] = string_to_json(c.parent);
    if (c.memory_max) cg["memory_max"] = value(*c.memory_max);
    if (c.memory_swap_max) cg["memory_swap_max"] = value(*c.memory_swap_max);
    if (c.pids_max) cg["pids_max"] = value(*c.pids_max);
    if (c.cpu_max)
      cg["cpu_max"] = {{"quota", value(c.cpu_max->quota)}, {"period", c.cpu_max->period}};
    if (c.cpu_weight) cg["cpu_weight"] = *c.cpu_weight;
    if (!c.io_max.empty()) cg["io_max"] = c.io_max;
    j["cgroup"] = std::move(cg);
  }
  if (!spec.ops.empty()) {
    ojson ops = ojson::array();
    for (const auto& op : spec.ops) ops.push_back(op_to_json(op));
    j["ops"] = std::move(ops);
  }
  // Every string went through string_to_json, so dump cannot meet invalid UTF-8 and throw.
  return pretty ? j.dump(2) : j.dump();
}

result<Spec> spec_from_json(std::string_view text, const SpecReadOptions& options) {
  json j;
  try {
    j = json::parse(text.begin(), text.end(), DuplicateKeyGuard());
  } catch (const json::exception& e) {
    // parse_error for syntax, out_of_range for a number like 1e400: both mean malformed text.
    // what() starts with "[json.exception.parse_error.101] ", an id only nlohmann's docs use.
    std::string what = e.what();
    if (what.starts_with("[json.exception.")) {
      const auto end = what.find("] ");
      if (end != std::string::npos) what.erase(0, end + 2);
    }
    return spec_error("", "invalid JSON: " + what);
  } catch (const CallbackStop& stop) {
    return spec_error(stop.pointer, stop.problem);
  }
  Reader reader;
  reader.inherited_env = options.inherited_env;
  Spec spec;
  if (!reader.spec(j, &spec)) return std::move(*reader.error);
  return spec;
}

}  // namespace boxjail
