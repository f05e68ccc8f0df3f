#!/usr/bin/env bash
# Installs boxjail's build and test dependencies from Debian 12's own packages, plus any
# packages named as arguments (bench/run.sh adds what only the benchmarks need).
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkg-config
      libboost-dev libseccomp-dev libcap-ng-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
      libtomlplusplus-dev libgtest-dev
      bubblewrap iproute2 util-linux procps
      uidmap  # newuidmap/newgidmap: --uid-range and --gid-range
      python3 python3-jsonschema  # scripts/check-spec-docs.py: docs/spec.md against its schemas
      scdoc man-db groff-base  # the man pages (docs/man), and `man --warnings` on them
      lintian file  # scripts/check-package.sh: the .deb
      bash-completion zsh  # tests/completion_test.cpp: the completions in real shells
      clang libclang-rt-14-dev  # scripts/fuzz.sh: libFuzzer and the sanitizers' runtimes
      clang-format clang-tidy cppcheck  # scripts/lint.sh
      qemu-system-x86 xz-utils zstd "$@")  # the VM stage (tests/vm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
