// SPDX-License-Identifier: Apache-2.0
// Evaluates the rule table (rules.cpp) against one failure and the observed facts.
#include <boxjail/diagnose.hpp>
#include <boxjail/ladder.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "diagnose/rules.hpp"

namespace boxjail {

namespace {

using diag::Condition;
using diag::Op;
using diag::Rule;

// Facts every "unknown" report lists, whatever the step: who ran, under which confinement.
constexpr std::array<std::string_view, 6> kBaselineFacts = {
    "kernel.release", "self.uid",       "self.cap_eff",
    "self.seccomp",   "apparmor.label", "self.no_new_privs",
};

constexpr std::array<std::string_view, 7> kNamespaceLimits = {
    "sysctl.user.max_user_namespaces",   "sysctl.user.max_mnt_namespaces",
    "sysctl.user.max_pid_namespaces",    "sysctl.user.max_net_namespaces",
    "sysctl.user.max_ipc_namespaces",    "sysctl.user.max_uts_namespaces",
    "sysctl.user.max_cgroup_namespaces",
};

constexpr std::string_view kUnknownCause =
    "unknown cause: no rule explains step {step} failing with {errno|no errno}. The facts "
    "checked are listed; the kernel log (`sudo journalctl -k`) may name the denial "
    "(apparmor=\"DENIED\", avc: denied, or a seccomp audit record).";

// The calls boxjail may make that a kernel it supports can lack, and the release that added each
// (the fallbacks are in the engine; a call that reaches the diagnosis with ENOSYS had none left).
std::optional<std::string_view> syscall_since(std::string_view call) {
  static constexpr std::pair<std::string_view, std::string_view> kSince[] = {
      {"open_tree", "5.2"},         {"move_mount", "5.2"}, {"fsopen", "5.2"},
      {"fsconfig", "5.2"},          {"fsmount", "5.2"},    {"fspick", "5.2"},
      {"mount_setattr", "5.12"},    {"clone3", "5.3"},     {"pidfd_open", "5.3"},
      {"pidfd_send_signal", "5.1"}, {"openat2", "5.6"},    {"faccessat2", "5.8"},
      {"close_range", "5.9"},       {"statx", "4.11"},     {"memfd_create", "3.17"},
      {"execveat", "3.19"},         {"seccomp", "3.17"},
  };
  for (const auto& [name, since] : kSince) {
    if (name == call) return since;
  }
  return std::nullopt;
}

// One evaluation: looks facts up (host facts first, then the Error's own evidence, so a caller
// that forgot add_child_evidence still gets it) and remembers each fact it consulted.
class Evaluation {
 public:
  Evaluation(std::string_view rung, const Error& e, const HostFacts& facts)
      : rung_(rung), e_(e), facts_(facts) {}

  std::optional<Fact> fact(std::string_view name) {
    if (name == "error.errno") return Fact{std::string(name), errno_name(e_.err), "error"};
    // The ladder's own classification (is_denial): one definition of "a step that needs
    // privilege was refused", shared by the retry rule and the attribution rules.
    if (name == "error.privileged_step") {
      return Fact{std::string(name), is_denial(e_) ? "yes" : "no", "error"};
    }
    // The Linux release that brought the failed call, for the calls boxjail makes that older
    // kernels lack ("mount_setattr(MS_PRIVATE, AT_RECURSIVE)" is mount_setattr's).
    if (name == "error.syscall_since") {
      const std::string call = e_.syscall.substr(0, e_.syscall.find('('));
      if (auto since = syscall_since(call)) {
        return Fact{std::string(name), std::string(*since), "boxjail's table of kernel calls"};
      }
      return std::nullopt;
    }
    consult(name);
    return lookup(name);
  }

  bool holds(const Condition& c) {
    auto f = fact(c.fact);
    if (c.op == Op::Absent) return !f;
    if (!f) return false;
    const std::string& v = f->value;
    switch (c.op) {
      case Op::Equals:
        return v == c.value;
      case Op::NotEquals:
        return v != c.value;
      case Op::Exists:
        return true;
      case Op::Contains:
        return v.find(c.value) != std::string::npos;
      case Op::StartsWith:
        return v.starts_with(c.value);
      case Op::EndsWith:
        return v.ends_with(c.value);
      case Op::NotEmpty:
        return !v.empty();
      case Op::Absent:
        break;
    }
    return false;
  }

  bool matches(const Rule& r) {
    if (!rung_.empty() && !r.rungs.empty() &&
        std::find(r.rungs.begin(), r.rungs.end(), rung_) == r.rungs.end()) {
      return false;
    }
    if (!diag::rule_covers_step(r, e_.step)) return false;
    if (!r.errnos.empty() &&
        std::find(r.errnos.begin(), r.errnos.end(), e_.err) == r.errnos.end()) {
      return false;
    }
    // No short cut: every condition is evaluated so that `checked` lists each fact the
    // matching rule looked at, including the other alternatives of `any`.
    bool ok = true;
    for (const auto& c : r.all) ok = holds(c) && ok;
    if (!r.any.empty()) {
      bool any = false;
      for (const auto& c : r.any) any = holds(c) || any;
      ok = ok && any;
    }
    return ok;
  }

