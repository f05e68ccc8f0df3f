// SPDX-License-Identifier: Apache-2.0
// The fact collector: reads /proc and /sys, never writes, never changes a process attribute.
// Every fact names the file it came from, so a report can be checked by hand.
#include <boxjail/diagnose.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>

#include "diagnose/audit.hpp"
#include "diagnose/evidence_io.hpp"
#include "sys/fd.hpp"

namespace boxjail {

const Fact* HostFacts::find(std::string_view name) const {
  for (const auto& f : facts) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::optional<std::string> HostFacts::get(std::string_view name) const {
  const Fact* f = find(name);
  if (!f) return std::nullopt;
  return f->value;
}

namespace {

void put(HostFacts& out, std::string name, std::string value, std::string source) {
  for (auto& f : out.facts) {
    if (f.name == name) {
      f.value = std::move(value);
      f.source = std::move(source);
      return;
    }
  }
  out.facts.push_back(Fact{std::move(name), std::move(value), std::move(source)});
}

// Records the trimmed content of `path` as `name`; an absent or unreadable file records nothing
// (the rules treat "not observed" as "no evidence", never as a value).
bool put_file(HostFacts& out, std::string name, const std::string& path) {
  auto text = diag::read_evidence_file(path);
  if (!text) return false;
  put(out, std::move(name), diag::trim_value(text.value()), path);
  return true;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

bool absent(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) != 0 && (errno == ENOENT || errno == ENOTDIR);
}

// The sysctls that decide whether an unprivileged process may create namespaces and mounts.
constexpr std::array<std::string_view, 15> kSysctls = {
    "kernel.dmesg_restrict",
    "dev.tty.legacy_tiocsti",
    "kernel.apparmor_restrict_unprivileged_userns",
    "kernel.apparmor_restrict_unprivileged_unconfined",
    "kernel.apparmor_restrict_unprivileged_userns_complain",
    "kernel.apparmor_restrict_unprivileged_userns_force",
    "kernel.unprivileged_userns_clone",
    "user.max_user_namespaces",
    "user.max_mnt_namespaces",
    "user.max_pid_namespaces",
    "user.max_net_namespaces",
    "user.max_ipc_namespaces",
    "user.max_uts_namespaces",
    "user.max_cgroup_namespaces",
    "fs.mount-max",
};

void collect_apparmor(HostFacts& out, const EvidenceRoots& roots, const std::string& self) {
  put_file(out, "lsm", roots.sys + "/kernel/security/lsm");
  put_file(out, "apparmor.enabled", roots.sys + "/module/apparmor/parameters/enabled");
  const std::string userns_create =
      roots.sys + "/kernel/security/apparmor/features/namespaces/userns_create";
  struct stat st {};
  if (::stat(userns_create.c_str(), &st) == 0) {
    // A feature node is a file on the kernels we know; a directory or an empty file still means
    // the kernel can mediate user namespace creation.
    auto text = S_ISDIR(st.st_mode) ? result<std::string>(std::string())
                                    : diag::read_evidence_file(userns_create);
    if (text) {
      std::string v = diag::trim_value(text.value());
      put(out, "apparmor.userns_mediation", v.empty() ? "yes" : v, userns_create);
    }
  }
  // attr/current is shared by every LSM: on an SELinux host it holds the SELinux context. Only
  // trust the fallback when AppArmor is the one active.
  if (!put_file(out, "apparmor.label", self + "/attr/apparmor/current")) {
    auto lsm = out.get("lsm");
    auto enabled = out.get("apparmor.enabled");
    bool apparmor = (lsm && lsm->find("apparmor") != std::string::npos) ||
                    (enabled && enabled->rfind("Y", 0) == 0);
    if (apparmor) put_file(out, "apparmor.label", self + "/attr/current");
  }
}

std::string self_dir(const EvidenceRoots& roots) { return roots.proc + "/" + roots.self; }

// Whose profile confines boxjail: one attached to its own path (its label differs from the
// caller's) or the caller's, inherited across the exec (the same label). The fixes differ: the
// first is changed where it is defined, the second is left by running boxjail outside it.
void collect_apparmor_origin(HostFacts& out, const EvidenceRoots& roots) {
  auto label = out.get("apparmor.label");
  if (!label) return;
  const auto open = label->rfind(" (");
  const std::string profile = open == std::string::npos ? *label : label->substr(0, open);
  const std::string mode = open == std::string::npos
                               ? std::string(*label == "unconfined" ? "unconfined" : "")
                               : label->substr(open + 2, label->size() - open - 3);
  // A copy: put() may grow the vector the fact lives in.
  const std::string source = out.find("apparmor.label")->source;
  put(out, "apparmor.profile", profile, source);
  if (!mode.empty()) put(out, "apparmor.mode", mode, source);
  const std::string parent =
      roots.proc + "/" + (roots.parent.empty() ? std::to_string(getppid()) : roots.parent);
  if (!put_file(out, "apparmor.parent_label", parent + "/attr/apparmor/current")) {
    put_file(out, "apparmor.parent_label", parent + "/attr/current");
  }
  if (mode.empty() || mode == "unconfined") return;
  // Best: the profile's own attachment, from the loaded policy (securityfs), against boxjail's
  // path: the parent's label misleads when the confined caller exec'd boxjail in its place.
  const std::string policy = roots.sys + "/kernel/security/apparmor/policy/profiles";
  if (DIR* d = opendir(policy.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      const std::string dir = policy + "/" + e->d_name;
      auto name = diag::read_evidence_file(dir + "/name");
      if (!name || diag::trim_value(name.value()) != profile) continue;
      put_file(out, "apparmor.profile_attach", dir + "/attach");
      break;
    }
    closedir(d);
  }
  // "<unknown>": the kernel kept only the compiled attachment (any glob, even a plain path).
  auto attach = out.get("apparmor.profile_attach");
  if (attach && *attach == "<unknown>") attach.reset();
  char exe[4096];
  const ssize_t n = readlink((self_dir(roots) + "/exe").c_str(), exe, sizeof exe - 1);
  if (attach && n > 0) {
    const std::string path(exe, static_cast<size_t>(n));
    const bool attached = fnmatch(attach->c_str(), path.c_str(), FNM_PATHNAME) == 0;
    put(out, "apparmor.label_origin",
        attached ? "attached to boxjail" : "inherited from the caller",
        "apparmor.profile_attach vs " + self_dir(roots) + "/exe");
    return;
  }
  auto parent_label = out.get("apparmor.parent_label");
  if (!parent_label) return;
  put(out, "apparmor.label_origin",
      *parent_label == *label ? "inherited from the caller" : "attached to boxjail",
      "apparmor.label vs apparmor.parent_label");
}

void collect_sysctls(HostFacts& out, const EvidenceRoots& roots) {
  for (std::string_view name : kSysctls) {
    std::string rel(name);
    for (char& c : rel) {
      if (c == '.') c = '/';
    }
    put_file(out, "sysctl." + std::string(name), roots.proc + "/sys/" + rel);
  }
}

void collect_selinux(HostFacts& out, const EvidenceRoots& roots) {
  const std::string dir = roots.sys + "/fs/selinux";
  auto enforce = diag::read_evidence_file(dir + "/enforce");
  if (enforce) {
    std::string v = diag::trim_value(enforce.value());
    if (v == "1") v = "enforcing";
    if (v == "0") v = "permissive";
    put(out, "selinux.mode", v, dir + "/enforce");
  } else if (absent(dir)) {
    // Only a missing selinuxfs says "disabled"; an unreadable enforce file says nothing.
    put(out, "selinux.mode", "disabled", "stat " + dir);
  }
}

void collect_self(HostFacts& out, const std::string& self) {
  const std::string status_path = self + "/status";
  if (auto status = diag::read_evidence_file(status_path)) {
    constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kFields = {{
        {"Seccomp", "self.seccomp"},
        {"Seccomp_filters", "self.seccomp_filters"},
        {"NoNewPrivs", "self.no_new_privs"},
        {"CapEff", "self.cap_eff"},
        {"Uid", "self.uid"},
    }};
    for (const auto& [key, name] : kFields) {
      auto v = diag::status_field(status.value(), key);
      if (!v) continue;
      if (key == "Uid") v = v->substr(0, v->find_first_of(" \t"));  // the real uid
      put(out, std::string(name), *v, status_path);
    }
  }
  // A kernel without CONFIG_USER_NS still has the ns/ directory, just no "user" entry in it.
  const std::string ns = self + "/ns";
  if (exists(ns)) {
    put(out, "self.user_ns_supported", exists(ns + "/user") ? "yes" : "no", "stat " + ns + "/user");
  }
  const std::string mountinfo = self + "/mountinfo";
  if (auto text = diag::read_evidence_file(mountinfo)) {
    std::string joined;
    for (const auto& m : diag::mounts_over_proc(text.value())) {
      if (!joined.empty()) joined += ' ';
      joined += m;
    }
    put(out, "proc.masked", joined, mountinfo);
  }
}

void collect_container(HostFacts& out, const EvidenceRoots& roots) {
  // Container runtimes (systemd-nspawn, podman, LXC) set container= in pid 1's environment;
  // readable only when pid 1 runs as the same user, which is what a container usually gives us.
  const std::string environ = roots.proc + "/1/environ";
  auto text = diag::read_evidence_file(environ);
  if (!text) return;
  if (auto v = diag::environ_value(text.value(), "container")) put(out, "container", *v, environ);
}

void collect_setuid_helper(HostFacts& out, const std::string& path) {
  put(out, "setuid_helper.path", path, "ladder.setuid_helper");
  const std::string src = "stat " + path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) put(out, "setuid_helper.present", "no", src);
    return;
  }
  put(out, "setuid_helper.present", "yes", src);
  put(out, "setuid_helper.owner", std::to_string(st.st_uid), src);
  std::array<char, 16> mode{};
  std::snprintf(mode.data(), mode.size(), "%04o", static_cast<unsigned>(st.st_mode & 07777));
  put(out, "setuid_helper.mode", mode.data(), src);
  struct statvfs vfs {};
  if (::statvfs(path.c_str(), &vfs) == 0) {
    put(out, "setuid_helper.nosuid_mount", (vfs.f_flag & ST_NOSUID) ? "yes" : "no",
        "statvfs " + path);
  }
}

}  // namespace

