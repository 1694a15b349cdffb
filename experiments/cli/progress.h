#pragma once
// Progress on the terminal: one live line per running node (redrawn in place on a TTY, a line
// every few seconds otherwise, so CI logs stay readable), and one line when a node ends.
#include <chrono>
#include <map>
#include <mutex>
#include <ostream>
#include <string>

namespace flowlab::cli {

class ProgressPrinter {
 public:
  ProgressPrinter(std::ostream& out, bool quiet);
  ~ProgressPrinter();
  void started(const std::string& node, const std::string& op);
  void update(const std::string& node, double fraction, const std::string& message);
  void finished(const std::string& node, const std::string& status, double seconds,
                const std::string& error);

 private:
  void clear_live_line();
  std::ostream& out_;
  bool quiet_, tty_;
  std::mutex mutex_;
  std::map<std::string, std::chrono::steady_clock::time_point> last_print_;
  bool live_line_ = false;
};

}  // namespace flowlab::cli
