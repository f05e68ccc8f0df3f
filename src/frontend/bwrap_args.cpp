// SPDX-License-Identifier: Apache-2.0
// The bwrap-compatible command line parser. One table, kOptions, drives parsing, --help, the
// shell completions and option_names(), so they cannot drift apart. Behaviour and wording follow
// bubblewrap 0.11.1's parse_args_recurse(); comments mark the quirks kept on purpose, because
// callers written against bwrap observe them.
#include <boxjail/bwrap_args.hpp>
#include <boxjail/cgroup_limits.hpp>
#include <boxjail/id_ranges.hpp>
#include <boxjail/rlimits.hpp>

#include "engine/host_ids.hpp"
#include "engine/log.hpp"
#include "sys/kernel_features.hpp"

#include <cap-ng.h>
#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boxjail {
namespace {

using Status = result<void>;
using Operands = std::span<const std::string>;

Status ok() { return boost::outcome_v2::success(); }

constexpr std::string_view kStep = "parse-args";

// bwrap's hardening cap on the argument count, --args contents included.
constexpr std::size_t kMaxArgs = 9000;

// bwrap's MAX_TMPFS_BYTES: --size above SIZE_MAX / 2 is refused.
constexpr std::uint64_t kMaxTmpfsBytes = SIZE_MAX >> 1;

constexpr std::string_view kOverlaySrcDangling =
    "--overlay-src must be followed by another --overlay-src or one of --overlay, --tmp-overlay, "
    "or --ro-overlay";

// What repeating an option does (the Rep column of the reference).
enum class Repeat : std::uint8_t {
  Idempotent,  // I: setting a flag twice is setting it once
  LastWins,    // W: "Only the last --X option will take effect"
  Once,        // E: "--X used multiple times"
  PerAction,   // E for a modifier: its handler refuses two before the same action
  Accumulate,  // A: each occurrence is one more ordered request
  Terminal,    // --help, --version: parsing ends here
};

// How an option interacts with its neighbours.
enum OptionFlags : unsigned {
  kPlain = 0,
  kModifier = 1U << 0,         // --perms, --size: modify the option that follows
  kOverlayLayer = 1U << 1,     // --overlay-src: must be followed by a layer or an overlay
  kCommandLineOnly = 1U << 2,  // --args: refused inside an --args file
};

// All mutable parse state. bwrap keeps these in globals; here they live for one call.
struct Parser {
  Invocation inv;
  std::vector<std::string> env;  // the edited copy of the caller's environment
  std::optional<unsigned> next_perms;
  std::optional<std::uint64_t> next_size;
  std::vector<std::string> next_overlay_srcs;
  std::vector<gid_t> supplementary_groups;  // --supplementary-group, for --host-user
  std::vector<bool> seen;                   // per kOptions entry: given before (for W and E rules)
  std::size_t total_args = 0;
  bool in_file = false;  // parsing the contents of an --args file

  Spec& spec() { return inv.spec; }

  // Errors and warnings carry --level-prefix only from the point where it was parsed.
  Error fail(std::string message) const {
    Error e = make_error(std::string(kStep), std::move(message));
    e.level_prefix = inv.spec.level_prefix;
    return e;
  }
  void warn(std::string text) { inv.warnings.push_back({std::move(text), inv.spec.level_prefix}); }
};

using Handler = Status (*)(Parser&, Operands);

struct Option {
  std::string_view name;
  std::string_view metavar;  // operand names for --help; their count is the option's arity
  Repeat repeat;
  Handler handle;
  std::string_view help;  // '\n' continues the description on an aligned second line
  unsigned flags = kPlain;
  std::string_view missing_operand = {};  // bwrap's wording where it is not the usual one
};

// ---- Value parsers -------------------------------------------------------------------------

// --perms and --chmod: strtoul base 8, whole string, at most 07777.
std::optional<unsigned> parse_mode(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const unsigned long value = std::strtoul(text.c_str(), &end, 8);
  if (*end != '\0' || value > 07777) return std::nullopt;
  return static_cast<unsigned>(value);
}

// ---- Environment editing -------------------------------------------------------------------
// bwrap edits its own environment with setenv/unsetenv/clearenv at parse time; we edit a copy
// with glibc's semantics so the final list is what the command would have inherited.

bool env_entry_is(const std::string& entry, const std::string& name) {
  return entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 &&
         entry[name.size()] == '=';
}

// glibc refuses an empty name or one containing '=' with EINVAL.
bool valid_env_name(const std::string& name) {
  return !name.empty() && name.find('=') == std::string::npos;
}

void env_set(std::vector<std::string>& env, const std::string& name, const std::string& value) {
  // setenv(…, 1) overwrites the first entry for NAME in place, keeping the order.
  for (std::string& entry : env) {
    if (env_entry_is(entry, name)) {
      entry = name + "=" + value;
      return;
    }
  }
  env.push_back(name + "=" + value);
}

void env_unset(std::vector<std::string>& env, const std::string& name) {
  std::erase_if(env, [&](const std::string& entry) { return env_entry_is(entry, name); });
}

// ---- --args files --------------------------------------------------------------------------

// --args data is bounded (bwrap's is not): 9000 arguments (bwrap's own cap) of any sensible
// length fit well below it, and `--args 3 3</dev/zero` can no longer grow the process (or the
// setuid helper) until the allocator throws or the OOM killer acts.
constexpr std::size_t kMaxArgsData = 16 << 20;

// bwrap's load_file_data: read to EOF; a read failure is "Can't read --args data: <strerror>".
result<std::string> read_to_end(int fd, bool level_prefix) {
  std::string data;
  std::array<char, 16384> buf{};
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n == 0) return data;
    if (n > 0 && data.size() + static_cast<std::size_t>(n) > kMaxArgsData) {
      Error e = sys_error(std::string(kStep), "read", "", EFBIG,
                          "Can't read --args data: more than 16 MiB");
      e.level_prefix = level_prefix;
      return e;
    }
    if (n > 0) {
      data.append(buf.data(), static_cast<std::size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    Error e = sys_error(std::string(kStep), "read", "", errno, "Can't read --args data");
    e.level_prefix = level_prefix;
    return e;
  }
}

// NUL-separated; the final NUL is optional and an empty string between NULs is an argument.
std::size_t count_nul_separated(const std::string& data) {
  if (data.empty()) return 0;
  const auto nuls = static_cast<std::size_t>(std::count(data.begin(), data.end(), '\0'));
  return data.back() == '\0' ? nuls : nuls + 1;
}

std::vector<std::string> split_nul_separated(const std::string& data) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < data.size()) {
    const std::size_t nul = data.find('\0', pos);
    if (nul == std::string::npos) {
      out.push_back(data.substr(pos));
      break;
    }
    out.push_back(data.substr(pos, nul - pos));
    pos = nul + 1;
  }
  return out;
}

