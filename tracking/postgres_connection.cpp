// The PostgreSQL backend of Connection, through libpq (Debian's libpq-dev): a group's shared
// store that many machines write at once. Values travel as text in both directions; doubles are
// written with the shortest text that reads back to the same bits, and PostgreSQL 12+ prints
// them the same way (extra_float_digits = 1), so a metric survives the round trip exactly.
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <libpq-fe.h>

#include "common/error.h"
#include "common/text.h"
#include "tracking/connection.h"

namespace flowlab::tracking {
namespace {

// Type OIDs from PostgreSQL's pg_type.h (a server header, not in libpq-dev). They are fixed
// parts of the wire protocol and never change.
constexpr Oid kBoolOid = 16, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23, kTextOid = 25,
              kOidOid = 26, kFloat4Oid = 700, kFloat8Oid = 701, kNumericOid = 1700;

// A PGresult that is always cleared.
struct Result {
  PGresult* r = nullptr;
  explicit Result(PGresult* p) : r(p) {}
  ~Result() { PQclear(r); }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
};

std::string sql_excerpt(const std::string& sql) {
  constexpr size_t kMax = 80;
  std::string s = sql.substr(0, kMax);
  for (char& c : s)
    if (c == '\n') c = ' ';
  if (sql.size() > kMax) s += "...";
  return s;
}

// A bound value as the text PostgreSQL reads, and the type it is sent as; nullopt is NULL.
struct Param {
  std::optional<std::string> text;
  Oid type = 0;  // 0: let the server infer it from the statement
};

Param to_param(const SqlValue& v) {
  if (const auto* n = std::get_if<int64_t>(&v)) return {std::to_string(*n), kInt8Oid};
  if (const auto* d = std::get_if<double>(&v)) {
    // NaN is stored as NULL, as in SQLite, so that both stores answer queries alike.
    if (std::isnan(*d)) return {std::nullopt, kFloat8Oid};
    if (std::isinf(*d)) return {*d > 0 ? "Infinity" : "-Infinity", kFloat8Oid};
    return {fmt::format("{}", *d), kFloat8Oid};  // shortest round-trip text
  }
  if (const auto* s = std::get_if<std::string>(&v)) return {*s, kTextOid};
  return {std::nullopt, 0};
}

SqlValue cell(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return std::monostate{};
  const char* text = PQgetvalue(r, row, col);
  switch (PQftype(r, col)) {
    case kInt8Oid:
    case kInt4Oid:
    case kInt2Oid:
    case kOidOid:
      return static_cast<int64_t>(std::strtoll(text, nullptr, 10));
    case kFloat8Oid:
    case kFloat4Oid:
    case kNumericOid:
      return std::strtod(text, nullptr);  // also reads Infinity, -Infinity and NaN
    case kBoolOid:
      return static_cast<int64_t>(text[0] == 't' ? 1 : 0);
    default:
      return std::string(text, static_cast<size_t>(PQgetlength(r, row, col)));
  }
}

ResultSet collect(const PGresult* r) {
  ResultSet out;
  const int cols = PQnfields(r);
  const int rows = PQntuples(r);
  for (int c = 0; c < cols; ++c) out.columns.emplace_back(PQfname(r, c));
  out.rows.reserve(static_cast<size_t>(rows));
  for (int i = 0; i < rows; ++i) {
    std::vector<SqlValue> row;
    row.reserve(static_cast<size_t>(cols));
    for (int c = 0; c < cols; ++c) row.push_back(cell(r, i, c));
    out.rows.push_back(std::move(row));
  }
  return out;
}

std::string trimmed_message(const char* m) { return trim(m ? m : ""); }

class PostgresConnection final : public Connection {
 public:
  PostgresConnection(const StoreLocation& where, OpenMode mode)
      : where_(where), read_only_(mode == OpenMode::kReadOnly) {
    // connect_timeout first: a URI that sets its own overrides it (expand_dbname).
    const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char* values[] = {"10", "flowlab", where_.postgres_uri.c_str(), nullptr};
    conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
      const std::string msg = trimmed_message(conn_ ? PQerrorMessage(conn_) : "out of memory");
      PQfinish(conn_);
      conn_ = nullptr;
      throw StoreUnavailable(
          fmt::format("cannot connect to the PostgreSQL store {}: {}", where_.display(), msg));
    }
    set_up_session();
  }
  ~PostgresConnection() override { PQfinish(conn_); }

  Dialect dialect() const override { return Dialect::kPostgres; }
  std::string describe() const override { return where_.display(); }
  bool read_only() const override { return read_only_; }

  ResultSet query(const std::string& sql, const std::vector<SqlValue>& binds = {}) override {
    Result r(run(sql, binds));
    return collect(r.r);
  }

  int64_t execute(const std::string& sql, const std::vector<SqlValue>& binds = {}) override {
    Result r(run(sql, binds));
    const char* n = PQcmdTuples(r.r);
    return n && *n ? std::strtoll(n, nullptr, 10) : 0;
  }

