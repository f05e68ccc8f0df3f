// SPDX-License-Identifier: Apache-2.0
// micro_bench: Google Benchmark microbenchmarks of the in-process parts of a jail's start-up:
// the bwrap argv parser and the Spec validation (the front end every run goes through), and the
// symlink-safe path resolution of mount destinations (openat2(RESOLVE_IN_ROOT) against the
// O_PATH walk kept for old kernels). docs/performance.md shows the latest figures.
#include <benchmark/benchmark.h>
#include <boxjail/bwrap_args.hpp>
#include <boxjail/validate.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/paths.hpp"
#include "engine/seccomp_policy.hpp"

namespace fs = std::filesystem;

namespace {

// A typical interactive environment: the parser copies it for --setenv/--clearenv.
std::vector<std::string> sample_environ() {
  std::vector<std::string> env = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "HOME=/root",
      "LANG=C.UTF-8",
      "SHELL=/bin/bash",
      "TERM=xterm-256color",
      "USER=root",
      "LOGNAME=root",
      "PWD=/root",
      "SHLVL=1",
      "XDG_RUNTIME_DIR=/run/user/0",
      "XDG_SESSION_ID=3",
      "SSH_CONNECTION=10.0.0.1 51234 10.0.0.2 22",
      "MAIL=/var/mail/root",
      "_=/usr/bin/boxjail"};
  for (int i = 0; i < 10; ++i) env.push_back("VM_OPTION_" + std::to_string(i) + "=value");
  return env;
}

const std::vector<std::string> kConfig1 = {"--ro-bind", "/", "/", "true"};
const std::vector<std::string> kConfig2 = {"--unshare-all", "--ro-bind", "/",    "/",   "--proc",
                                           "/proc",         "--dev",     "/dev", "true"};

// The per-VM jail of issue 2, as startup_bench runs it.
std::vector<std::string> per_vm_jail() {
  return {"--unshare-user",
          "--unshare-pid",
          "--unshare-ipc",
          "--unshare-uts",
          "--die-with-parent",
          "--new-session",
          "--ro-bind",
          "/usr",
          "/usr",
          "--ro-bind",
          "/lib",
          "/lib",
          "--ro-bind",
          "/lib64",
          "/lib64",
          "--ro-bind",
          "/bin",
          "/bin",
          "--ro-bind",
          "/sbin",
          "/sbin",
          "--ro-bind",
          "/etc/resolv.conf",
          "/etc/resolv.conf",
          "--dev",
          "/dev",
          "--proc",
          "/proc",
          "--tmpfs",
          "/tmp",
          "--bind",
          "/var/lib/vm/42/rw",
          "/var/lib/vm/42/rw",
          "--ro-bind",
          "/var/lib/vm/42/images",
          "/var/lib/vm/42/images",
          "--clearenv",
          "--setenv",
          "PATH",
          "/usr/bin:/bin",
          "--setenv",
          "HOME",
          "/root",
          "--chdir",
          "/",
          "--",
          "/usr/bin/firecracker",
          "--api-sock",
          "/run/api.sock"};
}

