// SPDX-License-Identifier: Apache-2.0
#include "harness.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace boxjail::test {
namespace {

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

[[noreturn]] void die_in_child(const char* what) {
  dprintf(2, "harness: %s: %s\n", what, strerror(errno));
  _exit(127);
}

void install_denials(const std::vector<Deny>& deny) {
  if (deny.empty()) return;
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) die_in_child("seccomp_init");
  // Installed as root (CAP_SYS_ADMIN), so without NO_NEW_PRIVS: like a container runtime's
  // filter, it leaves setuid programs (the ladder's helper) able to elevate.
  if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) != 0) die_in_child("seccomp_attr_set");
  for (const auto& d : deny) {
    int nr = seccomp_syscall_resolve_name(d.syscall.c_str());
    if (nr == __NR_SCMP_ERROR) die_in_child("unknown syscall in Deny");
    int rc;
    if (d.arg_index < 0) {
      rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(d.err), nr, 0);
    } else {
      rc = seccomp_rule_add(
          ctx, SCMP_ACT_ERRNO(d.err), nr, 1,
          SCMP_CMP(static_cast<unsigned>(d.arg_index), SCMP_CMP_MASKED_EQ, d.mask, d.value));
    }
    if (rc != 0) {
      errno = -rc;
      die_in_child("seccomp_rule_add");
    }
  }
  if (seccomp_load(ctx) != 0) die_in_child("seccomp_load");
  seccomp_release(ctx);
}

// Defined below, with spawn(): the child side of run() and spawn().
[[noreturn]] void exec_spawned(const std::string& program, const std::vector<std::string>& args,
                               const RunOpts& opts, int in, int out, int err,
                               const std::vector<std::pair<int, int>>& read_ends);

}  // namespace

const std::string& boxjail_binary() {
  static const std::string path = [] {
    char tmpl[] = "/tmp/boxjail-bin-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
    chmod(tmpl, 0755);
    std::string dst = std::string(tmpl) + "/boxjail";
    std::filesystem::copy_file(BOXJAIL_BINARY, dst);
    chmod(dst.c_str(), 0755);
    std::string dir = tmpl;
    // Removed when the test process exits.
    static struct Cleanup {
      std::string d;
      ~Cleanup() { std::filesystem::remove_all(d); }
    } cleanup{dir};
    return dst;
  }();
  return path;
}

const std::string& setuid_helper_binary() {
  static const std::string path = [] {
    const std::string dir = boxjail_binary().substr(0, boxjail_binary().rfind('/'));
    const std::string dst = dir + "/boxjail-suid";
    std::filesystem::copy_file(BOXJAIL_SUID_BINARY, dst);
    if (chown(dst.c_str(), 0, 0) != 0 || chmod(dst.c_str(), 04755) != 0) {
      throw std::runtime_error("chown/chmod of the setuid helper");
    }
    return dst;
  }();
  return path;
}

const std::string& seccomp_probe_binary() {
  static const std::string path = [] {
    const std::string dir = boxjail_binary().substr(0, boxjail_binary().rfind('/'));
    const std::string dst = dir + "/seccomp_probe";
    std::filesystem::copy_file(SECCOMP_PROBE, dst);
    if (chmod(dst.c_str(), 0755) != 0) throw std::runtime_error("chmod of the seccomp probe");
    return dst;
  }();
  return path;
}

std::vector<Deny> deny_user_namespaces(int err) {
  return {Deny{"clone3", ENOSYS}, Deny{"clone", err, 0, CLONE_NEWUSER, CLONE_NEWUSER},
          Deny{"unshare", err, 0, CLONE_NEWUSER, CLONE_NEWUSER}};
}

std::string ladder_config(const TempDir& dir, const std::string& mode, const std::string& helper,
                          const std::string& extra) {
  return dir.file(mode + ".toml", "[ladder]\nmode = \"" + mode + "\"\nsetuid_helper = \"" + helper +
                                      "\"\n" + extra);
}

std::vector<nlohmann::json> report_events(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    if (end > pos)
      out.push_back(nlohmann::json::parse(text.substr(pos, end - pos), nullptr, false));
    pos = end + 1;
  }
  return out;
}

nlohmann::json report_summary(const std::string& text) {
  auto events = report_events(text);
  if (events.empty()) return nlohmann::json::value_t::discarded;
  nlohmann::json last = events.back();
  if (!last.is_object() || last.value("event", "") != "end")
    return nlohmann::json::value_t::discarded;
  return last;
}

