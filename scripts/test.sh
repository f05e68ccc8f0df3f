#!/usr/bin/env bash
# Installs the dependencies, builds boxjail (release, -Werror), runs every test with ctest, then
# the VM stage: Debian's own kernels under qemu with real AppArmor policy (tests/vm/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake --preset release -DBOXJAIL_BUILD_TESTS=ON >/dev/null
cmake --build --preset release
ctest --preset release -j2
bash tests/vm/run-stage.sh --build build/release
