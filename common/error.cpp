#include "common/error.h"

#include <algorithm>

#include <fmt/format.h>

namespace flowlab {

std::string SourceLocation::prefix() const {
  if (line > 0 && column > 0) return fmt::format("{}:{}:{}", file, line, column);
  if (line > 0) return fmt::format("{}:{}", file, line);
  return file.empty() ? "flowlab" : file;
}

static std::string format_error(const SourceLocation& where, const std::string& key_path,
                                const std::string& message, const std::vector<std::string>& notes) {
  std::string out = where.prefix() + ": error: ";
  if (!key_path.empty()) out += key_path + ": ";
  out += message;
  if (!where.note.empty()) out += " (" + where.note + ")";
  for (const auto& note : notes) out += "\n  " + note;
  return out;
}

ConfigError::ConfigError(SourceLocation where, std::string key_path, std::string message,
                         std::vector<std::string> notes)
    : std::runtime_error(format_error(where, key_path, message, notes)),
      where_(std::move(where)),
      key_path_(std::move(key_path)),
      message_(std::move(message)) {}

// Optimal string alignment distance: Levenshtein plus swaps of two adjacent characters, so the
// commonest typo ("widht", "mdoe") is one edit away rather than two.
static size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

std::string closest_match(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::string::npos;
  for (const auto& c : candidates) {
    size_t d = edit_distance(name, c);
    if (d < best_distance) best_distance = d, best = c;
  }
  // Suggest only near misses: at most a third of the name's length (and at least one edit).
  size_t allowed = std::max<size_t>(1, std::max(name.size(), best.size()) / 3);
  return best_distance <= allowed ? best : "";
}

std::vector<std::string> did_you_mean(const std::string& name,
                                      const std::vector<std::string>& candidates) {
  std::string m = closest_match(name, candidates);
  if (m.empty()) return {};
  return {"did you mean '" + m + "'?"};
}

}  // namespace flowlab