result<std::size_t> parse_options(Parser& p, Operands args);

// ---- Handlers: general ---------------------------------------------------------------------

Status on_help(Parser& p, Operands) {
  p.inv.action = Action::Help;
  return ok();
}

Status on_version(Parser& p, Operands) {
  p.inv.action = Action::Version;
  return ok();
}

Status on_args(Parser& p, Operands a) {
  const auto fd = parse_nonnegative_int(a[0]);
  if (!fd) return p.fail("Invalid fd: " + a[0]);
  // Spelled out rather than BOOST_OUTCOME_TRY(var, …), whose syntax changed across Boost releases.
  auto read = read_to_end(*fd, p.spec().level_prefix);
  if (!read) return read.error();
  const std::string& data = read.value();
  ::close(*fd);
  p.total_args += count_nul_separated(data);
  if (p.total_args > kMaxArgs) {
    return p.fail("Exceeded maximum number of arguments " + std::to_string(kMaxArgs));
  }
  const std::vector<std::string> file_args = split_nul_separated(data);
  // A non-option (or "--") in the file ends that file and the rest of it is dropped, so
  // COMMAND never comes from an --args file: bwrap ignores where the nested parse stopped.
  p.in_file = true;
  auto parsed = parse_options(p, file_args);
  p.in_file = false;
  if (!parsed) return parsed.error();
  return ok();
}

Status on_log_level(Parser& p, Operands args) {
  log::Level level;
  if (!log::parse_level(args[0], &level)) {
    return p.fail("Invalid --log-level " + args[0] + " (trace, debug, info, warn, error, off)");
  }
  p.inv.log_level = args[0];
  return ok();
}

Status on_seccomp_policy(Parser& p, Operands args) {
  if (args[0].empty()) return p.fail("--seccomp-policy needs a policy name or path");
  p.spec().seccomp_policy = args[0];
  return ok();
}

Status on_config(Parser& p, Operands args) {
  if (args[0].empty()) return p.fail("--config needs a path");
  p.inv.config_path = args[0];
  return ok();
}

Status on_report_fd(Parser& p, Operands a) {
  const auto fd = parse_nonnegative_int(a[0]);
  if (!fd) return p.fail("Invalid fd: " + a[0]);
  p.inv.report_fd = *fd;
  return ok();
}

Status on_pid_file(Parser& p, Operands args) {
  if (args[0].empty()) return p.fail("--pid-file needs a path");
  p.spec().pid_file = args[0];
  return ok();
}

// --rlimit NAME=SOFT[:HARD]: the last one of a resource wins, as with setrlimit called in order.
Status on_rlimit(Parser& p, Operands a) {
  std::string why;
  const auto r = parse_rlimit(a[0], &why);
  if (!r) return p.fail(why);
  set_rlimit(p.spec().rlimits, *r);
  return ok();
}

// --host-user USER|UID[:GID] and --supplementary-group GROUP|GID: resolved here, from the host's
// files, so that a spec carries numbers only.
Status on_host_user(Parser& p, Operands a) {
  std::string why;
  const auto ids = resolve_host_user(a[0], &why);
  if (!ids) return p.fail(why);
  p.spec().host_user = HostIdentity{ids->first, ids->second, {}};
  return ok();
}

Status on_supplementary_group(Parser& p, Operands a) {
  std::string why;
  const auto gid = resolve_host_group(a[0], &why);
  if (!gid) return p.fail(why);
  p.supplementary_groups.push_back(*gid);
  return ok();
}

// The per-jail cgroup's options: any of them asks for a cgroup; its parent may come from the
// operator's config ([cgroup] parent) instead of --cgroup-parent.
CgroupRequest& cgroup_of(Parser& p) {
  if (!p.spec().cgroup) p.spec().cgroup.emplace();
  return *p.spec().cgroup;
}

Status on_cgroup_parent(Parser& p, Operands a) {
  std::string why;
  if (!valid_cgroup_parent(a[0], &why)) return p.fail("--cgroup-parent: " + why);
  cgroup_of(p).parent = a[0];
  return ok();
}

