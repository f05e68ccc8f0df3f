// SPDX-License-Identifier: Apache-2.0
// Diagnosis: facts collected from fake /proc and /sys trees, and the rules that turn a failed
// step plus those facts into a cause. Negative cases matter as much: a wrong cause is worse than
// "unknown".
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <boxjail/diagnose.hpp>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "diagnose/evidence_io.hpp"
#include "diagnose/rules.hpp"
#include "engine/steps.hpp"
#include "harness.hpp"

namespace {

using boxjail::Diagnosis;
using boxjail::Error;
using boxjail::EvidenceRoots;
using boxjail::HostFacts;

// A fake host: <tmp>/proc and <tmp>/sys, removed with the object.
class FakeHost {
 public:
  FakeHost() {
    std::string tmpl = "/tmp/boxjail-diag-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp: " << errno;
    root_ = tmpl;
  }
  ~FakeHost() { std::filesystem::remove_all(root_); }
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;

  void write(const std::string& rel, const std::string& content) const {
    const std::filesystem::path p = root_ + "/" + rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }
  void mkdir(const std::string& rel) const {
    std::filesystem::create_directories(root_ + "/" + rel);
  }
  void remove(const std::string& rel) const { std::filesystem::remove_all(root_ + "/" + rel); }
  std::string path(const std::string& rel) const { return root_ + "/" + rel; }

  EvidenceRoots roots() const {
    EvidenceRoots r;
    r.proc = root_ + "/proc";
    r.sys = root_ + "/sys";
    return r;
  }
  HostFacts facts() const { return boxjail::collect_host_facts(roots()); }

