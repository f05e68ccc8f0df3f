// SPDX-License-Identifier: Apache-2.0
#include "engine/seccomp_policy.hpp"

#include "sys/read_all.hpp"

#include <fcntl.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>

namespace boxjail {
namespace {

using json = nlohmann::json;

constexpr const char* kStep = "seccomp-policy";

#ifndef BOXJAIL_SECCOMP_DIR
#define BOXJAIL_SECCOMP_DIR "/usr/local/share/boxjail/seccomp"
#endif

Error policy_error(const std::string& file, const std::string& pointer, const std::string& text) {
  Error e = make_error(kStep, file + ": " + (pointer.empty() ? "" : pointer + ": ") + text);
  e.path = file;
  e.evidence.emplace_back("pointer", pointer);
  return e;
}

std::string ptr_child(const std::string& base, const std::string& key) {
  std::string out = base + "/";
  for (char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}
std::string ptr_child(const std::string& base, std::size_t index) {
  return base + "/" + std::to_string(index);
}

// "SCMP_ACT_ERRNO" etc. The errno part is filled in by the caller.
struct ActionName {
  std::string_view name;
  std::uint32_t action;
  bool takes_ret;  // errnoRet is meaningful (ERRNO's errno, TRACE's message)
};
constexpr ActionName kActions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
};

struct OpName {
  std::string_view name;
  scmp_compare op;
};
constexpr OpName kOps[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

constexpr std::string_view kFlags[] = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                       "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};

// The architectures the kernel can be entered with on this machine: a filter without them
// would let a 32-bit `int $0x80` or an x32 syscall through the bad-arch path.
std::vector<std::uint32_t> machine_arches() {
  std::vector<std::uint32_t> arches{seccomp_arch_native()};
#if defined(__x86_64__)
  arches.push_back(SCMP_ARCH_X86);
  arches.push_back(SCMP_ARCH_X32);
#elif defined(__aarch64__)
  arches.push_back(SCMP_ARCH_ARM);
#endif
  return arches;
}

// "SCMP_ARCH_X86_64", "x86_64", and Docker's Go names ("amd64", "386", "arm64").
std::uint32_t arch_token(std::string name) {
  if (name.rfind("SCMP_ARCH_", 0) == 0) name.erase(0, 10);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static const std::map<std::string, std::string> kGo = {{"amd64", "x86_64"},
                                                         {"386", "x86"},
                                                         {"arm64", "aarch64"},
                                                         {"mips64le", "mipsel64"},
                                                         {"mipsle", "mipsel"}};
  if (auto it = kGo.find(name); it != kGo.end()) name = it->second;
  return seccomp_arch_resolve_name(name.c_str());
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// Every syscall name libseccomp knows for these architectures.
const std::set<std::string>& known_syscalls(const std::vector<std::uint32_t>& arches) {
  static std::map<std::vector<std::uint32_t>, std::set<std::string>> cache;
  auto [it, fresh] = cache.try_emplace(arches);
  if (!fresh) return it->second;
  for (std::uint32_t arch : arches) {
    for (int base : {0, 0x40000000}) {
      for (int n = 0; n < 1024; ++n) {
        char* name = seccomp_syscall_resolve_num_arch(arch, base + n);
        if (name) it->second.insert(name);
        std::free(name);
      }
    }
  }
  return it->second;
}

std::string closest_names(const std::string& name, const std::vector<std::uint32_t>& arches) {
  std::vector<std::pair<std::size_t, std::string>> scored;
  for (const auto& known : known_syscalls(arches)) {
    scored.emplace_back(edit_distance(name, known), known);
  }
  std::sort(scored.begin(), scored.end());
  std::string out;
  const std::size_t limit = std::max<std::size_t>(2, name.size() / 3);
  for (std::size_t i = 0; i < scored.size() && i < 3 && scored[i].first <= limit; ++i) {
    out += (out.empty() ? "" : ", ") + scored[i].second;
  }
  return out;
}

bool syscall_known(const std::string& name, const std::vector<std::uint32_t>& arches) {
  for (std::uint32_t arch : arches) {
    if (seccomp_syscall_resolve_name_arch(arch, name.c_str()) != __NR_SCMP_ERROR) return true;
  }
  return false;
}

// Docker's conditional entries: "includes"/"excludes" with arches, caps and minKernel. A
// sandbox is assumed to hold no capabilities, so rules that need one are left out.
int kernel_version_cmp(const std::string& wanted) {
  utsname u{};
  uname(&u);
  // "MAJOR.MINOR" and what follows: the numbers as far as they go, 0 where there is none.
  auto major_minor = [](std::string_view v) {
    unsigned n[2] = {0, 0};
    for (unsigned& part : n) {
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), part);
      if (ec != std::errc()) break;
      v.remove_prefix(static_cast<std::size_t>(end - v.data()));
      if (v.empty() || v.front() != '.') break;
      v.remove_prefix(1);
    }
    return std::pair<unsigned, unsigned>{n[0], n[1]};
  };
  const auto [a, b] = major_minor(u.release);
  const auto [x, y] = major_minor(wanted);
  if (a != x) return a < x ? -1 : 1;
  if (b != y) return b < y ? -1 : 1;
  return 0;
}

struct Parser {
  std::string file;
  std::vector<Error> errors;
  SeccompPolicy policy;

