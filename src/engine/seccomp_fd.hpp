// SPDX-License-Identifier: Apache-2.0
// bwrap's --seccomp FD and --add-seccomp-fd FD: raw cBPF programs handed over on fds, installed
// as the very last step before execve (a filter installed earlier would have to allow setup).
#pragma once

#include <boxjail/error.hpp>

#include <string>
#include <vector>

namespace boxjail {

// Reads a whole BPF program from fd (closing it); its size must be a multiple of 8 bytes.
result<std::string> read_seccomp_program(int fd);

// Installs the programs in order. NO_NEW_PRIVS must already be set.
result<void> install_seccomp_programs(const std::vector<std::string>& programs);

}  // namespace boxjail
