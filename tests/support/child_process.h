#pragma once
// A forked child (a real `flowlab` process) that is killed and reaped when its owner goes out of
// scope, however the test ends: a failed BOOST_REQUIRE must not leave a `flowlab run ...
// epochs=10000` running behind the suite, nor a zombie.
#include <signal.h>

#include <utility>

#include <sys/types.h>
#include <sys/wait.h>

namespace flowlab::testing {

class ChildProcess {
 public:
  explicit ChildProcess(pid_t pid = -1) : pid_(pid) {}
  ChildProcess(ChildProcess&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {}
  ChildProcess& operator=(ChildProcess&& other) noexcept {
    if (this != &other) {
      reap();
      pid_ = std::exchange(other.pid_, -1);
    }
    return *this;
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() { reap(); }

  pid_t pid() const { return pid_; }
  void send(int signal) const {
    if (pid_ > 0) ::kill(pid_, signal);
  }
  /// Waits for the child to end and returns its wait status (see WIFEXITED and friends).
  int wait() {
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, 0) == pid_) pid_ = -1;
    return status;
  }
  /// True (and `status` set) when the child has already ended; never blocks.
  bool ended(int& status) {
    if (pid_ <= 0) return true;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
    pid_ = -1;
    return true;
  }

 private:
  void reap() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  pid_t pid_;
};

}  // namespace flowlab::testing