  void fail(const std::string& pointer, const std::string& text) {
    errors.push_back(policy_error(file, pointer, text));
  }

  bool expect(const json& j, json::value_t type, const std::string& pointer, const char* what) {
    const bool ok = j.type() == type ||
                    (type == json::value_t::number_unsigned &&
                     j.type() == json::value_t::number_integer && j.get<std::int64_t>() >= 0);
    if (!ok) fail(pointer, std::string("must be ") + what);
    return ok;
  }

  void check_keys(const json& obj, const std::string& pointer,
                  std::initializer_list<std::string_view> allowed) {
    for (const auto& [key, value] : obj.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (auto k : allowed) list += (list.empty() ? "" : ", ") + std::string(k);
        fail(ptr_child(pointer, key), "unknown key \"" + key + "\" (known: " + list + ")");
      }
    }
  }

  std::optional<std::uint32_t> action(const json& obj, const std::string& key,
                                      const std::string& ret_key, const std::string& pointer) {
    const std::string p = ptr_child(pointer, key);
    if (!obj.contains(key)) {
      fail(pointer, "missing \"" + key + "\"");
      return std::nullopt;
    }
    if (!expect(obj[key], json::value_t::string, p, "a string such as \"SCMP_ACT_ERRNO\""))
      return std::nullopt;
    const std::string name = obj[key].get<std::string>();
    const auto it = std::find_if(std::begin(kActions), std::end(kActions),
                                 [&](const ActionName& a) { return a.name == name; });
    if (it == std::end(kActions)) {
      std::string list;
      for (const auto& a : kActions) list += (list.empty() ? "" : ", ") + std::string(a.name);
      fail(p, "unknown action \"" + name + "\"" +
                  (name == "SCMP_ACT_NOTIFY" ? " (no notification listener in boxjail)" : "") +
                  " (known: " + list + ")");
      return std::nullopt;
    }
    std::uint32_t ret = EPERM;  // runc's and Docker's errno when errnoRet is absent
    if (obj.contains(ret_key)) {
      const std::string rp = ptr_child(pointer, ret_key);
      if (!it->takes_ret) {
        fail(rp, "\"" + ret_key + "\" given for " + name + ", which returns no errno");
        return std::nullopt;
      }
      if (!expect(obj[ret_key], json::value_t::number_unsigned, rp, "a non-negative integer"))
        return std::nullopt;
      const auto v = obj[ret_key].get<std::uint64_t>();
      if (v > 4095) {
        fail(rp, "errno " + std::to_string(v) + " out of range (0..4095)");
        return std::nullopt;
      }
      ret = static_cast<std::uint32_t>(v);
    }
    if (it->action == SCMP_ACT_ERRNO(0)) return SCMP_ACT_ERRNO(ret);
    if (it->action == SCMP_ACT_TRACE(0)) return SCMP_ACT_TRACE(obj.contains(ret_key) ? ret : 0);
    return it->action;
  }

