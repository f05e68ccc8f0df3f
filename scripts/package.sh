#!/usr/bin/env bash
# Builds the Debian package: the `package` preset (release, installed to /usr, no tests), then
# `cpack -G DEB`. Prints the .deb's path. Run as root (the package's files are owned by root and
# the helper is setuid root); scripts/deps.sh installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset package >/dev/null
cmake --build --preset package
(cd build/package && cpack -G DEB >/dev/null)
ls build/package/boxjail_*.deb