  std::string render(std::string_view text) {
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
      auto open = text.find('{', pos);
      auto close = open == std::string_view::npos ? open : text.find('}', open);
      if (close == std::string_view::npos) {
        out.append(text.substr(pos));
        break;
      }
      out.append(text.substr(pos, open - pos));
      std::string_view inner = text.substr(open + 1, close - open - 1);
      auto bar = inner.find('|');
      std::string_view key = inner.substr(0, bar);
      std::string_view fallback =
          bar == std::string_view::npos ? std::string_view("not recorded") : inner.substr(bar + 1);
      std::string value = placeholder(key);
      out.append(value.empty() ? std::string(fallback) : value);
      pos = close + 1;
    }
    return out;
  }

  void consult(std::string_view name) {
    if (std::find(consulted_.begin(), consulted_.end(), name) == consulted_.end()) {
      consulted_.emplace_back(name);
    }
  }

  void forget() { consulted_.clear(); }

  std::vector<std::string> checked() const {
    std::vector<std::string> out;
    for (const auto& name : consulted_) {
      auto f = lookup(name);
      if (!f) {
        out.push_back(name + " = (not recorded)");
      } else {
        out.push_back(name + " = " + (f->value.empty() ? "\"\"" : f->value) + " (" + f->source +
                      ")");
      }
    }
    return out;
  }

 private:
  std::optional<Fact> lookup(std::string_view name) const {
    if (const Fact* f = facts_.find(name)) return *f;
    for (const auto& [k, v] : e_.evidence) {
      if (k == name) return Fact{k, v, "child"};
    }
    return std::nullopt;
  }

  std::string placeholder(std::string_view key) {
    if (key == "step") return e_.step;
    if (key == "syscall") return e_.syscall;
    if (key == "path") return e_.path;
    if (key == "errno") return errno_name(e_.err);
    if (key == "rung") return std::string(rung_);
    if (key == "ns_limits") return ns_limits();
    if (key == "apparmor.denied") return apparmor_denied();
    if (key == "apparmor.rule") return apparmor_rule();
    if (key == "apparmor.kernel_said") return apparmor_kernel_said();
    if (key == "fix.setuid_rung") return fix_setuid_rung();
    if (key == "fix.apparmor_sysctl") return fix_apparmor_sysctl();
    if (key == "fix.mount_max") return fix_mount_max();
    if (key == "controller_v1_note") {
      auto f = fact("cgroup.v1");
      return f && !f->value.empty() ? ": cgroup v1 holds it (" + f->value + ")" : "";
    }
    auto f = fact(key);
    return f ? f->value : "";
  }

  // What AppArmor denied: the kernel's record says it; else what the failed step needs that an
  // AppArmor profile mediates, from the step and the errno AppArmor answered with.
  std::string apparmor_denied() {
    if (auto f = fact("audit.denied")) return f->value;
    const std::string& step = e_.step;
    const bool eacces = e_.err == EACCES;
    if (step == "clone-namespaces" || step == "nested-userns" || step == "lock-userns") {
      return eacces ? "creating a user namespace (AppArmor 4 mediates it)"
                    : "the capability sys_admin (CAP_SYS_ADMIN) in the new user namespace, which "
                      "a new mount namespace needs";
    }
    if (const char* file = map_file()) {
      return std::string("write access to /proc/") + (step == "write-setgroups" ? "self" : "PID") +
             "/" + file;
    }
    return eacces ? "the mount" : "the capability sys_admin (CAP_SYS_ADMIN) the mount needs";
  }

  std::string apparmor_rule() {
    if (auto f = fact("audit.rule")) return f->value;
    const std::string& step = e_.step;
    const bool eacces = e_.err == EACCES;
    if (step == "clone-namespaces" || step == "nested-userns" || step == "lock-userns") {
      return eacces ? "userns," : "capability sys_admin,";
    }
    if (const char* file = map_file()) return std::string("/proc/[0-9]*/") + file + " w,";
    return eacces ? "mount," : "capability sys_admin,";
  }

  std::string apparmor_kernel_said() {
    if (fact("audit.apparmor")) return "The kernel's record of the denial is quoted below.";
    if (auto f = fact("audit.log")) {
      return "The kernel log has no record of it (" + f->value +
             "); the step and the errno say what was denied.";
    }
    return "The kernel log was not consulted; the step and the errno say what was denied.";
  }