  std::optional<SeccompCondition> condition(const json& a, const std::string& pointer) {
    if (!expect(a, json::value_t::object, pointer, "an object")) return std::nullopt;
    check_keys(a, pointer, {"index", "value", "valueTwo", "op"});
    SeccompCondition c;
    bool ok = true;
    for (const char* key : {"index", "value", "op"}) {
      if (!a.contains(key)) {
        fail(pointer, std::string("missing \"") + key + "\"");
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    if (!expect(a["index"], json::value_t::number_unsigned, ptr_child(pointer, "index"),
                "an argument index 0..5"))
      return std::nullopt;
    const auto index = a["index"].get<std::uint64_t>();
    if (index > 5) {
      fail(ptr_child(pointer, "index"), "argument index " + std::to_string(index) + " (0..5)");
      return std::nullopt;
    }
    c.index = static_cast<unsigned>(index);
    for (const char* key : {"value", "valueTwo"}) {
      if (!a.contains(key)) continue;
      if (!expect(a[key], json::value_t::number_unsigned, ptr_child(pointer, key),
                  "a non-negative integer"))
        return std::nullopt;
      (std::strcmp(key, "value") == 0 ? c.value : c.value_two) = a[key].get<std::uint64_t>();
    }
    const std::string op_ptr = ptr_child(pointer, "op");
    if (!expect(a["op"], json::value_t::string, op_ptr, "a string such as \"SCMP_CMP_EQ\""))
      return std::nullopt;
    const std::string op = a["op"].get<std::string>();
    const auto it = std::find_if(std::begin(kOps), std::end(kOps),
                                 [&](const OpName& o) { return o.name == op; });
    if (it == std::end(kOps)) {
      std::string list;
      for (const auto& o : kOps) list += (list.empty() ? "" : ", ") + std::string(o.name);
      fail(op_ptr, "unknown operator \"" + op + "\" (known: " + list + ")");
      return std::nullopt;
    }
    c.op = it->op;
    return c;
  }

  // Docker's "includes"/"excludes": true when the entry applies to this sandbox.
  bool applies(const json& entry, const std::string& pointer) {
    bool result = true;
    for (const char* key : {"includes", "excludes"}) {
      if (!entry.contains(key)) continue;
      const std::string p = ptr_child(pointer, key);
      const json& f = entry[key];
      if (!expect(f, json::value_t::object, p, "an object")) return false;
      check_keys(f, p, {"arches", "caps", "minKernel"});
      const bool include = std::strcmp(key, "includes") == 0;
      if (f.contains("arches") && expect(f["arches"], json::value_t::array, ptr_child(p, "arches"),
                                         "an array of strings")) {
        bool listed = false;
        for (const auto& a : f["arches"]) {
          if (a.is_string() && arch_token(a.get<std::string>()) == seccomp_arch_native())
            listed = true;
        }
        if (listed != include) result = false;
      }
      if (f.contains("caps") &&
          expect(f["caps"], json::value_t::array, ptr_child(p, "caps"), "an array of strings")) {
        if (include && !f["caps"].empty()) result = false;  // no capabilities are assumed
      }
      if (f.contains("minKernel") && expect(f["minKernel"], json::value_t::string,
                                            ptr_child(p, "minKernel"), "a string like \"4.8\"")) {
        const bool new_enough = kernel_version_cmp(f["minKernel"].get<std::string>()) >= 0;
        if (new_enough != include) result = false;
      }
    }
    return result;
  }

  void syscall_entry(const json& s, const std::string& pointer) {
    if (!expect(s, json::value_t::object, pointer, "an object")) return;
    check_keys(s, pointer,
               {"names", "name", "action", "errnoRet", "args", "comment", "includes", "excludes"});
    SeccompRule rule;
    rule.pointer = pointer;
    std::vector<std::pair<std::string, std::string>> names;  // name, pointer
    if (s.contains("name")) {                                // the older single-name form
      if (expect(s["name"], json::value_t::string, ptr_child(pointer, "name"), "a string"))
        names.emplace_back(s["name"].get<std::string>(), ptr_child(pointer, "name"));
    }
    if (s.contains("names")) {
      const std::string np = ptr_child(pointer, "names");
      if (expect(s["names"], json::value_t::array, np, "an array of syscall names")) {
        for (std::size_t i = 0; i < s["names"].size(); ++i) {
          if (expect(s["names"][i], json::value_t::string, ptr_child(np, i), "a syscall name"))
            names.emplace_back(s["names"][i].get<std::string>(), ptr_child(np, i));
        }
      }
    }
    if (!s.contains("name") && !s.contains("names")) fail(pointer, "missing \"names\"");
    for (const auto& [name, p] : names) {
      if (syscall_known(name, policy.arches)) {
        rule.names.push_back(name);
        continue;
      }
      const std::string close = closest_names(name, policy.arches);
      fail(p, "unknown syscall \"" + name + "\"" +
                  (close.empty() ? "" : " (closest known names: " + close + ")"));
    }
    const auto act = action(s, "action", "errnoRet", pointer);
    if (act) rule.action = *act;
    if (s.contains("args") && !s["args"].is_null()) {
      const std::string ap = ptr_child(pointer, "args");
      if (expect(s["args"], json::value_t::array, ap, "an array")) {
        for (std::size_t i = 0; i < s["args"].size(); ++i) {
          if (auto c = condition(s["args"][i], ptr_child(ap, i))) rule.args.push_back(*c);
        }
      }
    }
    if (s.contains("comment") && !s["comment"].is_string())
      fail(ptr_child(pointer, "comment"), "must be a string");
    if (!applies(s, pointer)) return;
    if (act && !rule.names.empty()) policy.rules.push_back(std::move(rule));
  }

  void parse(std::string_view text) {
    json root;
    try {
      root = json::parse(text.begin(), text.end());
    } catch (const json::parse_error& e) {
      fail("", std::string("invalid JSON: ") + e.what());
      return;
    }
    if (!expect(root, json::value_t::object, "", "a JSON object")) return;
    check_keys(root, "",
               {"defaultAction", "defaultErrnoRet", "architectures", "archMap", "syscalls", "flags",
                "comment", "listenerPath", "listenerMetadata"});
    if (root.contains("listenerPath"))
      fail("/listenerPath", "notification listeners are not supported");
    if (auto a = action(root, "defaultAction", "defaultErrnoRet", "")) policy.default_action = *a;

    policy.arches = machine_arches();
    auto add_arch = [&](const json& a, const std::string& p) {
      if (!expect(a, json::value_t::string, p, "an architecture name such as \"SCMP_ARCH_X86\""))
        return;
      const std::uint32_t token = arch_token(a.get<std::string>());
      if (token == 0) {
        fail(p, "unknown architecture \"" + a.get<std::string>() + "\"");
        return;
      }
      if (std::find(policy.arches.begin(), policy.arches.end(), token) == policy.arches.end())
        policy.arches.push_back(token);
    };
    if (root.contains("architectures") &&
        expect(root["architectures"], json::value_t::array, "/architectures", "an array")) {
      for (std::size_t i = 0; i < root["architectures"].size(); ++i)
        add_arch(root["architectures"][i], ptr_child("/architectures", i));
    }
    if (root.contains("archMap") &&
        expect(root["archMap"], json::value_t::array, "/archMap", "an array")) {
      // Docker: the entry of the native architecture names its sub-architectures.
      for (std::size_t i = 0; i < root["archMap"].size(); ++i) {
        const json& m = root["archMap"][i];
        const std::string p = ptr_child("/archMap", i);
        if (!expect(m, json::value_t::object, p, "an object")) continue;
        check_keys(m, p, {"architecture", "subArchitectures"});
        if (!m.contains("architecture") || !m["architecture"].is_string()) continue;
        if (arch_token(m["architecture"].get<std::string>()) != seccomp_arch_native()) continue;
        if (m.contains("subArchitectures") && m["subArchitectures"].is_array()) {
          for (std::size_t k = 0; k < m["subArchitectures"].size(); ++k)
            add_arch(m["subArchitectures"][k], ptr_child(ptr_child(p, "subArchitectures"), k));
        }
      }
    }
    if (root.contains("flags") &&
        expect(root["flags"], json::value_t::array, "/flags", "an array")) {
      for (std::size_t i = 0; i < root["flags"].size(); ++i) {
        const std::string p = ptr_child("/flags", i);
        const json& f = root["flags"][i];
        if (!expect(f, json::value_t::string, p, "a flag name")) continue;
        if (std::find(std::begin(kFlags), std::end(kFlags), f.get<std::string>()) ==
            std::end(kFlags))
          fail(p, "unknown flag \"" + f.get<std::string>() + "\"");
      }
    }
    if (root.contains("comment") && !root["comment"].is_string())
      fail("/comment", "must be a string");
    if (root.contains("syscalls") && !root["syscalls"].is_null() &&
        expect(root["syscalls"], json::value_t::array, "/syscalls", "an array")) {
      for (std::size_t i = 0; i < root["syscalls"].size(); ++i)
        syscall_entry(root["syscalls"][i], ptr_child("/syscalls", i));
    }
    // libseccomp keeps the first of two unconditional rules for one syscall and silently drops
    // the second when their actions differ: say so instead.
    std::map<std::string, const SeccompRule*> unconditional;
    for (const auto& rule : policy.rules) {
      if (!rule.args.empty()) continue;
      for (const auto& name : rule.names) {
        auto [it, fresh] = unconditional.try_emplace(name, &rule);
        if (!fresh && it->second->action != rule.action) {
          fail(rule.pointer, "\"" + name + "\" already has a different action at " +
                                 it->second->pointer + " (libseccomp would keep only the first)");
        }
      }
    }
  }
};

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

Error lib_error(const SeccompPolicy& p, const std::string& pointer, const std::string& call,
                int rc) {
  Error e = policy_error(p.file, pointer, call + " failed");
  e.syscall = call;
  e.err = -rc;
  return e;
}

result<Ctx> build(const SeccompPolicy& policy) {
  Ctx ctx(seccomp_init(policy.default_action));
  if (!ctx) return policy_error(policy.file, "/defaultAction", "seccomp_init failed");
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc < 0) return lib_error(policy, "", "seccomp_attr_set(ACT_BADARCH)", rc);
  // NO_NEW_PRIVS is boxjail's own step; the exported program does not need libseccomp to set it.
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  for (std::uint32_t arch : policy.arches) {
    rc = seccomp_arch_add(ctx.get(), arch);
    if (rc < 0 && rc != -EEXIST) return lib_error(policy, "/architectures", "seccomp_arch_add", rc);
  }
  for (const auto& rule : policy.rules) {
    // runc's reading: several conditions on one argument are alternatives (one rule each, as
    // libseccomp cannot AND two comparisons of one argument); otherwise they all must hold.
    std::set<unsigned> indexes;
    for (const auto& c : rule.args) indexes.insert(c.index);
    const bool alternatives = indexes.size() != rule.args.size();
    std::vector<std::vector<scmp_arg_cmp>> variants;
    auto cmp = [](const SeccompCondition& c) {
      return scmp_arg_cmp{c.index, static_cast<scmp_compare>(c.op), c.value, c.value_two};
    };
    if (alternatives) {
      for (const auto& c : rule.args) variants.push_back({cmp(c)});
    } else {
      variants.emplace_back();
      for (const auto& c : rule.args) variants.back().push_back(cmp(c));
    }
    for (const auto& name : rule.names) {
      const int nr = seccomp_syscall_resolve_name(name.c_str());
      for (const auto& v : variants) {
        rc = seccomp_rule_add_array(ctx.get(), rule.action, nr, static_cast<unsigned>(v.size()),
                                    v.empty() ? nullptr : v.data());
        // A rule whose action is the default one is redundant: libseccomp refuses it.
        if (rc == -EACCES && rule.action == policy.default_action) continue;
        if (rc < 0) {
          Error e = lib_error(policy, rule.pointer, "seccomp_rule_add(" + name + ")", rc);
          return e;
        }
      }
    }
  }
  return ctx;
}

using Exporter = int (*)(const scmp_filter_ctx, int);

result<std::string> export_with(const SeccompPolicy& policy, Exporter exporter, const char* what) {
  BOOST_OUTCOME_TRY(ctx, build(policy));
  const int fd = memfd_create("boxjail-seccomp", MFD_CLOEXEC);
  if (fd < 0) return sys_error(kStep, "memfd_create", policy.file, errno, "memfd_create");
  const int rc = exporter(ctx.get(), fd);
  if (rc < 0) {
    close(fd);
    return lib_error(policy, "", what, rc);
  }
  std::string out;
  lseek(fd, 0, SEEK_SET);
  (void)sys::read_all(fd, out);  // a memfd we just wrote: a short read shows as a bad program
  close(fd);
  return out;
}

bool plain_name(const std::string& s) {
  return !s.empty() && s.find('/') == std::string::npos && s != "." && s != "..";
}

}  // namespace

result<std::string> trusted_policy_file(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return sys_error(kStep, "stat", path, errno, "stat " + path);
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 || (st.st_uid != 0 && st.st_uid != geteuid())) {
    return policy_error(path, "", "refusing a policy writable by others");
  }
  return path;
}

