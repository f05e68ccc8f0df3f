// SPDX-License-Identifier: Apache-2.0
// The one table of diagnosis rules. Order matters: the first match wins, so evidence gathered
// where the failure happened (the child's AppArmor label, the helper's own refusal) comes before
// the caller's confinement, which comes before guesses from host switches alone.
#include "diagnose/rules.hpp"

#include <algorithm>
#include <cerrno>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

namespace boxjail::diag {

namespace {

using enum Op;

// Steps that use the capabilities a new user namespace gives: AppArmor's unprivileged_userns
// profile denies exactly these (capabilities, mount, pivot_root). Plain file operations inside
// the jail's own tmpfs (make-dir, write-file...) are left out: an EACCES there has ordinary
// causes, and naming AppArmor for it would be a guess.
constexpr std::string_view kUsernsPrivilegedSteps[] = {
    "write-setgroups",  "write-uid-map",    "write-gid-map",   "loopback-up",   "set-hostname",
    "make-root-rslave", "mount-base-tmpfs", "pivot-root",      "bind-mount",    "remount-ro",
    "mount-proc",       "mount-dev",        "mount-tmpfs",     "mount-mqueue",  "mount-overlay",
    "bind-data",        "limit-userns",     "detach-old-root", "nested-userns",
};

// Steps whose failing call is mount(2), the new mount API or pivot_root(2).
constexpr std::string_view kMountSteps[] = {
    "make-root-rslave", "mount-base-tmpfs", "pivot-root", "bind-mount",
    "remount-ro",       "mount-proc",       "mount-dev",  "mount-tmpfs",
    "mount-mqueue",     "mount-overlay",    "bind-data",  "detach-old-root",
};

// Steps that create or join namespaces (clone3, unshare, setns).
constexpr std::string_view kNamespaceSteps[] = {
    "join-userns", "join-pidns", "clone-namespaces", "join-userns2", "nested-userns",
};

// Constant data, not vectors: nothing here runs at the start-up of every jail.
constexpr std::pair<std::string_view, std::span<const std::string_view>> kGroups[] = {
    {"userns-privileged-steps", kUsernsPrivilegedSteps},
    {"mount-steps", kMountSteps},
    {"namespace-steps", kNamespaceSteps},
};

// Fixes shared by several rules.
constexpr std::string_view kFixAppArmorProfile =
    "Give boxjail an AppArmor profile with a `userns,` rule: `boxjail doctor --apparmor-profile "
    "| sudo tee /etc/apparmor.d/boxjail && sudo apparmor_parser -r /etc/apparmor.d/boxjail` "
    "(the profile names boxjail's real path: generate it again if the binary moves).";
// Rendered from the facts (diagnose.cpp): empty, and so not printed, when the setuid rung is
// already configured and installed; otherwise only what is still missing.
constexpr std::string_view kFixSetuidRung = "{fix.setuid_rung|}";
// Not printed where the sysctl already reads 0.
constexpr std::string_view kFixAppArmorSysctl = "{fix.apparmor_sysctl|}";
constexpr std::string_view kFixUsernsRung =
    "Use the user namespace rung instead: `ladder.mode = \"userns\"` (or \"auto\") in "
    "/etc/boxjail/config.toml, where the host allows unprivileged user namespaces.";
constexpr std::string_view kFixInstallHelper =
    "Install the helper with `sudo cmake --install <build dir>`: it puts boxjail-suid in "
    "libexec/boxjail/ owned by root with mode 4755.";

}  // namespace

const std::vector<Rule>& rule_table() {
  static const std::vector<Rule> table = {
      // --- the setuid helper's own refusals: it said why, nothing to infer.
      {
          .id = "helper-missing",
          .rungs = {},
          .steps = {"helper-exec", "helper-check"},
          .errnos = {},
          .all = {},
          .any = {{"error.errno", Equals, "ENOENT"}, {"helper.refusal", Equals, "missing"}},
          .cause = "The setuid helper {path|(ladder.setuid_helper)} does not exist, so the "
                   "setuid rung cannot run.",
          .fixes = {kFixInstallHelper,
                    "Point `ladder.setuid_helper` in /etc/boxjail/config.toml at the "
                    "installed helper.",
                    kFixUsernsRung},
      },
      {
          .id = "helper-no-new-privs",
          .rungs = {},
          .steps = {"helper-check"},
          .errnos = {},
          .all = {{"helper.refusal", Equals, "no-new-privs"}},
          .any = {},
          .cause = "The process that started boxjail has PR_SET_NO_NEW_PRIVS set "
                   "(self.no_new_privs = {self.no_new_privs|not recorded}): the kernel then "
                   "ignores the setuid bit of every program it runs, so the helper would not be "
                   "root, and it refuses. Usual sources: systemd's NoNewPrivileges= (implied by "
                   "many of its sandboxing options), `--security-opt no-new-privileges` of "
                   "docker or podman, or an outer sandbox (bwrap sets it).",
          .fixes = {"Remove that setting from the service or container that starts boxjail.",
                    kFixUsernsRung},
      },
      {
          .id = "helper-not-setuid",
          .rungs = {},
          .steps = {"helper-check"},
          .errnos = {},
          .all = {{"helper.refusal", Equals, "not-setuid"}},
          .any = {},
          .cause = "The setuid helper {path|(ladder.setuid_helper)} is not a setuid-root program "
                   "(owner uid {setuid_helper.owner|not recorded}, mode "
                   "{setuid_helper.mode|not recorded}): it has no privilege to use, and refuses.",
          .fixes = {"`sudo chown root:root {path|<helper>} && sudo chmod 4755 {path|<helper>}` "
                    "(4750 with a group, to limit who may run it).",
                    kFixInstallHelper, kFixUsernsRung},
      },
      {
          .id = "helper-writable",
          .rungs = {},
          .steps = {"helper-check"},
          .errnos = {},
          .all = {{"helper.refusal", Equals, "writable"}},
          .any = {},
          .cause = "The setuid helper {path|(ladder.setuid_helper)}, or a directory above it, "
                   "can be written by a user other than root (mode "
                   "{setuid_helper.mode|not recorded}): whoever can replace a setuid-root "
                   "program becomes root, so it refuses to run.",
          .fixes = {"`sudo chown root:root {path|<helper>} && sudo chmod go-w {path|<helper>}`, "
                    "and the same for each directory above it.",
                    kFixInstallHelper},
      },
      {
          .id = "helper-nosuid",
          .rungs = {},
          .steps = {"helper-check"},
          .errnos = {},
          .all = {{"helper.refusal", Equals, "nosuid"}},
          .any = {},
          .cause = "The setuid helper {path|(ladder.setuid_helper)} is on a filesystem mounted "
                   "nosuid (setuid_helper.nosuid_mount = "
                   "{setuid_helper.nosuid_mount|not recorded}): the kernel ignores its setuid "
                   "bit, so it would not run as root, and it refuses.",
          .fixes = {"Install it on a filesystem mounted without nosuid (`sudo cmake --install "
                    "<build dir> --prefix /usr/local`) and set `ladder.setuid_helper` to it.",
                    "Remount that filesystem without nosuid, if it is meant to hold setuid "
                    "programs.",
                    kFixUsernsRung},
      },
      {
          .id = "helper-exec-denied",
          .rungs = {},
          .steps = {"helper-exec"},
          .errnos = {EACCES, EPERM},
          .all = {},
          .any = {},
          .cause = "Executing the setuid helper {path|(ladder.setuid_helper)} failed with "
                   "{errno} (mode {setuid_helper.mode|not recorded}, owner uid "
                   "{setuid_helper.owner|not recorded}): it is not executable by this user, its "
                   "filesystem is mounted noexec, or a security module forbids running it.",
          .fixes = {"Check `ls -l {path|<helper>}` (mode 4755, or 4750 with a group you are "
                    "in) and `findmnt -T {path|<helper>}` (no noexec); the kernel log "
                    "(`sudo journalctl -k`) shows an AppArmor or SELinux denial.",
                    kFixInstallHelper},
      },
      // --- a kernel without the feature: definitive.
      {
          .id = "no-user-namespaces",
          .rungs = {},
          .steps = {"clone-namespaces"},
          .errnos = {EINVAL},
          .all = {{"self.user_ns_supported", Equals, "no"}},
          .any = {},
          .cause = "This kernel has no user namespaces (self.user_ns_supported = "
                   "{self.user_ns_supported}: it was built without CONFIG_USER_NS), so "
                   "{syscall|clone3} rejects CLONE_NEWUSER with {errno}.",
          .fixes = {"Run on a kernel built with CONFIG_USER_NS=y.",
                    "Run boxjail as root without --unshare-user: the root rung needs no user "
                    "namespace."},
      },
      // --- AppArmor, from the label the child read inside its new user namespace: confirmed.
      {
          .id = "apparmor-unprivileged-userns",
          .rungs = {"userns"},
          .steps = {"userns-privileged-steps"},
          .errnos = {EACCES, EPERM},
          .all = {{"apparmor.label_in_userns", Contains, "unprivileged_userns"}},
          .any = {},
          .cause = "AppArmor moved this process into the profile \"{apparmor.label_in_userns}\" "
                   "when it created its user namespace (kernel.apparmor_restrict_unprivileged_"
                   "userns = {sysctl.kernel.apparmor_restrict_unprivileged_userns|not readable}, "
                   "label before: {apparmor.label|not readable}). That profile denies mounts "
                   "and every capability inside the namespace, so {syscall|the call} at step "
                   "{step} failed with {errno}.",
          .fixes = {kFixAppArmorProfile, kFixSetuidRung, kFixAppArmorSysctl},
      },
      // --- an enforcing AppArmor profile on boxjail, which answers EACCES (files, mounts, the
      // creation of a user namespace on AppArmor 4) or EPERM (a capability). The kernel's audit
      // record, when the log could be read, says exactly what it denied ({apparmor.denied}); the
      // step says it otherwise. Which fix applies depends on where the profile comes from.
      {
          .id = "apparmor-profile-attached",
          .rungs = {},
          .steps = {},
          .errnos = {EACCES, EPERM},
          .all = {{"error.privileged_step", Equals, "yes"},
                  {"apparmor.mode", Equals, "enforce"},
                  {"apparmor.label_origin", Equals, "attached to boxjail"}},
          .any = {},
          .cause = "AppArmor denied {apparmor.denied}: boxjail ({self.exe|its binary}) runs "
                   "under the profile \"{apparmor.profile}\" (enforce), attached to it (its "
                   "caller runs as \"{apparmor.parent_label}\"), which has no rule for it, so "
                   "{syscall|the call} at step {step} failed with {errno}. {apparmor.kernel_said}",
          .fixes = {"Add `{apparmor.rule}` to the profile \"{apparmor.profile}\" (in its file "
                    "under /etc/apparmor.d/), then `sudo apparmor_parser -r` that file.",
                    "Or replace that profile with the one `boxjail doctor --apparmor-profile` "
                    "prints (unconfined apart from granting `userns,`)."},
      },
      {
          .id = "apparmor-profile-inherited",
          .rungs = {},
          .steps = {},
          .errnos = {EACCES, EPERM},
          .all = {{"error.privileged_step", Equals, "yes"},
                  {"apparmor.mode", Equals, "enforce"},
                  {"apparmor.label_origin", Equals, "inherited from the caller"}},
          .any = {},
          .cause = "AppArmor denied {apparmor.denied}: boxjail runs under the profile "
                   "\"{apparmor.profile}\" (enforce) of the process that started it (inherited "
                   "across the exec), which has no rule for it, so {syscall|the call} at step "
                   "{step} failed with {errno}. {apparmor.kernel_said}",
          .fixes = {"Run boxjail from a process outside that profile; or have the profile start "
                    "boxjail under a profile of its own (`{self.exe|/path/to/boxjail} Px,` in "
                    "\"{apparmor.profile}\", with the profile from `boxjail doctor "
                    "--apparmor-profile` loaded).",
                    "If \"{apparmor.profile}\" is meant to allow sandboxes, add `{apparmor.rule}` "
                    "to it and reload it with `sudo apparmor_parser -r`.",
                    "If the profile comes from a container runtime (docker-default), start the "
                    "container with `--security-opt apparmor=unconfined` or a profile that "
                    "allows it."},
      },
      {
          .id = "apparmor-profile-enforce",
          .rungs = {},
          .steps = {},
          .errnos = {EACCES, EPERM},
          .all = {{"error.privileged_step", Equals, "yes"}, {"apparmor.mode", Equals, "enforce"}},
          .any = {},
          .cause = "AppArmor denied {apparmor.denied}: boxjail runs under the profile "
                   "\"{apparmor.profile}\" (enforce), whose origin could not be told (the "
                   "caller's label was not readable), and it has no rule for it, so "
                   "{syscall|the call} at step {step} failed with {errno}. "
                   "{apparmor.kernel_said}",
          .fixes = {"Add `{apparmor.rule}` to the profile \"{apparmor.profile}\" and reload it "
                    "with `sudo apparmor_parser -r`, or run boxjail outside it."},
      },
      // --- AppArmor refused the namespace itself.
      {
          .id = "apparmor-userns-create-denied",
          .rungs = {"userns"},
          .steps = {"clone-namespaces"},
          .errnos = {EACCES},
          .all = {{"apparmor.enabled", StartsWith, "Y"}},
          .any = {{"sysctl.kernel.apparmor_restrict_unprivileged_userns", Equals, "1"},
                  {"apparmor.label", EndsWith, "(enforce)"}},
          .cause = "AppArmor denied creating the user namespace ({syscall|clone3} failed with "
                   "{errno}). This process runs under the AppArmor label "
                   "{apparmor.label|(not readable)} with "
                   "kernel.apparmor_restrict_unprivileged_userns = "
                   "{sysctl.kernel.apparmor_restrict_unprivileged_userns|not readable}: either "
                   "that profile has no `userns,` rule, or, for an unconfined process under the "
                   "restriction, the \"unprivileged_userns\" profile AppArmor moves it into is "
                   "not loaded, and then creation is denied outright.",
          .fixes = {kFixAppArmorProfile, kFixSetuidRung, kFixAppArmorSysctl},
      },
      // --- kernel rules with a definite signature.
      {
          .id = "masked-proc",
          .rungs = {},
          .steps = {"mount-proc"},
          .errnos = {EPERM},
          .all = {{"proc.masked", NotEmpty, ""}},
          .any = {},
          .cause = "The caller's /proc has mounts over some of its entries ({proc.masked}), the "
                   "masked paths a container runtime adds. The kernel then refuses a new procfs "
                   "in the jail's namespaces with {errno}, because a fresh /proc would reveal "
                   "what the masks hide.",
          .fixes = {"Bind the caller's /proc instead of mounting a new one: `--ro-bind /proc "
                    "/proc` in place of `--proc /proc` (the jail then sees the caller's "
                    "processes).",
                    "Start the container with an unmasked /proc: `docker run --security-opt "
                    "systempaths=unconfined`, `podman run --security-opt unmask=ALL`."},
      },
      {
          .id = "userns-limit-zero",
          .rungs = {},
          .steps = {"clone-namespaces", "nested-userns"},
          .errnos = {ENOSPC, EUSERS},
          .all = {{"sysctl.user.max_user_namespaces", Equals, "0"}},
          .any = {},
          .cause = "user.max_user_namespaces = {sysctl.user.max_user_namespaces}: no process "
                   "(root included) may create a user namespace, so {syscall|clone3} failed "
                   "with {errno}.",
          .fixes = {"`sudo sysctl user.max_user_namespaces=15000` (a file in /etc/sysctl.d/ "
                    "keeps it after a reboot)."},
      },
      {
          .id = "namespace-limit-reached",
          .rungs = {},
          .steps = {"clone-namespaces", "nested-userns"},
          .errnos = {ENOSPC, EUSERS},
          .all = {},
          .any = {},
          .cause = "{syscall|clone3} failed with {errno}: a namespace limit was reached. "
                   "{ns_limits}",
          .fixes = {"Raise the limit named above: `sudo sysctl user.max_<type>_namespaces=N`.",
                    "Look for leftover sandboxes or containers holding namespaces open: "
                    "`lsns`."},
      },
      {
          .id = "mount-max-reached",
          .rungs = {},
          .steps = {"mount-steps"},
          .errnos = {ENOSPC},
          .all = {{"sysctl.fs.mount-max", Exists, ""}},
          .any = {},
          .cause = "{syscall|mount} at step {step} failed with ENOSPC, which the kernel returns "
                   "when a mount namespace would hold more than fs.mount-max = "
                   "{sysctl.fs.mount-max} mounts (not a full disk). The jail starts with a copy "
                   "of the caller's mount table, so a host with many mounts fills it quickly.",
          .fixes = {"{fix.mount_max|}",
                    "Bind fewer trees into the jail, or use --ro-bind on a parent directory "
                    "instead of many binds."},
      },
      // --- the caller's confinement, inferred from its mode only.
      {
          // Before caller-seccomp: SELinux answers EACCES, container seccomp profiles EPERM.
          .id = "selinux-denial",
          .rungs = {},
          .steps = {"mount-steps"},
          .errnos = {EACCES},
          .all = {{"selinux.mode", Equals, "enforcing"}},
          .any = {},
          .cause = "Likely an SELinux denial: SELinux is enforcing (selinux.mode = "
                   "{selinux.mode}) and answers {errno} when the caller's domain may not do "
                   "{syscall|the mount} at step {step}. Not confirmed: the audit log says.",
          .fixes = {"Read the denial: `sudo ausearch -m avc -ts recent`; `audit2allow` drafts a "
                    "policy module from it.",
                    "To test the diagnosis only: `sudo setenforce 0`, run again, then `sudo "
                    "setenforce 1`."},
      },
      {
          // A call of a newer kernel than this one, with no seccomp filter to blame: the kernel
          // itself answered ENOSYS.
          .id = "kernel-lacks-syscall",
          .rungs = {},
          .steps = {},
          .errnos = {ENOSYS},
          .all = {{"error.syscall_since", Exists, ""}, {"self.seccomp", Equals, "0"}},
          .any = {},
          .cause = "This kernel ({kernel.release|of unknown release}) has no {syscall}: the call "
                   "came with Linux {error.syscall_since}, and step {step} has no other way to "
                   "do its work here.",
          .fixes = {"Run the jail on Linux {error.syscall_since} or later.",
                    "`boxjail --version` and `boxjail doctor` say which way this kernel mounts "
                    "(the new mount API or classic mount(2)); docs/design.md lists what each "
                    "kernel gets."},
      },
      {
          .id = "caller-seccomp",
          .rungs = {},
          // Any step the ladder counts as a privilege denial; a plain file step's EPERM has
          // ordinary causes too.
          .steps = {},
          .errnos = {EPERM, EACCES, ENOSYS},
          .all = {{"self.seccomp", Equals, "2"}, {"error.privileged_step", Equals, "yes"}},
          .any = {},
          .cause = "The process that started boxjail runs under a seccomp filter (Seccomp: "
                   "{self.seccomp}, {self.seccomp_filters|an unknown number of} filter(s)), as "
                   "a container runtime's default profile or systemd's SystemCallFilter= "
                   "installs; such a filter most likely returned {errno} for "
                   "{syscall|the call} at step {step}.",
          .fixes = {"Run the jail outside that container or service.",
                    "Give the container a seccomp profile that allows {syscall|the call} "
                    "(`docker run --security-opt seccomp=PROFILE.json`, same for podman), or "
                    "relax SystemCallFilter= for the service.",
                    "Use the setuid rung, if the filter allows its calls (`ladder.mode = "
                    "\"auto\"` with boxjail-suid installed)."},
      },
      // --- host switches alone.
      {
          .id = "apparmor-restricted-label-unknown",
          .rungs = {"userns"},
          .steps = {"userns-privileged-steps"},
          .errnos = {EACCES, EPERM},
          .all = {{"apparmor.label_in_userns", Absent, ""},
                  {"sysctl.kernel.apparmor_restrict_unprivileged_userns", Equals, "1"},
                  {"apparmor.label", Equals, "unconfined"}},
          .any = {},
          .cause = "Likely AppArmor's restriction of unprivileged user namespaces: "
                   "kernel.apparmor_restrict_unprivileged_userns = "
                   "{sysctl.kernel.apparmor_restrict_unprivileged_userns} and this process was "
                   "\"{apparmor.label}\" when it created its user namespace, so AppArmor most "
                   "likely moved it into the \"unprivileged_userns\" profile, which denies mounts "
                   "and capabilities; {syscall|the call} at step {step} then fails with {errno}. "
                   "Not confirmed: the label inside the namespace was not reported.",
          .fixes = {kFixAppArmorProfile, kFixSetuidRung, kFixAppArmorSysctl},
      },
      // --- the jail's cgroup (step cgroup): the kernel's own answers on cgroupfs. No rung
      // differs (the cgroup is made with the caller's ids on each), so the ladder never climbs.
      {
          .id = "cgroup-v2-missing",
          .rungs = {},
          .steps = {"cgroup"},
          .errnos = {ENOENT},
          .all = {{"cgroup.v1", Exists, ""}},
          .any = {},
          .cause = "The jail asks for a cgroup of its own, which needs the cgroup v2 hierarchy, "
                   "and none is mounted here (cgroup v1 hierarchies: {cgroup.v1|none}).",
          .fixes = {"Boot with `systemd.unified_cgroup_hierarchy=1` (or `cgroup_no_v1=all`), or "
                    "mount it: `sudo mount -t cgroup2 none /sys/fs/cgroup`.",
                    "Or run the jail without --cgroup-parent and the limits."},
      },
      {
          .id = "cgroup-parent-outside-mount",
          .rungs = {},
          .steps = {"cgroup"},
          .errnos = {ENOENT},
          .all = {{"cgroup.mount_root", Exists, ""}},
          .any = {},
          .cause = "The cgroup v2 hierarchy is mounted here ({path}) showing only its part "
                   "{cgroup.mount_root} (a container's view), and the cgroup parent is outside "
                   "it.",
          .fixes = {"Name a parent below {cgroup.mount_root}, or a relative one (below this "
                    "process's own cgroup)."},
      },
      {
          .id = "cgroup-parent-missing",
          .rungs = {},
          .steps = {"cgroup"},
          .errnos = {ENOENT},
          .all = {},
          .any = {},
          .cause = "The cgroup parent {path} does not exist: boxjail makes the jail's own cgroup "
                   "below it, never the parent.",
          .fixes = {"Create it and delegate it to the user who runs the jails: `sudo mkdir "
                    "{path}` and `sudo chown USER {path} {path}/cgroup.procs "
                    "{path}/cgroup.subtree_control {path}/cgroup.threads` (or a systemd unit "
                    "with `Delegate=yes`)."},
      },
      {
          .id = "cgroup-not-delegated",
          .rungs = {},
          .steps = {"cgroup"},
          .errnos = {EACCES, EPERM},
          .all = {},
          .any = {},
          .cause = "The kernel refused {syscall} of {path} ({errno}): a user may make cgroups and "
                   "move processes only in a cgroup subtree delegated to it (the directory and "
                   "its cgroup.procs, cgroup.subtree_control and cgroup.threads its own), and the "
                   "move from the caller's own cgroup needs cgroup.procs of the two cgroups' "
                   "common ancestor.",
          .fixes = {"Delegate the parent: `sudo chown USER PARENT PARENT/cgroup.procs "
                    "PARENT/cgroup.subtree_control PARENT/cgroup.threads`, or a systemd unit or "
                    "scope with `Delegate=yes`.",
                    "Start boxjail from a cgroup below the delegated one (`systemd-run --user "
                    "--scope boxjail ...` for a parent below `user@UID.service`)."},
      },
      {
          .id = "cgroup-controller-missing",
          .rungs = {},
          .steps = {"cgroup"},
          .errnos = {EOPNOTSUPP},
          .all = {},
          .any = {},
          .cause = "A limit of the jail needs a cgroup controller that the parent is not offered "
                   "(its cgroup.controllers: \"{cgroup.controllers|}\"){controller_v1_note|}.",
          .fixes = {"Where cgroup v1 holds the controller: boot with "
                    "`systemd.unified_cgroup_hierarchy=1` or `cgroup_no_v1=all`.",
                    "Otherwise enable it in the cgroup.subtree_control of each cgroup above the "
                    "parent (`echo +memory > .../cgroup.subtree_control`), or drop that limit."},
      },
      // --- subordinate ids (--uid-range, --gid-range).
      {
          .id = "subid-not-granted",
          .rungs = {},
          .steps = {"write-uid-map", "write-gid-map"},
          .errnos = {},
          .all = {{"subid.file", Exists, ""}},
          .any = {},
          .cause = "{subid.file} does not grant this user the subordinate ids asked for, or could "
                   "not be read: newuidmap and newgidmap, which write such maps, map only what it "
                   "grants.",
          .fixes = {"Ask for ids within the user's lines of {subid.file}, or have root grant "
                    "them: `sudo usermod --add-subuids START-END USER` (`--add-subgids` for "
                    "/etc/subgid)."},
      },
      {
          .id = "subid-mapper-failed",
          .rungs = {},
          .steps = {"write-uid-map", "write-gid-map"},
          .errnos = {},
          .all = {{"subid.mapper", Exists, ""}},
          .any = {},
          .cause = "{subid.mapper}, which writes the subordinate ids' map, refused; its own words "
                   "are in the message (it checks the grants, the caller's passwd entry and "
                   "primary group, and that the jail's process is the caller's).",
          .fixes = {"Run boxjail with the caller's primary group (/etc/passwd) as its real gid, "
                    "and check that /usr/bin/{subid.mapper} is installed setuid root (package "
                    "uidmap)."},
      },
      {
          .id = "debian-userns-clone-disabled",
          .rungs = {"userns"},
          .steps = {"clone-namespaces"},
          .errnos = {EPERM},
          .all = {{"sysctl.kernel.unprivileged_userns_clone", Equals, "0"}},
          .any = {},
          .cause = "The kernel forbids user namespaces to unprivileged processes: "
                   "kernel.unprivileged_userns_clone = {sysctl.kernel.unprivileged_userns_clone} "
                   "(a Debian kernel switch), so {syscall|clone3} returned {errno}.",
          .fixes = {"`sudo sysctl kernel.unprivileged_userns_clone=1` (a file in /etc/sysctl.d/ "
                    "keeps it after a reboot).",
                    kFixSetuidRung},
      },
  };
  return table;
}

std::optional<std::span<const std::string_view>> step_group(std::string_view name) {
  for (const auto& [group, steps] : kGroups) {
    if (group == name) return steps;
  }
  return std::nullopt;
}

bool rule_covers_step(const Rule& rule, std::string_view step) {
  if (rule.steps.empty()) return true;
  for (std::string_view name : rule.steps) {
    if (name == step) return true;
    if (const auto members = step_group(name)) {
      if (std::find(members->begin(), members->end(), step) != members->end()) return true;
    }
  }
  return false;
}

std::vector<std::string_view> rule_step_names() {
  std::vector<std::string_view> out;
  auto add = [&out](std::string_view s) {
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  };
  for (const auto& rule : rule_table()) {
    for (std::string_view name : rule.steps) {
      if (const auto members = step_group(name)) {
        for (std::string_view s : *members) add(s);
      } else {
        add(name);
      }
    }
  }
  return out;
}

std::vector<std::string_view> template_keys(std::string_view text) {
  std::vector<std::string_view> keys;
  std::size_t pos = 0;
  while ((pos = text.find('{', pos)) != std::string_view::npos) {
    auto end = text.find('}', pos);
    if (end == std::string_view::npos) break;
    std::string_view inner = text.substr(pos + 1, end - pos - 1);
    keys.push_back(inner.substr(0, inner.find('|')));
    pos = end + 1;
  }
  return keys;
}

}  // namespace boxjail::diag
