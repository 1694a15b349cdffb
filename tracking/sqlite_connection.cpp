// The SQLite backend of Connection: one file per workspace, WAL mode, a busy timeout, cached
// prepared statements.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <sqlite3.h>

#include "common/error.h"
#include "common/text.h"
#include "tracking/connection.h"
#include "tracking/read_only_db.h"

namespace flowlab::tracking {
namespace {

constexpr int kBusyTimeoutMs = 30'000;

std::string sql_excerpt(const std::string& sql) {
  constexpr size_t kMax = 80;
  std::string s = sql.substr(0, kMax);
  std::replace(s.begin(), s.end(), '\n', ' ');
  if (sql.size() > kMax) s += "...";
  return s;
}

[[noreturn]] void throw_sqlite(sqlite3* db, const std::string& sql, int rc) {
  const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const int code = db ? sqlite3_extended_errcode(db) : rc;
  // Name the file: "database or disk is full" alone does not say which disk to clear.
  const char* file = db ? sqlite3_db_filename(db, "main") : nullptr;
  throw StoreError(fmt::format("{}sqlite error in \"{}\": {} (code {})",
                               file && *file ? std::string(file) + ": " : std::string(),
                               sql_excerpt(sql), msg, code));
}

// flowlab_fold(x): text x in lower case by Unicode's simple mapping (fold_case), for ILIKE;
// NULL stays NULL.
void sql_flowlab_fold(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  const std::string folded =
      fold_case(std::string_view(p, static_cast<size_t>(sqlite3_value_bytes(argv[0]))));
  sqlite3_result_text(ctx, folded.data(), static_cast<int>(folded.size()), SQLITE_TRANSIENT);
}

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
      if (const auto v = parse_double(s)) {
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
    case SQLITE_BLOB: {  // shown as SQL's hex literal: X'00FF'
      const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(st, col));
      const int n = sqlite3_column_bytes(st, col);
      std::string hex = "X'";
      for (int i = 0; i < n; ++i) hex += fmt::format("{:02X}", p[i]);
      return hex + "'";
    }
    default:
      return std::monostate{};
  }
}

struct StmtGuard {
  sqlite3_stmt* s = nullptr;
  ~StmtGuard() { sqlite3_finalize(s); }
};

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

class SqliteConnection final : public Connection {
 public:
  SqliteConnection(const std::filesystem::path& path, OpenMode mode)
      : path_(path), read_only_(mode == OpenMode::kReadOnly) {
    if (read_only_) {
      db_ = open_sqlite_read_only(path_);
      // Belt and braces: the open flag already forbids writes; query_only also refuses them in
      // statements that would otherwise only fail when they reach the file.
      execute("PRAGMA query_only=ON");
      // Readers (queries, the dashboard, plots) jump around a large file: a filter matching
      // 10,000 of 100,000 runs reads 10,000 scattered rows. Through SQLite's default 2 MB page
      // cache each is a read() call; mapped, a memory access (measured on 100,000 runs / 10 M
      // metric rows: such a filter 58 -> 23 ms). Address space only: pages are the OS's cache.
      execute("PRAGMA mmap_size=1073741824");
      execute("PRAGMA cache_size=-65536");  // 64 MB at most, taken only as pages are read
    } else {
      open_read_write();
    }
    sqlite3_create_function_v2(db_, "flowlab_number", 1,
                               SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                               sql_flowlab_number, nullptr, nullptr, nullptr);
    sqlite3_create_function_v2(db_, "flowlab_fold", 1,
                               SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                               sql_flowlab_fold, nullptr, nullptr, nullptr);
  }

  ~SqliteConnection() override {
    for (auto& [sql, st] : cache_) sqlite3_finalize(st);  // before the connection closes
    if (db_) sqlite3_close_v2(db_);
  }

  Dialect dialect() const override { return Dialect::kSqlite; }
  std::string describe() const override { return path_.string(); }
  bool read_only() const override { return read_only_; }

  ResultSet query(const std::string& sql, const std::vector<SqlValue>& binds = {}) override {
    Use use(*this, sql);
    bind_all(use.st, sql, binds);
    ResultSet out;
    const int rc = collect(use.st, out);
    if (rc != SQLITE_DONE) throw_sqlite(db_, sql, rc);
    return out;
  }