ReportFile::ReportFile() : path(dir.path() + "/report.json") {
  // Above the low numbers a test hands the program as data fds (RunOpts::fd_data: 3, 4...): run
  // alone, a test's lowest free fd is 3, and the report would take the place of --seccomp 3.
  const int low = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (low < 0) throw std::runtime_error("open " + path);
  fd = fcntl(low, F_DUPFD_CLOEXEC, 64);
  close(low);
  if (fd < 0) throw std::runtime_error("dup " + path);
}

ReportFile::~ReportFile() { close(fd); }

bool bwrap_available() { return access("/usr/bin/bwrap", X_OK) == 0; }

RunResult run(const std::vector<std::string>& args, const RunOpts& opts) {
  const std::string binary = opts.use_bwrap          ? "/usr/bin/bwrap"
                             : !opts.program.empty() ? opts.program
                                                     : boxjail_binary();
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
    throw std::runtime_error("pipe");
  std::vector<std::pair<int, int>> data_pipes;  // (target fd, write end)
  std::vector<std::pair<int, int>> read_ends;   // (target fd, read end)
  for (const auto& [fd, data] : opts.fd_data) {
    int p[2];
    if (pipe2(p, O_CLOEXEC)) throw std::runtime_error("pipe");
    data_pipes.emplace_back(fd, p[1]);
    read_ends.emplace_back(fd, p[0]);
  }
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork");
  if (pid == 0) exec_spawned(binary, args, opts, in[0], out[1], err[1], read_ends);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  for (const auto& [target, fd] : read_ends) close(fd);
  // Feed stdin and the data fds, then close them so the program sees EOF.
  signal(SIGPIPE, SIG_IGN);
  write_all(in[1], opts.stdin_data);
  close(in[1]);
  for (size_t i = 0; i < data_pipes.size(); ++i) {
    write_all(data_pipes[i].second, opts.fd_data[i].second);
    close(data_pipes[i].second);
  }

  RunResult r;
  // Read both pipes until EOF with a deadline, so a hung jail fails the test instead of CI.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(opts.timeout_sec);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_count = 2;
  while (open_count > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      kill(pid, SIGKILL);
      r.err += "\nharness: timeout\n";
      break;
    }
    int n = poll(fds, 2, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t m = read(fds[i].fd, buf, sizeof buf);
      if (m > 0) {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(m));
      } else {
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  close(out[0]);
  close(err[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

RunResult jail_sh(std::vector<std::string> jail_args, const std::string& script,
                  const RunOpts& opts) {
  jail_args.insert(jail_args.end(), {"sh", "-c", script});
  return run(jail_args, opts);
}

std::vector<Deny> deny_new_mount_api() {
  std::vector<Deny> out;
  for (const char* call :
       {"open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr"}) {
    out.push_back({call, ENOSYS});
  }
  return out;
}

bool classic_mounts_forced() {
  const char* v = getenv("BOXJAIL_TEST_MOUNTS");
  return v && std::string(v) == "classic";
}

std::string bpf_denying(const std::string& syscall_name, int err) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) return {};
  if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(static_cast<unsigned>(err)),
                       seccomp_syscall_resolve_name(syscall_name.c_str()), 0) != 0) {
    seccomp_release(ctx);
    return {};
  }
  int fd = memfd_create("bpf", MFD_CLOEXEC);
  int rc = seccomp_export_bpf(ctx, fd);
  seccomp_release(ctx);
  std::string out;
  if (rc == 0) {
    lseek(fd, 0, SEEK_SET);
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string host_mountinfo() { return read_file("/proc/self/mountinfo"); }

int count_processes_of(const std::string& exe) {
  int count = 0;
  DIR* d = opendir("/proc");
  if (!d) return -1;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char link[300], target[4096];
    snprintf(link, sizeof link, "/proc/%s/exe", e->d_name);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    if (exe == target) ++count;
  }
  closedir(d);
  return count;
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/boxjail-test-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
  chmod(tmpl, 0755);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::file(const std::string& name, const std::string& content,
                          unsigned mode) const {
  std::string p = path_ + "/" + name;
  std::filesystem::create_directories(std::filesystem::path(p).parent_path());
  std::ofstream(p) << content;
  chmod(p.c_str(), mode);
  return p;
}

}  // namespace boxjail::test

// ---- Background runs (added for the process tests) ----

namespace boxjail::test {
namespace {

// The child side of Spawned: the same set-up run() does before exec.
[[noreturn]] void exec_spawned(const std::string& program, const std::vector<std::string>& args,
                               const RunOpts& opts, int in, int out, int err,
                               const std::vector<std::pair<int, int>>& read_ends) {
  dup2(in, 0);
  dup2(out, 1);
  dup2(err, 2);
  std::vector<std::pair<int, int>> moved;
  for (const auto& [target, fd] : read_ends) moved.emplace_back(target, fcntl(fd, F_DUPFD, 100));
  for (const auto& [target, fd] : moved) {
    dup2(fd, target);
    close(fd);
  }
  for (int fd : opts.keep_fds) {
    int flags = fcntl(fd, F_GETFD);
    fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
  signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (chdir(opts.cwd.c_str()) != 0) die_in_child("chdir");
  // Sanitizer builds only: LeakSanitizer's exit-time check clones a tracer thread, which a denied
  // clone (or, after setns(CLONE_NEWPID) for --pidns, the kernel) refuses; it then hangs or prints
  // a fatal error that is not boxjail's. Leak checking stays on for every other run.
  if (!opts.deny.empty() || std::find(args.begin(), args.end(), "--pidns") != args.end()) {
    setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
  }
  if (opts.private_run) {
    if (unshare(CLONE_NEWNS) != 0) die_in_child("unshare(CLONE_NEWNS)");
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) die_in_child("mount");
    if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
      die_in_child("mount /run");
    }
  }
  if (opts.mask_proc) {
    if (unshare(CLONE_NEWNS) != 0) die_in_child("unshare(CLONE_NEWNS)");
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) die_in_child("mount");
    if (mount("/dev/null", "/proc/uptime", nullptr, MS_BIND, nullptr) != 0) {
      die_in_child("mount /proc/uptime");
    }
  }
  if (!opts.cgroup.empty()) {
    const std::string procs = opts.cgroup + "/cgroup.procs";
    const std::string pid = std::to_string(getpid());
    const int fd = open(procs.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, pid.data(), pid.size()) < 0) die_in_child("cgroup.procs");
    close(fd);
  }
  if (opts.hide_cgroup2) {
    if (unshare(CLONE_NEWNS) != 0) die_in_child("unshare(CLONE_NEWNS)");
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) die_in_child("mount");
    std::istringstream lines(read_file("/proc/self/mountinfo"));
    std::vector<std::string> points;
    for (std::string line; std::getline(lines, line);) {
      std::istringstream words(line);
      std::vector<std::string> w{std::istream_iterator<std::string>(words), {}};
      const auto dash = std::find(w.begin(), w.end(), "-");
      if (dash != w.end() && dash + 1 != w.end() && dash[1] == "cgroup2") points.push_back(w[4]);
    }
    // The subtree is parked on /mnt (of this private namespace) while the mounts go, then moved.
    const bool subtree = !opts.cgroup2_subtree.empty() && !points.empty();
    if (subtree && mount(opts.cgroup2_subtree.c_str(), "/mnt", nullptr, MS_BIND, nullptr) != 0) {
      die_in_child("mount cgroup2_subtree");
    }
    for (const auto& point : points) {
      if (umount2(point.c_str(), MNT_DETACH) != 0) die_in_child("umount2 cgroup2");
    }
    if (subtree && mount("/mnt", points.front().c_str(), nullptr, MS_MOVE, nullptr) != 0) {
      die_in_child("move cgroup2_subtree");
    }
  }
  if (!opts.host_files.empty()) {
    if (unshare(CLONE_NEWNS) != 0) die_in_child("unshare(CLONE_NEWNS)");
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) die_in_child("mount");
    for (const auto& [path, content] : opts.host_files) {
      // A temp file, bound and then unlinked: the mount keeps it, nothing stays in /tmp.
      char from[] = "/tmp/boxjail-host-file.XXXXXX";
      const int fd = mkstemp(from);
      if (fd < 0 || write(fd, content.data(), content.size()) < 0 || fchmod(fd, 0644) != 0) {
        die_in_child("host file");
      }
      close(fd);
      const int bound = mount(from, path.c_str(), nullptr, MS_BIND, nullptr);
      unlink(from);
      if (bound != 0) die_in_child("bind host file");
    }
  }
  for (const auto& [name, value] : opts.env) setenv(name.c_str(), value.c_str(), 1);
  std::vector<Deny> deny = opts.deny;
  if (classic_mounts_forced() && !opts.use_bwrap) {
    const auto classic = deny_new_mount_api();
    deny.insert(deny.end(), classic.begin(), classic.end());
  }
  install_denials(deny);
  if (opts.as_nobody) {
    if (setgroups(opts.groups.size(), opts.groups.data()) != 0) die_in_child("setgroups");
    if (setresgid(65534, 65534, 65534) != 0) die_in_child("setresgid");
    if (setresuid(65534, 65534, 65534) != 0) die_in_child("setresuid");
  }
  if (opts.no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    die_in_child("prctl(PR_SET_NO_NEW_PRIVS)");
  }
  std::vector<char*> argv;
  std::string argv0 = opts.argv0.empty() ? program : opts.argv0;
  argv.push_back(argv0.data());
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(program.c_str(), argv.data());
  die_in_child("execv");
}

}  // namespace

