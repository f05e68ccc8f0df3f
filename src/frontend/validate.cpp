// SPDX-License-Identifier: Apache-2.0
// resolve_spec(): the decisions bwrap's main() takes between parse_args() and the clone, in
// bwrap's order, because the order decides which message a caller sees. For example
// "--disable-userns" alone fails for an unprivileged caller although --unshare-user would be
// implied a moment later: bwrap checks the explicit flags before adding the implied one.
#include <boxjail/id_ranges.hpp>
#include <boxjail/validate.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace boxjail {
namespace {

using Status = result<void>;

Status ok() { return boost::outcome_v2::success(); }

Error fail(const Spec& spec, std::string message) {
  Error e = make_error("validate-spec", std::move(message));
  e.level_prefix = spec.level_prefix;  // --level-prefix was parsed before any of these checks
  return e;
}

bool path_exists(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0;
}

// The first bytes of a small /proc or /sys file, or nothing if it cannot be read.
std::optional<std::string> read_small_file(const char* path) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::array<char, 64> buf{};
  const ssize_t n = ::read(fd, buf.data(), buf.size());
  ::close(fd);
  if (n < 0) return std::nullopt;
  return std::string(buf.data(), static_cast<std::size_t>(n));
}

// bwrap's test for --unshare-user-try: the kernel has user namespaces and they are not switched
// off, either by RHEL7's module parameter or by max_user_namespaces = 0. Like bwrap, Debian's
// unprivileged_userns_clone is not consulted: an unprivileged caller needs the namespace anyway.
bool user_namespaces_usable() {
  if (!path_exists("/proc/self/ns/user")) return false;
  const auto enable = read_small_file("/sys/module/user_namespace/parameters/enable");
  if (enable && !enable->empty() && (*enable)[0] == 'N') return false;
  const auto max = read_small_file("/proc/sys/user/max_user_namespaces");
  return !(max && *max == "0\n");
}

// Checked on the flags as given, before --unshare-user is implied.
Status check_user_namespace_requests(const Spec& s) {
  if (s.userns_block_fd != -1 && !s.unshare_user) {
    return fail(s, "--userns-block-fd requires --unshare-user");
  }
  if (s.userns_block_fd != -1 && s.info_fd == -1) {
    return fail(s, "--userns-block-fd requires --info-fd");
  }
  if (s.userns_fd != -1 && s.unshare_user) return fail(s, "--userns not compatible --unshare-user");
  if (s.userns_fd != -1 && s.unshare_user_try) {
    return fail(s, "--userns not compatible --unshare-user-try");
  }
  if (s.disable_userns && !s.unshare_user) {
    return fail(s, "--disable-userns requires --unshare-user");
  }
  if (s.disable_userns && s.userns_block_fd != -1) {
    // Sic: bwrap's message has two spaces before --userns-block-fd.
    return fail(s, "--disable-userns is not compatible with  --userns-block-fd");
  }
  return ok();
}

// Turns implied and "-try" requests into definite ones; afterwards the -try flags are cleared so
// the engine reads unshare_user and unshare_cgroup only.
void apply_implications(Spec& s, const Caller& caller) {
  // Without setuid, a non-root caller can do nothing without its own user namespace. The setuid
  // helper has the privilege itself and makes one only when asked (bwrap's setuid mode); "-try"
  // asks where the kernel has them and no limit forbids them, as for bwrap.
  if (!caller.via_setuid_helper && !caller.is_root() && s.userns_fd == -1) s.unshare_user = true;
  if (s.unshare_user_try && user_namespaces_usable()) s.unshare_user = true;
  if (s.unshare_cgroup_try && path_exists("/proc/self/ns/cgroup")) s.unshare_cgroup = true;
  s.unshare_user_try = false;
  s.unshare_cgroup_try = false;
}

// A different id inside the sandbox needs a user namespace to map it.
Status check_identity(const Spec& s, const Caller& caller) {
  const bool own_userns = s.unshare_user || s.userns_fd != -1;
  if (!own_userns && s.uid && *s.uid != caller.uid) {
    return fail(s, "Specifying --uid requires --unshare-user or --userns");
  }
  if (!own_userns && s.gid && *s.gid != caller.gid) {
    return fail(s, "Specifying --gid requires --unshare-user or --userns");
  }
  return ok();
}