  // The setuid rung as a fix, for what of it is not yet in effect (ladder.mode, and the helper
  // installed setuid root, both as read): nothing when both are.
  std::string fix_setuid_rung() {
    auto mode = fact("ladder.mode");
    const bool mode_ok = mode && (mode->value == "auto" || mode->value == "setuid");
    auto present = fact("setuid_helper.present");
    auto owner = fact("setuid_helper.owner");
    auto perms = fact("setuid_helper.mode");
    const bool installed = present && present->value == "yes" && owner && owner->value == "0" &&
                           perms && perms->value.size() == 4 && perms->value[0] >= '4';
    const std::string install =
        "install boxjail-suid with `sudo cmake --install <build dir>` (setuid root)";
    const std::string set_mode = "set `ladder.mode = \"auto\"` in /etc/boxjail/config.toml";
    const std::string why = "; a privileged helper is not restricted this way.";
    if (mode_ok && installed) return "";
    if (mode_ok) return "Let the ladder use the setuid rung: " + install + why;
    if (installed) return "Let the ladder use the setuid rung: " + set_mode + why;
    return "Let the ladder use the setuid rung: " + install + " and " + set_mode + why;
  }

  std::string fix_apparmor_sysctl() {
    auto value = fact("sysctl.kernel.apparmor_restrict_unprivileged_userns");
    if (value && value->value == "0") return "";
    return "Less safe, as it lifts the restriction for every program on the host: `sudo sysctl "
           "kernel.apparmor_restrict_unprivileged_userns=0` (a file in /etc/sysctl.d/ keeps it "
           "after a reboot).";
  }

  // A higher fs.mount-max than the one in effect: 100000 (bwrap's hint), or twice the current
  // value where that is already reached.
  std::string fix_mount_max() {
    auto value = fact("sysctl.fs.mount-max");
    const unsigned long long now = value ? std::strtoull(value->value.c_str(), nullptr, 10) : 0;
    const unsigned long long next = now >= 100000 ? now * 2 : 100000;
    return "`sudo sysctl fs.mount-max=" + std::to_string(next) + "`.";
  }

  const char* map_file() const {
    if (e_.step == "write-setgroups") return "setgroups";
    if (e_.step == "write-uid-map") return "uid_map";
    if (e_.step == "write-gid-map") return "gid_map";
    return nullptr;
  }

  // Names the namespace limits that are 0 (that type is forbidden to everyone), or says none is.
  std::string ns_limits() {
    std::string zero;
    std::string values;
    for (std::string_view name : kNamespaceLimits) {
      auto f = fact(name);
      if (!f) continue;
      std::string shown(name.substr(std::string_view("sysctl.").size()));
      if (f->value == "0") zero += (zero.empty() ? "" : ", ") + shown;
      values += (values.empty() ? "" : ", ") + shown + " = " + f->value;
    }
    if (!zero.empty()) {
      return zero + " = 0: that namespace type is forbidden to every process, root included.";
    }
    if (values.empty()) {
      return "The limits (user.max_*_namespaces) could not be read.";
    }
    return "No limit is 0 (" + values +
           "), so the count of one namespace type in use reached its limit (many live sandboxes "
           "or containers, or namespaces held open), or user namespaces are nested more than 32 "
           "deep.";
  }

  std::string_view rung_;
  const Error& e_;
  const HostFacts& facts_;
  std::vector<std::string> consulted_;
};

}  // namespace

Diagnosis diagnose(std::string_view rung, const Error& e, const HostFacts& facts) {
  if (rung.empty()) rung = e.rung;
  Evaluation ev(rung, e, facts);
  Diagnosis d;
  for (const auto& rule : diag::rule_table()) {
    ev.forget();
    if (!ev.matches(rule)) continue;
    d.known = true;
    d.rule = std::string(rule.id);
    d.cause = ev.render(rule.cause);
    // A fix already in effect renders empty and is left out.
    for (std::string_view fix : rule.fixes) {
      std::string text = ev.render(fix);
      if (!text.empty()) d.fixes.push_back(std::move(text));
    }
    d.checked = ev.checked();
    return d;
  }
  // Unknown: list what the rules for this step would have looked at, so a reader (or a new
  // rule) can take it from there.
  ev.forget();
  for (std::string_view name : kBaselineFacts) ev.consult(name);
  for (const auto& rule : diag::rule_table()) {
    if (!diag::rule_covers_step(rule, e.step)) continue;
    for (const auto* conds : {&rule.all, &rule.any}) {
      for (const auto& c : *conds) {
        if (!c.fact.starts_with("error.")) ev.consult(c.fact);
      }
    }
    for (std::string_view key : diag::template_keys(rule.cause)) {
      if (key.find('.') != std::string_view::npos) ev.consult(key);
    }
  }
  d.known = false;
  d.rule = "unknown";
  d.cause = ev.render(kUnknownCause);
  d.checked = ev.checked();
  return d;
}

std::vector<std::string> diagnosis_rule_ids() {
  std::vector<std::string> ids;
  for (const auto& rule : diag::rule_table()) ids.emplace_back(rule.id);
  return ids;
}

}  // namespace boxjail
