#pragma once
// Forked children for multi-process tests. A child must not use Boost.Test; it reports through
// its exit code (0 ok, 1 threw) and stderr. Open SQLite connections in the child, never before
// fork() (connections must not cross fork()).
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include <sys/stat.h>
#include <sys/wait.h>

namespace flowlab::testing {

/// Runs `body` in a child whose stderr goes to `stderr_file` (when given). Returns its pid.
template <typename F>
pid_t fork_child(F&& body, const std::filesystem::path& stderr_file = {}) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    if (!stderr_file.empty()) {
      const int fd = open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) dup2(fd, 2);
    }
    int rc = 0;
    try {
      body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child %d: %s\n", static_cast<int>(getpid()), e.what());
      rc = 1;
    } catch (...) {
      rc = 1;
    }
    std::fflush(stderr);
    _exit(rc);  // no atexit handlers, no Boost.Test teardown in the child
  }
  return pid;
}

/// For a forked child: when running as root (whom file modes do not stop), becomes nobody
/// (uid and gid 65534, no supplementary groups) so that a read-only directory really is read-only
/// to it, as it is to a user. Throws when it cannot.
inline void drop_root_privileges() {
  if (geteuid() != 0) return;
  if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
    throw std::runtime_error("cannot drop root privileges to uid 65534");
}

/// Makes `dir` and the files directly in it read-only (0555 / 0444) for its lifetime; restores
/// 0755 / 0644 after, so the directory can be removed. Readable by everyone, so a child that
/// dropped root privileges can still read it.
class ReadOnlyDir {
 public:
  explicit ReadOnlyDir(std::filesystem::path dir) : dir_(std::move(dir)) { set(0444, 0555); }
  ~ReadOnlyDir() { set(0644, 0755); }
  ReadOnlyDir(const ReadOnlyDir&) = delete;
  ReadOnlyDir& operator=(const ReadOnlyDir&) = delete;

 private:
  void set(mode_t file_mode, mode_t dir_mode) {
    if (file_mode == 0644) chmod(dir_.c_str(), dir_mode);  // writable again before the files
    for (const auto& e : std::filesystem::directory_iterator(dir_))
      if (e.is_regular_file()) chmod(e.path().c_str(), file_mode);
    if (file_mode == 0444) chmod(dir_.c_str(), dir_mode);
  }
  std::filesystem::path dir_;
};

/// The child's exit code, or -signal; kills it after `timeout` so a hang fails instead of hanging.
inline int wait_child(pid_t pid, std::chrono::seconds timeout = std::chrono::seconds(120)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0) throw std::runtime_error("waitpid failed");
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      throw std::runtime_error("child timed out");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1000;
}

/// A start line: children block in wait() until the parent calls release().
class Barrier {
 public:
  Barrier() {
    if (pipe(fds_) != 0) throw std::runtime_error("pipe failed");
  }
  ~Barrier() {
    close_fd(fds_[0]);
    close_fd(fds_[1]);
  }
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;
  void wait() {  // child: EOF arrives once every copy of the write end is closed
    close_fd(fds_[1]);
    char c;
    while (read(fds_[0], &c, 1) > 0) {
    }
  }
  void release() { close_fd(fds_[1]); }

 private:
  static void close_fd(int& fd) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
  int fds_[2] = {-1, -1};
};

}  // namespace flowlab::testing