template <std::optional<std::uint64_t> CgroupRequest::*Field>
Status on_cgroup_bytes(Parser& p, Operands a, std::string_view option) {
  const auto v = parse_cgroup_bytes(a[0]);
  if (!v) {
    return p.fail(std::string(option) +
                  " takes bytes (a number with an optional K, M, G or T "
                  "suffix) or \"max\": " +
                  a[0]);
  }
  cgroup_of(p).*Field = *v;
  return ok();
}

Status on_memory_max(Parser& p, Operands a) {
  return on_cgroup_bytes<&CgroupRequest::memory_max>(p, a, "--memory-max");
}
Status on_memory_swap_max(Parser& p, Operands a) {
  return on_cgroup_bytes<&CgroupRequest::memory_swap_max>(p, a, "--memory-swap-max");
}

Status on_pids_max(Parser& p, Operands a) {
  const auto v = parse_cgroup_pids(a[0]);
  if (!v) return p.fail("--pids-max takes a number from 1 to 4194304 or \"max\": " + a[0]);
  cgroup_of(p).pids_max = *v;
  return ok();
}

Status on_cpu_max(Parser& p, Operands a) {
  std::string why;
  const auto v = parse_cgroup_cpu_max(a[0], &why);
  if (!v) return p.fail("--cpu-max: " + why);
  cgroup_of(p).cpu_max = *v;
  return ok();
}

Status on_cpu_weight(Parser& p, Operands a) {
  const auto v = parse_cgroup_cpu_weight(a[0]);
  if (!v) return p.fail("--cpu-weight takes a number from 1 to 10000: " + a[0]);
  cgroup_of(p).cpu_weight = *v;
  return ok();
}

Status on_io_max(Parser& p, Operands a) {
  std::string why;
  const auto line = parse_cgroup_io_max(a[0], &why);
  if (!line) return p.fail("--io-max " + why);
  cgroup_of(p).io_max.push_back(*line);
  return ok();
}

// --uid-range/--gid-range INSIDE:OUTSIDE:COUNT, in the order given.
template <std::vector<IdRange> Spec::*Field>
Status on_id_range(Parser& p, Operands a) {
  std::string why;
  const auto r = parse_id_range(a[0], &why);
  if (!r) {
    return p.fail(std::string(Field == &Spec::uid_ranges ? "--uid-range " : "--gid-range ") + why);
  }
  (p.spec().*Field).push_back(*r);
  return ok();
}

// --keep-fd: 0-2 are always kept; naming one is a mistake worth saying.
Status on_keep_fd(Parser& p, Operands a) {
  const auto fd = parse_nonnegative_int(a[0]);
  if (!fd || *fd < 3) return p.fail("--keep-fd takes a fd number of 3 or more: " + a[0]);
  auto& keep = p.spec().keep_fds;
  if (!keep) keep.emplace();
  if (std::find(keep->begin(), keep->end(), *fd) == keep->end()) keep->push_back(*fd);
  return ok();
}

Status on_level_prefix(Parser& p, Operands) {
  p.spec().level_prefix = true;
  return ok();
}

template <std::optional<std::string> Spec::*Field>
Status set_string(Parser& p, Operands a) {
  p.spec().*Field = a[0];
  return ok();
}

// ---- Handlers: namespaces ------------------------------------------------------------------

template <bool Spec::*Field>
Status set_true(Parser& p, Operands) {
  p.spec().*Field = true;
  return ok();
}

Status on_unshare_all(Parser& p, Operands) {
  // The -try forms, so that kernels without user or cgroup namespaces still work.
  Spec& s = p.spec();
  s.unshare_user_try = s.unshare_ipc = s.unshare_pid = s.unshare_net = s.unshare_uts =
      s.unshare_cgroup_try = true;
  return ok();
}

Status on_share_net(Parser& p, Operands) {
  // Only undoes what came before it: "--share-net --unshare-all" still unshares the network.
  p.spec().unshare_net = false;
  return ok();
}

template <int Spec::*Field>
Status set_fd(Parser& p, Operands a) {
  const auto fd = parse_nonnegative_int(a[0]);
  if (!fd) return p.fail("Invalid fd: " + a[0]);
  p.spec().*Field = *fd;
  return ok();
}

Status on_uid(Parser& p, Operands a) {
  const auto id = parse_nonnegative_int(a[0]);
  if (!id) return p.fail("Invalid uid: " + a[0]);
  p.spec().uid = static_cast<uid_t>(*id);
  return ok();
}

Status on_gid(Parser& p, Operands a) {
  const auto id = parse_nonnegative_int(a[0]);
  if (!id) return p.fail("Invalid gid: " + a[0]);
  p.spec().gid = static_cast<gid_t>(*id);
  return ok();
}

// ---- Handlers: environment and process -----------------------------------------------------

Status on_clearenv(Parser& p, Operands) {
  p.env.clear();
  return ok();
}

Status on_setenv(Parser& p, Operands a) {
  if (!valid_env_name(a[0])) return p.fail("setenv failed");
  env_set(p.env, a[0], a[1]);
  return ok();
}

Status on_unsetenv(Parser& p, Operands a) {
  if (!valid_env_name(a[0])) return p.fail("unsetenv failed");
  env_unset(p.env, a[0]);
  return ok();
}

Status on_lock_file(Parser& p, Operands a) {
  p.spec().lock_files.push_back(a[0]);
  return ok();
}

Status on_seccomp(Parser& p, Operands a) {
  if (!p.spec().add_seccomp_fds.empty()) {
    return p.fail("--seccomp cannot be combined with --add-seccomp-fd");
  }
  return set_fd<&Spec::seccomp_fd>(p, a);
}