Status check_process_requests(const Spec& s) {
  // sethostname in the caller's uts namespace would rename the host.
  if (s.hostname && !s.unshare_uts) return fail(s, "Specifying --hostname requires --unshare-uts");
  if (s.as_pid_1 && !s.unshare_pid) return fail(s, "Specifying --as-pid-1 requires --unshare-pid");
  // Lock files are held by the pid-1 reaper, which --as-pid-1 removes.
  if (s.as_pid_1 && !s.lock_files.empty()) {
    return fail(s, "Specifying --as-pid-1 and --lock-file is not permitted");
  }
  if (s.cgroup && s.cgroup->parent.empty()) {
    return fail(s,
                "The cgroup limits need a parent cgroup: --cgroup-parent PATH, or "
                "[cgroup] parent in the config");
  }
  return ok();
}

}  // namespace

Caller current_caller() {
  Caller c;
  c.uid = ::getuid();
  c.gid = ::getgid();
  return c;
}

// --host-user: root chooses the host ids of its jail. Checked before the implications: for anyone
// else the jail would be a user namespace of the caller's own ids, never another host user.
result<void> check_host_user(const Spec& spec, const Caller& caller) {
  if (!spec.host_user) return boost::outcome_v2::success();
  const HostIdentity& h = *spec.host_user;
  if (!caller.is_root() || caller.via_setuid_helper) {
    return make_error("validate-spec",
                      "--host-user needs root: it chooses the host ids the command runs as");
  }
  if (h.uid == 0 || h.gid == 0) {
    return make_error("validate-spec", "--host-user takes a user other than root");
  }
  // Its maps are root's to write: not an existing namespace's, nor a helper's.
  if (spec.userns_fd >= 0 || spec.userns_block_fd >= 0 || spec.userns2_fd >= 0) {
    return make_error("validate-spec",
                      "--host-user cannot be combined with --userns, --userns2 or "
                      "--userns-block-fd: boxjail writes the host user's maps itself (use "
                      "--unshare-user)");
  }
  // Those limit the namespace the jail is cloned in, which for --host-user is root's own.
  if (spec.disable_userns || spec.assert_userns_disabled) {
    return make_error("validate-spec",
                      "--host-user cannot be combined with --disable-userns or "
                      "--assert-userns-disabled yet");
  }
  // The command runs with no capability: uid 0 in its own namespace would hold them all.
  if (spec.unshare_user && spec.uid && *spec.uid == 0) {
    return make_error("validate-spec",
                      "--host-user runs the command without privilege: --uid 0 would make it root "
                      "of its user namespace");
  }
  if (spec.caps.specified && spec.caps.mask != 0) {
    return make_error("validate-spec",
                      "--host-user runs the command with no capability: drop --cap-add");
  }
  if (!spec.unshare_user &&
      ((spec.uid && *spec.uid != h.uid) || (spec.gid && *spec.gid != h.gid))) {
    return make_error("validate-spec",
                      "--uid/--gid other than --host-user's: without a user namespace the "
                      "command's ids are the host's");
  }
  return boost::outcome_v2::success();
}

// --uid-range/--gid-range: subordinate ids an unprivileged caller was granted, mapped by
// newuidmap/newgidmap into the jail's own user namespace besides its own ids. Checked after the
// implications (an unprivileged caller's --unshare-user is implied).
result<void> check_id_ranges(const Spec& spec, const Caller& caller) {
  if (spec.uid_ranges.empty() && spec.gid_ranges.empty()) return boost::outcome_v2::success();
  auto refuse = [&](const std::string& why) -> result<void> { return fail(spec, why); };
  if (caller.is_root()) {
    return refuse(
        "--uid-range/--gid-range map ids that /etc/subuid and /etc/subgid grant an "
        "unprivileged user; root maps a host user with --host-user instead");
  }
  if (!spec.unshare_user || spec.userns_fd >= 0 || spec.userns_block_fd >= 0) {
    return refuse(
        "--uid-range/--gid-range need the jail's own user namespace, mapped by "
        "boxjail (not --userns or --userns-block-fd)");
  }
  if (spec.disable_userns) {
    return refuse("--uid-range/--gid-range cannot be combined with --disable-userns yet");
  }
  const uid_t uid = spec.uid.value_or(caller.uid);
  const gid_t gid = spec.gid.value_or(caller.gid);
  for (const auto& problem : {id_ranges_problem(spec.uid_ranges, uid, "uid"),
                              id_ranges_problem(spec.gid_ranges, gid, "gid")}) {
    if (!problem.empty()) return refuse("--uid-range/--gid-range: " + problem);
  }
  // devpts mounts only where uid and gid 0 are mapped; without ranges boxjail maps 0 itself in a
  // first namespace and the jail's ids in a nested one, which could hold one id alone.
  const bool dev = std::any_of(spec.ops.begin(), spec.ops.end(),
                               [](const MountOp& op) { return op.kind == OpKind::Dev; });
  auto maps_zero = [](const std::vector<IdRange>& ranges, std::uint32_t own) {
    return own == 0 || std::any_of(ranges.begin(), ranges.end(),
                                   [](const IdRange& r) { return r.inside == 0; });
  };
  if (dev && (!maps_zero(spec.uid_ranges, uid) || !maps_zero(spec.gid_ranges, gid))) {
    return refuse(
        "--dev with --uid-range/--gid-range needs uid and gid 0 mapped inside (the "
        "kernel's devpts wants them): --uid 0 --gid 0, or ranges that start at 0");
  }
  return boost::outcome_v2::success();
}