 private:
  std::string root_;
};

const char* const kNormalMountinfo =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
    "24 23 0:22 / /proc/sys/fs/binfmt_misc rw,relatime shared:13 - autofs systemd-1 rw\n"
    "25 22 0:5 / /dev rw,nosuid shared:2 - devtmpfs udev rw\n";

// What every Linux host has: the kernel release, our own status, a user namespace entry, the
// namespace limits at their usual values.
void ordinary_host(const FakeHost& h) {
  h.write("proc/sys/kernel/osrelease", "6.8.0-45-generic\n");
  h.write("proc/self/status",
          "Name:\tboxjail\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n"
          "CapEff:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n");
  h.write("proc/self/ns/user", "");
  h.write("proc/self/ns/mnt", "");
  h.write("proc/self/mountinfo", kNormalMountinfo);
  for (const char* type : {"user", "mnt", "pid", "net", "ipc", "uts", "cgroup"}) {
    h.write(std::string("proc/sys/user/max_") + type + "_namespaces", "63229\n");
  }
  h.write("proc/sys/fs/mount-max", "100000\n");
}

void ubuntu_restricted(const FakeHost& h) {
  ordinary_host(h);
  h.write("sys/kernel/security/lsm", "lockdown,capability,landlock,yama,apparmor");
  h.write("sys/module/apparmor/parameters/enabled", "Y\n");
  h.write("sys/kernel/security/apparmor/features/namespaces/userns_create", "pciu&\n");
  h.write("proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1\n");
  h.write("proc/sys/kernel/apparmor_restrict_unprivileged_unconfined", "0\n");
  h.write("proc/self/attr/apparmor/current", "unconfined\n");
}

void ubuntu_with_profile(const FakeHost& h) {
  ubuntu_restricted(h);
  h.write("proc/self/attr/apparmor/current", std::string("boxjail (unconfined)\0", 21));
}

void debian_clone_disabled(const FakeHost& h) {
  ordinary_host(h);
  h.write("sys/kernel/security/lsm", "lockdown,capability,landlock,yama,apparmor,tomoyo");
  h.write("sys/module/apparmor/parameters/enabled", "Y\n");
  h.write("proc/sys/kernel/unprivileged_userns_clone", "0\n");
  h.write("proc/self/attr/apparmor/current", "unconfined\n");
}

void container_with_seccomp(const FakeHost& h) {
  ordinary_host(h);
  h.write("proc/self/status",
          "Name:\tboxjail\nUid:\t0\t0\t0\t0\nCapEff:\t00000000a80425fb\nNoNewPrivs:\t1\n"
          "Seccomp:\t2\nSeccomp_filters:\t1\n");
  h.write("proc/self/mountinfo",
          "500 400 0:50 / / rw - overlay overlay rw\n"
          "501 500 0:51 / /proc rw,nosuid - proc proc rw\n"
          "502 501 0:52 /bus /proc/bus ro - proc proc rw\n"
          "503 501 0:52 /sys /proc/sys ro - proc proc rw\n"
          "504 501 0:53 /null /proc/kcore rw - tmpfs tmpfs rw\n"
          "505 501 0:54 / /proc/acpi ro - tmpfs tmpfs ro\n"
          "506 500 0:55 / /dev rw - tmpfs tmpfs rw\n");
  h.write("proc/1/environ", std::string("PATH=/usr/bin\0container=podman\0HOME=/root\0", 43));
}

void selinux_enforcing(const FakeHost& h) {
  ordinary_host(h);
  h.write("sys/kernel/security/lsm", "lockdown,capability,yama,selinux,bpf");
  h.write("sys/fs/selinux/enforce", "1");
  // attr/current holds the SELinux context here; it must not be read as an AppArmor label.
  h.write("proc/self/attr/current", std::string("unconfined_u:unconfined_r:unconfined_t:s0\0", 42));
}

Error failure(std::string step, std::string syscall, int err, std::string path = "") {
  Error e = boxjail::sys_error(std::move(step), std::move(syscall), std::move(path), err, "");
  e.rung = "userns";
  return e;
}

std::string value(const HostFacts& f, std::string_view name) {
  return f.get(name).value_or("<absent>");
}

bool has_checked(const Diagnosis& d, const std::string& line) {
  return std::find(d.checked.begin(), d.checked.end(), line) != d.checked.end();
}

void expect_known(const Diagnosis& d, const std::string& rule) {
  EXPECT_TRUE(d.known) << d.rule << ": " << d.cause;
  EXPECT_EQ(d.rule, rule) << d.cause;
  EXPECT_FALSE(d.fixes.empty());
  EXPECT_FALSE(d.checked.empty());
  EXPECT_EQ(d.cause.find('{'), std::string::npos) << d.cause;
  for (const auto& fix : d.fixes) EXPECT_EQ(fix.find('{'), std::string::npos) << fix;
}

// --- facts ------------------------------------------------------------------------------------

TEST(EvidenceFacts, UbuntuRestricted) {
  FakeHost h;
  ubuntu_restricted(h);
  HostFacts f = h.facts();
  EXPECT_EQ(value(f, "kernel.release"), "6.8.0-45-generic");
  EXPECT_EQ(value(f, "lsm"), "lockdown,capability,landlock,yama,apparmor");
  EXPECT_EQ(value(f, "apparmor.enabled"), "Y");
  EXPECT_EQ(value(f, "apparmor.userns_mediation"), "pciu&");
  EXPECT_EQ(value(f, "apparmor.label"), "unconfined");
  EXPECT_EQ(value(f, "sysctl.kernel.apparmor_restrict_unprivileged_userns"), "1");
  EXPECT_EQ(value(f, "sysctl.kernel.apparmor_restrict_unprivileged_unconfined"), "0");
  EXPECT_EQ(value(f, "sysctl.kernel.unprivileged_userns_clone"), "<absent>");
  EXPECT_EQ(value(f, "sysctl.user.max_user_namespaces"), "63229");
  EXPECT_EQ(value(f, "sysctl.fs.mount-max"), "100000");
  EXPECT_EQ(value(f, "selinux.mode"), "disabled");
  EXPECT_EQ(value(f, "self.seccomp"), "0");
  EXPECT_EQ(value(f, "self.seccomp_filters"), "0");
  EXPECT_EQ(value(f, "self.no_new_privs"), "0");
  EXPECT_EQ(value(f, "self.cap_eff"), "0000000000000000");
  EXPECT_EQ(value(f, "self.uid"), "1000");
  EXPECT_EQ(value(f, "self.user_ns_supported"), "yes");
  // binfmt_misc sits on a permanently empty directory: not a mask.
  EXPECT_EQ(value(f, "proc.masked"), "");
  EXPECT_EQ(value(f, "container"), "<absent>");
  // Each fact names the file it came from.
  ASSERT_NE(f.find("apparmor.label"), nullptr);
  EXPECT_EQ(f.find("apparmor.label")->source, h.path("proc/self/attr/apparmor/current"));
  EXPECT_EQ(f.find("sysctl.fs.mount-max")->source, h.path("proc/sys/fs/mount-max"));
  EXPECT_EQ(f.find("selinux.mode")->source, "stat " + h.path("sys/fs/selinux"));
}

TEST(EvidenceFacts, UbuntuWithUsernsProfile) {
  FakeHost h;
  ubuntu_with_profile(h);
  HostFacts f = h.facts();
  EXPECT_EQ(value(f, "apparmor.label"), "boxjail (unconfined)");  // trailing NUL stripped
  EXPECT_EQ(value(f, "sysctl.kernel.apparmor_restrict_unprivileged_userns"), "1");
}

TEST(EvidenceFacts, AppArmorLabelFallsBackToAttrCurrent) {
  FakeHost h;
  ubuntu_restricted(h);
  h.remove("proc/self/attr/apparmor");
  h.write("proc/self/attr/current", "firefox (enforce)\n");
  HostFacts f = h.facts();
  EXPECT_EQ(value(f, "apparmor.label"), "firefox (enforce)");
  EXPECT_EQ(f.find("apparmor.label")->source, h.path("proc/self/attr/current"));
}

TEST(EvidenceFacts, DebianCloneDisabled) {
  FakeHost h;
  debian_clone_disabled(h);
  HostFacts f = h.facts();
  EXPECT_EQ(value(f, "sysctl.kernel.unprivileged_userns_clone"), "0");
  EXPECT_EQ(value(f, "sysctl.kernel.apparmor_restrict_unprivileged_userns"), "<absent>");
  EXPECT_EQ(value(f, "apparmor.userns_mediation"), "<absent>");
}

TEST(EvidenceFacts, MaxUserNamespacesZero) {
  FakeHost h;
  ordinary_host(h);
  h.write("proc/sys/user/max_user_namespaces", "0\n");
  HostFacts f = h.facts();
  EXPECT_EQ(value(f, "sysctl.user.max_user_namespaces"), "0");
  EXPECT_EQ(value(f, "sysctl.user.max_mnt_namespaces"), "63229");
}

TEST(EvidenceFacts, ContainerWithSeccompAndMaskedProc) {
  FakeHost h;
  container_with_seccomp(h);
  HostFacts f = h.facts();
  EXPECT_EQ(value(f, "self.seccomp"), "2");
  EXPECT_EQ(value(f, "self.seccomp_filters"), "1");
  EXPECT_EQ(value(f, "self.no_new_privs"), "1");
  EXPECT_EQ(value(f, "self.uid"), "0");
  EXPECT_EQ(value(f, "proc.masked"), "/proc/bus /proc/sys /proc/kcore /proc/acpi");
  EXPECT_EQ(f.find("proc.masked")->source, h.path("proc/self/mountinfo"));
  EXPECT_EQ(value(f, "container"), "podman");
  EXPECT_EQ(f.find("container")->source, h.path("proc/1/environ"));
}

TEST(EvidenceFacts, SelinuxEnforcing) {
  FakeHost h;
  selinux_enforcing(h);
  HostFacts f = h.facts();
  EXPECT_EQ(value(f, "selinux.mode"), "enforcing");
  EXPECT_EQ(f.find("selinux.mode")->source, h.path("sys/fs/selinux/enforce"));
  // The SELinux context in attr/current is not an AppArmor label.
  EXPECT_EQ(value(f, "apparmor.label"), "<absent>");
  h.write("sys/fs/selinux/enforce", "0");
  EXPECT_EQ(value(h.facts(), "selinux.mode"), "permissive");
}

TEST(EvidenceFacts, KernelWithoutUserNamespaces) {
  FakeHost h;
  ordinary_host(h);
  h.remove("proc/self/ns/user");
  EXPECT_EQ(value(h.facts(), "self.user_ns_supported"), "no");
  // Without an ns/ directory at all nothing is known.
  h.remove("proc/self/ns");
  EXPECT_EQ(value(h.facts(), "self.user_ns_supported"), "<absent>");
}

TEST(EvidenceFacts, AbsentFilesRecordNothing) {
  FakeHost h;
  HostFacts f = h.facts();
  EXPECT_EQ(value(f, "kernel.release"), "<absent>");
  EXPECT_EQ(value(f, "self.seccomp"), "<absent>");
  EXPECT_EQ(value(f, "apparmor.label"), "<absent>");
  EXPECT_EQ(value(f, "setuid_helper.present"), "<absent>");  // not asked
  // Only a missing selinuxfs is evidence (of "disabled").
  EXPECT_EQ(value(f, "selinux.mode"), "disabled");
}

TEST(EvidenceFacts, SetuidHelperStat) {
  FakeHost h;
  h.write("helper", "#!/bin/sh\n");
  ASSERT_EQ(::chmod(h.path("helper").c_str(), 04755), 0);
  EvidenceRoots r = h.roots();
  r.setuid_helper = h.path("helper");
  HostFacts f = boxjail::collect_host_facts(r);
  EXPECT_EQ(value(f, "setuid_helper.present"), "yes");
  EXPECT_EQ(value(f, "setuid_helper.owner"), std::to_string(::getuid()));
  EXPECT_EQ(value(f, "setuid_helper.mode"), "4755");
  EXPECT_TRUE(value(f, "setuid_helper.nosuid_mount") == "yes" ||
              value(f, "setuid_helper.nosuid_mount") == "no");
  EXPECT_EQ(f.find("setuid_helper.mode")->source, "stat " + h.path("helper"));

  r.setuid_helper = h.path("missing/helper");
  f = boxjail::collect_host_facts(r);
  EXPECT_EQ(value(f, "setuid_helper.present"), "no");
  EXPECT_EQ(value(f, "setuid_helper.mode"), "<absent>");
}

TEST(EvidenceFacts, ChildEvidenceIsAddedWithSourceChild) {
  HostFacts f;
  Error e = failure("write-setgroups", "open", EACCES);
  e.evidence = {{"apparmor.label_in_userns", "unprivileged_userns (enforce)"},
                {"userns.cap_eff", "000001ffffffffff"}};
  boxjail::add_child_evidence(f, e);
  ASSERT_NE(f.find("apparmor.label_in_userns"), nullptr);
  EXPECT_EQ(f.find("apparmor.label_in_userns")->value, "unprivileged_userns (enforce)");
  EXPECT_EQ(f.find("apparmor.label_in_userns")->source, "child");
  EXPECT_EQ(value(f, "userns.cap_eff"), "000001ffffffffff");
  boxjail::add_child_evidence(f, e);  // no duplicates
  EXPECT_EQ(f.facts.size(), 2u);
}

TEST(EvidenceFacts, RealHost) {
  HostFacts f = boxjail::collect_host_facts();
  EXPECT_FALSE(value(f, "kernel.release").empty());
  EXPECT_EQ(value(f, "self.uid"), std::to_string(::getuid()));
  EXPECT_EQ(value(f, "self.user_ns_supported"), "yes");
}

TEST(EvidenceParse, StatusMountinfoEnviron) {
  namespace d = boxjail::diag;
  EXPECT_EQ(d::status_field("Seccomp:\t2\nSeccomp_filters:\t3\n", "Seccomp").value_or("-"), "2");
  EXPECT_EQ(d::status_field("Seccomp:\t2\nSeccomp_filters:\t3\n", "Seccomp_filters").value_or("-"),
            "3");
  EXPECT_FALSE(d::status_field("Seccomp:\t2\n", "NoNewPrivs"));
  EXPECT_EQ(d::trim_value(std::string_view("unconfined\n\0", 12)), "unconfined");
  EXPECT_EQ(d::mounts_over_proc(kNormalMountinfo), std::vector<std::string>{});
  EXPECT_EQ(
      d::environ_value(std::string_view("a=1\0container=lxc\0", 19), "container").value_or("-"),
      "lxc");
  EXPECT_FALSE(d::environ_value(std::string_view("containers=1\0", 13), "container"));
}

// --- rules ------------------------------------------------------------------------------------

TEST(DiagnoseRules, UbuntuRestrictionConfirmedByChildLabel) {
  FakeHost h;
  ubuntu_restricted(h);
  HostFacts f = h.facts();
  Error e = failure("write-setgroups", "open", EACCES, "/proc/self/setgroups");
  e.evidence = {{"apparmor.label_in_userns", "unprivileged_userns (enforce)"}};
  boxjail::add_child_evidence(f, e);
  Diagnosis d = boxjail::diagnose("userns", e, f);
  expect_known(d, "apparmor-unprivileged-userns");
  EXPECT_NE(d.cause.find("\"unprivileged_userns (enforce)\""), std::string::npos) << d.cause;
  EXPECT_NE(d.cause.find("kernel.apparmor_restrict_unprivileged_userns = 1"), std::string::npos);
  EXPECT_NE(d.fixes[0].find("apparmor_parser -r /etc/apparmor.d/boxjail"), std::string::npos);
  EXPECT_TRUE(has_checked(d, "apparmor.label_in_userns = unprivileged_userns (enforce) (child)"))
      << ::testing::PrintToString(d.checked);
  EXPECT_TRUE(has_checked(d, "sysctl.kernel.apparmor_restrict_unprivileged_userns = 1 (" +
                                 h.path("proc/sys/kernel/apparmor_restrict_unprivileged_userns") +
                                 ")"));
}

TEST(DiagnoseRules, ChildLabelIsReadFromTheErrorToo) {
  FakeHost h;
  ubuntu_restricted(h);
  Error e = failure("write-uid-map", "write", EPERM, "/proc/self/uid_map");
  e.evidence = {{"apparmor.label_in_userns", "unprivileged_userns (enforce)"}};
  expect_known(boxjail::diagnose("userns", e, h.facts()), "apparmor-unprivileged-userns");
}

TEST(DiagnoseRules, UbuntuRestrictionWithoutChildLabelIsOnlyLikely) {
  FakeHost h;
  ubuntu_restricted(h);
  Diagnosis d =
      boxjail::diagnose("userns", failure("make-root-rslave", "mount", EACCES, "/"), h.facts());
  expect_known(d, "apparmor-restricted-label-unknown");
  EXPECT_EQ(d.cause.rfind("Likely", 0), 0u) << d.cause;
  EXPECT_NE(d.cause.find("= 1"), std::string::npos);
  EXPECT_TRUE(has_checked(d, "apparmor.label_in_userns = (not recorded)"));
}

TEST(DiagnoseRules, UbuntuCloneDenied) {
  FakeHost h;
  ubuntu_restricted(h);
  Diagnosis d =
      boxjail::diagnose("userns", failure("clone-namespaces", "clone3", EACCES), h.facts());
  expect_known(d, "apparmor-userns-create-denied");
  EXPECT_NE(d.cause.find("AppArmor label unconfined with"), std::string::npos) << d.cause;
  EXPECT_NE(d.cause.find("clone3 failed with EACCES"), std::string::npos) << d.cause;
}

// An enforcing profile whose origin is unknown (the caller's label unreadable): AppArmor is named
// with the profile, and what the step needs stands in for the missing audit record.
// AppArmor refuses the creation of a user namespace with EACCES; an EPERM from the clone on the
// same host is something else (a capability, a kernel switch, a seccomp filter) and must not be
// put on AppArmor's creation check.
TEST(DiagnoseRules, UbuntuCloneEpermIsNotTheCreationCheck) {
  FakeHost h;
  ubuntu_restricted(h);
  Diagnosis d =
      boxjail::diagnose("userns", failure("clone-namespaces", "clone3", EPERM), h.facts());
  EXPECT_NE(d.rule, "apparmor-userns-create-denied") << d.cause;
}

TEST(DiagnoseRules, CallerUnderEnforcingProfile) {
  FakeHost h;
  ordinary_host(h);
  h.write("sys/module/apparmor/parameters/enabled", "Y\n");
  h.write("proc/self/attr/apparmor/current", "docker-default (enforce)\n");
  Diagnosis d = boxjail::diagnose("", failure("mount-tmpfs", "fsmount", EACCES, "/tmp"), h.facts());
  expect_known(d, "apparmor-profile-enforce");
  EXPECT_NE(d.cause.find("AppArmor denied the mount"), std::string::npos) << d.cause;
  EXPECT_NE(d.cause.find("\"docker-default\" (enforce)"), std::string::npos) << d.cause;
  EXPECT_NE(d.cause.find("kernel log was not consulted"), std::string::npos) << d.cause;
  ASSERT_FALSE(d.fixes.empty());
  EXPECT_NE(d.fixes[0].find("`mount,`"), std::string::npos) << d.fixes[0];
}

// boxjail (pid 777, parent 4242) started 200 clock ticks, 2 s, after boot.
void started_two_seconds_after_boot(const FakeHost& h) {
  h.write("proc/self/stat",
          "777 (boxjail) S 4242 777 777 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 200 0 0\n");
}

// An AppArmor host where boxjail runs as `label` and its caller (pid 4242) as `parent_label`.
EvidenceRoots confined(const FakeHost& h, const std::string& label,
                       const std::string& parent_label) {
  ordinary_host(h);
  h.write("sys/module/apparmor/parameters/enabled", "Y\n");
  h.write("proc/self/attr/apparmor/current", label + "\n");
  h.write("proc/4242/attr/apparmor/current", parent_label + "\n");
  EvidenceRoots roots = h.roots();
  roots.parent = "4242";
  return roots;
}

// The parent's label tells a profile attached to boxjail's path from one inherited from the
// caller; each gets its own fix.
TEST(DiagnoseRules, ProfileAttachedToBoxjail) {
  FakeHost h;
  EvidenceRoots roots = confined(h, "boxjail-strict (enforce)", "unconfined");
  HostFacts facts = boxjail::collect_host_facts(roots);
  EXPECT_EQ(value(facts, "apparmor.label_origin"), "attached to boxjail");
  Diagnosis d = boxjail::diagnose("userns", failure("clone-namespaces", "clone3", EPERM), facts);
  expect_known(d, "apparmor-profile-attached");
  EXPECT_NE(d.cause.find("the capability sys_admin (CAP_SYS_ADMIN)"), std::string::npos) << d.cause;
  ASSERT_FALSE(d.fixes.empty());
  EXPECT_NE(d.fixes[0].find("`capability sys_admin,`"), std::string::npos) << d.fixes[0];
  // The first line's bwrap hint is not this diagnosis's: nothing here names the Debian switch.
  for (const auto& f : d.fixes) EXPECT_EQ(f.find("unprivileged_userns_clone"), std::string::npos);
}

// An enforcing profile, the other way round: what it denied at the clone follows the errno.
TEST(DiagnoseRules, EnforcingProfileNamesWhatTheErrnoSays) {
  FakeHost h;
  EvidenceRoots roots = confined(h, "boxjail-strict (enforce)", "unconfined");
  HostFacts facts = boxjail::collect_host_facts(roots);
  Diagnosis eperm =
      boxjail::diagnose("userns", failure("clone-namespaces", "clone3", EPERM), facts);
  Diagnosis eacces =
      boxjail::diagnose("userns", failure("clone-namespaces", "clone3", EACCES), facts);
  EXPECT_NE(eperm.cause.find("capability sys_admin"), std::string::npos) << eperm.cause;
  EXPECT_NE(eacces.cause.find("creating a user namespace"), std::string::npos) << eacces.cause;
}

// A confined caller that exec'd boxjail in its place leaves an unconfined parent behind: the
// loaded profile's attachment, not the parent's label, then says the profile is not boxjail's.
TEST(DiagnoseRules, ProfileAttachmentDecidesTheOrigin) {
  FakeHost h;
  EvidenceRoots roots = confined(h, "site-shell (enforce)", "unconfined");
  h.write("sys/kernel/security/apparmor/policy/profiles/site-shell.3/name", "site-shell\n");
  h.write("sys/kernel/security/apparmor/policy/profiles/site-shell.3/attach", "/usr/lib/site/*\n");
  std::filesystem::create_symlink("/usr/local/bin/boxjail", h.path("proc/self/exe"));
  HostFacts facts = boxjail::collect_host_facts(roots);
  EXPECT_EQ(value(facts, "apparmor.profile_attach"), "/usr/lib/site/*");
  EXPECT_EQ(value(facts, "apparmor.label_origin"), "inherited from the caller");
  h.write("sys/kernel/security/apparmor/policy/profiles/site-shell.3/attach",
          "/usr/local/bin/box*\n");
  facts = boxjail::collect_host_facts(roots);
  EXPECT_EQ(value(facts, "apparmor.label_origin"), "attached to boxjail");
}

TEST(DiagnoseRules, ProfileInheritedFromTheCaller) {
  FakeHost h;
  EvidenceRoots roots = confined(h, "site-shell (enforce)", "site-shell (enforce)");
  HostFacts facts = boxjail::collect_host_facts(roots);
  Diagnosis d = boxjail::diagnose(
      "userns", failure("write-uid-map", "write", EACCES, "/proc/self/uid_map"), facts);
  expect_known(d, "apparmor-profile-inherited");
  EXPECT_NE(d.cause.find("write access to /proc/PID/uid_map"), std::string::npos) << d.cause;
  ASSERT_FALSE(d.fixes.empty());
  EXPECT_NE(d.fixes[0].find("outside that profile"), std::string::npos) << d.fixes[0];
  EXPECT_NE(d.fixes[1].find("`/proc/[0-9]*/uid_map w,`"), std::string::npos) << d.fixes[1];
}

// The kernel's audit record of the attempt, matched by pid and time, is quoted and decides what
// was denied and the rule to add; records of other processes and older ones are ignored.
TEST(DiagnoseRules, AuditRecordOfTheAttempt) {
  FakeHost h;
  EvidenceRoots roots = confined(h, "boxjail-strict (enforce)", "unconfined");
  started_two_seconds_after_boot(h);  // records before 1.99 s are another attempt's
  const std::string mount_line =
      "apparmor=\"DENIED\" operation=\"mount\" class=\"mount\" info=\"failed mntpnt match\" "
      "error=-13 profile=\"boxjail-strict\" name=\"/\" pid=778 comm=\"boxjail\" "
      "flags=\"rw, rslave\"";
  h.write("kmsg",
          "5,10,1000000,-;audit: type=1400 audit(1.0:1): apparmor=\"DENIED\" operation=\"mount\" "
          "profile=\"boxjail-strict\" name=\"/old\" pid=778 comm=\"boxjail\" flags=\"rw\"\n"
          "5,11,2500000,-;audit: type=1400 audit(2.5:2): apparmor=\"DENIED\" operation=\"capable\" "
          "profile=\"other\" pid=999 comm=\"x\" capability=21  capname=\"sys_admin\"\n"
          "5,12,2600000,-;audit: type=1400 audit(2.6:3): " +
              mount_line +
              "\n"
              " SUBSYSTEM=ignored\n");
  roots.kmsg = h.path("kmsg");
  HostFacts facts = boxjail::collect_host_facts(roots);
  Error e = failure("make-root-rslave", "mount", EACCES, "/");
  e.evidence.emplace_back("pid.monitor", "777");
  e.evidence.emplace_back("pid.sandbox", "778");
  boxjail::add_audit_evidence(facts, e, roots);
  EXPECT_EQ(value(facts, "audit.apparmor"), mount_line);
  EXPECT_EQ(value(facts, "audit.rule"), "mount options=(rw,rslave) -> /,");
  Diagnosis d = boxjail::diagnose("userns", e, facts);
  expect_known(d, "apparmor-profile-attached");
  EXPECT_NE(d.cause.find("AppArmor denied mount of / (flags \"rw, rslave\")"), std::string::npos)
      << d.cause;
  EXPECT_NE(d.cause.find("The kernel's record of the denial is quoted below."), std::string::npos)
      << d.cause;
  EXPECT_NE(d.fixes[0].find("`mount options=(rw,rslave) -> /,`"), std::string::npos) << d.fixes[0];
}

// The host's facts plus the kernel log's account of a clone EPERM made by pid 777.
HostFacts audited_clone_failure(const EvidenceRoots& roots) {
  HostFacts facts = boxjail::collect_host_facts(roots);
  Error e = failure("clone-namespaces", "clone3", EPERM);
  e.evidence.emplace_back("pid.monitor", "777");
  boxjail::add_audit_evidence(facts, e, roots);
  return facts;
}

TEST(DiagnoseRules, AuditLogNotReadableIsSaid) {
  FakeHost h;
  ordinary_host(h);
  EvidenceRoots roots = h.roots();
  roots.kmsg = h.path("no-such-kmsg");
  roots.journalctl = h.path("no-such-journalctl");
  HostFacts facts = audited_clone_failure(roots);
  EXPECT_EQ(value(facts, "audit.log").rfind("not readable: " + roots.kmsg, 0), 0u)
      << value(facts, "audit.log");
  EXPECT_NE(value(facts, "audit.log").find("no journal reader"), std::string::npos)
      << value(facts, "audit.log");
  EXPECT_EQ(value(facts, "audit.apparmor"), "<absent>");
}

// Where /dev/kmsg is closed to the caller, the journal (`journalctl -k`, readable by members of
// adm and systemd-journal) is read instead, with its monotonic timestamps; a journal that shows
// nothing to this user is said with its own hint.
TEST(DiagnoseRules, AuditRecordFromTheJournal) {
  FakeHost h;
  EvidenceRoots roots = confined(h, "boxjail-strict (enforce)", "unconfined");
  started_two_seconds_after_boot(h);
  const std::string line =
      "apparmor=\"DENIED\" operation=\"capable\" class=\"cap\" profile=\"boxjail-strict\" "
      "pid=777 comm=\"boxjail\" capability=21  capname=\"sys_admin\"";
  h.write("journalctl",
          "#!/bin/sh\n"
          "echo '[    1.500000] vm kernel: audit: type=1400 audit(1.5:1): " +
              line +
              " capname=\"old\"'\n"
              "echo '[    2.100000] vm kernel: audit: type=1400 audit(2.1:2): " +
              line + "'\n");
  ASSERT_EQ(chmod(h.path("journalctl").c_str(), 0755), 0);
  roots.kmsg = h.path("no-such-kmsg");
  roots.journalctl = h.path("journalctl");
  HostFacts facts = audited_clone_failure(roots);
  EXPECT_EQ(value(facts, "audit.apparmor"), line);
  EXPECT_EQ(facts.find("audit.log")->source, roots.journalctl + " -k");
  EXPECT_EQ(value(facts, "audit.log"), "read, 1 AppArmor denial(s) of this attempt");

  h.write("journalctl",
          "#!/bin/sh\necho 'No journal files were opened due to insufficient permissions.' >&2\n");
  facts = audited_clone_failure(roots);
  EXPECT_NE(value(facts, "audit.log")
                .find("journalctl -k gave nothing: No journal files were opened due to "
                      "insufficient permissions."),
            std::string::npos)
      << value(facts, "audit.log");
}

TEST(DiagnoseRules, DebianCloneDisabled) {
  FakeHost h;
  debian_clone_disabled(h);
  Diagnosis d =
      boxjail::diagnose("userns", failure("clone-namespaces", "clone3", EPERM), h.facts());
  expect_known(d, "debian-userns-clone-disabled");
  EXPECT_NE(d.cause.find("kernel.unprivileged_userns_clone = 0"), std::string::npos) << d.cause;
}

// A fix already in effect is not printed: with the mode allowing the setuid rung and the helper
// installed setuid root, the Debian switch's cause offers only the sysctl; otherwise just what
// is missing.
TEST(DiagnoseRules, FixesAlreadyInEffectAreLeftOut) {
  FakeHost h;
  debian_clone_disabled(h);
  h.write("helper", "");
  const std::string helper = h.path("helper");
  ASSERT_EQ(chown(helper.c_str(), 0, 0), 0);
  ASSERT_EQ(chmod(helper.c_str(), 04755), 0);
  EvidenceRoots roots = h.roots();
  roots.setuid_helper = helper;
  auto with_mode = [&](const char* mode) {
    HostFacts facts = boxjail::collect_host_facts(roots);
    facts.facts.push_back({"ladder.mode", mode, "test"});
    return boxjail::diagnose("userns", failure("clone-namespaces", "clone3", EPERM), facts);
  };
  Diagnosis d = with_mode("auto");
  expect_known(d, "debian-userns-clone-disabled");
  ASSERT_EQ(d.fixes.size(), 1u) << d.fixes.back();
  EXPECT_NE(d.fixes[0].find("unprivileged_userns_clone=1"), std::string::npos);
  d = with_mode("userns");
  ASSERT_EQ(d.fixes.size(), 2u);
  EXPECT_NE(d.fixes[1].find("set `ladder.mode = \"auto\"`"), std::string::npos) << d.fixes[1];
  EXPECT_EQ(d.fixes[1].find("cmake --install"), std::string::npos) << d.fixes[1];
  ASSERT_EQ(chmod(helper.c_str(), 0755), 0);
  d = with_mode("auto");
  ASSERT_EQ(d.fixes.size(), 2u);
  EXPECT_NE(d.fixes[1].find("cmake --install"), std::string::npos) << d.fixes[1];
  EXPECT_EQ(d.fixes[1].find("ladder.mode"), std::string::npos) << d.fixes[1];
}

TEST(DiagnoseRules, MaxUserNamespacesZero) {
  FakeHost h;
  ordinary_host(h);
  h.write("proc/sys/user/max_user_namespaces", "0\n");
  Diagnosis d = boxjail::diagnose("", failure("clone-namespaces", "clone3", ENOSPC), h.facts());
  expect_known(d, "userns-limit-zero");
  EXPECT_NE(d.cause.find("user.max_user_namespaces = 0"), std::string::npos) << d.cause;
  EXPECT_NE(d.fixes[0].find("sysctl user.max_user_namespaces="), std::string::npos);
}

TEST(DiagnoseRules, OtherNamespaceLimitZeroIsNamed) {
  FakeHost h;
  ordinary_host(h);
  h.write("proc/sys/user/max_net_namespaces", "0\n");
  Diagnosis d = boxjail::diagnose("", failure("clone-namespaces", "clone3", ENOSPC), h.facts());
  expect_known(d, "namespace-limit-reached");
  EXPECT_NE(d.cause.find("user.max_net_namespaces = 0"), std::string::npos) << d.cause;
  EXPECT_TRUE(has_checked(d, "sysctl.user.max_net_namespaces = 0 (" +
                                 h.path("proc/sys/user/max_net_namespaces") + ")"));
}

TEST(DiagnoseRules, NamespaceLimitReachedWithoutAZero) {
  FakeHost h;
  ordinary_host(h);
  Diagnosis d = boxjail::diagnose("", failure("clone-namespaces", "clone3", ENOSPC), h.facts());
  expect_known(d, "namespace-limit-reached");
  EXPECT_NE(d.cause.find("No limit is 0"), std::string::npos) << d.cause;
}

TEST(DiagnoseRules, ContainerSeccompFilter) {
  FakeHost h;
  container_with_seccomp(h);
  Diagnosis d =
      boxjail::diagnose("userns", failure("clone-namespaces", "clone3", EPERM), h.facts());
  expect_known(d, "caller-seccomp");
  EXPECT_NE(d.cause.find("Seccomp: 2, 1 filter(s)"), std::string::npos) << d.cause;
  EXPECT_NE(d.cause.find("EPERM for clone3"), std::string::npos) << d.cause;
  EXPECT_NE(d.fixes[1].find("allows clone3"), std::string::npos) << d.fixes[1];
  // ENOSYS is what docker's profile answers for clone3.
  expect_known(boxjail::diagnose("", failure("clone-namespaces", "clone3", ENOSYS), h.facts()),
               "caller-seccomp");
}

TEST(DiagnoseRules, ContainerMaskedProc) {
  FakeHost h;
  container_with_seccomp(h);
  Diagnosis d =
      boxjail::diagnose("userns", failure("mount-proc", "fsmount", EPERM, "/proc"), h.facts());
  expect_known(d, "masked-proc");
  EXPECT_NE(d.cause.find("/proc/kcore"), std::string::npos) << d.cause;
  EXPECT_NE(d.fixes[0].find("--ro-bind /proc /proc"), std::string::npos);
}

TEST(DiagnoseRules, SelinuxEnforcing) {
  FakeHost h;
  selinux_enforcing(h);
  Diagnosis d =
      boxjail::diagnose("userns", failure("bind-mount", "move_mount", EACCES, "/usr"), h.facts());
  expect_known(d, "selinux-denial");
  EXPECT_NE(d.cause.find("selinux.mode = enforcing"), std::string::npos) << d.cause;
  EXPECT_NE(d.fixes[0].find("ausearch -m avc"), std::string::npos);
}

TEST(DiagnoseRules, KernelWithoutUserNamespaces) {
  FakeHost h;
  ordinary_host(h);
  h.remove("proc/self/ns/user");
  Diagnosis d =
      boxjail::diagnose("userns", failure("clone-namespaces", "clone3", EINVAL), h.facts());
  expect_known(d, "no-user-namespaces");
  EXPECT_NE(d.cause.find("CONFIG_USER_NS"), std::string::npos);
}

TEST(DiagnoseRules, MountMaxReached) {
  FakeHost h;
  ordinary_host(h);
  Diagnosis d =
      boxjail::diagnose("", failure("bind-mount", "move_mount", ENOSPC, "/home"), h.facts());
  expect_known(d, "mount-max-reached");
  EXPECT_NE(d.cause.find("fs.mount-max = 100000"), std::string::npos) << d.cause;
  // The limit is already bwrap's suggested 100000: the fix asks for more, not for what is set.
  ASSERT_FALSE(d.fixes.empty());
  EXPECT_EQ(d.fixes[0], "`sudo sysctl fs.mount-max=200000`.");
  h.write("proc/sys/fs/mount-max", "50000\n");
  d = boxjail::diagnose("", failure("bind-mount", "move_mount", ENOSPC, "/home"), h.facts());
  EXPECT_EQ(d.fixes[0], "`sudo sysctl fs.mount-max=100000`.");
}

TEST(DiagnoseRules, SetuidHelperFailures) {
  FakeHost h;
  ordinary_host(h);
  HostFacts f = h.facts();
  Error missing = failure("helper-exec", "execve", ENOENT, "/usr/libexec/boxjail/boxjail-suid");
  missing.rung = "setuid";
  Diagnosis d = boxjail::diagnose("setuid", missing, f);
  expect_known(d, "helper-missing");
  EXPECT_NE(d.cause.find("/usr/libexec/boxjail/boxjail-suid"), std::string::npos) << d.cause;

  Error denied = failure("helper-exec", "execve", EACCES, "/opt/boxjail-suid");
  expect_known(boxjail::diagnose("setuid", denied, f), "helper-exec-denied");

  const std::vector<std::pair<std::string, std::string>> refusals = {
      {"no-new-privs", "helper-no-new-privs"}, {"not-setuid", "helper-not-setuid"},
      {"writable", "helper-writable"},         {"nosuid", "helper-nosuid"},
      {"missing", "helper-missing"},
  };
  for (const auto& [refusal, rule] : refusals) {
    Error e = boxjail::make_error("helper-check", "the setuid helper refused to run");
    e.path = "/opt/boxjail-suid";
    e.evidence = {{"helper.refusal", refusal}};
    Diagnosis r = boxjail::diagnose("setuid", e, f);
    expect_known(r, rule);
    EXPECT_TRUE(has_checked(r, "helper.refusal = " + refusal + " (child)") ||
                rule == "helper-missing")
        << ::testing::PrintToString(r.checked);
  }
  Error nnp = boxjail::make_error("helper-check", "refused");
  nnp.evidence = {{"helper.refusal", "no-new-privs"}};
  EXPECT_NE(boxjail::diagnose("setuid", nnp, f).cause.find("self.no_new_privs = 0"),
            std::string::npos);
}

// --- no guessing ------------------------------------------------------------------------------

TEST(DiagnoseUnknown, EaccesAtMountWithoutAppArmorFacts) {
  FakeHost h;
  ordinary_host(h);
  Diagnosis d =
      boxjail::diagnose("userns", failure("make-root-rslave", "mount", EACCES, "/"), h.facts());
  EXPECT_FALSE(d.known);
  EXPECT_EQ(d.rule, "unknown");
  EXPECT_EQ(d.cause.rfind("unknown cause", 0), 0u) << d.cause;
  EXPECT_NE(d.cause.find("make-root-rslave"), std::string::npos);
  EXPECT_FALSE(d.checked.empty());
  EXPECT_TRUE(has_checked(d, "self.seccomp = 0 (" + h.path("proc/self/status") + ")"))
      << ::testing::PrintToString(d.checked);
  EXPECT_TRUE(has_checked(d, "apparmor.label_in_userns = (not recorded)"));
}

TEST(DiagnoseUnknown, CloneEpermOnAnOrdinaryHost) {
  FakeHost h;
  ordinary_host(h);
  h.write("proc/sys/kernel/unprivileged_userns_clone", "1\n");
  Diagnosis d =
      boxjail::diagnose("userns", failure("clone-namespaces", "clone3", EPERM), h.facts());
  EXPECT_FALSE(d.known) << d.rule;
  EXPECT_EQ(d.rule, "unknown");
  EXPECT_TRUE(has_checked(d, "sysctl.kernel.unprivileged_userns_clone = 1 (" +
                                 h.path("proc/sys/kernel/unprivileged_userns_clone") + ")"));
}

TEST(DiagnoseUnknown, ProfileWithUsernsRuleIsNotBlamed) {
  FakeHost h;
  ubuntu_with_profile(h);
  Diagnosis d =
      boxjail::diagnose("userns", failure("mount-proc", "fsmount", EACCES, "/proc"), h.facts());
  EXPECT_EQ(d.rule, "unknown") << d.cause;
}

TEST(DiagnoseUnknown, RootRungIsNotRestricted) {
  FakeHost h;
  ubuntu_restricted(h);
  Error e = failure("make-root-rslave", "mount", EACCES, "/");
  e.rung = "root";
  EXPECT_EQ(boxjail::diagnose("root", e, h.facts()).rule, "unknown");
}

TEST(DiagnoseUnknown, PlainFileStepIsNotBlamedOnAppArmor) {
  FakeHost h;
  ubuntu_restricted(h);
  Error e = failure("write-file", "openat2", EACCES, "/etc/passwd");
  e.evidence = {{"apparmor.label_in_userns", "unprivileged_userns (enforce)"}};
  EXPECT_EQ(boxjail::diagnose("userns", e, h.facts()).rule, "unknown");
}

TEST(DiagnoseUnknown, DebianSwitchDoesNotExplainOtherErrnos) {
  FakeHost h;
  debian_clone_disabled(h);
  EXPECT_EQ(
      boxjail::diagnose("userns", failure("clone-namespaces", "clone3", EINVAL), h.facts()).rule,
      "unknown");
}

// --- the table itself -------------------------------------------------------------------------

TEST(DiagnoseTable, IdsAreUniqueAndDocumented) {
  const auto ids = boxjail::diagnosis_rule_ids();
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
  const std::string doc = boxjail::test::read_file(BOXJAIL_SOURCE_DIR "/docs/troubleshooting.md");
  ASSERT_FALSE(doc.empty());
  for (const auto& id : ids) {
    EXPECT_NE(doc.find("### `" + id + "`"), std::string::npos) << id << " has no section";
  }
  // And no section for a rule that no longer exists.
  std::regex heading(R"(\n### `([a-z0-9-]+)`)");
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), heading);
       it != std::sregex_iterator(); ++it) {
    const std::string id = (*it)[1];
    EXPECT_TRUE(id == "unknown" || std::find(ids.begin(), ids.end(), id) != ids.end())
        << "docs/troubleshooting.md documents a rule the table lacks: " << id;
  }
}

