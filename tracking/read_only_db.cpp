#include "tracking/read_only_db.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include "common/error.h"
#include "common/text.h"
#include "tracking/store.h"

namespace flowlab::tracking {

namespace {

// flowlab_number(x): x when it is a number, the number a text spells, else NULL.
void sql_flowlab_number(sqlite3_context* ctx, int, sqlite3_value** argv) {
  switch (sqlite3_value_type(argv[0])) {
    case SQLITE_INTEGER:
    case SQLITE_FLOAT:
      sqlite3_result_double(ctx, sqlite3_value_double(argv[0]));
      return;
    case SQLITE_TEXT: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
      const std::string s(p, static_cast<size_t>(sqlite3_value_bytes(argv[0])));
      if (auto v = parse_double(s)) {
        sqlite3_result_double(ctx, *v);
        return;
      }
      break;
    }
    default:
      break;
  }
  sqlite3_result_null(ctx);
}

struct StmtGuard {
  sqlite3_stmt* s = nullptr;
  ~StmtGuard() { sqlite3_finalize(s); }
};

SqlValue column_value(sqlite3_stmt* st, int col) {
  switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_column_int64(st, col));
    case SQLITE_FLOAT:
      return sqlite3_column_double(st, col);
    case SQLITE_TEXT: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, col));
      return std::string(p, static_cast<size_t>(sqlite3_column_bytes(st, col)));
    }
    case SQLITE_BLOB: {
      const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(st, col));
      const int n = sqlite3_column_bytes(st, col);
      std::string hex = "x'";
      for (int i = 0; i < n; ++i) hex += fmt::format("{:02x}", p[i]);
      return hex + "'";
    }
    default:
      return std::monostate{};
  }
}

// Steps `st` to the end, collecting rows. Returns the failing result code, or SQLITE_DONE.
int collect(sqlite3_stmt* st, ResultSet& out) {
  const int n = sqlite3_column_count(st);
  for (int i = 0; i < n; ++i) out.columns.emplace_back(sqlite3_column_name(st, i));
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    std::vector<SqlValue> row;
    row.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) row.push_back(column_value(st, i));
    out.rows.push_back(std::move(row));
  }
  return rc;
}

}  // namespace

namespace {

// A file: URI for `path` (absolute, with %, ? and # escaped) with `query` appended.
std::string file_uri(const std::filesystem::path& path, const std::string& query) {
  std::string out = "file:";
  for (const char c : std::filesystem::absolute(path).string()) {
    if (c == '%' || c == '?' || c == '#')
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    else
      out += c;
  }
  return out + "?" + query;
}

// Opens `name` with `flags` and reads the schema once (a WAL file's -shm is only needed, and
// missing, at the first read). Returns the handle, or nullptr with `rc`/`msg` set.
sqlite3* try_open_read_only(const std::string& name, int flags, int& rc, std::string& msg) {
  sqlite3* db = nullptr;
  rc = sqlite3_open_v2(name.c_str(), &db, flags, nullptr);
  if (rc == SQLITE_OK) {
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 30'000);
    rc = sqlite3_exec(db, "SELECT COUNT(*) FROM sqlite_master", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return db;
  }
  msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (db) rc = sqlite3_extended_errcode(db);
  sqlite3_close_v2(db);
  return nullptr;
}

}  // namespace

sqlite3* open_sqlite_read_only(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path))
    throw StoreError(fmt::format("no results database at {}", path.string()));
  int rc = SQLITE_OK;
  std::string msg;
  if (sqlite3* db = try_open_read_only(path.string(), SQLITE_OPEN_READONLY, rc, msg)) return db;
  // A read-only directory: no -shm can be created. Without a -wal file the main file is complete
  // and nobody can be writing it, so reading it as immutable (no locks, no -shm) is exact.
  std::error_code ec;
  const std::filesystem::path wal = path.string() + "-wal";
  const bool no_wal = !std::filesystem::exists(wal, ec) || std::filesystem::file_size(wal, ec) == 0;
  if (((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_READONLY) && no_wal) {
    int rc2 = SQLITE_OK;
    std::string msg2;
    if (sqlite3* db = try_open_read_only(file_uri(path, "immutable=1"),
                                         SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, rc2, msg2))
      return db;
  }
  throw StoreError(fmt::format("cannot open {} read-only: {} (code {})", path.string(), msg, rc));
}

