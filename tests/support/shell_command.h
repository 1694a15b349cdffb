#pragma once
// Runs a shell command line and collects what it prints, for tests of the real `flowlab`
// programs (FLOWLAB_BINARY) as a user runs them.
#include <cstdio>
#include <stdexcept>
#include <string>

#include <sys/wait.h>

namespace flowlab::testing {

struct CommandResult {
  int code = -1;       // exit status; -1 when killed by a signal
  std::string output;  // stdout and stderr
};

inline CommandResult run_shell_command(const std::string& command_line) {
  const std::string command = command_line + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed");
  CommandResult r;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) r.output.append(buffer, n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace flowlab::testing