TEST(DiagnoseTable, FactsTheRulesUseAreDocumented) {
  const std::string doc = boxjail::test::read_file(BOXJAIL_SOURCE_DIR "/docs/troubleshooting.md");
  std::set<std::string> names;
  for (const auto& rule : boxjail::diag::rule_table()) {
    for (const auto* conds : {&rule.all, &rule.any}) {
      for (const auto& c : *conds) names.emplace(c.fact);
    }
    std::vector<std::string_view> keys = boxjail::diag::template_keys(rule.cause);
    for (auto fix : rule.fixes) {
      auto more = boxjail::diag::template_keys(fix);
      keys.insert(keys.end(), more.begin(), more.end());
    }
    for (auto k : keys) {
      if (k.find('.') != std::string_view::npos) names.emplace(k);
    }
  }
  for (const auto& name : names) {
    if (name.starts_with("error.")) continue;
    EXPECT_NE(doc.find("`" + name + "`"), std::string::npos) << name << " is not documented";
  }
}

TEST(DiagnoseTable, StepsAreKnownAndEveryRuleHasFixes) {
  std::set<std::string_view> known = {"helper-check", "helper-exec"};
  for (const auto& info : boxjail::step::kOrder) known.insert(info.name);
  for (auto step : boxjail::diag::rule_step_names()) {
    EXPECT_TRUE(known.count(step)) << "unknown step in the rule table: " << step;
  }
  for (const auto& rule : boxjail::diag::rule_table()) {
    EXPECT_FALSE(rule.fixes.empty()) << rule.id;
    EXPECT_FALSE(rule.cause.empty()) << rule.id;
    for (auto name : rule.steps) {
      EXPECT_TRUE(known.count(name) || boxjail::diag::step_group(name).has_value())
          << rule.id << ": " << name;
    }
  }
}

