#include "experiments/cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace flowlab::cli {

ProgressPrinter::ProgressPrinter(std::ostream& out, bool quiet)
    : out_(out), quiet_(quiet), tty_(isatty(STDERR_FILENO) == 1) {}

ProgressPrinter::~ProgressPrinter() {
  std::lock_guard<std::mutex> lock(mutex_);
  clear_live_line();
}

void ProgressPrinter::clear_live_line() {
  if (live_line_) out_ << "\r\033[K" << std::flush;
  live_line_ = false;
}

void ProgressPrinter::started(const std::string& node, const std::string& op) {
  if (quiet_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  clear_live_line();
  out_ << fmt::format("  > {} ({})\n", node, op) << std::flush;
}

void ProgressPrinter::update(const std::string& node, double fraction, const std::string& message) {
  if (quiet_) return;
  using namespace std::chrono;
  std::lock_guard<std::mutex> lock(mutex_);
  auto now = steady_clock::now();
  auto& last = last_print_[node];
  auto interval = tty_ ? milliseconds(200) : seconds(10);
  if (now - last < interval && fraction < 1.0) return;
  last = now;
  int filled = static_cast<int>(std::lround(std::clamp(fraction, 0.0, 1.0) * 20));
  std::string bar = std::string(filled, '#') + std::string(20 - filled, '.');
  std::string line = fmt::format("    {} [{}] {:3.0f}%  {}", node, bar, fraction * 100, message);
  if (tty_) {
    out_ << "\r\033[K" << line << std::flush;
    live_line_ = true;
  } else {
    out_ << line << "\n" << std::flush;
  }
}

void ProgressPrinter::finished(const std::string& node, const std::string& status, double seconds,
                               const std::string& error) {
  std::lock_guard<std::mutex> lock(mutex_);
  clear_live_line();
  if (quiet_ && error.empty()) return;
  std::string mark = status == "FINISHED" || status == "CACHED" ? "ok" : "!!";
  std::string note = status == "CACHED" ? "  (reused from cache)" : "";
  out_ << fmt::format("  {} {} {} in {:.2f} s{}\n", mark, node, status, seconds, note);
  if (!error.empty() && status != "FAILED") out_ << "     " << error << "\n";
  out_ << std::flush;
}

}  // namespace flowlab::cli