result<std::string> resolve_seccomp_policy_path(const std::string& name_or_path) {
  if (!plain_name(name_or_path)) return name_or_path;
  const std::string file = name_or_path.size() > 5 && name_or_path.ends_with(".json")
                               ? name_or_path
                               : name_or_path + ".json";
  std::vector<std::string> dirs = {BOXJAIL_SECCOMP_DIR};
#ifdef BOXJAIL_SECCOMP_SOURCE_DIR
  dirs.emplace_back(BOXJAIL_SECCOMP_SOURCE_DIR);  // the build tree's policies
#endif
  for (const auto& dir : dirs) {
    const std::string path = dir + "/" + file;
    if (access(path.c_str(), F_OK) == 0) return trusted_policy_file(path);
  }
  std::string where;
  for (const auto& dir : dirs) where += (where.empty() ? "" : " or ") + dir;
  Error e = make_error(kStep, "no seccomp policy named \"" + name_or_path + "\" in " + where);
  e.path = name_or_path;
  e.err = ENOENT;
  return e;
}

std::vector<Error> check_seccomp_policy(std::string_view json_text, const std::string& file) {
  Parser p;
  p.file = file;
  p.parse(json_text);
  if (p.errors.empty()) {
    // What the JSON cannot tell: libseccomp may still refuse a rule (conflicting actions).
    auto compiled = compile_seccomp_policy(p.policy);
    if (!compiled) p.errors.push_back(compiled.error());
  }
  return p.errors;
}