TEST(DiagnoseProfile, GrantsUsernsToThePath) {
  const std::string p = boxjail::apparmor_profile("/usr/local/bin/boxjail");
  EXPECT_NE(p.find("  userns,\n"), std::string::npos);
  EXPECT_NE(p.find("abi <abi/4.0>,"), std::string::npos);
  EXPECT_NE(p.find("profile boxjail /usr/local/bin/boxjail flags=(unconfined) {"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("include if exists <local/boxjail>"), std::string::npos);
  EXPECT_NE(p.find("apparmor_parser -r"), std::string::npos);
  // Blanks are quoted and glob characters escaped: the profile attaches to this file only.
  const std::string q = boxjail::apparmor_profile("/opt/my tools/box*jail");
  EXPECT_NE(q.find("profile boxjail \"/opt/my tools/box\\*jail\" flags"), std::string::npos) << q;
}

}  // namespace

// ENOSYS from a call of a newer kernel, with no filter on the caller: the kernel lacks the call,
// and the report says which release brought it. With a filter, the filter is the suspect.
TEST(DiagnoseRules, KernelWithoutTheCallIsNamed) {
  FakeHost h;
  ordinary_host(h);
  h.write("proc/sys/kernel/osrelease", "5.4.0-200-generic\n");
  Diagnosis d = boxjail::diagnose(
      "", failure("detach-old-root", "mount_setattr(MS_PRIVATE, AT_RECURSIVE)", ENOSYS), h.facts());
  expect_known(d, "kernel-lacks-syscall");
  EXPECT_NE(d.cause.find("This kernel (5.4.0-200-generic) has no "
                         "mount_setattr(MS_PRIVATE, AT_RECURSIVE): the call came with Linux 5.12"),
            std::string::npos)
      << d.cause;
  EXPECT_NE(d.fixes[0].find("Linux 5.12 or later"), std::string::npos) << d.fixes[0];
  // A call the table does not know, or one under a filter: not this rule.
  EXPECT_NE(boxjail::diagnose("", failure("bind-mount", "mount", ENOSYS), h.facts()).rule,
            "kernel-lacks-syscall");
  FakeHost filtered;
  container_with_seccomp(filtered);
  expect_known(
      boxjail::diagnose("", failure("clone-namespaces", "clone3", ENOSYS), filtered.facts()),
      "caller-seccomp");
}
