#include "experiments/cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/clock.h"

namespace flowlab::cli {

ProgressPrinter::ProgressPrinter(std::ostream& out, bool quiet, size_t total_nodes,
                                 std::optional<bool> tty)
    : out_(out),
      quiet_(quiet),
      tty_(tty.value_or(isatty(STDERR_FILENO) == 1)),
      total_(total_nodes),
      compact_(total_nodes > kCompactAbove),
      start_(std::chrono::steady_clock::now()),
      last_overall_(start_) {}

void ProgressPrinter::print_overall(bool force) {
  using namespace std::chrono;
  const auto now = steady_clock::now();
  if (!force && now - last_overall_ < (tty_ ? milliseconds(200) : seconds(10))) return;
  last_overall_ = now;
  const double elapsed = duration<double>(now - start_).count();
  const double fraction = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 0;
  const int filled = static_cast<int>(std::lround(std::clamp(fraction, 0.0, 1.0) * 20));
  std::string line = fmt::format("  [{}{}] {}/{} nodes", std::string(filled, '#'),
                                 std::string(20 - filled, '.'), done_, total_);
  if (failed_) line += fmt::format(", {} failed", failed_);
  if (skipped_) line += fmt::format(", {} skipped", skipped_);
  if (killed_) line += fmt::format(", {} killed", killed_);
  line += fmt::format("  {} elapsed", format_duration(elapsed));
  if (done_ > 0 && done_ < total_)
    line += fmt::format(", about {} left",
                        format_duration(elapsed * static_cast<double>(total_ - done_) / done_));
  if (tty_) {
    out_ << "\r\033[K" << line << std::flush;
    live_line_ = true;
  } else {
    out_ << line << "\n" << std::flush;
  }
}

ProgressPrinter::~ProgressPrinter() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (compact_ && tty_ && live_line_ && !quiet_) {
    out_ << "\n" << std::flush;  // keep the final overall line on screen
    live_line_ = false;
  }
  clear_live_line();
}

void ProgressPrinter::clear_live_line() {
  if (live_line_) out_ << "\r\033[K" << std::flush;
  live_line_ = false;
}

void ProgressPrinter::started(const std::string& node, const std::string& op) {
  if (quiet_ || compact_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  clear_live_line();
  out_ << fmt::format("  > {} ({})\n", node, op) << std::flush;
}

void ProgressPrinter::update(const std::string& node, double fraction, const std::string& message) {
  if (quiet_ || compact_) return;
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
  const bool ok = status == "FINISHED" || status == "CACHED";
  if (compact_) {
    // Only failures are named, and only the first few: a Ctrl-C or an early failure in a sweep
    // of thousands of nodes would otherwise print a line (or three) per skipped node.
    ++done_;
    if (status == "FAILED") ++failed_;
    if (status == "SKIPPED") ++skipped_;
    if (status == "KILLED") ++killed_;
    const bool name_it = status == "FAILED" && failed_ <= kNamedFailures;
    if (!name_it) {
      if (!quiet_) print_overall(done_ == total_);
      return;
    }
  }
  clear_live_line();
  if (quiet_ && error.empty()) return;
  std::string mark = ok ? "ok" : "!!";
  std::string note = status == "CACHED" ? "  (reused from cache)" : "";
  out_ << fmt::format("  {} {} {} in {:.2f} s{}\n", mark, node, status, seconds, note);
  if (!error.empty() && status != "FAILED") out_ << "     " << error << "\n";
  out_ << std::flush;
  if (compact_ && !quiet_) print_overall(true);
}

}  // namespace flowlab::cli