result<Spec> resolve_spec(Spec spec, const Caller& caller) {
  BOOST_OUTCOME_TRY(check_host_user(spec, caller));
  BOOST_OUTCOME_TRY(check_user_namespace_requests(spec));
  apply_implications(spec, caller);
  BOOST_OUTCOME_TRY(check_id_ranges(spec, caller));
  BOOST_OUTCOME_TRY(check_identity(spec, caller));
  BOOST_OUTCOME_TRY(check_process_requests(spec));
  return spec;
}

result<void> check_setuid_spec(const Spec& s, const Caller& caller) {
  auto refuse = [](const std::string& what) -> result<void> {
    return make_error("setuid-policy", "the setuid helper refuses " + what);
  };
  // Real root gains nothing from the helper and loses nothing: its requests are its own.
  if (caller.is_root()) return boost::outcome_v2::success();
  if (s.caps.specified && s.caps.mask != 0) {
    return refuse("--cap-add: the command runs without capabilities in the setuid rung");
  }
  if (s.userns_fd != -1) return refuse("--userns: joining a namespace chosen by the caller");
  // newuidmap checks that the target process is the caller's; the helper's child is root's.
  if (!s.uid_ranges.empty() || !s.gid_ranges.empty()) {
    return refuse(
        "--uid-range/--gid-range: they are mapped by newuidmap for the caller's own "
        "user namespace, which only the userns rung makes");
  }
  if (s.userns2_fd != -1) {
    // CVE-2020-5291: --userns2 into a namespace where uid 0 is unmapped fooled bwrap's
    // geteuid()-based privilege check.
    return refuse("--userns2: joining a namespace chosen by the caller");
  }
  if (s.pidns_fd != -1) return refuse("--pidns: joining a namespace chosen by the caller");
  if (s.userns_block_fd != -1) {
    // The helper's user namespace is made by root (as bwrap's setuid mode makes it): no process
    // of the caller's may write its maps, so the caller's newuidmap would only fail later.
    return refuse(
        "--userns-block-fd: the helper writes the maps of the user namespace it makes itself");
  }
  // With --unshare-user any uid and gid inside map to the caller's own ids and nothing else
  // (uid 0 to the overflow uid when /dev needs it): what an unprivileged user namespace gives.
  if (!s.unshare_user && s.uid && *s.uid != caller.uid) {
    return refuse("--uid other than your own without --unshare-user");
  }
  if (!s.unshare_user && s.gid && *s.gid != caller.gid) {
    return refuse("--gid other than your own without --unshare-user");
  }
  if (s.hostname && !s.unshare_uts) {
    // CVE-2016-8659: without a new uts namespace, root's sethostname renames the host.
    return refuse("--hostname without --unshare-uts");
  }
  if (s.exec_label || s.file_label) {
    return refuse("--exec-label/--file-label: root may pick any SELinux label");
  }
  for (const auto& op : s.ops) {
    if (op.kind == OpKind::Overlay || op.kind == OpKind::TmpOverlay ||
        op.kind == OpKind::RoOverlay) {
      // CVE-2026-41163: overlays are what a user reached by hijacking setuid bwrap.
      return refuse("overlay mounts (--overlay, --tmp-overlay, --ro-overlay)");
    }
    if (op.kind == OpKind::Tmpfs && op.size) {
      return refuse("--size: tmpfs memory limits are root's to set");
    }
  }
  return boost::outcome_v2::success();
}

}  // namespace boxjail
