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

/// Prints `table`. A table for std::cout on a terminal is fitted to its width (terminal_columns):
/// the widest text columns are cut with "…", numbers never; piped output and --wide keep every
/// character.
void print(const Table& table, Format format, std::ostream& out);

/// The aligned text table, fitted to `columns` (0: no limit).
void print_table(const Table& table, std::ostream& out, size_t columns);

/// Column widths that fit `columns` with two spaces between columns: the widest non-numeric
/// column is narrowed first, none below 8; unchanged when `columns` is 0 or nothing can give.
std::vector<size_t> fit_widths(std::vector<size_t> width, const std::vector<bool>& numeric,
                               size_t columns);

/// The terminal's width when stdout is one and --wide was not given (set_wide_output), else 0.
size_t terminal_columns();
void set_wide_output(bool wide);

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
