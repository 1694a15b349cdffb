#include "tracking/reader.h"

#include <algorithm>
#include <limits>
#include <utility>
#include <variant>

namespace flowlab::tracking {
namespace {

constexpr const char* kSweepParentSuffix = " (sweep)";

// Whether run `a` (a row of run_attributes) is a sweep parent; binds one value,
// sweep_pattern(). The name test is case-sensitive in both dialects (SQLite's LIKE is not).
std::string is_sweep_parent_sql(Dialect d) {
  return std::string("(EXISTS (SELECT 1 FROM run_attributes c WHERE c.parent_id = a.run_id) OR ") +
         (d == Dialect::kSqlite ? "a.name GLOB ?)" : "a.name LIKE ?)");
}
std::string sweep_pattern(Dialect d) {  // the suffix has no GLOB or LIKE metacharacters
  return (d == Dialect::kSqlite ? "*" : "%") + std::string(kSweepParentSuffix);
}

constexpr const char* kRunColumns =
    "SELECT a.run_id, a.uuid, a.experiment, a.name, a.status, a.parent_id, a.start_time, "
    "a.end_time, a.heartbeat, a.host, a.pid, a.seed, a.git_commit, a.spec_file, a.overrides, "
    "a.flowlab_version, a.error FROM run_attributes a ";

// Enough ids per statement to keep round trips few, well under SQLite's limit on bound values.
constexpr size_t kIdsPerQuery = 500;

std::vector<RunInfo> read_runs(const ResultSet& rs) {  // rows selected with kRunColumns
  std::vector<RunInfo> out;
  for (const auto& row : rs.rows) {
    RunInfo r;
    r.id = as_int(row[0]);
    r.uuid = as_text(row[1]);
    r.experiment = as_text(row[2]);
    r.name = as_text(row[3]);
    r.status = run_status_from_string(as_text(row[4]));
    r.parent_id = as_opt_int(row[5]);
    r.start_time = as_real(row[6]);
    r.end_time = as_opt_real(row[7]);
    r.heartbeat = as_opt_real(row[8]);
    r.host = as_text(row[9]);
    r.pid = as_int(row[10]);
    r.seed = as_int(row[11]);
    r.git_commit = as_text(row[12]);
    r.spec_file = as_text(row[13]);
    r.overrides = as_text(row[14]);
    r.flowlab_version = as_text(row[15]);
    r.error = as_text(row[16]);
    out.push_back(std::move(r));
  }
  return out;
}

// Runs `sql_before_ids` + "(?, ?, ...)" + `sql_after_ids` once per slice of `ids` and passes each
// row to `row_fn`.
template <typename F>
void for_each_row_of(const ReadOnlyDb& db, const std::vector<int64_t>& ids,
                     const std::string& sql_before_ids, const std::string& sql_after_ids,
                     F row_fn) {
  for (size_t first = 0; first < ids.size(); first += kIdsPerQuery) {
    const size_t n = std::min(kIdsPerQuery, ids.size() - first);
    std::string sql = sql_before_ids + "(";
    std::vector<SqlValue> binds;
    for (size_t i = 0; i < n; ++i) {
      sql += i ? ", ?" : "?";
      binds.emplace_back(ids[first + i]);
    }
    for (const auto& row : db.execute(sql + ")" + sql_after_ids, binds).rows) row_fn(row);
  }
}

// The file brought up to the current schema first, as every flowlab command that opens the store
// does (a read-only connection cannot migrate).
const StoreLocation& migrated(const StoreLocation& where) {
  ensure_current_schema(where);
  return where;
}

}  // namespace

void ensure_current_schema(const StoreLocation& where) {
  int version = 0;
  {
    const ReadOnlyDb probe(where);  // throws StoreError when there is no file
    version = probe.schema_version();
  }
  if (version >= latest_schema_version()) return;
  try {
    Store migrate(where);  // in a read-only workspace: a StoreError that says so
  } catch (const StoreError&) {
    // Version 3 has every table and view readers use (later versions change how runs are
    // written), so a file that cannot be migrated now (a read-only workspace) is read as it is.
    if (version < 3) throw;
  }
}

std::string sweep_parent_name(const std::string& spec_stem) {
  return spec_stem + kSweepParentSuffix;
}

RunReader::RunReader(const StoreLocation& where) : db_(migrated(where)) {}

std::optional<RunInfo> RunReader::run(int64_t id) const {
  auto runs = read_runs(db_.execute(std::string(kRunColumns) + "WHERE a.run_id = ?", {id}));
  if (runs.empty()) return std::nullopt;
  return std::move(runs.front());
}

std::vector<RunInfo> RunReader::children(int64_t parent_id) const {
  return read_runs(db_.execute(std::string(kRunColumns) + "WHERE a.parent_id = ? ORDER BY a.run_id",
                               {parent_id}));
}

bool RunReader::is_sweep_parent(int64_t id) const {
  const std::string sql =
      "SELECT 1 FROM run_attributes a WHERE a.run_id = ? AND " + is_sweep_parent_sql(db_.dialect());
  return !db_.execute(sql, {id, sweep_pattern(db_.dialect())}).rows.empty();
}

// " AND a.deleted_at IS NULL" where the view has that column (schema 5 on): deleted runs are
// hidden from what stands for results.
static std::string active_only(const ReadOnlyDb& db) {
  return db.schema_version() >= 5 ? " AND a.deleted_at IS NULL" : "";
}

std::vector<RunInfo> RunReader::runs_except_sweep_parents(const std::string& experiment) const {
  std::string sql = std::string(kRunColumns) + "WHERE NOT " + is_sweep_parent_sql(db_.dialect()) +
                    active_only(db_);
  std::vector<SqlValue> binds{sweep_pattern(db_.dialect())};
  if (!experiment.empty()) {
    sql += " AND a.experiment = ?";
    binds.emplace_back(experiment);
  }
  return read_runs(db_.execute(sql + " ORDER BY a.run_id", binds));
}

std::vector<std::string> RunReader::experiments() const {
  std::vector<std::string> out;
  for (const auto& row : db_.execute("SELECT DISTINCT experiment FROM run_attributes a WHERE TRUE" +
                                     active_only(db_) + " ORDER BY experiment")
                             .rows)
    out.push_back(as_text(row[0]));
  return out;
}

std::string RunReader::newest_experiment() const {
  const ResultSet rs =
      db_.execute("SELECT experiment FROM run_attributes a WHERE TRUE" + active_only(db_) +
                  " ORDER BY start_time DESC, run_id DESC LIMIT 1");
  return rs.rows.empty() ? "" : as_text(rs.rows[0][0]);
}

std::map<int64_t, std::map<std::string, std::string>> RunReader::params(
    const std::vector<int64_t>& ids) const {
  std::map<int64_t, std::map<std::string, std::string>> out;
  for_each_row_of(db_, ids, "SELECT run_id, key, value FROM run_params WHERE run_id IN ", "",
                  [&](const std::vector<SqlValue>& row) {
                    out[as_int(row[0])][as_text(row[1])] = as_text(row[2]);
                  });
  return out;
}

std::map<int64_t, std::vector<FinalMetric>> RunReader::final_metrics(
    const std::vector<int64_t>& ids) const {
  std::map<int64_t, std::vector<FinalMetric>> out;
  for_each_row_of(db_, ids, "SELECT run_id, node, key, value FROM final_metrics WHERE run_id IN ",
                  " ORDER BY run_id, node, key", [&](const std::vector<SqlValue>& row) {
                    out[as_int(row[0])].push_back(
                        FinalMetric{as_text(row[1]), as_text(row[2]), as_real(row[3])});
                  });
  return out;
}

std::map<int64_t, std::map<std::string, int64_t>> RunReader::child_status_counts(
    const std::vector<int64_t>& ids) const {
  std::map<int64_t, std::map<std::string, int64_t>> out;
  for_each_row_of(db_, ids,
                  "SELECT a.parent_id, a.status, count(*) FROM run_attributes a WHERE TRUE" +
                      active_only(db_) + " AND a.parent_id IN ",
                  " GROUP BY a.parent_id, a.status", [&](const std::vector<SqlValue>& row) {
                    out[as_int(row[0])][as_text(row[1])] = as_int(row[2]);
                  });
  return out;
}

std::vector<MetricPoint> RunReader::metric_history(int64_t run_id, const std::string& node,
                                                   const std::string& key) const {
  const ResultSet rs = db_.execute(
      "SELECT step, value FROM metrics WHERE run_id = ? AND node = ? AND key = ? "
      "ORDER BY step, id",
      {run_id, node, key});
  std::vector<MetricPoint> out;
  for (const auto& row : rs.rows) {
    const MetricPoint p{as_int(row[0]), as_real(row[1])};
    if (!out.empty() && out.back().step == p.step) out.pop_back();  // the later value wins
    out.push_back(p);
  }
  return out;
}

}  // namespace flowlab::tracking