Status on_add_seccomp_fd(Parser& p, Operands a) {
  if (p.spec().seccomp_fd != -1)
    return p.fail("--add-seccomp-fd cannot be combined with --seccomp");
  const auto fd = parse_nonnegative_int(a[0]);
  if (!fd) return p.fail("Invalid fd: " + a[0]);
  p.spec().add_seccomp_fds.push_back(*fd);
  return ok();
}

// --cap-add and --cap-drop apply in order to one mask; "ALL" (any case) is every bit.
template <bool kAdd>
Status on_cap(Parser& p, Operands a) {
  CapRequest& caps = p.spec().caps;
  caps.specified = true;
  if (strcasecmp(a[0].c_str(), "ALL") == 0) {
    caps.mask = kAdd ? ~std::uint64_t{0} : 0;
    return ok();
  }
  const auto cap = parse_capability(a[0]);
  if (!cap) return p.fail("unknown cap: " + a[0]);
  const std::uint64_t bit = std::uint64_t{1} << *cap;
  caps.mask = kAdd ? (caps.mask | bit) : (caps.mask & ~bit);
  return ok();
}

// ---- Handlers: filesystem ------------------------------------------------------------------

MountOp& add_op(Parser& p, OpKind kind, const std::string& dest) {
  MountOp& op = p.spec().ops.emplace_back();
  op.kind = kind;
  op.dest = dest;
  return op;
}

template <bool kReadonly, bool kDevices, bool kAllowMissing>
Status on_bind(Parser& p, Operands a) {
  MountOp& op = add_op(p, OpKind::Bind, a[1]);
  op.source = a[0];
  op.readonly = kReadonly;
  op.devices = kDevices;
  op.allow_missing = kAllowMissing;
  return ok();
}

template <bool kReadonly>
Status on_bind_fd(Parser& p, Operands a) {
  const auto fd = parse_nonnegative_int(a[0]);
  if (!fd) return p.fail("Invalid fd: " + a[0]);
  MountOp& op = add_op(p, OpKind::BindFd, a[1]);
  op.fd = *fd;
  op.readonly = kReadonly;
  return ok();
}

// Operations that take nothing but a destination.
template <OpKind kKind>
Status on_dest_op(Parser& p, Operands a) {
  add_op(p, kKind, a[0]);
  return ok();
}

// Options that create a file take the pending --perms (and --tmpfs the pending --size).
Status on_tmpfs(Parser& p, Operands a) {
  MountOp& op = add_op(p, OpKind::Tmpfs, a[0]);
  op.perms = std::exchange(p.next_perms, std::nullopt);
  op.size = std::exchange(p.next_size, std::nullopt);
  return ok();
}

Status on_dir(Parser& p, Operands a) {
  add_op(p, OpKind::Dir, a[0]).perms = std::exchange(p.next_perms, std::nullopt);
  return ok();
}

template <OpKind kKind, bool kReadonly>
Status on_fd_file(Parser& p, Operands a) {
  const auto fd = parse_nonnegative_int(a[0]);
  if (!fd) return p.fail("Invalid fd: " + a[0]);
  MountOp& op = add_op(p, kKind, a[1]);
  op.fd = *fd;
  op.readonly = kReadonly;
  op.perms = std::exchange(p.next_perms, std::nullopt);
  return ok();
}

Status on_symlink(Parser& p, Operands a) {
  add_op(p, OpKind::Symlink, a[1]).source = a[0];
  return ok();
}

Status on_chmod(Parser& p, Operands a) {
  const auto mode = parse_mode(a[0]);
  if (!mode) return p.fail("--chmod takes an octal argument <= 07777");
  add_op(p, OpKind::Chmod, a[1]).perms = *mode;
  return ok();
}

Status on_perms(Parser& p, Operands a) {
  if (p.next_perms) return p.fail("--perms given twice for the same action");
  const auto mode = parse_mode(a[0]);
  if (!mode) return p.fail("--perms takes an octal argument <= 07777");
  p.next_perms = *mode;
  return ok();
}

Status on_size(Parser& p, Operands a) {
  if (p.next_size) return p.fail("--size given twice for the same action");
  const std::string& text = a[0];
  // strtoull would accept "-1" (wrapping) and leading blanks, so bwrap insists on a leading
  // digit; zero is refused because it would silently mean the kernel's default size.
  errno = 0;
  char* end = nullptr;
  const unsigned long long size = std::strtoull(text.c_str(), &end, 0);
  if (errno != 0 || text.empty() || !std::isdigit(static_cast<unsigned char>(text[0])) ||
      *end != '\0' || size == 0) {
    return p.fail("--size takes a non-zero number of bytes");
  }
  if (size > kMaxTmpfsBytes) {
    return p.fail("--size (for tmpfs) is limited to " + std::to_string(kMaxTmpfsBytes));
  }
  p.next_size = size;
  return ok();
}

Status on_overlay_src(Parser& p, Operands a) {
  p.next_overlay_srcs.push_back(a[0]);
  return ok();
}

// The pending --overlay-src layers, bottom first, go to the overlay that follows them.
Status add_overlay(Parser& p, OpKind kind, const std::string& dest, std::size_t min_sources,
                   std::string_view too_few) {
  if (p.next_overlay_srcs.size() < min_sources) return p.fail(std::string(too_few));
  MountOp& op = add_op(p, kind, dest);
  op.overlay_sources = std::exchange(p.next_overlay_srcs, {});
  return ok();
}

