// `flowlab query`, `sql` and `compare`: searching and comparing recorded runs.
#include "experiments/cli/query_commands.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/text.h"
#include "experiments/cli/app.h"
#include "experiments/cli/commands.h"
#include "tracking/reader.h"
#include "tracking/store.h"

namespace flowlab::cli {
namespace fs = std::filesystem;
using tracking::Field;
using tracking::FieldKind;
using tracking::SqlValue;

const char* const kQueryHelp = R"(
Filter (MLflow search_runs syntax; keywords in any case; keys and values case-sensitive, but
status values in any case):
  metrics.NODE.KEY   the series' latest value (highest step), e.g. metrics.eval.accuracy
  metrics.KEY        KEY logged by any node: matches when any node's latest value matches; as a
                     column or sort key, the most recently logged one stands for the run
  params.KEY         text, e.g. params.train.lr; when both sides are numbers they compare as
                     numbers ('0.010' = 0.01, '64' > '8'), otherwise as text (MLflow: always text)
  tags.KEY           text, same rule as params
  attributes.NAME    id (run_id; quoted values are uuids: run_id IN ('4f2a...')), uuid,
                     name (run_name, `run name`), experiment, status,
                     start_time (created), end_time, duration, parent_id, seed, host, git_commit,
                     spec_file, overrides. The prefix may be left out: status = 'FAILED'.
                     status = 'STALE': RUNNING but silent for a minute (its process is gone, as
                     `flowlab runs` shows it); such a run no longer matches 'RUNNING'. Times
                     are unix seconds, MLflow's milliseconds (a number of 1e11 or more) or local
                     dates: start_time > '2024-05-01 12:00'
  prefixes           metrics/metric, params/param/parameters/parameter, tags/tag,
                     attributes/attribute/attr/run; also in backquotes: `metrics`.loss
  operators          = != < <= > >=, LIKE and ILIKE (% and _ wildcards; text only; ILIKE folds
                     Unicode case: 'ÜNÏCÖDÉ' matches 'ünïcödé'), IN ('a', 'b') and NOT IN (...),
                     NOT LIKE, NOT ILIKE, IS NULL and IS NOT NULL (whether the run has the
                     field at all)
  combining          AND, OR (AND binds tighter), parentheses; at most 250 comparisons
  quoting            values 'text' or "text" ('' inside is a quote); keys with special
                     characters in backquotes or double quotes: metrics.`f1 score`. A quoted
                     dotted metric key, metrics.`eval.accuracy` (as MLflow's docs write it),
                     means node eval's accuracy or a key "eval.accuracy" logged by any node.
                     Unquoted keys may use any non-ASCII letters: params.größe
  A run lacking a field (or whose metric is NaN) matches no comparison, != and NOT IN included.
  Where flowlab differs from MLflow on purpose: the number rule for params and tags above; a
  metric's latest value is the one at the highest step (ties: the later insert), not the latest
  timestamp; a NaN latest value counts as missing (IS NULL).
  Deleted runs (flowlab delete) are left out: --view deleted_only or --view all shows them, and
  the attributes deleted_at and lifecycle_stage ('active' or 'deleted') describe them.

Sort: --sort=-KEY descending, --sort=KEY or +KEY ascending, or --sort 'KEY DESC'; repeat the
option or separate keys with commas (should a -KEY ever be taken for an option, write
--sort=-KEY). Runs lacking a sort key come last; ties go to the newest run.
Columns: --columns id,name,metrics.eval.accuracy (same key syntax); '*' patterns expand to every
recorded name they match: --columns 'id,params.*,metrics.eval.*'. Default: id, experiment, name,
status and every key the filter and sort mention. A filter naming a metric or param no run has
says so (with the closest recorded name) instead of printing an empty table.

Examples:
  flowlab query "metrics.eval.accuracy > 0.85 and params.defaults.model = 'cnn'"
  flowlab query "status = 'FINISHED'" --sort=-metrics.eval.accuracy --limit 5
  flowlab query "params.train.lr IN ('0.1', '0.01') or tags.note LIKE '%baseline%'" --format csv)";

const char* const kSqlHelp = R"(
The database is opened read-only: one statement per call, and anything that would write is
refused before it runs. Views (stable names for scripts):
  run_attributes(run_id, uuid, experiment, name, status, parent_id, start_time, end_time,
                 duration_s, started, heartbeat, host, pid, seed, git_commit, spec_file,
                 overrides, flowlab_version, error, deleted_at, lifecycle_stage)
                                                               one row per run, deleted ones too
  run_params(run_id, key, value)                               every param, as text
  run_tags(run_id, key, value)                                 every tag
  run_metrics(run_id, node, key, step, value, timestamp)       every metric row (NULL = NaN)
  final_metrics(run_id, node, key, value)                      last value per series (top step)
  runs_summary(run_id, uuid, experiment, name, status, start_time, end_time, heartbeat,
               duration_s, n_params, n_series, n_nodes, n_artifacts, error)
Tables: experiments, runs, params, tags, metrics, latest_metrics, node_executions, artifacts.
Times are unix seconds (datetime(start_time, 'unixepoch', 'localtime') for dates);
flowlab_number(text) is the number a text spells, else NULL (for numeric params).

Example:
  flowlab sql "SELECT a.run_id, a.name, f.value AS accuracy FROM run_attributes a
               JOIN final_metrics f USING (run_id) WHERE f.node = 'eval' AND f.key = 'accuracy'
               ORDER BY accuracy DESC LIMIT 5")";

namespace {

// The results database, which must exist, brought up to the current schema first (as every
// flowlab command does) so that the tags table and the views are there. A current database is not
// opened for writing, so this works in a read-only workspace.
tracking::StoreLocation prepared_database(const fs::path& workspace) {
  tracking::StoreLocation db = existing_results_store(workspace);
  tracking::ensure_current_schema(db);
  return db;
}

// A real for people (6 significant digits) or for programs (shortest exact round trip).
std::string real_text(double v, Format format) {
  if (format == Format::kTable) return format_number(v, 6);
  // Whole numbers without ".0"; anything else in the shortest text that reads back exactly.
  return std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15 ? format_number(v)
                                                                       : fmt::format("{}", v);
}

std::string cell_text(const SqlValue& v, Format format, bool is_time) {
  if (std::holds_alternative<std::monostate>(v)) return "";
  if (const auto* i = std::get_if<int64_t>(&v)) {
    return is_time && format == Format::kTable ? format_local_time(static_cast<double>(*i))
                                               : std::to_string(*i);
  }
  if (const auto* d = std::get_if<double>(&v))
    return is_time && format == Format::kTable ? format_local_time(*d) : real_text(*d, format);
  return std::get<std::string>(v);
}

}  // namespace

Table query_table(const fs::path& workspace, const tracking::RunQuery& given, Format format) {
  tracking::RunQuery query = given;
  const bool patterns = query.columns.find('*') != std::string::npos;
  // Parse before touching the disk: a typo is reported even without a database.
  if (!patterns) tracking::compile_query(query);
  const tracking::ReadOnlyDb db(prepared_database(workspace));
  if (patterns) query.columns = tracking::expand_column_patterns(db, query.columns);
  const tracking::QueryResult result = tracking::run_query(db, query);
  Table t;
  std::vector<bool> is_time;
  for (const Field& f : result.fields) {
    t.columns.push_back(f.display());
    const std::string type = f.kind == FieldKind::kMetric      ? "real"
                             : f.kind == FieldKind::kAttribute ? tracking::attribute_type(f.key)
                                                               : "text";
    is_time.push_back(type == "time");
    // Dates in a table are text; everywhere else times are numbers.
    t.numeric.push_back(type == "int" || type == "real" ||
                        (type == "time" && format != Format::kTable));
  }
  for (const auto& row : result.rows) {
    std::vector<std::string> cells;
    for (size_t c = 0; c < row.size(); ++c) cells.push_back(cell_text(row[c], format, is_time[c]));
    t.add_row(std::move(cells));
  }
  return t;
}

void query_runs(const fs::path& workspace, const tracking::RunQuery& query, Format format,
                std::ostream& out) {
  const Table t = query_table(workspace, query, format);
  if (t.rows.empty()) {
    // Say why when the filter names something no run recorded (a typo, usually).
    const tracking::ReadOnlyDb db(prepared_database(workspace));
    const auto notes = tracking::unknown_field_notes(db, query.filter);
    for (const auto& note : notes) std::cerr << "flowlab: " << note << "\n";
    if (!notes.empty() && format == Format::kTable) return;
  }
  print(t, format, out);
}

Table sql_table(const fs::path& workspace, const std::string& sql) {
  const tracking::ReadOnlyDb db(prepared_database(workspace));
  const tracking::ResultSet rs = db.execute_user_sql(sql);
  Table t;
  t.columns = rs.columns;
  // A column is numeric when every non-NULL value in it is.
  t.numeric.assign(rs.columns.size(), true);
  for (const auto& row : rs.rows)
    for (size_t c = 0; c < row.size(); ++c)
      if (std::holds_alternative<std::string>(row[c])) t.numeric[c] = false;
  for (const auto& row : rs.rows) {
    std::vector<std::string> cells;
    for (const auto& v : row) cells.push_back(cell_text(v, Format::kCsv, false));
    t.add_row(std::move(cells));
  }
  return t;
}

void run_sql(const fs::path& workspace, const std::string& sql, Format format, std::ostream& out) {
  print(sql_table(workspace, sql), format, out);
}

Table compare_table(const fs::path& workspace, const std::vector<std::string>& refs, bool all,
                    Format format) {
  if (refs.size() < 2)
    throw ConfigError(SourceLocation{"command line"}, "compare",
                      fmt::format("expected at least two runs to compare, got {}", refs.size()));
  return compare_table(prepared_database(workspace), refs, all, format);
}

Table compare_table(const tracking::StoreLocation& where, const std::vector<std::string>& refs,
                    bool all, Format format) {
  const tracking::Store store(where, tracking::Store::Access::kReadOnly);
  struct RunData {
    tracking::RunRow row;
    std::map<std::string, std::string> params, tags;
    std::map<std::pair<std::string, std::string>, double> metrics;
  };
  std::vector<RunData> runs;
  for (const auto& ref : refs) {
    RunData d;
    d.row = *store.get_run(resolve_run(store, ref));
    d.params = store.params(d.row.id);
    d.tags = store.tags(d.row.id);
    for (const auto& m : store.final_metrics(d.row.id)) d.metrics[{m.node, m.key}] = m.value;
    runs.push_back(std::move(d));
  }

  Table t;
  t.columns.push_back("field");
  t.numeric.push_back(false);
  for (const auto& r : runs) {
    t.columns.push_back(fmt::format("run {}", r.row.id));
    t.numeric.push_back(true);
  }
  auto add = [&](const std::string& field, auto value_of) {
    std::vector<std::string> cells{field};
    for (const auto& r : runs) cells.push_back(value_of(r));
    t.add_row(std::move(cells));
  };
  add("experiment", [](const RunData& r) { return r.row.experiment; });
  add("name", [](const RunData& r) { return r.row.name; });
  add("status", [](const RunData& r) { return tracking::to_string(r.row.status); });

  // Params and tags: a key missing from some run counts as a difference.
  auto add_texts = [&](FieldKind kind, auto member) {
    std::set<std::string> keys;
    for (const auto& r : runs)
      for (const auto& kv : r.*member) keys.insert(kv.first);
    for (const auto& key : keys) {
      std::set<std::optional<std::string>> distinct;
      for (const auto& r : runs) {
        auto it = (r.*member).find(key);
        distinct.insert(it == (r.*member).end() ? std::nullopt : std::optional(it->second));
      }
      if (!all && distinct.size() == 1) continue;
      add(Field{kind, "", key}.display(), [&](const RunData& r) {
        auto it = (r.*member).find(key);
        return it == (r.*member).end() ? std::string() : it->second;
      });
    }
  };
  add_texts(FieldKind::kParam, &RunData::params);
  add_texts(FieldKind::kTag, &RunData::tags);

  std::set<std::pair<std::string, std::string>> series;
  for (const auto& r : runs)
    for (const auto& kv : r.metrics) series.insert(kv.first);
  for (const auto& s : series) {
    add(Field{FieldKind::kMetric, s.first, s.second}.display(), [&](const RunData& r) {
      auto it = r.metrics.find(s);
      return it == r.metrics.end() ? std::string() : real_text(it->second, format);
    });
  }
  return t;
}

nlohmann::json compare_json(const Table& t) {
  // Columns are "run ID"; the first rows experiment, name and status (compare_table).
  std::vector<std::string> ids;
  nlohmann::json out{{"runs", nlohmann::json::array()},
                     {"params", nlohmann::json::object()},
                     {"tags", nlohmann::json::object()},
                     {"metrics", nlohmann::json::object()}};
  for (size_t c = 1; c < t.columns.size(); ++c) {
    ids.push_back(t.columns[c].substr(4));
    out["runs"].push_back({{"id", std::stoll(ids.back())},
                           {"experiment", t.rows.at(0).at(c)},
                           {"name", t.rows.at(1).at(c)},
                           {"status", t.rows.at(2).at(c)}});
  }
  for (size_t r = 3; r < t.rows.size(); ++r) {
    const std::string& field = t.rows[r][0];
    const size_t dot = field.find('.');
    const std::string kind = field.substr(0, dot), key = field.substr(dot + 1);
    nlohmann::json values = nlohmann::json::object();
    for (size_t c = 1; c < t.columns.size(); ++c) {
      const std::string& v = t.rows[r][c];
      if (kind == "metrics") {
        auto number = parse_double(v);
        values[ids[c - 1]] = number ? nlohmann::json(*number) : nlohmann::json();
      } else {
        values[ids[c - 1]] = v;
      }
    }
    out[kind][key] = values;
  }
  return out;
}

void compare_runs(const fs::path& workspace, const std::vector<std::string>& runs, bool all,
                  Format format, std::ostream& out) {
  if (format == Format::kJson) {
    // Keyed by run id, so a script reads result["metrics"]["eval.accuracy"]["12"].
    out << compare_json(compare_table(workspace, runs, all, format))
               .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
        << "\n";
    return;
  }
  print(compare_table(workspace, runs, all, format), format, out);
  if (format == Format::kTable && !all)
    out << "(params and tags equal in every run are left out; --all shows them)\n";
}

void add_query_commands(CLI::App& app, GlobalOptions& global) {
  auto query = std::make_shared<tracking::RunQuery>();
  auto query_format = std::make_shared<std::string>("table");
  auto* q = app.add_subcommand("query", "runs matching an MLflow-style filter, as a table");
  q->add_option(
      "filter", query->filter,
      "e.g. \"metrics.eval.accuracy > 0.9 and params.train.lr = '0.01'\" (default: all runs)");
  q->add_option("-c,--columns", query->columns, "comma-separated keys to show");
  q->add_option("-s,--sort", query->sort, "sort keys: -KEY descending, KEY ascending (repeatable)")
      ->allow_extra_args(false);
  q->add_option("-n,--limit", query->limit, "at most this many runs")
      ->check(CLI::NonNegativeNumber);
  q->add_option("--format", *query_format, "table, csv or json");
  auto view = std::make_shared<std::string>("active_only");
  q->add_option("--view", *view, "active_only (default: deleted runs hidden), deleted_only or all")
      ->check(CLI::IsMember({"active_only", "deleted_only", "all"}));
  q->footer(kQueryHelp);
  q->callback([=, &global] {
    tracking::RunQuery run_query = *query;
    run_query.view = tracking::run_view_from_string(*view);
    query_runs(global.workspace(), run_query, parse_format(*query_format), std::cout);
  });

  auto statement = std::make_shared<std::string>();
  auto sql_format = std::make_shared<std::string>("table");
  auto* s = app.add_subcommand("sql", "run one read-only SQL statement on the results database");
  s->add_option("statement", *statement, "e.g. \"SELECT * FROM runs_summary\"")->required();
  s->add_option("--format", *sql_format, "table, csv or json");
  s->footer(kSqlHelp);
  s->callback([=, &global] {
    run_sql(global.workspace(), *statement, parse_format(*sql_format), std::cout);
  });

  auto runs = std::make_shared<std::vector<std::string>>();
  auto all = std::make_shared<bool>(false);
  auto compare_format = std::make_shared<std::string>("table");
  auto* c = app.add_subcommand(
      "compare", "runs side by side: params that differ and final metrics, one column per run");
  c->add_option("runs", *runs, "two or more run ids (or 'last')")->required();
  c->add_flag("--all", *all, "show every param and tag, not only those that differ");
  c->add_option("--format", *compare_format, "table, csv or json");
  c->callback([=, &global] {
    compare_runs(global.workspace(), *runs, *all, parse_format(*compare_format), std::cout);
  });
}

}  // namespace flowlab::cli
