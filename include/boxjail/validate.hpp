// SPDX-License-Identifier: Apache-2.0
// One place that decides what a Spec may ask for, given who runs it. Every front end's Spec goes
// through here before the engine sees it.
#pragma once

#include <boxjail/error.hpp>
#include <boxjail/spec.hpp>

#include <sys/types.h>

namespace boxjail {

struct Caller {
  uid_t uid = 0;  // real ids of the process that asked for the jail
  gid_t gid = 0;
  // The jail is set up by the setuid-root helper on this caller's behalf: no user namespace is
  // implied (the helper has the privilege itself), and the stricter setuid rules apply.
  bool via_setuid_helper = false;
  bool is_root() const { return uid == 0; }
};

Caller current_caller();

// Applies bwrap's implications (an unprivileged caller implies --unshare-user; --unshare-user-try
// and --unshare-cgroup-try become real requests or nothing) and checks bwrap's post-parse rules
// (§1.5), with bwrap's wording. Returns the resolved Spec.
result<Spec> resolve_spec(Spec spec, const Caller& caller);

// The setuid helper's own rules, checked by the helper itself on a resolved Spec: it refuses
// everything the caller could not have done with an unprivileged user namespace (bwrap's
// SECURITY.md rule), and what it cannot do safely as root on the caller's behalf. Error::step is
// "setuid-policy".
result<void> check_setuid_spec(const Spec& spec, const Caller& caller);

}  // namespace boxjail