result<SeccompPolicy> parse_seccomp_policy(std::string_view json_text, const std::string& file) {
  Parser p;
  p.file = file;
  p.parse(json_text);
  if (!p.errors.empty()) return p.errors.front();
  return std::move(p.policy);
}

result<std::string> compile_seccomp_policy(const SeccompPolicy& policy) {
  return export_with(policy, seccomp_export_bpf, "seccomp_export_bpf");
}

result<std::string> seccomp_policy_pfc(const SeccompPolicy& policy) {
  return export_with(policy, seccomp_export_pfc, "seccomp_export_pfc");
}

namespace {

// ---- The compiled-program cache ----------------------------------------------------------------
// Compiling costs milliseconds, a large share of a jail's start-up, so the program is kept in a
// per-user cache. An entry holds its whole key (the policy text, the libseccomp, boxjail and
// kernel versions) and is used only if the key matches byte for byte, so a hash collision is a
// miss, never a wrong filter. The directory must be the caller's, mode 0700, and the entry the
// caller's and not writable by others: nobody else can plant a program.

std::string cache_key(std::string_view text) {
  const scmp_version* v = seccomp_version();
  utsname u{};
  uname(&u);
  std::string key = std::string("boxjail-seccomp-cache 1\nboxjail ") + BOXJAIL_VERSION;
  key += "\nlibseccomp " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->micro) + "\nkernel " + u.release + " " + u.machine + "\n";
  key += std::to_string(text.size()) + "\n";
  key.append(text);
  return key;
}

