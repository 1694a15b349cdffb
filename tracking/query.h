#pragma once
// Searching runs with MLflow's search_runs filter language, compiled into parameterised SQL over
// the results database and run on a read-only connection (read_only_db.h). No LibTorch here.
// The parser lives in filter_parser.cpp, the SQL in sql_builder.cpp.
//
// Grammar (keywords case-insensitive; keys and string values case-sensitive):
//   filter     := [ or_expr ]                          -- empty filter: every run
//   or_expr    := and_expr { OR and_expr }             -- AND binds tighter than OR
//   and_expr   := primary { AND primary }
//   primary    := '(' or_expr ')' | comparison
//   comparison := field ( '=' | '!=' | '<' | '<=' | '>' | '>=' ) value
//               | field [NOT] ( LIKE | ILIKE ) value
//               | field [NOT] IN '(' value { ',' value } ')'
//   field      := metrics.KEY | metrics.NODE.KEY | params.KEY | tags.KEY | attributes.NAME | NAME
//                 (also metric., param., tag., attribute., attr. ; a bare NAME must be an
//                 attribute)
//   KEY, NODE  := segment { '.' segment }   segment := [A-Za-z0-9_/-]+ | `...` | "..."
//                 (a doubled quote inside quotes stands for itself: `it``s`)
//   value      := number | '...' | "..."              ('' inside '...' stands for one ')
//
// What a field means for one run:
//   metrics.NODE.KEY  the latest value of series (NODE, KEY): latest_metrics, i.e. the highest step
//                     (ties: the later insert). The first segment is the node, the rest the key, so
//                     metrics.eval.class_acc.3 is node "eval", key "class_acc.3".
//   metrics.KEY       one segment: KEY logged by any node. In a filter the run matches when ANY
//                     node's latest value of KEY satisfies the comparison; as a column or sort key
//                     it is the most recently logged of them (latest timestamp, then node name).
//                     Quote a dotted bare key: metrics."class_acc.3".
//   params.KEY        the param's text; tags.KEY the tag's text. When the value in the filter is a
//                     number (5, '5', '1e-3') and the stored text is a number too, they compare as
//                     numbers ('0.010' = 0.01; '64' > '8'); otherwise they compare as text.
//   attributes.X      id (= run_id, the integer run id), uuid, name (= run_name), experiment,
//                     status, start_time (= created), end_time, duration, parent_id, seed, host,
//                     git_commit, spec_file, overrides. Times are unix seconds; a time may also be
//                     written as a local date string: attributes.start_time > '2024-05-01 12:00'.
//                     status values are checked (RUNNING, FINISHED, FAILED, KILLED, SCHEDULED,
//                     STALE; any case). STALE is a RUNNING run without a heartbeat for
//                     kStaleAfterSeconds (its process is gone): it is no longer RUNNING.
//                     deleted_at (a time, NULL unless deleted) and lifecycle_stage ('active' or
//                     'deleted', MLflow's name) matter with RunQuery::view other than active.
// A run without the field (or with a NaN metric) matches no comparison, != and NOT IN included.
// LIKE is case-sensitive with % and _ wildcards; ILIKE is the same, folding Unicode case
// (fold_case: "ÜNÏCÖDÉ" matches "ünïcödé").
// LIKE and ILIKE apply to text fields only; metrics take numbers only.
//
// Safety: a filter only chooses among SQL fragments written in sql_builder.cpp; every key and
// value the user typed is a bound parameter, never part of the SQL text.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "tracking/read_only_db.h"
#include "tracking/store.h"

namespace flowlab::tracking {

/// A RUNNING run silent this long (it beats every 5 s) is STALE in filters and columns.
constexpr double kStaleAfterSeconds = 60;

/// A malformed filter, column list or sort key. what() shows the text with a caret under the
/// offending token; position() is its byte offset in the text.
class QuerySyntaxError : public ConfigError {
 public:
  QuerySyntaxError(const std::string& option, const std::string& text, size_t position,
                   const std::string& message);
  size_t position() const { return position_; }