Status on_overlay(Parser& p, Operands a) {
  BOOST_OUTCOME_TRY(
      add_overlay(p, OpKind::Overlay, a[2], 1, "--overlay requires at least one --overlay-src"));
  p.spec().ops.back().overlay_upper = a[0];
  p.spec().ops.back().overlay_work = a[1];
  return ok();
}

Status on_tmp_overlay(Parser& p, Operands a) {
  return add_overlay(p, OpKind::TmpOverlay, a[0], 1,
                     "--tmp-overlay requires at least one --overlay-src");
}

Status on_ro_overlay(Parser& p, Operands a) {
  // Without an upper dir the kernel's overlayfs wants at least two lower layers.
  return add_overlay(p, OpKind::RoOverlay, a[0], 2,
                     "--ro-overlay requires at least two --overlay-src");
}

// ---- The option table ----------------------------------------------------------------------
// In the order of bwrap 0.11.1's usage(), which --help reproduces line for line. To add a
// boxjail-only option, add a row (and a handler); --help and option_names() follow.

using enum Repeat;

constexpr auto kOptions = std::to_array<Option>({
    {"--help", "", Terminal, on_help, "Print this help"},
    {"--version", "", Terminal, on_version, "Print version"},
    {"--args", "FD", Accumulate, on_args, "Parse NUL-separated args from FD", kCommandLineOnly},
    {"--argv0", "VALUE", Once, set_string<&Spec::argv0>,
     "Set argv[0] to the value VALUE before running the program", kPlain,
     "--argv0 takes one argument"},
    {"--level-prefix", "", Idempotent, on_level_prefix, "Prepend e.g. <3> to diagnostic messages"},
    {"--unshare-all", "", Idempotent, on_unshare_all,
     "Unshare every namespace we support by default"},
    {"--share-net", "", Idempotent, on_share_net,
     "Retain the network namespace (can only combine with --unshare-all)"},
    {"--unshare-user", "", Idempotent, set_true<&Spec::unshare_user>,
     "Create new user namespace (may be automatically implied if not setuid)"},
    {"--unshare-user-try", "", Idempotent, set_true<&Spec::unshare_user_try>,
     "Create new user namespace if possible else continue by skipping it"},
    {"--unshare-ipc", "", Idempotent, set_true<&Spec::unshare_ipc>, "Create new ipc namespace"},
    {"--unshare-pid", "", Idempotent, set_true<&Spec::unshare_pid>, "Create new pid namespace"},
    {"--unshare-net", "", Idempotent, set_true<&Spec::unshare_net>, "Create new network namespace"},
    {"--unshare-uts", "", Idempotent, set_true<&Spec::unshare_uts>, "Create new uts namespace"},
    {"--unshare-cgroup", "", Idempotent, set_true<&Spec::unshare_cgroup>,
     "Create new cgroup namespace"},
    {"--unshare-cgroup-try", "", Idempotent, set_true<&Spec::unshare_cgroup_try>,
     "Create new cgroup namespace if possible else continue by skipping it"},
    {"--userns", "FD", LastWins, set_fd<&Spec::userns_fd>,
     "Use this user namespace (cannot combine with --unshare-user)"},
    {"--userns2", "FD", LastWins, set_fd<&Spec::userns2_fd>,
     "After setup switch to this user namespace, only useful with --userns"},
    {"--disable-userns", "", Idempotent, set_true<&Spec::disable_userns>,
     "Disable further use of user namespaces inside sandbox"},
    {"--assert-userns-disabled", "", Idempotent, set_true<&Spec::assert_userns_disabled>,
     "Fail unless further use of user namespace inside sandbox is disabled"},
    {"--pidns", "FD", LastWins, set_fd<&Spec::pidns_fd>,
     "Use this pid namespace (as parent namespace if using --unshare-pid)"},
    {"--uid", "UID", LastWins, on_uid,
     "Custom uid in the sandbox (requires --unshare-user or --userns)"},
    {"--gid", "GID", LastWins, on_gid,
     "Custom gid in the sandbox (requires --unshare-user or --userns)"},
    {"--hostname", "NAME", LastWins, set_string<&Spec::hostname>,
     "Custom hostname in the sandbox (requires --unshare-uts)"},
    {"--chdir", "DIR", LastWins, set_string<&Spec::chdir>, "Change directory to DIR", kPlain,
     "--chdir takes one argument"},
    {"--clearenv", "", Accumulate, on_clearenv, "Unset all environment variables"},
    {"--setenv", "VAR VALUE", Accumulate, on_setenv, "Set an environment variable"},
    {"--unsetenv", "VAR", Accumulate, on_unsetenv, "Unset an environment variable"},
    {"--lock-file", "DEST", Accumulate, on_lock_file,
     "Take a lock on DEST while sandbox is running"},
    {"--sync-fd", "FD", LastWins, set_fd<&Spec::sync_fd>,
     "Keep this fd open while sandbox is running"},
    {"--bind", "SRC DEST", Accumulate, on_bind<false, false, false>,
     "Bind mount the host path SRC on DEST"},
    {"--bind-try", "SRC DEST", Accumulate, on_bind<false, false, true>,
     "Equal to --bind but ignores non-existent SRC"},
    {"--dev-bind", "SRC DEST", Accumulate, on_bind<false, true, false>,
     "Bind mount the host path SRC on DEST, allowing device access"},
    {"--dev-bind-try", "SRC DEST", Accumulate, on_bind<false, true, true>,
     "Equal to --dev-bind but ignores non-existent SRC"},
    {"--ro-bind", "SRC DEST", Accumulate, on_bind<true, false, false>,
     "Bind mount the host path SRC readonly on DEST"},
    {"--ro-bind-try", "SRC DEST", Accumulate, on_bind<true, false, true>,
     "Equal to --ro-bind but ignores non-existent SRC"},
    {"--bind-fd", "FD DEST", Accumulate, on_bind_fd<false>,
     "Bind open directory or path fd on DEST"},
    // bwrap shares one branch between the two fd binds, and its message names --bind-fd.
    {"--ro-bind-fd", "FD DEST", Accumulate, on_bind_fd<true>,
     "Bind open directory or path fd read-only on DEST", kPlain, "--bind-fd takes two arguments"},
    {"--remount-ro", "DEST", Accumulate, on_dest_op<OpKind::RemountRo>,
     "Remount DEST as readonly; does not recursively remount", kPlain,
     "--remount-ro takes one argument"},
    {"--overlay-src", "SRC", Accumulate, on_overlay_src,
     "Read files from SRC in the following overlay", kOverlayLayer},
    {"--overlay", "RWSRC WORKDIR DEST", Accumulate, on_overlay,
     "Mount overlayfs on DEST, with RWSRC as the host path for writes and\n"
     "WORKDIR an empty directory on the same filesystem as RWSRC"},
    {"--tmp-overlay", "DEST", Accumulate, on_tmp_overlay,
     "Mount overlayfs on DEST, with writes going to an invisible tmpfs"},
    {"--ro-overlay", "DEST", Accumulate, on_ro_overlay, "Mount overlayfs read-only on DEST"},
    {"--exec-label", "LABEL", LastWins, set_string<&Spec::exec_label>,
     "Exec label for the sandbox"},
    {"--file-label", "LABEL", LastWins, set_string<&Spec::file_label>,
     "File label for temporary sandbox content"},
    {"--proc", "DEST", Accumulate, on_dest_op<OpKind::Proc>, "Mount new procfs on DEST"},
    {"--dev", "DEST", Accumulate, on_dest_op<OpKind::Dev>, "Mount new dev on DEST"},
    {"--tmpfs", "DEST", Accumulate, on_tmpfs, "Mount new tmpfs on DEST"},
    {"--mqueue", "DEST", Accumulate, on_dest_op<OpKind::Mqueue>, "Mount new mqueue on DEST"},
    {"--dir", "DEST", Accumulate, on_dir, "Create dir at DEST"},
    {"--file", "FD DEST", Accumulate, on_fd_file<OpKind::File, false>,
     "Copy from FD to destination DEST"},
    {"--bind-data", "FD DEST", Accumulate, on_fd_file<OpKind::BindData, false>,
     "Copy from FD to file which is bind-mounted on DEST"},
    {"--ro-bind-data", "FD DEST", Accumulate, on_fd_file<OpKind::BindData, true>,
     "Copy from FD to file which is readonly bind-mounted on DEST"},
    {"--symlink", "SRC DEST", Accumulate, on_symlink, "Create symlink at DEST with target SRC"},
    {"--seccomp", "FD", LastWins, on_seccomp,
     "Load and use seccomp rules from FD (not repeatable)"},
    {"--add-seccomp-fd", "FD", Accumulate, on_add_seccomp_fd,
     "Load and use seccomp rules from FD (repeatable)"},
    {"--block-fd", "FD", LastWins, set_fd<&Spec::block_fd>,
     "Block on FD until some data to read is available"},
    {"--userns-block-fd", "FD", LastWins, set_fd<&Spec::userns_block_fd>,
     "Block on FD until the user namespace is ready"},
    {"--info-fd", "FD", LastWins, set_fd<&Spec::info_fd>,
     "Write information about the running container to FD"},
    {"--json-status-fd", "FD", LastWins, set_fd<&Spec::json_status_fd>,
     "Write container status to FD as multiple JSON documents"},
    {"--new-session", "", Idempotent, set_true<&Spec::new_session>,
     "Create a new terminal session"},
    {"--die-with-parent", "", Idempotent, set_true<&Spec::die_with_parent>,
     "Kills with SIGKILL child process (COMMAND) when bwrap or bwrap's parent dies."},
    {"--as-pid-1", "", Idempotent, set_true<&Spec::as_pid_1>,
     "Do not install a reaper process with PID=1"},
    {"--cap-add", "CAP", Accumulate, on_cap<true>, "Add cap CAP when running as privileged user"},
    {"--cap-drop", "CAP", Accumulate, on_cap<false>,
     "Drop cap CAP when running as privileged user"},
    {"--perms", "OCTAL", PerAction, on_perms,
     "Set permissions of next argument (--bind-data, --file, etc.)", kModifier},
    {"--size", "BYTES", PerAction, on_size, "Set size of next argument (only for --tmpfs)",
     kModifier},
    {"--chmod", "OCTAL PATH", Accumulate, on_chmod,
     "Change permissions of PATH (must already exist)"},
    // boxjail's own options, after bwrap's.
    {"--log-level", "LEVEL", LastWins, on_log_level,
     "Log setup steps to stderr: trace, debug, info, warn, error, off"},
    {"--seccomp-policy", "POLICY", LastWins, on_seccomp_policy,
     "Install the seccomp policy POLICY (a name in the seccomp dir or a JSON path)"},
    {"--config", "PATH", LastWins, on_config,
     "Operator config (TOML) instead of $BOXJAIL_CONFIG or /etc/boxjail/config.toml"},
    {"--report-fd", "FD", LastWins, on_report_fd,
     "Write a JSON report (rungs tried, failing step, errno, cause, fixes) to FD"},
    {"--pid-file", "PATH", LastWins, on_pid_file,
     "Write the jailed command's pid (as seen from here) to PATH, atomically, when it starts"},
    {"--keep-fd", "FD", Accumulate, on_keep_fd,
     "Keep FD open in the command (at its number) and close every other fd but 0-2"},
    {"--rlimit", "NAME=SOFT[:HARD]", Accumulate, on_rlimit,
     "Set the command's resource limit (NOFILE, NPROC, AS, CPU, FSIZE, CORE...)"},
    {"--host-user", "USER", LastWins, on_host_user,
     "As root: run the command as this host user (name, UID or UID:GID), no capability"},
    {"--supplementary-group", "GROUP", Accumulate, on_supplementary_group,
     "With --host-user: a supplementary group of the command (name or GID)"},
    {"--handover", "", Idempotent, set_true<&Spec::handover>,
     "Exit once the command runs; the sandbox becomes the child of boxjail's parent"},
    {"--uid-range", "INSIDE:OUTSIDE:COUNT", Accumulate, on_id_range<&Spec::uid_ranges>,
     "Also map COUNT subordinate uids from OUTSIDE (/etc/subuid) to INSIDE (newuidmap)"},
    {"--gid-range", "INSIDE:OUTSIDE:COUNT", Accumulate, on_id_range<&Spec::gid_ranges>,
     "Also map COUNT subordinate gids from OUTSIDE (/etc/subgid) to INSIDE (newgidmap)"},
    {"--cgroup-parent", "PATH", LastWins, on_cgroup_parent,
     "Run the jail in a cgroup of its own under PATH (cgroup v2; relative: below ours)"},
    {"--memory-max", "BYTES", LastWins, on_memory_max,
     "Jail's cgroup: memory.max (K, M, G, T suffixes, or max)"},
    {"--memory-swap-max", "BYTES", LastWins, on_memory_swap_max,
     "Jail's cgroup: memory.swap.max (K, M, G, T suffixes, or max)"},
    {"--pids-max", "N", LastWins, on_pids_max, "Jail's cgroup: pids.max (or max)"},
    {"--cpu-max", "QUOTA[:PERIOD]", LastWins, on_cpu_max,
     "Jail's cgroup: cpu.max in microseconds (QUOTA may be max; PERIOD 100000)"},
    {"--cpu-weight", "N", LastWins, on_cpu_weight, "Jail's cgroup: cpu.weight (1-10000)"},
    {"--io-max", "LIMITS", Accumulate, on_io_max,
     "Jail's cgroup: an io.max line, \"MAJ:MIN rbps=N wbps=N riops=N wiops=N\""},
});