std::string cache_name(const std::string& key) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a: only spreads names, the key is compared
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ULL;
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.bpf", static_cast<unsigned long long>(h));
  return name;
}

// An fd on the cache directory if it is safe to use (created when missing), else -1.
int open_cache_dir(const std::string& dir) {
  if (dir.empty()) return -1;
  mkdir(dir.c_str(), 0700);
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st {};
  if (fstat(fd, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::optional<std::string> read_fd(int fd) {
  std::string out;
  if (sys::read_all(fd, out) != 0) return std::nullopt;
  return out;
}

// `root_owned_ok`: the precompiled entries of the shipped policies are root's, read by everyone.
std::optional<std::string> cache_lookup(int dirfd, const std::string& name, const std::string& key,
                                        bool root_owned_ok = false) {
  const int fd = openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  std::optional<std::string> data;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      (st.st_uid == geteuid() || (root_owned_ok && st.st_uid == 0)) && (st.st_mode & 022) == 0)
    data = read_fd(fd);
  close(fd);
  if (!data || data->size() < key.size() || data->compare(0, key.size(), key) != 0)
    return std::nullopt;
  std::string bpf = data->substr(key.size());
  if (bpf.empty() || bpf.size() % 8 != 0) return std::nullopt;
  return bpf;
}

void cache_store(int dirfd, const std::string& name, const std::string& key,
                 const std::string& bpf) {
  const std::string tmp = name + "." + std::to_string(getpid()) + ".tmp";
  const int fd =
      openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return;
  const std::string data = key + bpf;
  const bool ok = write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  close(fd);
  if (!ok || renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) != 0)
    unlinkat(dirfd, tmp.c_str(), 0);
}

// A policy is a few kilobytes of JSON; the bound keeps `--seccomp-policy /dev/zero` from growing
// the process (the setuid helper's child reads it) until the OOM killer acts.
constexpr std::size_t kMaxPolicyText = 1 << 20;

result<std::string> read_policy_text(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sys_error(kStep, "open", path, errno, "Can't open seccomp policy " + path);
  std::string text;
  const int err = sys::read_all(fd, text, kMaxPolicyText);
  close(fd);
  if (err == EFBIG) {
    return sys_error(kStep, "read", path, EFBIG,
                     "seccomp policy " + path + " is larger than 1 MiB");
  }
  if (err != 0) return sys_error(kStep, "read", path, err, "Can't read seccomp policy " + path);
  return text;
}

}  // namespace

