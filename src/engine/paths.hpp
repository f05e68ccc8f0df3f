// SPDX-License-Identifier: Apache-2.0
// Symlink-safe path resolution inside the new root. Every destination of a filesystem operation
// is reached through a directory fd of the new root with openat2(RESOLVE_IN_ROOT): absolute
// symlinks and ".." are clamped to that root, so nothing we create or mount can land on the host
// through a symlink planted in the sandbox tree (bwrap's CVE-2026-87766 class). Kernels without
// openat2 (< 5.6) get a component-by-component O_PATH|O_NOFOLLOW walk with the same semantics.
#pragma once

#include <boxjail/error.hpp>

#include <sys/types.h>

#include <string>
#include <string_view>

#include "sys/fd.hpp"

namespace boxjail {

// Which resolver to use; the walk exists for old kernels and is forced by tests.
enum class Resolver { Auto, Openat2, Walk };

struct RootDir {
  int fd = -1;          // O_PATH directory fd of the root
  std::string display;  // how paths are shown in messages ("" = as in the sandbox)
  Resolver resolver = Resolver::Auto;
};

// Opens `path` (relative to the root, a leading "/" is ignored) following symlinks inside the
// root. `flags` are open flags (O_PATH, O_DIRECTORY...). Returns -errno on failure.
int open_in_root(const RootDir& root, std::string_view path, int flags);

// Creates every missing directory of `path` (the last one with `mode`, parents with
// `parent_mode`) and returns an O_PATH fd of it.
result<UniqueFd> ensure_dir(const RootDir& root, std::string_view path, mode_t mode,
                            mode_t parent_mode, std::string_view step);

// Returns an O_PATH fd of `path`, creating an empty regular file with `mode` if nothing is there
// (the mount point of a non-directory bind). An existing symlink that points nowhere is an error,
// never followed to create its target.
result<UniqueFd> ensure_file(const RootDir& root, std::string_view path, mode_t mode,
                             mode_t parent_mode, std::string_view step);

// Resolves the parent directory of `path`, creating it, and returns it with the last component.
struct ParentRef {
  UniqueFd dir;
  std::string name;
};
result<ParentRef> ensure_parent(const RootDir& root, std::string_view path, mode_t parent_mode,
                                std::string_view step);

// Lexical clean-up: collapses "//" and "/./", drops a trailing "/"; keeps "..", which the
// resolver clamps to the root.
std::string normalize(std::string_view path);

// A sandbox path as a mount error names it: "/newroot" + the path, the sandbox's root during
// setup, as sources are shown under "/oldroot" (bwrap's own wording, which callers match).
std::string newroot_path(std::string_view path);

}  // namespace boxjail
