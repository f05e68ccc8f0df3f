// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

namespace boxjail::cli {

// `boxjail doctor [--json] [--config PATH] [--apparmor-profile]`: walks every rung the config
// allows with a probe jail that does what a real one does (user namespace, setgroups, both maps,
// mount namespace, tmpfs, pivot_root, proc, devpts, hostname, loopback), never a bare unshare()
// (which succeeds on Ubuntu 24.04 where the first mount then fails). Exit 0 when the configured
// ladder can run jails, 2 when it cannot, 1 for a usage or config error.
int doctor_main(const std::vector<std::string>& args);

}  // namespace boxjail::cli