Spawned::Spawned(const std::string& program, const std::vector<std::string>& args,
                 const RunOpts& opts) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
    throw std::runtime_error("pipe");
  std::vector<std::pair<int, int>> data_pipes, read_ends;
  for (const auto& [fd, data] : opts.fd_data) {
    int p[2];
    if (pipe2(p, O_CLOEXEC)) throw std::runtime_error("pipe");
    data_pipes.emplace_back(fd, p[1]);
    read_ends.emplace_back(fd, p[0]);
  }
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork");
  if (pid_ == 0) exec_spawned(program, args, opts, in[0], out[1], err[1], read_ends);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  for (const auto& [target, fd] : read_ends) close(fd);
  in_ = in[1];
  out_ = out[0];
  err_ = err[0];
  signal(SIGPIPE, SIG_IGN);
  // Pipe-sized data only: the program may not read before the test talks to it.
  for (size_t i = 0; i < data_pipes.size(); ++i) {
    write_all(data_pipes[i].second, opts.fd_data[i].second);
    close(data_pipes[i].second);
  }
  write_stdin(opts.stdin_data);
}

Spawned::~Spawned() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  for (int fd : {in_, out_, err_}) {
    if (fd >= 0) close(fd);
  }
}

void Spawned::write_stdin(const std::string& data) {
  if (in_ >= 0) write_all(in_, data);
}