HostFacts collect_host_facts(const EvidenceRoots& roots) {
  HostFacts out;
  const std::string self = roots.proc + "/" + roots.self;
  put_file(out, "kernel.release", roots.proc + "/sys/kernel/osrelease");
  collect_apparmor(out, roots, self);
  collect_apparmor_origin(out, roots);
  char exe[4096];
  const ssize_t n = readlink((self + "/exe").c_str(), exe, sizeof exe - 1);
  if (n > 0) put(out, "self.exe", std::string(exe, static_cast<size_t>(n)), self + "/exe");
  collect_sysctls(out, roots);
  collect_selinux(out, roots);
  collect_self(out, self);
  collect_container(out, roots);
  if (!roots.setuid_helper.empty()) collect_setuid_helper(out, roots.setuid_helper);
  return out;
}

void add_child_evidence(HostFacts& facts, const Error& e) {
  for (const auto& [name, value] : e.evidence) put(facts, name, value, "child");
}

namespace {

// `journalctl -k` of this boot, with the kernel's monotonic timestamps; an Error whose message
// says why not (no journal reader, or one that could read nothing for this user).
result<std::string> read_journal(const std::string& journalctl) {
  auto failed = [](std::string why) { return make_error("collect-facts", std::move(why)); };
  if (access(journalctl.c_str(), X_OK) != 0)
    return failed("no journal reader (" + journalctl + ")");
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) return failed("pipe2 failed");
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return failed("pipe2 failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  const char* argv[] = {journalctl.c_str(), "-k",   "-b", "-q", "--no-pager", "-o",
                        "short-monotonic",  nullptr};
  char* envp[] = {const_cast<char*>("LC_ALL=C"), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, journalctl.c_str(), &actions, nullptr,
                             const_cast<char* const*>(argv), envp);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  close(err[1]);
  UniqueFd out_fd(out[0]), err_fd(err[0]);
  if (rc != 0) return failed("could not run " + journalctl + ": " + std::strerror(rc));
  // stderr is small (a permission hint); read it after stdout, whose pipe would fill first.
  std::string text, hint;
  char buf[65536];
  ssize_t n;
  while ((n = read(out_fd.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0 && text.size() < (16u << 20)) text.append(buf, static_cast<size_t>(n));
  }
  while ((n = read(err_fd.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0 && hint.size() < 4096) hint.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  hint = diag::trim_value(hint.substr(0, hint.find('\n')));
  if (text.empty()) {
    return failed("journalctl -k gave nothing" + (hint.empty() ? std::string() : ": " + hint));
  }
  return text;
}

}  // namespace

void add_audit_evidence(HostFacts& facts, const Error& e, const EvidenceRoots& roots) {
  std::set<long> pids;
  for (const auto& [name, value] : e.evidence) {
    if (name.starts_with("pid.")) pids.insert(std::strtol(value.c_str(), nullptr, 10));
  }
  if (pids.empty()) return;
  std::string source = roots.kmsg;
  auto log = diag::read_evidence_file(roots.kmsg, 16 << 20);
  if (!log) {
    const int err = log.error().err;
    std::string why =
        "not readable: " + roots.kmsg + ": " + std::strerror(err) + " (" + errno_name(err) + ")";
    if (auto restrict = facts.get("sysctl.kernel.dmesg_restrict")) {
      why += ", kernel.dmesg_restrict = " + * restrict;
    }
    // The journal keeps the kernel's messages too, readable by members of adm and
    // systemd-journal where /dev/kmsg is not.
    auto journal = read_journal(roots.journalctl);
    if (!journal) {
      put(facts, "audit.log", why + "; " + journal.error().message, roots.kmsg);
      return;
    }
    log = std::move(journal);
    source = roots.journalctl + " -k";
  }
  // Records older than this process belong to other attempts (pids are reused): its start time,
  // in clock ticks since boot like the log's microseconds.
  std::uint64_t since = 0;
  if (auto stat = diag::read_evidence_file(roots.proc + "/" + roots.self + "/stat")) {
    const std::string& text = stat.value();
    const auto close = text.rfind(')');
    std::istringstream fields(close == std::string::npos ? "" : text.substr(close + 2));
    std::string value;
    for (int i = 3; i <= 22 && fields >> value; ++i) {
      if (i == 22)
        since = std::strtoull(value.c_str(), nullptr, 10) * 1000000 /
                static_cast<std::uint64_t>(sysconf(_SC_CLK_TCK));
    }
  }
  const auto records = diag::apparmor_denials(log.value(), pids, since > 10000 ? since - 10000 : 0);
  put(facts, "audit.log",
      "read, " + std::to_string(records.size()) + " AppArmor denial(s) of this attempt", source);
  const diag::AuditRecord* r = diag::record_for_step(records, e.step);
  if (!r) return;
  put(facts, "audit.apparmor", r->text, source);
  for (const char* key : {"operation", "profile", "capname", "name"}) {
    auto it = r->fields.find(key);
    if (it != r->fields.end()) put(facts, std::string("audit.") + key, it->second, source);
  }
  put(facts, "audit.denied", diag::denied_what(*r), source);
  if (auto rule = diag::allowing_rule(*r)) put(facts, "audit.rule", *rule, source);
}

}  // namespace boxjail