  void insert_rows(const std::string& table, const std::vector<std::string>& columns,
                   const std::vector<std::vector<SqlValue>>& rows) override {
    if (rows.empty() || columns.empty()) return;
    // Well under the protocol's 65,535 parameters per statement.
    const size_t per_statement =
        std::max<size_t>(1, std::min<size_t>(1000, 30000 / columns.size()));
    const std::string head = "INSERT INTO " + table + "(" + join(columns, ", ") + ") VALUES ";
    std::vector<SqlValue> binds;
    for (size_t begin = 0; begin < rows.size(); begin += per_statement) {
      const size_t end = std::min(rows.size(), begin + per_statement);
      std::string sql = head;
      binds.clear();
      for (size_t i = begin; i < end; ++i) {
        sql += i == begin ? "(" : ", (";
        for (size_t c = 0; c < columns.size(); ++c) {
          sql += c ? ", ?" : "?";
          binds.push_back(rows[i][c]);
        }
        sql += ")";
      }
      Result r(run(sql, binds));
    }
  }

  void begin_write() override {
    if (read_only_)
      throw StoreError(
          fmt::format("{} was opened read-only: this command does not write it", where_.display()));
    execute("BEGIN", {});
  }
  void commit() override { execute("COMMIT", {}); }
  void rollback() noexcept override {
    if (conn_ && PQstatus(conn_) == CONNECTION_OK) PQclear(PQexec(conn_, "ROLLBACK"));
  }

  ResultSet query_user_sql(const std::string& sql) override {
    auto user_error = [](const std::string& message) {
      return ConfigError(SourceLocation{"command line"}, "sql", message);
    };
    if (trim(sql).empty()) throw user_error("no SQL statement given");
    // A READ ONLY transaction refuses every write (and is rolled back anyway). The extended
    // query protocol (PQexecParams) refuses more than one statement.
    execute("BEGIN TRANSACTION READ ONLY", {});
    PGresult* raw = PQexecParams(conn_, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0);
    Result r(raw);
    const ExecStatusType status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      ResultSet out = collect(raw);
      rollback();
      return out;
    }
    const std::string msg = trimmed_message(PQerrorMessage(conn_));
    const char* state = raw ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
    rollback();
    if (PQstatus(conn_) != CONNECTION_OK)
      throw StoreUnavailable(
          fmt::format("lost the PostgreSQL store {}: {}", where_.display(), msg));
    if (status == PGRES_EMPTY_QUERY) throw user_error("no SQL statement given");
    const std::string sqlstate = state ? state : "";
    if (sqlstate == "25006")  // read_only_sql_transaction
      throw user_error(
          "flowlab sql is read-only: this statement would change the database, so it was not "
          "run (" +
          msg + ")");
    if (msg.find("multiple commands") != std::string::npos)
      throw user_error("give one SQL statement at a time");
    // Class 42 (syntax, unknown names), 22 (data), 0A (not supported), 2B/2F... are about the
    // statement; resource trouble (class 53, 57, 58, XX) is the server's.
    const std::string cls = sqlstate.substr(0, 2);
    if (cls == "53" || cls == "57" || cls == "58" || cls == "XX")
      throw StoreError(fmt::format("postgresql error running the statement: {}", msg));
    throw user_error(msg);
  }

  bool reconnect() override {
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) return false;
    try {
      set_up_session();
    } catch (const StoreError&) {
      return false;
    }
    return true;
  }

 private:
  void set_up_session() {
    // Notices (e.g. "relation already exists, skipping") are not the user's business.
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    execute("SET client_min_messages = warning", {});
    // Text compares bytewise, as in SQLite, whatever the database's collation.
    if (read_only_) execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", {});
  }

  // Runs `sql` and returns its result (the caller clears it); throws on failure.
  PGresult* run(const std::string& sql, const std::vector<SqlValue>& binds) {
    const std::string numbered = binds.empty() ? sql : number_placeholders(sql);
    std::vector<Param> params;
    params.reserve(binds.size());
    for (const auto& b : binds) params.push_back(to_param(b));
    std::vector<const char*> values(params.size());
    std::vector<Oid> types(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      values[i] = params[i].text ? params[i].text->c_str() : nullptr;
      types[i] = params[i].type;
    }
    PGresult* r = PQexecParams(conn_, numbered.c_str(), static_cast<int>(params.size()),
                               types.data(), values.data(), nullptr, nullptr, 0);
    const ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) return r;
    const std::string msg = trimmed_message(PQerrorMessage(conn_));
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const std::string sqlstate = state ? state : "";
    PQclear(r);
    // A server that went away is worth retrying: a broken connection, connection errors (class
    // 08), an administrator's shutdown (57P01), or an error libpq made up itself (it has no
    // SQLSTATE: "server closed the connection unexpectedly" may come while PQstatus still says
    // OK).
    if (PQstatus(conn_) != CONNECTION_OK || sqlstate.empty() || sqlstate.rfind("08", 0) == 0 ||
        sqlstate == "57P01")
      throw StoreUnavailable(fmt::format("lost the PostgreSQL store {} in \"{}\": {}",
                                         where_.display(), sql_excerpt(sql), msg));
    throw StoreError(fmt::format("{}: postgresql error in \"{}\": {}{}", where_.display(),
                                 sql_excerpt(sql), msg,
                                 sqlstate.empty() ? "" : " (SQLSTATE " + sqlstate + ")"));
  }

  StoreLocation where_;
  bool read_only_;
  PGconn* conn_ = nullptr;
};

}  // namespace

std::unique_ptr<Connection> open_postgres_connection(const StoreLocation& where, OpenMode mode) {
  return std::make_unique<PostgresConnection>(where, mode);
}

}  // namespace flowlab::tracking
