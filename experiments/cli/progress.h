#pragma once
// Progress on the terminal: one live line per running node (redrawn in place on a TTY, a line
// every few seconds otherwise, so CI logs stay readable), and one line when a node ends. A graph
// of many nodes (a large sweep) gets one overall line instead: nodes done out of all, failures,
// elapsed time and an estimate of the time left; failed nodes are still named one by one.
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>

namespace flowlab::cli {

class ProgressPrinter {
 public:
  /// Graphs with more nodes than this get the overall line instead of per-node lines.
  static constexpr size_t kCompactAbove = 40;

  /// In that mode, failed nodes past this many are counted but not named.
  static constexpr size_t kNamedFailures = 20;

  /// `total_nodes`: how many nodes the graph will run (0: unknown, per-node lines). `tty`: whether
  /// lines are redrawn in place (default: whether stderr is a terminal).
  ProgressPrinter(std::ostream& out, bool quiet, size_t total_nodes = 0,
                  std::optional<bool> tty = std::nullopt);
  ~ProgressPrinter();
  void started(const std::string& node, const std::string& op);
  void update(const std::string& node, double fraction, const std::string& message);
  void finished(const std::string& node, const std::string& status, double seconds,
                const std::string& error);

 private:
  void clear_live_line();
  void print_overall(bool force);
  std::ostream& out_;
  bool quiet_, tty_;
  size_t total_ = 0, done_ = 0, failed_ = 0, skipped_ = 0, killed_ = 0;
  bool compact_ = false;
  std::chrono::steady_clock::time_point start_, last_overall_;
  std::mutex mutex_;
  std::map<std::string, std::chrono::steady_clock::time_point> last_print_;
  bool live_line_ = false;
};

}  // namespace flowlab::cli