std::string default_seccomp_cache_dir() {
  const uid_t uid = geteuid();
  if (uid == 0) return "/run/boxjail-seccomp";
  // The user's runtime dir (systemd-logind's /run/user/UID, owned by the user, mode 0700).
  const std::string run = "/run/user/" + std::to_string(uid);
  struct stat st {};
  if (stat(run.c_str(), &st) != 0 || st.st_uid != uid || (st.st_mode & 077) != 0) return "";
  return run + "/boxjail-seccomp";
}

namespace {

// The build (and `cmake --install`) compiles the shipped policies ahead of time into these
// directories, so a caller with no per-user cache dir (uid 65534 has no /run/user/65534) does not
// compile at every start. An entry is used only if its whole key matches, like a cache entry, and
// only if it is owned by root or the caller and writable by no one else.
std::optional<std::string> precompiled_lookup(const std::string& key) {
  std::string_view dirs = BOXJAIL_SECCOMP_PRECOMPILED_DIRS;
  const std::string name = cache_name(key);
  while (!dirs.empty()) {
    const auto colon = dirs.find(':');
    const std::string dir(dirs.substr(0, colon));
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    const int dirfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dirfd < 0) continue;
    auto hit = cache_lookup(dirfd, name, key, true);
    close(dirfd);
    if (hit) return hit;
  }
  return std::nullopt;
}

}  // namespace

