#pragma once
// `flowlab query`, `sql` and `compare`: the logic behind them, apart from the CLI11 wiring, so
// that unit_core can test it without LibTorch. Each *_table function builds the rows; the
// plain-named ones print them.
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "experiments/cli/table.h"
#include "tracking/query.h"

namespace flowlab::cli {

/// Runs matching `query.filter` (MLflow search_runs syntax; see tracking/query.h), one column per
/// field. `format` decides how times and reals are written (tables: local dates, 6 digits;
/// csv/json: unix seconds, full precision).
Table query_table(const std::filesystem::path& workspace, const tracking::RunQuery& query,
                  Format format);
void query_runs(const std::filesystem::path& workspace, const tracking::RunQuery& query,
                Format format, std::ostream& out);

/// One SQL statement on a read-only connection. Write statements throw ConfigError and change
/// nothing.
Table sql_table(const std::filesystem::path& workspace, const std::string& sql);
void run_sql(const std::filesystem::path& workspace, const std::string& sql, Format format,
             std::ostream& out);

/// Runs side by side (each RUN an id or "last"; at least two): experiment, name and status, the
/// params and tags whose values differ (all of them with `all`), and every final metric (6 digits
/// in a table, full precision for csv/json).
Table compare_table(const std::filesystem::path& workspace, const std::vector<std::string>& runs,
                    bool all, Format format = Format::kTable);
/// The same over a store whose schema is current (the `flowlab ui` API).
Table compare_table(const tracking::StoreLocation& store, const std::vector<std::string>& runs,
                    bool all, Format format = Format::kTable);
/// compare_table's rows as JSON keyed by run id (what compare --format json prints and the
/// dashboard's compare view reads).
nlohmann::json compare_json(const Table& table);
/// Prints the table; as JSON (compare_json), keyed by run id: {runs: [{id, experiment, name,
/// status}], params: {KEY: {"ID": text}}, tags: {...}, metrics: {"NODE.KEY": {"ID": number or
/// null}}}.
void compare_runs(const std::filesystem::path& workspace, const std::vector<std::string>& runs,
                  bool all, Format format, std::ostream& out);

/// Help texts (also printed by --help): the filter grammar, and the views `sql` offers.
extern const char* const kQueryHelp;
extern const char* const kSqlHelp;

}  // namespace flowlab::cli