void Spawned::close_stdin() {
  if (in_ >= 0) close(in_);
  in_ = -1;
}

int Spawned::send_signal(int sig) const { return reaped_ ? -1 : ::kill(pid_, sig); }

bool Spawned::pump(int timeout_ms) {
  pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
  if (out_ < 0 && err_ < 0) return false;
  int n = poll(fds, 2, timeout_ms);
  if (n <= 0) return false;
  for (int i = 0; i < 2; ++i) {
    if (fds[i].fd < 0 || fds[i].revents == 0) continue;
    char buf[4096];
    ssize_t m = read(fds[i].fd, buf, sizeof buf);
    if (m > 0) {
      if (i == 0) {
        out_all_.append(buf, static_cast<size_t>(m));
        out_pending_.append(buf, static_cast<size_t>(m));
      } else {
        err_all_.append(buf, static_cast<size_t>(m));
      }
    } else {
      close(fds[i].fd);
      (i == 0 ? out_ : err_) = -1;
    }
  }
  return true;
}

std::optional<std::string> Spawned::read_line(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    size_t nl = out_pending_.find('\n');
    if (nl != std::string::npos) {
      std::string line = out_pending_.substr(0, nl);
      out_pending_.erase(0, nl + 1);
      return line;
    }
    if (out_ < 0) return std::nullopt;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) return std::nullopt;
    pump(static_cast<int>(left));
  }
}

RunResult Spawned::wait(int timeout_sec) {
  close_stdin();
  RunResult r;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_sec);
  while (out_ >= 0 || err_ >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      ::kill(pid_, SIGKILL);
      err_all_ += "\nharness: timeout\n";
      break;
    }
    pump(static_cast<int>(left));
  }
  if (!reaped_) {
    waitpid(pid_, &wait_status_, 0);
    reaped_ = true;
  }
  r.status = WIFEXITED(wait_status_) ? WEXITSTATUS(wait_status_) : 128 + WTERMSIG(wait_status_);
  r.out = out_all_;
  r.err = err_all_;
  return r;
}

std::unique_ptr<Spawned> spawn(const std::vector<std::string>& args, const RunOpts& opts) {
  return std::make_unique<Spawned>(opts.use_bwrap          ? "/usr/bin/bwrap"
                                   : !opts.program.empty() ? opts.program
                                                           : boxjail_binary(),
                                   args, opts);
}

}  // namespace boxjail::test