result<void> precompile_seccomp_policies(const std::string& out_dir) {
  std::vector<std::string> dirs = {BOXJAIL_SECCOMP_DIR};
#ifdef BOXJAIL_SECCOMP_SOURCE_DIR
  dirs.emplace_back(BOXJAIL_SECCOMP_SOURCE_DIR);
#endif
  std::error_code made;
  std::filesystem::create_directories(out_dir, made);  // an error shows at the open below
  const int outfd = open(out_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (outfd < 0) return sys_error(kStep, "open", out_dir, errno, "Can't open " + out_dir);
  for (const auto& dir : dirs) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.path().extension() != ".json") continue;
      BOOST_OUTCOME_TRY(text, read_policy_text(entry.path().string()));
      auto policy = parse_seccomp_policy(text, entry.path().string());
      if (!policy) {
        close(outfd);
        return policy.error();
      }
      auto bpf = compile_seccomp_policy(policy.value());
      if (!bpf) {
        close(outfd);
        return bpf.error();
      }
      const std::string key = cache_key(text);
      cache_store(outfd, cache_name(key), key, bpf.value());
      fchmodat(outfd, cache_name(key).c_str(), 0644, 0);
    }
  }
  close(outfd);
  return boost::outcome_v2::success();
}

result<std::string> compile_seccomp_policy_text(std::string_view text, const std::string& file,
                                                const std::string& cache_dir) {
  if (auto hit = precompiled_lookup(cache_key(text))) return std::move(*hit);
  const int dirfd = open_cache_dir(cache_dir);
  const std::string key = dirfd >= 0 ? cache_key(text) : std::string();
  const std::string name = dirfd >= 0 ? cache_name(key) : std::string();
  if (dirfd >= 0) {
    if (auto hit = cache_lookup(dirfd, name, key)) {
      close(dirfd);
      return std::move(*hit);
    }
  }
  auto policy = parse_seccomp_policy(text, file);
  auto bpf = policy ? compile_seccomp_policy(policy.value()) : result<std::string>(policy.error());
  if (bpf && dirfd >= 0) cache_store(dirfd, name, key, bpf.value());
  if (dirfd >= 0) close(dirfd);
  return bpf;
}

result<std::string> compile_seccomp_policy_file(const std::string& name_or_path) {
  BOOST_OUTCOME_TRY(path, resolve_seccomp_policy_path(name_or_path));
  BOOST_OUTCOME_TRY(text, read_policy_text(path));
  return compile_seccomp_policy_text(text, path, default_seccomp_cache_dir());
}

result<SeccompPolicy> load_seccomp_policy(const std::string& name_or_path) {
  BOOST_OUTCOME_TRY(path, resolve_seccomp_policy_path(name_or_path));
  BOOST_OUTCOME_TRY(text, read_policy_text(path));
  return parse_seccomp_policy(text, path);
}

}  // namespace boxjail