void BM_ParseBwrapArgs(benchmark::State& state, std::vector<std::string> args) {
  boxjail::ParseContext ctx;
  ctx.environ = sample_environ();
  for (auto _ : state) {
    auto r = boxjail::parse_bwrap_args(args, ctx);
    if (!r) {
      state.SkipWithError(r.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(r);
  }
  state.counters["args"] = double(args.size());
}

// Parse, then resolve_spec as uid 65534: the whole front end a run goes through before the
// engine.
void BM_ParseAndResolve(benchmark::State& state, std::vector<std::string> args) {
  boxjail::ParseContext ctx;
  ctx.environ = sample_environ();
  const boxjail::Caller caller{65534, 65534};
  for (auto _ : state) {
    auto r = boxjail::parse_bwrap_args(args, ctx);
    if (!r) {
      state.SkipWithError(r.error().message.c_str());
      break;
    }
    auto spec = boxjail::resolve_spec(std::move(r.value().spec), caller);
    if (!spec) {
      state.SkipWithError(spec.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(spec);
  }
}

// A small root tree: /usr/lib/x86_64-linux-gnu/gconv/modules, /lib -> /usr/lib (absolute, so
// it only resolves correctly when clamped to the root), /etc.
class Tree {
 public:
  Tree() {
    char tmpl[] = "/tmp/boxjail-micro.XXXXXX";
    if (!mkdtemp(tmpl)) std::abort();
    path_ = tmpl;
    fs::create_directories(path_ / "usr/lib/x86_64-linux-gnu/gconv/modules");
    fs::create_directories(path_ / "etc");
    fs::create_symlink("/usr/lib", path_ / "lib");
    fd_ = open(tmpl, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0) std::abort();
  }
  ~Tree() {
    close(fd_);
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  int fd() const { return fd_; }

 private:
  fs::path path_;
  int fd_ = -1;
};

void BM_OpenInRoot(benchmark::State& state, boxjail::Resolver resolver, const char* path) {
  static Tree tree;
  boxjail::RootDir root{tree.fd(), "", resolver};
  for (auto _ : state) {
    int fd = boxjail::open_in_root(root, path, O_PATH | O_DIRECTORY);
    if (fd < 0) {
      state.SkipWithError("open_in_root failed");
      break;
    }
    close(fd);
  }
}

void BM_Normalize(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(boxjail::normalize("//usr/./lib//x86_64-linux-gnu/gconv/"));
  }
}

// The shipped default policy: parse + compile + export with no cache (cold), and through a warm
// per-user cache in a private temp dir (cached: read, key check, no libseccomp).
// cold: a compile (the text differs by a newline from the shipped policy, so neither the
// precompiled entries nor a cache answer); cached: the per-user cache answers; precompiled: the
// shipped text, answered by the entries the build precompiled.
enum class CompilePath { Cold, Cached, Precompiled };

void BM_SeccompCompile(benchmark::State& state, CompilePath path) {
  const bool cached = path == CompilePath::Cached;
  const std::string file = BOXJAIL_SOURCE_DIR "/seccomp/default.json";
  std::string text;
  {
    std::FILE* f = std::fopen(file.c_str(), "r");
    char buf[4096];
    size_t n;
    while (f && (n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    if (f) std::fclose(f);
  }
  if (path != CompilePath::Precompiled) text += "\n";
  char tmpl[] = "/tmp/boxjail-micro-cache.XXXXXX";
  const std::string dir = cached && mkdtemp(tmpl) ? std::string(tmpl) + "/cache" : std::string();
  if (cached) (void)boxjail::compile_seccomp_policy_text(text, file, dir);  // warm it
  for (auto _ : state) {
    auto bpf = boxjail::compile_seccomp_policy_text(text, file, dir);
    if (!bpf) {
      state.SkipWithError(bpf.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(bpf.value().data());
  }
  if (cached) std::filesystem::remove_all(tmpl);
}

}  // namespace

int main(int argc, char** argv) {
  using boxjail::Resolver;
  benchmark::RegisterBenchmark("parse_bwrap_args/config1", BM_ParseBwrapArgs, kConfig1);
  benchmark::RegisterBenchmark("parse_bwrap_args/config2", BM_ParseBwrapArgs, kConfig2);
  benchmark::RegisterBenchmark("parse_bwrap_args/per_vm_jail", BM_ParseBwrapArgs, per_vm_jail());
  benchmark::RegisterBenchmark("parse_and_resolve_spec/per_vm_jail", BM_ParseAndResolve,
                               per_vm_jail());
  struct PathCase {
    const char* name;
    const char* path;
  };
  const PathCase cases[] = {
      {"depth1", "/etc"},
      {"depth5", "/usr/lib/x86_64-linux-gnu/gconv/modules"},
      {"abs_symlink", "/lib/x86_64-linux-gnu/gconv"},
      {"dotdot_clamped", "/../../usr/lib/../lib/x86_64-linux-gnu"},
  };
  for (const auto& c : cases) {
    benchmark::RegisterBenchmark((std::string("open_in_root/openat2/") + c.name).c_str(),
                                 BM_OpenInRoot, Resolver::Openat2, c.path);
    benchmark::RegisterBenchmark((std::string("open_in_root/walk/") + c.name).c_str(),
                                 BM_OpenInRoot, Resolver::Walk, c.path);
  }
  benchmark::RegisterBenchmark("normalize", BM_Normalize);
  benchmark::RegisterBenchmark("seccomp_compile/cold", BM_SeccompCompile, CompilePath::Cold);
  benchmark::RegisterBenchmark("seccomp_compile/cached", BM_SeccompCompile, CompilePath::Cached);
  benchmark::RegisterBenchmark("seccomp_compile/precompiled", BM_SeccompCompile,
                               CompilePath::Precompiled);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
