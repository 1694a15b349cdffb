#pragma once
// User-facing errors. Every message has one GNU-style shape so editors and CI logs can jump to it:
//   experiments/quickstart.yaml:14:7: error: nodes.train.params.lr: expected a number > 0, got
//   "fast"
//     did you mean 'lr'?
#include <stdexcept>
#include <string>
#include <vector>

namespace flowlab {

/// Where a value came from: a YAML file position (1-based), or a command-line override.
struct SourceLocation {
  std::string file;  // path as the user gave it, or "command line"
  int line = 0;      // 1-based; 0 = unknown
  int column = 0;    // 1-based; 0 = unknown
  std::string note;  // e.g. "from override 'a.b=1'"

  std::string prefix() const;  // "file:line:col" or "file"
};

/// Any error caused by the user's spec, configs, overrides or command line. Exit code 2.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(SourceLocation where, std::string key_path, std::string message,
              std::vector<std::string> notes = {});
  const SourceLocation& where() const { return where_; }
  const std::string& key_path() const { return key_path_; }
  const std::string& message() const { return message_; }

 private:
  SourceLocation where_;
  std::string key_path_;
  std::string message_;
};

/// A failure while running (a node threw, a dataset could not be read, a loss became NaN).
/// Exit code 1.
class RunError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Thrown inside a node when the user interrupted the run (Ctrl-C).
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("interrupted") {}
};

/// The candidate closest to `name` by edit distance, or "" when none is close enough to suggest.
std::string closest_match(const std::string& name, const std::vector<std::string>& candidates);

/// "did you mean 'x'?" note, or an empty vector when nothing is close.
std::vector<std::string> did_you_mean(const std::string& name,
                                      const std::vector<std::string>& candidates);

}  // namespace flowlab