 private:
  size_t position_;
};

enum class FieldKind { kMetric, kParam, kTag, kAttribute };

/// One thing known about a run: a metric series, a param, a tag or an attribute.
struct Field {
  FieldKind kind = FieldKind::kAttribute;
  std::string node;  // metrics only; empty = any node
  std::string key;   // metric/param/tag key, or the canonical attribute name ("id", "status")
  /// The canonical spelling, which parses back to this field: "metrics.eval.accuracy",
  /// "params.`a b`", and bare names for attributes ("status").
  std::string display() const;
  bool operator==(const Field& o) const { return kind == o.kind && node == o.node && key == o.key; }
};

/// The attribute's value type, for formatting: "int", "real", "time" or "text".
std::string attribute_type(const std::string& name);

struct SortKey {
  Field field;
  bool descending = false;
};

/// One field, e.g. "metrics.eval.accuracy" (throws QuerySyntaxError naming `option`).
Field parse_field(const std::string& text, const std::string& option = "field");
/// "id,name,metrics.eval.accuracy" (commas inside quoted keys are part of the key).
std::vector<Field> parse_columns(const std::string& text);
/// "-metrics.eval.accuracy,+params.lr" or MLflow's "metrics.eval.accuracy DESC"; no sign and
/// no direction means ascending.
std::vector<SortKey> parse_sort(const std::string& text);
/// Checks a filter's syntax and types (throws QuerySyntaxError) and returns the fields it names,
/// in order of first appearance.
std::vector<Field> filter_fields(const std::string& filter);

struct RunQuery {
  std::string filter;   // empty: every run (of `view`)
  std::string columns;  // empty: id, experiment, name, status + the filter's and sort's fields
  std::vector<std::string> sort;  // each parsed with parse_sort; empty: newest first
  int limit = 0;                  // <= 0: no limit
  int64_t offset = 0;             // skip this many runs of the sorted result first (paging)
  /// Also count every run the filter matches (QueryResult::total), in the same statement.
  bool with_total = false;
  /// Deleted runs (`flowlab delete`) are left out unless the view asks for them.
  RunView view = RunView::kActiveOnly;
};

/// The SQL a RunQuery runs, for tests and for the curious.
struct CompiledQuery {
  std::string sql;
  std::vector<SqlValue> binds;
  std::vector<Field> columns;  // one per result column
};
/// `schema_version`: the database's (before 5 there is no deleted_at column, and no run is
/// deleted).
/// `dialect`: the SQL both stores share, but for LIKE (SQLite's GLOB) and ILIKE.
CompiledQuery compile_query(const RunQuery& query, int schema_version = latest_schema_version(),
                            Dialect dialect = Dialect::kSqlite);

/// SELECT count(*) of the runs `query` matches (its filter and view; columns, sort, limit and
/// offset play no part): the total behind a page of results.
CompiledQuery compile_count(const RunQuery& query, int schema_version = latest_schema_version(),
                            Dialect dialect = Dialect::kSqlite);

struct QueryResult {
  std::vector<Field> fields;  // one per column; headings are fields[i].display()
  std::vector<std::vector<SqlValue>> rows;
  std::optional<int64_t> total;  // with RunQuery::with_total: how many runs matched in all
};

/// Runs a query. Malformed input throws QuerySyntaxError before anything touches the database.
QueryResult run_query(const ReadOnlyDb& db, const RunQuery& query);
/// For each metric, param or tag `filter` names that no run recorded: "no run has
/// metrics.eval.acuracy; did you mean metrics.eval.accuracy?" (the closest recorded name, when
/// one is close). What an empty answer says instead of nothing.
std::vector<std::string> unknown_field_notes(const ReadOnlyDb& db, const std::string& filter);
/// A --columns list with patterns expanded: an item with '*' (params.*, metrics.eval.*,
/// params.train.*) becomes every recorded name it matches, sorted; other items stay as written.
/// The store decides what exists, so this runs before compile_query.
std::string expand_column_patterns(const ReadOnlyDb& db, const std::string& columns);
/// How many runs `query` matches (compile_count).
int64_t count_runs(const ReadOnlyDb& db, const RunQuery& query);

/// The number a whole string spells in the filter's number syntax ([+-] digits [. digits]
/// [e [+-] digits]), else nullopt. Used for params/tags numeric comparison; the same as
/// flowlab::parse_double (common/text.h), which plots and tables use too.
std::optional<double> parse_number(const std::string& text);

}  // namespace flowlab::tracking
