// SPDX-License-Identifier: Apache-2.0
// Starts a jail through boxjail's C++ API and waits for it: `sh -c 'exit 7'` with the host's /
// read-only, a new /proc and /dev, in a new pid namespace. Exits 0 when the jail's exit status is
// 7. Build with CMake (CMakeLists.txt here, README.md).
#include <boxjail/jail.hpp>

#include <cstdio>
#include <string>

namespace {

boxjail::MountOp op(boxjail::OpKind kind, std::string dest, std::string source = {}) {
  boxjail::MountOp m;
  m.kind = kind;
  m.dest = std::move(dest);
  m.source = std::move(source);
  return m;
}

void report(const char* what, const boxjail::Error& e) {
  // error_to_json(e) gives the same as one JSON object.
  std::fprintf(stderr, "spawn: %s failed: %s\n", what,
               boxjail::format_error_line("spawn", e).c_str());
}

}  // namespace

int main() {
  boxjail::Spec spec;
  spec.command = {"sh", "-c", "exit 7"};
  spec.env = {"PATH=/usr/bin:/bin"};  // the complete environment: nothing of ours is passed on
  spec.unshare_pid = true;
  boxjail::MountOp root = op(boxjail::OpKind::Bind, "/", "/");
  root.readonly = true;
  spec.ops = {root, op(boxjail::OpKind::Proc, "/proc"), op(boxjail::OpKind::Dev, "/dev")};

  // The process must be single-threaded and must not ignore SIGCHLD (boxjail/jail.hpp).
  auto jail = boxjail::spawn(spec);
  if (!jail) {
    report("boxjail::spawn", jail.error());
    return 1;
  }
  std::printf("jail started: command pid %ld, sandbox pid %ld\n",
              static_cast<long>(jail.value().pid()), static_cast<long>(jail.value().sandbox_pid()));
  auto status = jail.value().wait();
  if (!status) {
    report("wait", status.error());
    return 1;
  }
  std::printf("jail exited with status %d\n", status.value());
  if (status.value() != 7) {
    std::fprintf(stderr, "spawn: expected exit status 7, got %d\n", status.value());
    return 1;
  }
  return 0;
}
