// SPDX-License-Identifier: Apache-2.0
#include "engine/seccomp_fd.hpp"

#include "sys/read_all.hpp"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>

namespace boxjail {

result<std::string> read_seccomp_program(int fd) {
  std::string data;
  const int err = sys::read_all(fd, data);
  close(fd);
  if (err != 0) {
    return sys_error("seccomp", "read", "fd " + std::to_string(fd), err, "Can't read seccomp data");
  }
  if (data.size() % 8 != 0)
    return make_error("seccomp", "Invalid seccomp data, must be multiple of 8");
  return data;
}

result<void> install_seccomp_programs(const std::vector<std::string>& programs) {
  for (const auto& p : programs) {
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(p.size() / 8);
    prog.filter = reinterpret_cast<sock_filter*>(const_cast<char*>(p.data()));
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
      Error e = sys_error("seccomp", "prctl(PR_SET_SECCOMP)", "", errno, "prctl(PR_SET_SECCOMP)");
      if (e.err == EINVAL) {
        e.evidence.emplace_back(kBwrapWording,
                                "Unable to set up system call filtering as requested: "
                                "prctl(PR_SET_SECCOMP) reported EINVAL. (Hint: this requires a "
                                "kernel configured with CONFIG_SECCOMP and "
                                "CONFIG_SECCOMP_FILTER.)");
      }
      return e;
    }
  }
  return boost::outcome_v2::success();
}

}  // namespace boxjail