ReadOnlyDb::ReadOnlyDb(const std::filesystem::path& path) : path_(path) {
  db_ = open_sqlite_read_only(path);
  // Belt and braces: the open flag already forbids writes; query_only also refuses them in
  // statements that would otherwise only fail when they reach the file.
  char* err = nullptr;
  if (sqlite3_exec(db_, "PRAGMA query_only=ON", nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw StoreError("PRAGMA query_only failed: " + msg);
  }
  sqlite3_create_function_v2(db_, "flowlab_number", 1,
                             SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                             sql_flowlab_number, nullptr, nullptr, nullptr);
}

ReadOnlyDb::~ReadOnlyDb() {
  if (db_) sqlite3_close_v2(db_);
}

int ReadOnlyDb::schema_version() const {
  ResultSet rs = execute("PRAGMA user_version");
  return rs.rows.empty() ? 0 : static_cast<int>(std::get<int64_t>(rs.rows[0][0]));
}

ResultSet ReadOnlyDb::execute(const std::string& sql, const std::vector<SqlValue>& binds) const {
  StmtGuard st;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK)
    throw StoreError(fmt::format("sqlite error preparing a query: {}", sqlite3_errmsg(db_)));
  for (size_t i = 0; i < binds.size(); ++i) {
    const int idx = static_cast<int>(i) + 1;
    const SqlValue& v = binds[i];
    int rc;
    if (std::holds_alternative<int64_t>(v)) {
      rc = sqlite3_bind_int64(st.s, idx, std::get<int64_t>(v));
    } else if (std::holds_alternative<double>(v)) {
      rc = sqlite3_bind_double(st.s, idx, std::get<double>(v));
    } else if (std::holds_alternative<std::string>(v)) {
      const auto& s = std::get<std::string>(v);
      rc = sqlite3_bind_text(st.s, idx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    } else {
      rc = sqlite3_bind_null(st.s, idx);
    }
    if (rc != SQLITE_OK)
      throw StoreError(fmt::format("sqlite error binding value {}: {}", idx, sqlite3_errmsg(db_)));
  }
  ResultSet out;
  if (collect(st.s, out) != SQLITE_DONE)
    throw StoreError(fmt::format("sqlite error running a query: {}", sqlite3_errmsg(db_)));
  return out;
}

ResultSet ReadOnlyDb::execute_user_sql(const std::string& sql) const {
  auto user_error = [](const std::string& message) {
    return ConfigError(SourceLocation{"command line"}, "sql", message);
  };
  StmtGuard st;
  const char* tail = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &st.s, &tail) != SQLITE_OK)
    throw user_error(sqlite3_errmsg(db_));
  if (!st.s) throw user_error("no SQL statement given");
  // Anything after the first statement other than blanks, comments and ';' is refused: one
  // statement, one result table.
  const char* end = sql.data() + sql.size();
  while (tail && tail < end) {
    StmtGuard extra;
    const char* next = nullptr;
    if (sqlite3_prepare_v2(db_, tail, static_cast<int>(end - tail), &extra.s, &next) != SQLITE_OK)
      throw user_error(std::string("after the first statement: ") + sqlite3_errmsg(db_));
    if (extra.s) throw user_error("give one SQL statement at a time");
    if (next == tail) break;
    tail = next;
  }
  if (!sqlite3_stmt_readonly(st.s))
    throw user_error(
        "flowlab sql is read-only: this statement would change the database, so "
        "it was not run (use the sqlite3 shell on a copy to experiment)");
  ResultSet out;
  const int rc = collect(st.s, out);
  if (rc != SQLITE_DONE) {
    const std::string msg = sqlite3_errmsg(db_);
    // The machine's trouble (busy, I/O, corruption, memory) is a failure; the rest is about
    // what the statement asked for (no such file to ATTACH, a bad function argument, ...).
    switch (rc & 0xff) {
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
      case SQLITE_NOMEM:
      case SQLITE_IOERR:
      case SQLITE_CORRUPT:
      case SQLITE_FULL:
      case SQLITE_INTERRUPT:
      case SQLITE_PROTOCOL:
        throw StoreError(fmt::format("sqlite error running the statement: {}", msg));
      default:
        throw user_error(msg);
    }
  }
  return out;
}

}  // namespace flowlab::tracking