// The number of operands is the number of words in the metavar, so --help cannot disagree.
constexpr std::size_t arity(const Option& o) {
  if (o.metavar.empty()) return 0;
  return static_cast<std::size_t>(std::count(o.metavar.begin(), o.metavar.end(), ' ')) + 1;
}

// ---- The parse loop ------------------------------------------------------------------------

const Option* find_option(const std::string& arg) {
  // Exact match only: bwrap has no abbreviations, no --opt=value and no short options.
  const auto it = std::find_if(kOptions.begin(), kOptions.end(),
                               [&](const Option& o) { return o.name == arg; });
  return it == kOptions.end() ? nullptr : &*it;
}

std::string missing_operand_message(const Option& o) {
  if (!o.missing_operand.empty()) return std::string(o.missing_operand);
  static constexpr std::array<std::string_view, 4> kCount = {"no arguments", "an argument",
                                                             "two arguments", "three arguments"};
  return std::string(o.name) + " takes " + std::string(kCount.at(arity(o)));
}

Status apply_repeat_rule(Parser& p, const Option& o) {
  const auto index = static_cast<std::size_t>(&o - kOptions.data());
  const bool again = p.seen[index];
  p.seen[index] = true;
  if (!again) return ok();
  if (o.repeat == LastWins) {
    p.warn("Only the last " + std::string(o.name) + " option will take effect");
  } else if (o.repeat == Once) {
    return p.fail(std::string(o.name) + " used multiple times");
  }
  return ok();
}

