// A parsed filter, columns and sort keys as one parameterised SQL statement over the results
// database (compile_query), and running it (run_query).
#include <algorithm>
#include <cctype>
#include <optional>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/text.h"
#include "tracking/filter.h"
#include "tracking/query.h"
#include "tracking/store.h"

namespace flowlab::tracking {
namespace {

using filter::Comparison;
using filter::Expr;
using filter::find_attribute;
using filter::Literal;
using filter::Op;

// LIKE's wildcards (% and _) as a GLOB pattern: GLOB is SQLite's case-sensitive matcher, LIKE is
// ASCII case-insensitive. GLOB's own metacharacters are bracketed so they match themselves.
std::string like_to_glob(const std::string& like) {
  std::string out;
  for (char c : like) {
    switch (c) {
      case '%':
        out += '*';
        break;
      case '_':
        out += '?';
        break;
      case '*':
        out += "[*]";
        break;
      case '?':
        out += "[?]";
        break;
      case '[':
        out += "[[]";
        break;
      default:
        out += c;
    }
  }
  return out;
}

const char* op_sql(Op op) {
  switch (op) {
    case Op::kEq:
      return " = ";
    case Op::kNe:
      return " != ";
    case Op::kLt:
      return " < ";
    case Op::kLe:
      return " <= ";
    case Op::kGt:
      return " > ";
    case Op::kGe:
      return " >= ";
    default:
      return " ? ";  // unreachable: LIKE/ILIKE/IN are emitted separately
  }
}

// ---------------------------------------------------------------------------------------------
// SQL generation. add() takes only string literals written in this file; everything that came
// from the user goes through bind(). That split is what keeps a filter from changing the SQL.

class SqlBuilder {
 public:
  SqlBuilder(int schema_version, Dialect d)
      : version(schema_version),
        dialect(d),
        // STALE, as `flowlab runs` shows it: RUNNING without a sign of life for a minute (runs
        // beat every 5 s). The time is this query's, written into the SQL (not a user's value).
        status_sql_(fmt::format("(CASE WHEN r.status = 'RUNNING' AND COALESCE(r.heartbeat, "
                                "r.start_time) < {:.3f} THEN 'STALE' ELSE r.status END)",
                                unix_now() - kStaleAfterSeconds)) {}
  const int version;      // the database's schema version: which attribute SQL applies
  const Dialect dialect;  // SQLite's GLOB is PostgreSQL's LIKE

  // An attribute's SQL: its text, but the status with STALE derived.
  const char* attribute_sql(const filter::Attribute& a) const {
    return std::string(a.name) == "status" ? status_sql_.c_str() : a.sql_at(version);
  }

  template <size_t N>
  SqlBuilder& add(const char (&fixed)[N]) {
    sql_.append(fixed, N - 1);
    return *this;
  }
  SqlBuilder& add_fixed(const char* fixed_from_this_file) {  // e.g. an Attribute::sql
    sql_ += fixed_from_this_file;
    return *this;
  }
  SqlBuilder& bind(SqlValue v) {
    sql_ += '?';
    binds_.push_back(std::move(v));
    return *this;
  }
  SqlBuilder& name(char prefix, size_t index) {  // generated column names: c0, s1, ...
    sql_ += prefix;
    sql_ += std::to_string(index);
    return *this;
  }
  CompiledQuery finish(std::vector<Field> columns) {
    return CompiledQuery{std::move(sql_), std::move(binds_), std::move(columns)};
  }

