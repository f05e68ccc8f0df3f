#!/usr/bin/env bash
# Installs the build BUILD_DIR into a fresh temporary prefix and builds and runs the library
# examples (docs/examples) against that installation only: spawn.c through pkg-config, spawn.cpp
# and spawn.c through the CMake package. Run as root (the install chowns the setuid helper); the
# C example also runs as nobody (uid 65534), in a user namespace of its own. One line per check;
# exits non-zero on the first failure. Nothing is left behind.
#
#   bash scripts/check-examples.sh BUILD_DIR
set -euo pipefail

if (($# != 1)); then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
if ((EUID != 0)); then
  echo "check-examples: must run as root (the install chowns the setuid helper)" >&2
  exit 2
fi

tmp=$(mktemp -d /tmp/boxjail-examples.XXXXXX)
trap 'rm -rf -- "$tmp"' EXIT
prefix=$tmp/prefix

# shellcheck source=scripts/check-lib.sh
source "$src/scripts/check-lib.sh"

check "install $build into a fresh prefix" cmake --install "$build" --prefix "$prefix"

# What was installed: the library, the headers, the pkg-config and CMake files.
pcfile=$(find "$prefix" -path '*/pkgconfig/boxjail.pc' -print -quit)
[[ -n $pcfile ]] || fail "boxjail.pc installed"
configfile=$(find "$prefix" -path '*/cmake/boxjail/boxjailConfig.cmake' -print -quit)
[[ -n $configfile ]] || fail "boxjailConfig.cmake installed"
libfile=$(find "$prefix" -name libboxjail.a -print -quit)
[[ -n $libfile ]] || fail "libboxjail.a installed"
for h in boxjail.h jail.hpp spec_json.hpp error.hpp; do
  [[ -f $prefix/include/boxjail/$h ]] || fail "include/boxjail/$h installed"
done
pass "installed: ${libfile#"$prefix"/}, ${pcfile#"$prefix"/}, ${configfile#"$prefix"/}, headers"

# spawn.c through pkg-config, the installed prefix only.
pc() { PKG_CONFIG_PATH=$(dirname "$pcfile") pkg-config "$@" boxjail; }
flags=$(pc --cflags --libs --static) || fail "pkg-config --cflags --libs --static boxjail"
[[ $(pc --variable=prefix) == "$prefix" ]] || fail "boxjail.pc's prefix is the install prefix"
pass "pkg-config: ${flags% }"
# shellcheck disable=SC2086 # the flags are words
check "cc spawn.c (pkg-config, C99, -Werror)" \
  cc -std=c99 -Wall -Wextra -pedantic -Werror -o "$tmp/spawn_c" "$src/docs/examples/spawn.c" $flags

# spawn.cpp (and spawn.c) through the CMake package.
check "cmake configure docs/examples (find_package(boxjail))" \
  cmake -S "$src/docs/examples" -B "$tmp/ex" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS=-Werror -DCMAKE_CXX_FLAGS=-Werror
check "cmake build spawn_cpp and spawn_c" cmake --build "$tmp/ex"

check "run spawn.c (pkg-config build) as root" "$tmp/spawn_c"
check "run spawn_cpp (CMake build) as root" "$tmp/ex/spawn_cpp"
check "run spawn_c (CMake build) as root" "$tmp/ex/spawn_c"

# As nobody, from a directory nobody can reach (mktemp's is 0700 and root's).
run_dir=$(mktemp -d /tmp/boxjail-examples-run.XXXXXX)
trap 'rm -rf -- "$tmp" "$run_dir"' EXIT
chmod 755 "$run_dir"
install -m 755 "$tmp/spawn_c" "$run_dir/spawn_c"
check "run spawn.c as uid 65534 (user namespace)" \
  setpriv --reuid 65534 --regid 65534 --clear-groups "$run_dir/spawn_c"

# The C API's refusals, as seen by a C program.
# shellcheck disable=SC2016 # expanded by the inner shell
check "spawn.c with a bad spec fails with step parse-spec" \
  bash -c '! out=$("$1" "{\"version\":\"boxjail.spec/v1\",\"command\":[\"true\"],\"nope\":1}" 2>&1) &&
           grep -q "\"step\":\"parse-spec\"" <<<"$out" && printf "%s\n" "$out"' _ "$tmp/spawn_c"

echo "check-examples: all checks passed"