// bwrap checks after every option that a pending modifier or overlay layer was consumed by it,
// so "--perms 0700 --bind a b" fails at --bind. The modifiers may precede each other, and a
// pending one left before COMMAND is silently dropped (bwrap 0.8.0..0.11.1 behave so).
Status check_pending(const Parser& p, const Option& o) {
  if (!(o.flags & kModifier)) {
    if (p.next_perms) return p.fail("--perms must be followed by an option that creates a file");
    if (p.next_size) return p.fail("--size must be followed by --tmpfs");
  }
  if (!(o.flags & kOverlayLayer) && !p.next_overlay_srcs.empty()) {
    return p.fail(std::string(kOverlaySrcDangling));
  }
  return ok();
}

// bwrap's order: the --args nesting check, the operand count, the repeat rule, the handler.
Status run_option(Parser& p, const Option& o, Operands rest) {
  if ((o.flags & kCommandLineOnly) && p.in_file) {
    return p.fail(std::string(o.name) + " not supported in arguments file");
  }
  const std::size_t n = arity(o);
  if (rest.size() < n) return p.fail(missing_operand_message(o));
  BOOST_OUTCOME_TRY(apply_repeat_rule(p, o));
  BOOST_OUTCOME_TRY(o.handle(p, rest.first(n)));
  if (p.inv.action != Action::Run) return ok();
  return check_pending(p, o);
}

