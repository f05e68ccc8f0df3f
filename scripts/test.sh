#!/usr/bin/env bash
# Installs the dependencies, builds boxjail (release, -Werror) and runs every test with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake --preset release -DBOXJAIL_BUILD_TESTS=ON >/dev/null
cmake --build --preset release
ctest --preset release -j2
