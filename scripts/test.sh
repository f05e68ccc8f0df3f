#!/usr/bin/env bash
# Installs the dependencies, builds boxjail (release, -Werror), runs the static checks
# (scripts/lint.sh), runs every test with ctest,
# builds and runs the library examples against an installed copy (scripts/check-examples.sh),
# checks docs/spec.md and real reports against the JSON Schemas (scripts/check-spec-docs.py),
# builds the Debian package and checks it (scripts/package.sh, scripts/check-package.sh),
# then the VM stage: Debian's own kernels under qemu with real AppArmor policy (tests/vm/README.md),
# then the fuzzing stage (scripts/fuzz.sh: each libFuzzer harness for a minute),
# then every test again in the ASan+UBSan build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake --preset release -DBOXJAIL_BUILD_TESTS=ON >/dev/null
cmake --build --preset release
# clang-format, cppcheck and clang-tidy, zero findings (scripts/lint.sh, .clang-tidy).
bash scripts/lint.sh build/release
ctest --preset release -j2
# The library as installed: the examples built against a fresh prefix (docs/examples).
bash scripts/check-examples.sh build/release
# docs/spec.md's examples against the JSON Schemas, and real report streams against them.
/usr/bin/python3 scripts/check-spec-docs.py --boxjail build/release/boxjail
# The Debian package: its build (prefix /usr), its tree, lintian, and apt install/purge in a
# throw-away root (scripts/check-package.sh).
bash scripts/package.sh
bash scripts/check-package.sh build/package build/release/boxjail
bash tests/vm/run-stage.sh --build build/release
# Every parser of untrusted input fuzzed for a minute under ASan + UBSan (tests/fuzz).
bash scripts/fuzz.sh 60
# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer (the dev preset).
cmake --preset dev >/dev/null
cmake --build --preset dev
ctest --preset dev -j2
