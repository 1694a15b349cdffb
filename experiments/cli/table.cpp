#include "experiments/cli/table.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/ioctl.h>

#include "common/error.h"
#include "common/text.h"

namespace flowlab::cli {

Format parse_format(const std::string& name) {
  if (name == "table") return Format::kTable;
  if (name == "csv") return Format::kCsv;
  if (name == "json") return Format::kJson;
  throw ConfigError(SourceLocation{"command line"}, "--format",
                    "expected table, csv or json, got \"" + name + "\"",
                    did_you_mean(name, {"table", "csv", "json"}));
}

std::string format_local_time(double unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string children_counts(const std::vector<std::string>& statuses) {
  std::map<std::string, size_t> by_status;
  for (const auto& status : statuses) ++by_status[status];
  std::string counts;
  for (const auto& [status, n] : by_status)
    counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", n, status);
  return counts;
}

std::string children_query_hint(int64_t parent) {
  return fmt::format("(every child: flowlab query \"parent_id = {}\" --format csv)", parent);
}

std::string format_number(double value, int digits) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) return fmt::format("{:.0f}", value);
  return fmt::format("{:.{}g}", value, digits);
}

void print(const Table& t, Format format, std::ostream& out) {
  auto is_numeric = [&](size_t c) { return c < t.numeric.size() && t.numeric[c]; };
  switch (format) {
    case Format::kCsv: {
      for (size_t c = 0; c < t.columns.size(); ++c)
        out << (c ? "," : "") << csv_field(t.columns[c]);
      out << "\n";
      for (const auto& row : t.rows) {
        for (size_t c = 0; c < row.size(); ++c) out << (c ? "," : "") << csv_field(row[c]);
        out << "\n";
      }
      break;
    }
    case Format::kJson: {
      nlohmann::ordered_json rows = nlohmann::ordered_json::array();
      for (const auto& row : t.rows) {
        nlohmann::ordered_json obj;
        for (size_t c = 0; c < t.columns.size() && c < row.size(); ++c) {
          const std::string& v = row[c];
          if (is_numeric(c) && !v.empty()) {
            // Whole numbers (ids, counts) stay integers: "id": 4, not 4.0.
            if (const auto whole = parse_int64(v)) {
              obj[t.columns[c]] = *whole;
              continue;
            }
            if (const auto d = parse_double(v)) {
              obj[t.columns[c]] = *d;
              continue;
            }
          }
          obj[t.columns[c]] = v.empty() && is_numeric(c) ? nlohmann::ordered_json(nullptr)
                                                         : nlohmann::ordered_json(v);
        }
        rows.push_back(obj);
      }
      // A stored name that is not valid UTF-8 (written by another tool) is shown with U+FFFD
      // rather than failing the whole listing.
      out << rows.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      break;
    }
    case Format::kTable:
      print_table(t, out, &out == &std::cout ? terminal_columns() : 0);
      break;
  }
}

namespace {

bool g_wide = false;

// The first `width` columns' worth of UTF-8 `text`, the last of them "…" when cut.
std::string cut(const std::string& text, size_t width) {
  if (display_width(text) <= width) return text;
  // Whole characters, one column left for the ellipsis (a wide one may leave one more blank).
  return text.substr(0, prefix_fitting(text, width > 0 ? width - 1 : 0)) + "…";
}

// Control characters (escape sequences in a stored name) must not reach the terminal: '?'.
std::string printable(std::string text) {
  for (char& ch : text)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
  return text;
}

}  // namespace

void set_wide_output(bool wide) { g_wide = wide; }

size_t terminal_columns() {
  if (g_wide || !isatty(STDOUT_FILENO)) return 0;
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* c = std::getenv("COLUMNS"))
    if (auto n = parse_int64(c); n && *n > 0) return static_cast<size_t>(*n);
  return 0;
}

std::vector<size_t> fit_widths(std::vector<size_t> width, const std::vector<bool>& numeric,
                               size_t columns) {
  if (columns == 0 || width.empty()) return width;
  auto total = [&] {
    size_t sum = 2 * (width.size() - 1);
    for (size_t w : width) sum += w;
    return sum;
  };
  // Narrow the widest text column, one column at a time, down to 8 (numbers are never cut).
  constexpr size_t kNarrowest = 8;
  while (total() > columns) {
    size_t widest = width.size();
    for (size_t c = 0; c < width.size(); ++c) {
      const bool is_number = c < numeric.size() && numeric[c];
      if (!is_number && width[c] > kNarrowest &&
          (widest == width.size() || width[c] > width[widest]))
        widest = c;
    }
    if (widest == width.size()) break;  // nothing left to narrow: the line stays too wide
    --width[widest];
  }
  return width;
}

void print_table(const Table& t, std::ostream& out, size_t columns) {
  auto is_numeric = [&](size_t c) { return c < t.numeric.size() && t.numeric[c]; };
  std::vector<size_t> width(t.columns.size());
  for (size_t c = 0; c < t.columns.size(); ++c) width[c] = display_width(t.columns[c]);
  for (const auto& row : t.rows)
    for (size_t c = 0; c < row.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], display_width(row[c]));
  width = fit_widths(width, t.numeric, columns);
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t c = 0; c < width.size(); ++c) {
      std::string v = cut(printable(c < cells.size() ? cells[c] : ""), width[c]);
      std::string pad(width[c] - std::min(width[c], display_width(v)), ' ');
      text += (c ? "  " : "") + (is_numeric(c) ? pad + v : v + pad);
    }
    text.erase(text.find_last_not_of(' ') + 1);
    out << text << "\n";
  };
  line(t.columns);
  std::vector<std::string> rule;
  for (size_t w : width) rule.push_back(std::string(w, '-'));
  line(rule);
  for (const auto& row : t.rows) line(row);
}

}  // namespace flowlab::cli