 private:
  std::string sql_;
  std::vector<SqlValue> binds_;
  const std::string status_sql_;
};

// `IN (?, ?, ...)` over `values`, each bound as produced by `as_value`.
template <typename F>
void emit_list(SqlBuilder& b, const std::vector<Literal>& values, bool negated, F as_value) {
  b.add_fixed(negated ? " NOT IN (" : " IN (");
  bool first = true;
  for (const auto& v : values) {
    if (auto bound = as_value(v)) {
      if (!first) b.add(", ");
      b.bind(std::move(*bound));
      first = false;
    }
  }
  b.add(")");
}

void emit_numeric_predicate(SqlBuilder& b, const char* column, const Comparison& c) {
  b.add("(").add_fixed(column);
  if (c.op == Op::kIn) {
    emit_list(b, c.values, c.negated,
              [](const Literal& v) { return std::optional<SqlValue>(*v.number); });
  } else {
    b.add_fixed(op_sql(c.op)).bind(*c.values.front().number);
  }
  b.add(")");
}

// Text comparison; with `numeric_aware` (params, tags), a stored number meets a number in the
// filter as a number.
void emit_text_predicate(SqlBuilder& b, const char* column, const Comparison& c,
                         bool numeric_aware) {
  if (c.op == Op::kLike || c.op == Op::kILike) {
    // ILIKE folds Unicode case on both sides: the pattern here (fold_case), the column in SQL
    // (SQLite: flowlab_fold, the same function; PostgreSQL: lower() under ICU's root collation,
    // since the store's "C" collation folds ASCII only).
    const std::string& pattern = c.values.front().text;
    const bool fold = c.op == Op::kILike;
    b.add("(");
    if (b.dialect == Dialect::kPostgres) {
      // PostgreSQL's LIKE is case-sensitive; ESCAPE '' turns off the backslash escape that
      // SQLite does not have.
      if (fold)
        b.add("lower(").add_fixed(column).add(" COLLATE \"und-x-icu\")");
      else
        b.add_fixed(column);
      b.add_fixed(c.negated ? " NOT LIKE " : " LIKE ");
      b.bind(fold ? fold_case(pattern) : pattern).add(" ESCAPE '')");
      return;
    }
    // SQLite's GLOB is its case-sensitive matcher (its LIKE folds ASCII only).
    if (fold)
      b.add("flowlab_fold(").add_fixed(column).add(")");
    else
      b.add_fixed(column);
    b.add_fixed(c.negated ? " NOT GLOB " : " GLOB ")
        .bind(like_to_glob(fold ? fold_case(pattern) : pattern));
    b.add(")");
    return;
  }
  const bool any_number = std::any_of(c.values.begin(), c.values.end(),
                                      [](const Literal& v) { return v.number.has_value(); });
  auto as_text = [](const Literal& v) { return std::optional<SqlValue>(v.text); };
  if (!numeric_aware || !any_number) {
    b.add("(").add_fixed(column);
    if (c.op == Op::kIn) {
      emit_list(b, c.values, c.negated, as_text);
    } else {
      b.add_fixed(op_sql(c.op)).bind(c.values.front().text);
    }
    b.add(")");
    return;
  }
  // Text when the stored value is not a number, else numbers (only the numeric list items).
  b.add("(CASE WHEN flowlab_number(").add_fixed(column).add(") IS NULL THEN ").add_fixed(column);
  if (c.op == Op::kIn) {
    emit_list(b, c.values, c.negated, as_text);
  } else {
    b.add_fixed(op_sql(c.op)).bind(c.values.front().text);
  }
  b.add(" ELSE flowlab_number(").add_fixed(column).add(")");
  if (c.op == Op::kIn) {
    emit_list(b, c.values, c.negated, [](const Literal& v) {
      return v.number ? std::optional<SqlValue>(*v.number) : std::nullopt;
    });
  } else {
    b.add_fixed(op_sql(c.op)).bind(*c.values.front().number);
  }
  b.add(" END)");
}

// The series condition for metric `f` on latest_metrics lm (after "WHERE lm.run_id = r.id AND ").
// A one-segment key with a dot in it (metrics.`eval.accuracy`, what MLflow's docs tell users to
// write for dotted keys) is that key logged by any node, or node "eval"'s key "accuracy".
void emit_series(SqlBuilder& b, const Field& f) {
  if (!f.node.empty()) {
    b.add("lm.node = ").bind(f.node).add(" AND lm.key = ").bind(f.key);
    return;
  }
  const size_t dot = f.key.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == f.key.size()) {
    b.add("lm.key = ").bind(f.key);
    return;
  }
  b.add("(lm.key = ").bind(f.key).add(" OR (lm.node = ").bind(f.key.substr(0, dot));
  b.add(" AND lm.key = ").bind(f.key.substr(dot + 1)).add("))");
}

void emit_value(SqlBuilder& b, const Field& f);

// A condition on run r over one of its side tables (`from`: "latest_metrics lm", "params pv",
// "tags tv"; `alias` its alias): the caller writes the WHERE clause's conditions, then
// close_side. SQLite: r.id [NOT] IN (SELECT alias.run_id FROM ... WHERE ...), a subquery run
// once per query (over 100,000 runs a third of the time a per-run EXISTS takes). PostgreSQL:
// a per-run EXISTS inside a scalar subquery: its planner turns IN and bare EXISTS into
// semi-joins, and planning an AND of 200 of those took 18 s (500: over a minute).
void open_side(SqlBuilder& b, bool negated, const char* from, const char* alias) {
  if (b.dialect == Dialect::kPostgres) {
    b.add_fixed(negated ? "(SELECT NOT EXISTS (SELECT 1 FROM " : "(SELECT EXISTS (SELECT 1 FROM ");
    b.add_fixed(from).add(" WHERE ").add_fixed(alias).add(".run_id = r.id AND ");
  } else {
    b.add_fixed(negated ? "r.id NOT IN (SELECT " : "r.id IN (SELECT ");
    b.add_fixed(alias).add(".run_id FROM ").add_fixed(from).add(" WHERE ");
  }
}
void close_side(SqlBuilder& b) { b.add_fixed(b.dialect == Dialect::kPostgres ? "))" : ")"); }

void emit_comparison(SqlBuilder& b, const Comparison& c) {
  if (c.op == Op::kIsNull && c.field.kind == FieldKind::kMetric) {
    // As every metric comparison: IS NOT NULL when any matching series has a (non-NaN) value.
    open_side(b, !c.negated, "latest_metrics lm", "lm");
    emit_series(b, c.field);
    b.add(" AND lm.value IS NOT NULL");
    close_side(b);
    return;
  }
  if (c.op == Op::kIsNull) {  // the run has no value: no such param or tag, or SQL NULL
    b.add("((");
    emit_value(b, c.field);
    b.add_fixed(c.negated ? ") IS NOT NULL)" : ") IS NULL)");
    return;
  }
  switch (c.field.kind) {
    case FieldKind::kMetric:
      // Any matching series satisfies it; with a node there is at most one (the primary key).
      open_side(b, false, "latest_metrics lm", "lm");
      emit_series(b, c.field);
      b.add(" AND ");
      emit_numeric_predicate(b, "lm.value", c);
      close_side(b);
      return;
    case FieldKind::kParam:
      open_side(b, false, "params pv", "pv");
      b.add("pv.key = ").bind(c.field.key);
      b.add(" AND ");
      emit_text_predicate(b, "pv.value", c, true);
      close_side(b);
      return;
    case FieldKind::kTag:
      open_side(b, false, "tags tv", "tv");
      b.add("tv.key = ").bind(c.field.key);
      b.add(" AND ");
      emit_text_predicate(b, "tv.value", c, true);
      close_side(b);
      return;
    case FieldKind::kAttribute:
      if (std::string(c.attribute->type) == "text")
        emit_text_predicate(b, b.attribute_sql(*c.attribute), c, false);
      else
        emit_numeric_predicate(b, b.attribute_sql(*c.attribute), c);
      return;
  }
}

void emit_expr(SqlBuilder& b, const Expr& e);

// Children [from, to) of an AND or OR, as a balanced tree of parentheses: a flat chain of n
// terms is a tree n deep to SQLite, which refuses depth 1,000 ("Expression tree is too large");
// halves keep it log2(n) deep.
void emit_terms(SqlBuilder& b, const Expr& e, size_t from, size_t to) {
  if (to - from == 1) {
    emit_expr(b, e.children[from]);
    return;
  }
  const size_t mid = from + (to - from) / 2;
  b.add("(");
  emit_terms(b, e, from, mid);
  b.add_fixed(e.kind == Expr::kAnd ? " AND " : " OR ");
  emit_terms(b, e, mid, to);
  b.add(")");
}

void emit_expr(SqlBuilder& b, const Expr& e) {
  if (e.kind == Expr::kCompare) {
    emit_comparison(b, e.cmp);
    return;
  }
  emit_terms(b, e, 0, e.children.size());
}

// The value of `f` for run r, as a scalar SQL expression.
void emit_value(SqlBuilder& b, const Field& f) {
  switch (f.kind) {
    case FieldKind::kMetric:
      b.add("(SELECT lm.value FROM latest_metrics lm WHERE lm.run_id = r.id AND ");
      emit_series(b, f);
      // NODE.KEY is one row (the table's primary key), found without a sort: sorting a page by
      // a metric over 25,000 matching runs took 70 ms with ORDER BY ... LIMIT 1, 24 without.
      // A bare KEY may be logged by several nodes: the most recently logged one stands for it.
      if (f.node.empty()) b.add(" ORDER BY lm.timestamp DESC, lm.node LIMIT 1");
      b.add(")");
      return;
    case FieldKind::kParam:
      b.add("(SELECT pv.value FROM params pv WHERE pv.run_id = r.id AND pv.key = ")
          .bind(f.key)
          .add(")");
      return;
    case FieldKind::kTag:
      b.add("(SELECT tv.value FROM tags tv WHERE tv.run_id = r.id AND tv.key = ")
          .bind(f.key)
          .add(")");
      return;
    case FieldKind::kAttribute:
      b.add_fixed(b.attribute_sql(*find_attribute(f.key)));
      return;
  }
}

// " WHERE <the view's runs> AND <the filter>" over runs r (joined to experiments e).
void emit_where(SqlBuilder& b, RunView view, const std::optional<Expr>& where) {
  // Which runs the view shows (before schema 5 no run is deleted).
  const bool lifecycle = b.version >= 5;
  switch (view) {
    case RunView::kActiveOnly:
      b.add_fixed(lifecycle ? " WHERE r.deleted_at IS NULL" : " WHERE TRUE");
      break;
    case RunView::kDeletedOnly:
      b.add_fixed(lifecycle ? " WHERE r.deleted_at IS NOT NULL" : " WHERE FALSE");
      break;
    case RunView::kAll:
      b.add(" WHERE TRUE");
      break;
  }
  if (where) {
    b.add(" AND ");
    emit_expr(b, *where);
  }
}

}  // namespace

