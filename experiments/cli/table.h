#pragma once
// Rows printed three ways: an aligned text table for people, CSV and JSON for programs.
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace flowlab::cli {

enum class Format { kTable, kCsv, kJson };
Format parse_format(const std::string& name);  // table | csv | json; throws ConfigError

struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  /// Columns whose values are numbers: right-aligned in tables, unquoted in JSON.
  std::vector<bool> numeric;

  void add_row(std::vector<std::string> row) { rows.push_back(std::move(row)); }
};

void print(const Table& table, Format format, std::ostream& out);

/// Unix seconds as local "YYYY-MM-DD HH:MM:SS".
std::string format_local_time(double unix_seconds);

/// A number with up to `digits` significant digits, without trailing noise ("0.8912", "52.1").
std::string format_number(double value, int digits = 4);

/// Counts of a large sweep's children by status, "4 FAILED, 696 FINISHED", and where to list them
/// all: "(every child: flowlab query "parent_id = 12" --format csv)". For summaries that print
/// counts instead of thousands of rows.
std::string children_counts(const std::vector<std::string>& statuses);
std::string children_query_hint(int64_t parent);

}  // namespace flowlab::cli
