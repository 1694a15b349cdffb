#include "experiments/cli/table.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

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
    case Format::kTable: {
      std::vector<size_t> width(t.columns.size());
      for (size_t c = 0; c < t.columns.size(); ++c) width[c] = display_width(t.columns[c]);
      for (const auto& row : t.rows)
        for (size_t c = 0; c < row.size() && c < width.size(); ++c)
          width[c] = std::max(width[c], display_width(row[c]));
      auto line = [&](const std::vector<std::string>& cells) {
        std::string text;
        for (size_t c = 0; c < width.size(); ++c) {
          std::string v = c < cells.size() ? cells[c] : "";
          std::string pad(width[c] - display_width(v), ' ');
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
      break;
    }
  }
}

}  // namespace flowlab::cli