CompiledQuery compile_query(const RunQuery& query, int schema_version, Dialect dialect) {
  // Parse everything first: a mistake anywhere is reported before any SQL exists.
  const std::optional<Expr> where = filter::parse(query.filter);
  std::vector<SortKey> sort;
  for (const auto& s : query.sort) {
    auto keys = parse_sort(s);
    sort.insert(sort.end(), keys.begin(), keys.end());
  }
  std::vector<Field> columns;
  const bool blank_columns = std::all_of(query.columns.begin(), query.columns.end(), [](char c) {
    return std::isspace(static_cast<unsigned char>(c));
  });
  if (!blank_columns) {
    columns = parse_columns(query.columns);
  } else {
    for (const char* a : {"id", "experiment", "name", "status"})
      columns.push_back(Field{FieldKind::kAttribute, "", a});
    if (where) filter::collect_fields(*where, columns);
    for (const auto& k : sort)
      if (std::find(columns.begin(), columns.end(), k.field) == columns.end())
        columns.push_back(k.field);
  }

  // The inner query computes every column and sort key once per matching run; the outer one
  // orders by the sort keys (runs missing a key last) and keeps the requested columns.
  SqlBuilder b(schema_version, dialect);
  b.add("SELECT ");
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) b.add(", ");
    b.name('c', i);
  }
  // The number of matching runs on every row: one pass over the filter for a page and its total.
  if (query.with_total) b.add(", total_");
  b.add(" FROM (SELECT ");
  for (size_t i = 0; i < columns.size(); ++i) {
    emit_value(b, columns[i]);
    b.add(" AS ").name('c', i).add(", ");
  }
  for (size_t i = 0; i < sort.size(); ++i) {
    emit_value(b, sort[i].field);
    b.add(" AS ").name('s', i).add(", ");
  }
  if (query.with_total) b.add("count(*) OVER () AS total_, ");
  b.add(
      "r.start_time AS start_, r.id AS id_ FROM runs r JOIN experiments e ON e.id = "
      "r.experiment_id");
  emit_where(b, query.view, where);
  b.add(") AS q ORDER BY ");
  for (size_t i = 0; i < sort.size(); ++i) {
    const char* dir = sort[i].descending ? " DESC, " : " ASC, ";
    b.name('s', i).add(" IS NULL, ");
    if (sort[i].field.kind == FieldKind::kParam || sort[i].field.kind == FieldKind::kTag) {
      // Numbers (in numeric order) before other text (in text order).
      b.add("flowlab_number(").name('s', i).add(") IS NULL, ");
      b.add("flowlab_number(").name('s', i).add(")").add_fixed(dir);
    }
    b.name('s', i).add_fixed(dir);
  }
  b.add("start_ DESC, id_ DESC");
  if (query.limit > 0) b.add(" LIMIT ").bind(int64_t{query.limit});
  if (query.offset > 0) {
    // SQLite needs a LIMIT before OFFSET; PostgreSQL refuses a negative one.
    if (query.limit <= 0 && b.dialect == Dialect::kSqlite) b.add(" LIMIT -1");
    b.add(" OFFSET ").bind(query.offset);
  }
  return b.finish(std::move(columns));
}