// Parses options from the front of `args`; returns where COMMAND starts.
result<std::size_t> parse_options(Parser& p, Operands args) {
  std::size_t i = 0;
  while (i < args.size()) {
    const std::string& arg = args[i];
    if (arg == "--") return i + 1;
    const Option* o = find_option(arg);
    if (o == nullptr) {
      if (!arg.empty() && arg[0] == '-') return p.fail("Unknown option " + arg);
      return i;  // COMMAND
    }
    BOOST_OUTCOME_TRY(run_option(p, *o, args.subspan(i + 1)));
    if (p.inv.action != Action::Run) return args.size();  // --help, --version
    i += 1 + arity(*o);
  }
  return i;
}

}  // namespace

result<Invocation> parse_bwrap_args(const std::vector<std::string>& args, const ParseContext& ctx) {
  Parser p;
  p.env = ctx.environ;
  // bwrap reads root's effective set before parsing, so --cap-drop X as root drops just X.
  p.spec().caps.mask = ctx.initial_caps;
  p.seen.assign(kOptions.size(), false);
  p.total_args = args.size();  // COMMAND and its arguments count too
  if (p.total_args > kMaxArgs) {
    return p.fail("Exceeded maximum number of arguments " + std::to_string(kMaxArgs));
  }
  const auto parsed = parse_options(p, args);
  if (!parsed) return parsed.error();
  if (p.inv.action != Action::Run) return std::move(p.inv);
  if (!p.next_overlay_srcs.empty()) return p.fail(std::string(kOverlaySrcDangling));
  if (!p.supplementary_groups.empty()) {
    if (!p.spec().host_user) return p.fail("--supplementary-group needs --host-user");
    p.spec().host_user->groups = std::move(p.supplementary_groups);
  }
  p.spec().command.assign(args.begin() + static_cast<std::ptrdiff_t>(parsed.value()), args.end());
  if (p.spec().command.empty()) {
    Error e = p.fail("");
    e.usage = true;
    return e;
  }
  p.spec().env = std::move(p.env);
  return std::move(p.inv);
}

std::string version_text(const std::string& prog) {
  if (prog == "bwrap") return "bubblewrap 0.11.1\n";
  return std::string("boxjail ") + BOXJAIL_VERSION +
         "\ncompatible with: bubblewrap 0.11.1 command line\n"
         "features: userns root clone3 openat2 mount-api overlay devpts signal-forwarding\n"
         "mounts on this kernel: " +
         sys::mount_path_description() + "\n";
}

std::string usage_text(const std::string& prog) {
  // bwrap's layout: 4 spaces, the option and its operands padded to 28 columns, a space, the
  // description; continuation lines are indented to the description's column.
  constexpr std::size_t kLeft = 28;
  const std::string indent(4 + kLeft + 1, ' ');
  std::string out = "usage: " + prog + " [OPTIONS...] [--] COMMAND [ARGS...]\n\n";
  for (const Option& o : kOptions) {
    std::string left(o.name);
    if (!o.metavar.empty()) left.append(" ").append(o.metavar);
    if (left.size() < kLeft) left.resize(kLeft, ' ');
    out.append("    ").append(left).append(" ");
    for (const char c : o.help) {
      if (c == '\n') {
        out.append("\n").append(indent);
      } else {
        out.push_back(c);
      }
    }
    out.push_back('\n');
  }
  return out;
}

std::vector<std::string> option_names() {
  std::vector<std::string> names;
  names.reserve(kOptions.size());
  for (const Option& o : kOptions) names.emplace_back(o.name);
  return names;
}

std::vector<OptionInfo> option_table() {
  std::vector<OptionInfo> rows;
  rows.reserve(kOptions.size());
  for (const Option& o : kOptions) {
    rows.push_back(
        {o.name, o.metavar, o.help, o.repeat != Repeat::Terminal && o.repeat != Repeat::Once});
  }
  return rows;
}

// libcap's cap_from_name, which bwrap uses, takes "cap_foo" in any case and plain numbers
// (strtoul base 0). We also take the bare "foo" that libcap-ng's table knows, as boxjail's
// other front ends do.
std::optional<unsigned> parse_capability(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(text[0]))) {
    errno = 0;
    char* end = nullptr;
    const unsigned long value = std::strtoul(text.c_str(), &end, 0);
    if (*end != '\0' || errno == ERANGE || value >= 64) return std::nullopt;
    return static_cast<unsigned>(value);
  }
  std::string name = text;
  if (name.size() > 4 && strncasecmp(name.c_str(), "cap_", 4) == 0) name.erase(0, 4);
  const int value = capng_name_to_capability(name.c_str());
  if (value < 0 || value >= 64) return std::nullopt;
  return static_cast<unsigned>(value);
}

// fds, uids and gids: bwrap uses strtol(s, &end, 10) into an int and accepts the text if it is
// non-empty, fully consumed and not negative; strtol's leniency (leading blanks, '+') is kept.
// Values that do not fit an int are refused, where bwrap would let them wrap ("4294967299"
// became fd 3).
std::optional<int> parse_nonnegative_int(const std::string& text) {
  if (text.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE || value < 0 || value > INT_MAX) return std::nullopt;
  return static_cast<int>(value);
}

}  // namespace boxjail