  int64_t execute(const std::string& sql, const std::vector<SqlValue>& binds = {}) override {
    Use use(*this, sql);
    bind_all(use.st, sql, binds);
    int rc;
    while ((rc = sqlite3_step(use.st)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) throw_sqlite(db_, sql, rc);
    return sqlite3_changes64(db_);
  }

  void insert_rows(const std::string& table, const std::vector<std::string>& columns,
                   const std::vector<std::vector<SqlValue>>& rows) override {
    std::string sql = "INSERT INTO " + table + "(" + join(columns, ", ") + ") VALUES (";
    for (size_t i = 0; i < columns.size(); ++i) sql += i ? ", ?" : "?";
    sql += ")";
    for (const auto& row : rows) execute(sql, row);
  }

  void begin_write() override {
    if (read_only_)
      throw StoreError(
          fmt::format("{} was opened read-only: this command does not write it", path_.string()));
    // BEGIN IMMEDIATE takes the write lock up front, so a busy database is waited for by the busy
    // handler. (A DEFERRED transaction that reads and then writes can fail with SQLITE_BUSY at
    // once, without waiting, because waiting could deadlock.)
    execute("BEGIN IMMEDIATE");
  }
  void commit() override { execute("COMMIT"); }
  void rollback() noexcept override { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }

  ResultSet query_user_sql(const std::string& sql) override;

  bool reconnect() override { return true; }

 private:
  // One use of a cached statement. The destructor resets it: a SELECT left half-read would
  // otherwise keep its read transaction, and with it a WAL snapshot, open indefinitely.
  struct Use {
    Use(SqliteConnection& c, const std::string& sql) : st(c.prepare(sql)) {}
    ~Use() {
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
    }
    sqlite3_stmt* st;
  };

  sqlite3_stmt* prepare(const std::string& sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return it->second;
    sqlite3_stmt* st = nullptr;
    const int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr);
    if (rc != SQLITE_OK) throw_sqlite(db_, sql, rc);
    // Statements run once (migrations, BEGIN) would only fill the cache: keep it bounded.
    if (cache_.size() > 256) {
      for (auto& [text, old] : cache_) sqlite3_finalize(old);
      cache_.clear();
    }
    cache_.emplace(sql, st);
    return st;
  }

  void bind_all(sqlite3_stmt* st, const std::string& sql, const std::vector<SqlValue>& binds) {
    for (size_t i = 0; i < binds.size(); ++i) {
      const int idx = static_cast<int>(i) + 1;
      const SqlValue& v = binds[i];
      int rc;
      if (const auto* n = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(st, idx, *n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        // NaN is stored as NULL (SQLite would silently turn it into NULL anyway; being explicit
        // documents the encoding that as_real undoes). +-inf are stored as REALs.
        rc = std::isnan(*d) ? sqlite3_bind_null(st, idx) : sqlite3_bind_double(st, idx, *d);
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text(st, idx, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
      } else {
        rc = sqlite3_bind_null(st, idx);
      }
      if (rc != SQLITE_OK) throw_sqlite(db_, sql, rc);
    }
  }

  void retry_while_busy(const std::string& sql) {
    StmtGuard s;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &s.s, nullptr);
    if (rc != SQLITE_OK) throw_sqlite(db_, sql, rc);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
    for (;;) {
      while ((rc = sqlite3_step(s.s)) == SQLITE_ROW) {
      }
      sqlite3_reset(s.s);
      if (rc == SQLITE_DONE) return;
      if ((rc & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() > deadline)
        throw_sqlite(db_, sql, rc);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  [[noreturn]] void throw_read_only(const std::string& sqlite_message) const {
    throw StoreError(fmt::format(
        "{} cannot be written: the workspace is read-only ({}). Recording results (flowlab run, "
        "sweep, resume) needs a writable workspace; runs, show, query, sql, compare and plot "
        "only read it",
        path_.string(), sqlite_message));
  }

  void open_read_write() {
    if (path_.has_parent_path()) {
      std::error_code ec;
      std::filesystem::create_directories(path_.parent_path(), ec);
      if (ec)
        throw StoreError(fmt::format("cannot create directory {}: {}", path_.parent_path().string(),
                                     ec.message()));
    }
    const int rc =
        sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      if (db_) sqlite3_close_v2(db_);
      db_ = nullptr;
      if ((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_READONLY ||
          (rc & 0xff) == SQLITE_PERM)
        throw_read_only(msg);
      throw StoreError(fmt::format("cannot open {}: {}", path_.string(), msg));
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    // SQLite falls back to read-only when the file cannot be opened for writing; the first write
    // would then fail with a bare "attempt to write a readonly database".
    if (sqlite3_db_readonly(db_, "main") == 1) throw_read_only(sqlite3_errstr(SQLITE_READONLY));
    // WAL lets readers run alongside the single writer; NORMAL sync in WAL mode is still safe
    // against process crashes (only an OS crash / power loss can lose the last commits).
    // Switching the journal mode can return SQLITE_BUSY *without* calling the busy handler when
    // several processes open a brand-new file at once, so that one statement retries by hand.
    try {
      retry_while_busy("PRAGMA journal_mode=WAL");
    } catch (const StoreError&) {
      // The -wal and -shm files cannot be created: the directory is read-only.
      const int code = sqlite3_extended_errcode(db_) & 0xff;
      if (code == SQLITE_CANTOPEN || code == SQLITE_READONLY || code == SQLITE_PERM)
        throw_read_only(sqlite3_errmsg(db_));
      throw;
    }
    execute("PRAGMA synchronous=NORMAL");
    execute("PRAGMA foreign_keys=ON");
  }

  std::filesystem::path path_;
  bool read_only_;
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;  // keyed by SQL text
};

ResultSet SqliteConnection::query_user_sql(const std::string& sql) {
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
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
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

std::unique_ptr<Connection> open_sqlite_connection(const std::filesystem::path& path,
                                                   OpenMode mode) {
  return std::make_unique<SqliteConnection>(path, mode);
}

}  // namespace flowlab::tracking