CompiledQuery compile_count(const RunQuery& query, int schema_version, Dialect dialect) {
  const std::optional<Expr> where = filter::parse(query.filter);
  SqlBuilder b(schema_version, dialect);
  b.add("SELECT count(*) FROM runs r JOIN experiments e ON e.id = r.experiment_id");
  emit_where(b, query.view, where);
  return b.finish({Field{FieldKind::kAttribute, "", "count"}});
}

QueryResult run_query(const ReadOnlyDb& db, const RunQuery& query) {
  CompiledQuery q = compile_query(query, db.schema_version(), db.dialect());
  if (db.schema_version() < 3)
    throw StoreError(
        fmt::format("the database is at schema version {}; queries need version 3 "
                    "(any flowlab command that opens it read-write upgrades it)",
                    db.schema_version()));
  ResultSet rs = db.execute(q.sql, q.binds);
  QueryResult result{std::move(q.columns), std::move(rs.rows), std::nullopt};
  if (query.with_total) {
    if (!result.rows.empty()) result.total = std::get<int64_t>(result.rows.front().back());
    for (auto& row : result.rows) row.pop_back();
    // A page past the end has no row to carry the total.
    if (!result.total) result.total = count_runs(db, query);
  }
  return result;
}

int64_t count_runs(const ReadOnlyDb& db, const RunQuery& query) {
  CompiledQuery q = compile_count(query, db.schema_version(), db.dialect());
  ResultSet rs = db.execute(q.sql, q.binds);
  return std::get<int64_t>(rs.rows.at(0).at(0));
}

}  // namespace flowlab::tracking
