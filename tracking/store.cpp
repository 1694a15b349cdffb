#include "tracking/store.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <limits>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <sqlite3.h>

#include "common/clock.h"
#include "tracking/read_only_db.h"

namespace flowlab::tracking {
namespace {

// 128 random bits as 32 hex digits. std::random_device reads the kernel's entropy source on every
// call, so two processes forked from one parent still get different ids (a seeded PRNG copied
// across fork() would not).
std::string random_uuid_hex() {
  std::random_device rd;
  std::string out;
  out.reserve(32);
  for (int i = 0; i < 4; ++i) out += fmt::format("{:08x}", static_cast<uint32_t>(rd()));
  return out;
}

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

// ---------------------------------------------------------------------------------------------
// Schema. Each migration is a list of single statements (run one by one so that an error names
// the exact statement). Migration N takes a database from user_version N-1 to N. Never edit a
// migration that has shipped: add a new one instead.

const std::vector<std::vector<std::string>>& migrations() {
  static const std::vector<std::vector<std::string>> kMigrations = {
      // 1: the core tables.
      {
          R"sql(CREATE TABLE experiments(
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at REAL NOT NULL))sql",
          R"sql(CREATE TABLE runs(
            id INTEGER PRIMARY KEY,
            uuid TEXT NOT NULL UNIQUE,
            experiment_id INTEGER NOT NULL REFERENCES experiments(id),
            parent_id INTEGER REFERENCES runs(id),
            name TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('RUNNING','FINISHED','FAILED','KILLED')),
            start_time REAL NOT NULL,
            end_time REAL,
            spec_file TEXT NOT NULL DEFAULT '',
            composed_yaml TEXT NOT NULL DEFAULT '',
            overrides TEXT NOT NULL DEFAULT '',
            git_commit TEXT NOT NULL DEFAULT '',
            host TEXT NOT NULL DEFAULT '',
            pid INTEGER NOT NULL DEFAULT 0,
            seed INTEGER NOT NULL DEFAULT 0,
            flowlab_version TEXT NOT NULL DEFAULT '',
            error TEXT))sql",
          R"sql(CREATE TABLE params(
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (run_id, key)))sql",
          // An explicit INTEGER PRIMARY KEY keeps insert order stable (VACUUM may renumber an
          // implicit rowid). value is NULL for NaN: SQLite cannot store a NaN REAL.
          R"sql(CREATE TABLE metrics(
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            node TEXT NOT NULL,
            key TEXT NOT NULL,
            step INTEGER NOT NULL,
            value REAL,
            timestamp REAL NOT NULL))sql",
          "CREATE INDEX metrics_run_key_step ON metrics(run_id, key, step)",
          R"sql(CREATE TABLE node_executions(
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            node TEXT NOT NULL,
            op TEXT NOT NULL,
            cache_key TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            cache_hit INTEGER NOT NULL DEFAULT 0,
            start_time REAL,
            end_time REAL,
            wall_s REAL,
            error TEXT))sql",
          R"sql(CREATE TABLE artifacts(
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            node TEXT NOT NULL,
            path TEXT NOT NULL,
            kind TEXT NOT NULL DEFAULT '',
            sha256 TEXT NOT NULL DEFAULT '',
            size INTEGER NOT NULL DEFAULT 0))sql",
      },
      // 2: a per-series summary (so final values and dashboards do not scan all metrics), a
      // liveness heartbeat for detecting runs whose process died, lookup indexes and a summary
      // view.
      {
          R"sql(CREATE TABLE latest_metrics(
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            node TEXT NOT NULL,
            key TEXT NOT NULL,
            step INTEGER NOT NULL,
            value REAL,
            timestamp REAL NOT NULL,
            PRIMARY KEY (run_id, node, key)))sql",
          // Backfill from existing rows: the highest step wins, ties go to the later insert
          // (the same rule log_metrics applies going forward).
          R"sql(INSERT INTO latest_metrics(run_id, node, key, step, value, timestamp)
            SELECT m.run_id, m.node, m.key, m.step, m.value, m.timestamp FROM metrics m
            WHERE m.id = (SELECT m2.id FROM metrics m2
                          WHERE m2.run_id = m.run_id AND m2.node = m.node AND m2.key = m.key
                          ORDER BY m2.step DESC, m2.id DESC LIMIT 1))sql",
          "ALTER TABLE runs ADD COLUMN heartbeat REAL",
          "CREATE INDEX runs_experiment_start ON runs(experiment_id, start_time)",
          "CREATE INDEX runs_start_time ON runs(start_time)",
          "CREATE INDEX runs_parent ON runs(parent_id)",
          "CREATE INDEX node_executions_run ON node_executions(run_id)",
          "CREATE INDEX node_executions_cache_key ON node_executions(cache_key)",
          "CREATE INDEX artifacts_run ON artifacts(run_id)",
          R"sql(CREATE VIEW runs_summary AS
            SELECT r.id AS run_id, r.uuid, e.name AS experiment, r.name, r.status,
                   r.start_time, r.end_time, r.heartbeat,
                   COALESCE(r.end_time, r.heartbeat, r.start_time) - r.start_time AS duration_s,
                   (SELECT COUNT(*) FROM params p WHERE p.run_id = r.id) AS n_params,
                   (SELECT COUNT(*) FROM latest_metrics l WHERE l.run_id = r.id) AS n_series,
                   (SELECT COUNT(*) FROM node_executions n WHERE n.run_id = r.id) AS n_nodes,
                   (SELECT COUNT(*) FROM artifacts a WHERE a.run_id = r.id) AS n_artifacts,
                   r.error
            FROM runs r JOIN experiments e ON e.id = r.experiment_id)sql",
      },
      // 3: run tags (MLflow's mutable key/value labels; `flowlab query` filters on tags.<key>)
      // and read-only views for `flowlab sql`. The views are the documented query surface; the
      // tables behind them may change in later migrations, the views' columns should not.
      //
      //   run_attributes(run_id, uuid, experiment, name, status, parent_id, start_time,
      //                  end_time, duration_s, started, heartbeat, host, pid, seed, git_commit,
      //                  spec_file, overrides, flowlab_version, error)
      //       one row per run. Times are unix seconds; `started` is the start as local
      //       'YYYY-MM-DD HH:MM:SS' text; duration_s runs to the last heartbeat while RUNNING.
      //   run_params(run_id, key, value)           every param, as text ("train.lr" -> "0.01")
      //   run_tags(run_id, key, value)             every tag
      //   run_metrics(run_id, node, key, step, value, timestamp)
      //       every logged metric row (value NULL = NaN), in insert order of `id`
      //   final_metrics(run_id, node, key, value)  the last value of each series: highest step,
      //       ties to the later insert (the latest_metrics table)
      //   runs_summary                              (migration 2) counts per run
      {
          R"sql(CREATE TABLE tags(
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (run_id, key)))sql",
          R"sql(CREATE VIEW run_attributes AS
            SELECT r.id AS run_id, r.uuid, e.name AS experiment, r.name, r.status, r.parent_id,
                   r.start_time, r.end_time,
                   COALESCE(r.end_time, r.heartbeat, r.start_time) - r.start_time AS duration_s,
                   datetime(r.start_time, 'unixepoch', 'localtime') AS started,
                   r.heartbeat, r.host, r.pid, r.seed, r.git_commit, r.spec_file, r.overrides,
                   r.flowlab_version, r.error
            FROM runs r JOIN experiments e ON e.id = r.experiment_id)sql",
          "CREATE VIEW run_params AS SELECT run_id, key, value FROM params",
          "CREATE VIEW run_tags AS SELECT run_id, key, value FROM tags",
          R"sql(CREATE VIEW run_metrics AS
            SELECT run_id, node, key, step, value, timestamp FROM metrics)sql",
          R"sql(CREATE VIEW final_metrics AS
            SELECT run_id, node, key, value FROM latest_metrics)sql",
      },
      // 4: run ids are never reused. SQLite gives a new row max(id) + 1, so deleting the newest
      // run (e.g. in the sqlite3 shell, which leaves foreign keys off and so the run's params,
      // metrics and nodes behind) handed its id, and those stale rows, to the next run.
      // run_id_high_water holds the highest run id ever issued (or referenced by any row, for
      // files whose newest run was deleted before this migration); begin_run issues the next id
      // above it, and a trigger keeps it up to date whoever inserts. A second trigger removes a
      // deleted run's rows even where foreign keys are off. (AUTOINCREMENT would need `runs`
      // rebuilt under the views and foreign keys that name it.)
      {
          "CREATE TABLE run_id_high_water(value INTEGER NOT NULL)",
          R"sql(INSERT INTO run_id_high_water(value) SELECT MAX(
            COALESCE((SELECT MAX(id) FROM runs), 0),
            COALESCE((SELECT MAX(parent_id) FROM runs), 0),
            COALESCE((SELECT MAX(run_id) FROM params), 0),
            COALESCE((SELECT MAX(run_id) FROM metrics), 0),
            COALESCE((SELECT MAX(run_id) FROM latest_metrics), 0),
            COALESCE((SELECT MAX(run_id) FROM node_executions), 0),
            COALESCE((SELECT MAX(run_id) FROM artifacts), 0),
            COALESCE((SELECT MAX(run_id) FROM tags), 0)))sql",
          R"sql(CREATE TRIGGER runs_id_high_water AFTER INSERT ON runs BEGIN
            UPDATE run_id_high_water SET value = NEW.id WHERE NEW.id > value;
          END)sql",
          R"sql(CREATE TRIGGER runs_delete_rows AFTER DELETE ON runs BEGIN
            DELETE FROM params WHERE run_id = OLD.id;
            DELETE FROM metrics WHERE run_id = OLD.id;
            DELETE FROM latest_metrics WHERE run_id = OLD.id;
            DELETE FROM node_executions WHERE run_id = OLD.id;
            DELETE FROM artifacts WHERE run_id = OLD.id;
            DELETE FROM tags WHERE run_id = OLD.id;
          END)sql",
      },
      // 5: soft delete (MLflow's lifecycle_stage). `flowlab delete` sets deleted_at (unix seconds)
      // and `flowlab restore` clears it; runs, query and plots hide a run whose deleted_at is set
      // unless asked (--view). run_attributes gains deleted_at and lifecycle_stage ('active' or
      // 'deleted') as its last two columns; its other columns are unchanged.
      {
          "ALTER TABLE runs ADD COLUMN deleted_at REAL",
          "DROP VIEW run_attributes",
          R"sql(CREATE VIEW run_attributes AS
            SELECT r.id AS run_id, r.uuid, e.name AS experiment, r.name, r.status, r.parent_id,
                   r.start_time, r.end_time,
                   COALESCE(r.end_time, r.heartbeat, r.start_time) - r.start_time AS duration_s,
                   datetime(r.start_time, 'unixepoch', 'localtime') AS started,
                   r.heartbeat, r.host, r.pid, r.seed, r.git_commit, r.spec_file, r.overrides,
                   r.flowlab_version, r.error, r.deleted_at,
                   CASE WHEN r.deleted_at IS NULL THEN 'active' ELSE 'deleted' END
                     AS lifecycle_stage
            FROM runs r JOIN experiments e ON e.id = r.experiment_id)sql",
      },
  };
  return kMigrations;
}

// ---------------------------------------------------------------------------------------------
// RAII around sqlite3_stmt.

class Statement {
 public:
  Statement(sqlite3* db, std::string sql) : db_(db), sql_(std::move(sql)) {
    const int rc = sqlite3_prepare_v2(db_, sql_.c_str(), -1, &stmt_, nullptr);
    if (rc != SQLITE_OK) throw_sqlite(db_, sql_, rc);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  sqlite3* db() const { return db_; }
  sqlite3_stmt* get() const { return stmt_; }
  const std::string& sql() const { return sql_; }

 private:
  sqlite3* db_;
  std::string sql_;
  sqlite3_stmt* stmt_ = nullptr;
};

// One use of a (cached) statement. The destructor resets it: a SELECT left half-read would
// otherwise keep its read transaction, and with it a WAL snapshot, open indefinitely.
class Query {
 public:
  explicit Query(Statement& s) : s_(s) {}
  ~Query() {
    sqlite3_reset(s_.get());
    sqlite3_clear_bindings(s_.get());
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind(int64_t v) { return check(sqlite3_bind_int64(s_.get(), ++index_, v)); }
  Query& bind(int v) { return bind(static_cast<int64_t>(v)); }
  // NaN is stored as NULL (SQLite would silently turn it into NULL anyway; being explicit
  // documents the encoding that column_double_or_nan undoes). +-inf are stored as REALs.
  Query& bind(double v) {
    if (std::isnan(v)) return check(sqlite3_bind_null(s_.get(), ++index_));
    return check(sqlite3_bind_double(s_.get(), ++index_, v));
  }
  Query& bind(const std::string& v) {
    return check(sqlite3_bind_text(s_.get(), ++index_, v.data(), static_cast<int>(v.size()),
                                   SQLITE_TRANSIENT));
  }
  Query& bind(const char* v) { return bind(std::string(v)); }
  Query& bind(std::nullopt_t) { return check(sqlite3_bind_null(s_.get(), ++index_)); }
  template <typename T>
  Query& bind(const std::optional<T>& v) {
    return v ? bind(*v) : bind(std::nullopt);
  }

  /// Steps once; true when a row is available.
  bool step() {
    const int rc = sqlite3_step(s_.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw_sqlite(s_.db(), s_.sql(), rc);
  }
  /// Runs a statement to completion, ignoring any rows.
  void run() {
    while (step()) {
    }
  }

  bool is_null(int col) const { return sqlite3_column_type(s_.get(), col) == SQLITE_NULL; }
  int64_t int64(int col) const { return sqlite3_column_int64(s_.get(), col); }
  double real(int col) const { return sqlite3_column_double(s_.get(), col); }
  double real_or_nan(int col) const {
    return is_null(col) ? std::numeric_limits<double>::quiet_NaN() : real(col);
  }
  std::optional<double> opt_real(int col) const {
    return is_null(col) ? std::nullopt : std::optional<double>(real(col));
  }
  std::optional<int64_t> opt_int64(int col) const {
    return is_null(col) ? std::nullopt : std::optional<int64_t>(int64(col));
  }
  std::string text(int col) const {  // NULL reads as ""
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_.get(), col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_.get(), col)))
             : std::string();
  }

 private:
  Query& check(int rc) {
    if (rc != SQLITE_OK) throw_sqlite(s_.db(), s_.sql(), rc);
    return *this;
  }
  Statement& s_;
  int index_ = 0;
};

MetricRow read_metric(const Query& q) {
  MetricRow m;
  m.node = q.text(0);
  m.key = q.text(1);
  m.step = q.int64(2);
  m.value = q.real_or_nan(3);
  m.timestamp = q.real(4);
  return m;
}

// Schema 1 has no heartbeat column, schemas before 5 no deleted_at: NULL in their place.
std::string run_columns(int version) {
  return std::string(
             "SELECT r.id, r.uuid, e.name, r.parent_id, r.name, r.status, r.start_time, "
             "r.end_time, r.spec_file, r.composed_yaml, r.overrides, r.git_commit, r.host, "
             "r.flowlab_version, r.error, r.pid, r.seed, ") +
         (version >= 2 ? "r.heartbeat" : "NULL") + (version >= 5 ? ", r.deleted_at" : ", NULL") +
         " FROM runs r JOIN experiments e ON e.id = r.experiment_id ";
}

// The WHERE condition (with a leading "AND ") that keeps the runs of `view`; before schema 5
// no run is deleted.
std::string view_condition(int version, RunView view) {
  if (view == RunView::kAll) return "";
  if (version < 5) return view == RunView::kActiveOnly ? "" : " AND 0";
  return view == RunView::kActiveOnly ? " AND r.deleted_at IS NULL"
                                      : " AND r.deleted_at IS NOT NULL";
}

RunRow read_run(const Query& q) {
  RunRow r;
  r.id = q.int64(0);
  r.uuid = q.text(1);
  r.experiment = q.text(2);
  r.parent_id = q.opt_int64(3);
  r.name = q.text(4);
  r.status = run_status_from_string(q.text(5));
  r.start_time = q.real(6);
  r.end_time = q.opt_real(7);
  r.spec_file = q.text(8);
  r.composed_yaml = q.text(9);
  r.overrides = q.text(10);
  r.git_commit = q.text(11);
  r.host = q.text(12);
  r.flowlab_version = q.text(13);
  r.error = q.text(14);
  r.pid = q.int64(15);
  r.seed = q.int64(16);
  r.heartbeat = q.opt_real(17);
  r.deleted_at = q.opt_real(18);
  return r;
}

}  // namespace

std::string to_string(RunStatus s) {
  switch (s) {
    case RunStatus::kRunning:
      return "RUNNING";
    case RunStatus::kFinished:
      return "FINISHED";
    case RunStatus::kFailed:
      return "FAILED";
    case RunStatus::kKilled:
      return "KILLED";
  }
  throw StoreError(fmt::format("invalid RunStatus value {}", static_cast<int>(s)));
}

RunStatus run_status_from_string(const std::string& s) {
  if (s == "RUNNING") return RunStatus::kRunning;
  if (s == "FINISHED") return RunStatus::kFinished;
  if (s == "FAILED") return RunStatus::kFailed;
  if (s == "KILLED") return RunStatus::kKilled;
  throw StoreError(
      fmt::format("invalid run status '{}' (expected RUNNING, FINISHED, FAILED or KILLED)", s));
}

std::string to_string(RunView v) {
  switch (v) {
    case RunView::kActiveOnly:
      return "active_only";
    case RunView::kDeletedOnly:
      return "deleted_only";
    case RunView::kAll:
      return "all";
  }
  throw StoreError(fmt::format("invalid RunView value {}", static_cast<int>(v)));
}

RunView run_view_from_string(const std::string& s) {
  if (s == "active_only" || s == "active") return RunView::kActiveOnly;
  if (s == "deleted_only" || s == "deleted") return RunView::kDeletedOnly;
  if (s == "all") return RunView::kAll;
  throw StoreError(
      fmt::format("invalid run view '{}' (expected active_only, deleted_only or all)", s));
}

int latest_schema_version() { return static_cast<int>(migrations().size()); }

// ---------------------------------------------------------------------------------------------
// Store

struct Store::Impl {
  std::filesystem::path path;
  sqlite3* db = nullptr;
  int version = 0;
  bool read_only = false;
  // Prepared once per connection; keyed by SQL text. Declared after `db` so it is destroyed
  // (statements finalized) before ~Impl closes the connection.
  std::unordered_map<std::string, std::unique_ptr<Statement>> cache;

  ~Impl() {
    cache.clear();
    if (db) sqlite3_close_v2(db);
  }

  Statement& prepare(const std::string& sql) {
    auto it = cache.find(sql);
    if (it == cache.end()) it = cache.emplace(sql, std::make_unique<Statement>(db, sql)).first;
    return *it->second;
  }

  void exec(const std::string& sql) {
    Query q(prepare(sql));
    q.run();
  }

  int64_t pragma_int(const std::string& sql) {
    Query q(prepare(sql));
    return q.step() ? q.int64(0) : 0;
  }

  static constexpr int kBusyTimeoutMs = 30'000;

  void retry_while_busy(const std::string& sql) {
    Statement s(db, sql);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
    for (;;) {
      int rc;
      while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      }
      sqlite3_reset(s.get());
      if (rc == SQLITE_DONE) return;
      if ((rc & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() > deadline)
        throw_sqlite(db, sql, rc);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  void open(const std::filesystem::path& p) {
    path = p;
    if (path.has_parent_path()) {
      std::error_code ec;
      std::filesystem::create_directories(path.parent_path(), ec);
      if (ec)
        throw StoreError(fmt::format("cannot create directory {}: {}", path.parent_path().string(),
                                     ec.message()));
    }
    const int rc =
        sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
      if (db) sqlite3_close_v2(db);
      db = nullptr;
      if ((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_READONLY ||
          (rc & 0xff) == SQLITE_PERM)
        throw_read_only(msg);
      throw StoreError(fmt::format("cannot open {}: {}", path.string(), msg));
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    // SQLite falls back to read-only when the file cannot be opened for writing; the first write
    // would then fail with a bare "attempt to write a readonly database".
    if (sqlite3_db_readonly(db, "main") == 1) throw_read_only(sqlite3_errstr(SQLITE_READONLY));
    // WAL lets readers run alongside the single writer; NORMAL sync in WAL mode is still safe
    // against process crashes (only an OS crash / power loss can lose the last commits).
    // Switching the journal mode can return SQLITE_BUSY *without* calling the busy handler when
    // several processes open a brand-new file at once, so that one statement retries by hand.
    try {
      retry_while_busy("PRAGMA journal_mode=WAL");
    } catch (const StoreError& e) {
      // The -wal and -shm files cannot be created: the directory is read-only.
      const int code = sqlite3_extended_errcode(db) & 0xff;
      if (code == SQLITE_CANTOPEN || code == SQLITE_READONLY || code == SQLITE_PERM)
        throw_read_only(sqlite3_errmsg(db));
      throw;
    }
    exec("PRAGMA synchronous=NORMAL");
    exec("PRAGMA foreign_keys=ON");
  }

  [[noreturn]] void throw_read_only(const std::string& sqlite_message) const {
    throw StoreError(fmt::format(
        "{} cannot be written: the workspace is read-only ({}). Recording results (flowlab run, "
        "sweep, resume) needs a writable workspace; runs, show, query, sql, compare and plot "
        "only read it",
        path.string(), sqlite_message));
  }

  void open_read_only(const std::filesystem::path& p) {
    path = p;
    read_only = true;
    db = open_sqlite_read_only(path);
    exec("PRAGMA query_only=ON");
    version = static_cast<int>(pragma_int("PRAGMA user_version"));
    if (version < 1 || version > latest_schema_version())
      throw StoreError(fmt::format(
          "{}: database schema version {} is not one this build of flowlab reads (1..{})",
          path.string(), version, latest_schema_version()));
  }

  void migrate(int target) {
    const int latest = latest_schema_version();
    if (target == -1) target = latest;
    if (target < 1 || target > latest)
      throw StoreError(
          fmt::format("{}: requested schema version {} is not supported "
                      "(this build knows versions 1..{})",
                      path.string(), target, latest));
    auto check_version = [&](int current) {
      if (current > latest)
        throw StoreError(fmt::format(
            "{}: database schema version {} is newer than this build of flowlab supports "
            "(latest {}); upgrade flowlab to open it",
            path.string(), current, latest));
      if (current > target)
        throw StoreError(
            fmt::format("{}: database is at schema version {}; refusing to "
                        "downgrade it to version {}",
                        path.string(), current, target));
    };
    version = static_cast<int>(pragma_int("PRAGMA user_version"));
    check_version(version);
    if (version == target) return;  // common case: no write lock needed at all

    // EXCLUSIVE so that two processes opening a fresh file cannot both run migration 1. The
    // version is re-read under the lock because another process may have migrated meanwhile.
    exec("BEGIN EXCLUSIVE");
    try {
      version = static_cast<int>(pragma_int("PRAGMA user_version"));
      check_version(version);
      for (int v = version + 1; v <= target; ++v) {
        for (const auto& sql : migrations()[static_cast<size_t>(v - 1)]) {
          // Executed once: not worth a slot in the statement cache.
          Statement s(db, sql);
          Query(s).run();
        }
      }
      // PRAGMA takes no bound parameters; `target` is an int this code chose, not user input.
      Statement set_version(db, fmt::format("PRAGMA user_version = {}", target));
      Query(set_version).run();
      exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    version = target;
  }

  // BEGIN IMMEDIATE takes the write lock up front, so a busy database is waited for by the busy
  // handler. (A DEFERRED transaction that reads and then writes can fail with SQLITE_BUSY at
  // once, without waiting, because waiting could deadlock.) Rolls back unless committed.
  class WriteTxn {
   public:
    explicit WriteTxn(Impl& impl) : impl_(impl) {
      if (impl_.read_only)
        throw StoreError(fmt::format("{} was opened read-only: this command does not write it",
                                     impl_.path.string()));
      impl_.exec("BEGIN IMMEDIATE");
    }
    ~WriteTxn() {
      if (!done_) sqlite3_exec(impl_.db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    WriteTxn(const WriteTxn&) = delete;
    WriteTxn& operator=(const WriteTxn&) = delete;
    void commit() {
      impl_.exec("COMMIT");
      done_ = true;
    }

   private:
    Impl& impl_;
    bool done_ = false;
  };
};

Store::Store(const std::filesystem::path& db_path, int schema_version)
    : impl_(std::make_unique<Impl>()) {
  impl_->open(db_path);
  impl_->migrate(schema_version);
}

Store::Store(const std::filesystem::path& db_path, Access access)
    : impl_(std::make_unique<Impl>()) {
  if (access == Access::kReadOnly) {
    impl_->open_read_only(db_path);
  } else {
    impl_->open(db_path);
    impl_->migrate(-1);
  }
}

Store::~Store() = default;

int Store::schema_version() const { return impl_->version; }
const std::filesystem::path& Store::path() const { return impl_->path; }

int64_t Store::begin_run(const RunStart& run) {
  const double now = unix_now();
  Impl::WriteTxn txn(*impl_);
  {
    Query q(impl_->prepare("INSERT OR IGNORE INTO experiments(name, created_at) VALUES (?, ?)"));
    q.bind(run.experiment).bind(now).run();
  }
  int64_t experiment_id = 0;
  {
    Query q(impl_->prepare("SELECT id FROM experiments WHERE name = ?"));
    q.bind(run.experiment);
    if (!q.step()) throw StoreError("experiment row vanished: " + run.experiment);
    experiment_id = q.int64(0);
  }
  // Schema 1 has no heartbeat column; from 2 on a run starts with a fresh heartbeat. From 4 on
  // the id is issued above every id ever issued (migration 4), so a deleted run's id, and any rows
  // it left behind, never pass to a new run.
  const std::string columns =
      "uuid, experiment_id, parent_id, name, status, start_time, spec_file, composed_yaml, "
      "overrides, git_commit, host, pid, seed, flowlab_version";
  const std::string values = "?, ?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?, ?, ?, ?";
  std::string sql;
  if (impl_->version >= 4)
    sql = "INSERT INTO runs(id, " + columns + ", heartbeat) VALUES ((SELECT MAX(value, " +
          "COALESCE((SELECT MAX(id) FROM runs), 0)) + 1 FROM run_id_high_water), " + values +
          ", ?)";
  else if (impl_->version >= 2)
    sql = "INSERT INTO runs(" + columns + ", heartbeat) VALUES (" + values + ", ?)";
  else
    sql = "INSERT INTO runs(" + columns + ") VALUES (" + values + ")";
  {
    Query q(impl_->prepare(sql));
    q.bind(random_uuid_hex()).bind(experiment_id).bind(run.parent_id).bind(run.name).bind(now);
    q.bind(run.spec_file).bind(run.composed_yaml).bind(run.overrides).bind(run.git_commit);
    q.bind(run.host).bind(run.pid).bind(run.seed).bind(run.flowlab_version);
    if (impl_->version >= 2) q.bind(now);
    q.run();
  }
  const int64_t id = sqlite3_last_insert_rowid(impl_->db);
  txn.commit();
  return id;
}

void Store::log_params(int64_t run_id, const std::map<std::string, std::string>& params) {
  if (params.empty()) return;
  Impl::WriteTxn txn(*impl_);
  Statement& s = impl_->prepare(
      "INSERT INTO params(run_id, key, value) VALUES (?, ?, ?) "
      "ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value");
  for (const auto& [key, value] : params) {
    Query q(s);
    q.bind(run_id).bind(key).bind(value).run();
  }
  txn.commit();
}

void Store::log_metrics(int64_t run_id, const std::vector<MetricRow>& rows) {
  if (rows.empty()) return;
  const double now = unix_now();
  Impl::WriteTxn txn(*impl_);
  Statement& insert = impl_->prepare(
      "INSERT INTO metrics(run_id, node, key, step, value, timestamp) VALUES (?, ?, ?, ?, ?, ?)");
  for (const auto& r : rows) {
    Query q(insert);
    // A row built without a timestamp gets the write time rather than 1970.
    q.bind(run_id).bind(r.node).bind(r.key).bind(r.step).bind(r.value);
    q.bind(r.timestamp > 0 ? r.timestamp : now).run();
  }
  if (impl_->version >= 2) {
    // Only the last row per series in this batch can affect latest_metrics, so upsert just
    // those (a 2,000-row batch of one series costs one upsert, not 2,000). Same rule as the
    // migration backfill: higher step wins, equal step -> later row wins.
    std::map<std::pair<std::string, std::string>, const MetricRow*> last;
    for (const auto& r : rows) {
      const MetricRow*& slot = last[{r.node, r.key}];
      if (!slot || r.step >= slot->step) slot = &r;
    }
    Statement& upsert = impl_->prepare(
        "INSERT INTO latest_metrics(run_id, node, key, step, value, timestamp) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(run_id, node, key) DO UPDATE SET "
        "step = excluded.step, value = excluded.value, timestamp = excluded.timestamp "
        "WHERE excluded.step >= latest_metrics.step");
    for (const auto& [series, r] : last) {
      Query q(upsert);
      q.bind(run_id).bind(r->node).bind(r->key).bind(r->step).bind(r->value);
      q.bind(r->timestamp > 0 ? r->timestamp : now).run();
    }
    // Logging metrics is proof of life: keep the heartbeat fresh for free.
    Query q(impl_->prepare("UPDATE runs SET heartbeat = ? WHERE id = ?"));
    q.bind(now).bind(run_id).run();
  }
  txn.commit();
}

void Store::set_tag(int64_t run_id, const std::string& key, const std::string& value) {
  set_tags(run_id, {{key, value}});
}

void Store::set_tags(int64_t run_id, const std::map<std::string, std::string>& tags) {
  if (tags.empty()) return;
  if (impl_->version < 3)
    throw StoreError(fmt::format("tags need schema version 3; {} is at version {}",
                                 impl_->path.string(), impl_->version));
  Impl::WriteTxn txn(*impl_);
  // Tags are mutable (MLflow semantics): setting one again replaces its value.
  Statement& s = impl_->prepare(
      "INSERT INTO tags(run_id, key, value) VALUES (?, ?, ?) "
      "ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value");
  for (const auto& [key, value] : tags) {
    Query q(s);
    q.bind(run_id).bind(key).bind(value).run();
  }
  txn.commit();
}

bool Store::delete_tag(int64_t run_id, const std::string& key) {
  if (impl_->version < 3) return false;  // no tags table yet, so no tag to delete
  Impl::WriteTxn txn(*impl_);
  {
    Query q(impl_->prepare("DELETE FROM tags WHERE run_id = ? AND key = ?"));
    q.bind(run_id).bind(key).run();
  }
  const bool deleted = sqlite3_changes(impl_->db) > 0;
  txn.commit();
  return deleted;
}

void Store::record_node(int64_t run_id, const NodeExecution& exec) {
  Impl::WriteTxn txn(*impl_);
  {
    Query q(impl_->prepare(
        "INSERT INTO node_executions(run_id, node, op, cache_key, status, cache_hit, "
        "start_time, end_time, wall_s, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    q.bind(run_id).bind(exec.node).bind(exec.op).bind(exec.cache_key).bind(exec.status);
    q.bind(exec.cache_hit ? 1 : 0).bind(exec.start_time).bind(exec.end_time);
    q.bind(exec.end_time - exec.start_time);
    q.bind(exec.error.empty() ? std::optional<std::string>() : exec.error).run();
  }
  txn.commit();
}

void Store::record_artifact(int64_t run_id, const ArtifactRow& a) {
  Impl::WriteTxn txn(*impl_);
  {
    Query q(impl_->prepare(
        "INSERT INTO artifacts(run_id, node, path, kind, sha256, size) VALUES (?, ?, ?, ?, ?, ?)"));
    q.bind(run_id).bind(a.node).bind(a.path).bind(a.kind).bind(a.sha256).bind(a.size).run();
  }
  txn.commit();
}

void Store::finish_run(int64_t run_id, RunStatus status, const std::string& error) {
  if (status == RunStatus::kRunning)
    throw StoreError(fmt::format("finish_run({}): RUNNING is not a final status", run_id));
  const double now = unix_now();
  Impl::WriteTxn txn(*impl_);
  {
    Query q(impl_->prepare(
        impl_->version >= 2
            ? "UPDATE runs SET status = ?, end_time = ?, error = ?, heartbeat = ? WHERE id = ?"
            : "UPDATE runs SET status = ?, end_time = ?, error = ? WHERE id = ?"));
    q.bind(to_string(status)).bind(now);
    q.bind(error.empty() ? std::optional<std::string>() : error);
    if (impl_->version >= 2) q.bind(now);
    q.bind(run_id).run();
  }
  if (sqlite3_changes(impl_->db) == 0)
    throw StoreError(fmt::format("finish_run: no run with id {}", run_id));
  txn.commit();
}

int Store::kill_runs_of_process(const std::string& host, int64_t pid, const std::string& error) {
  const double now = unix_now();
  Impl::WriteTxn txn(*impl_);
  Query q(impl_->prepare(
      "UPDATE runs SET status = 'KILLED', end_time = ?, error = ? WHERE status = 'RUNNING' AND "
      "host = ? AND pid = ?"));
  q.bind(now).bind(error).bind(host).bind(pid).run();
  const int changed = sqlite3_changes(impl_->db);
  txn.commit();
  return changed;
}

void Store::heartbeat(int64_t run_id) {
  if (impl_->version < 2)
    throw StoreError(fmt::format("heartbeat needs schema version 2; {} is at version {}",
                                 impl_->path.string(), impl_->version));
  Impl::WriteTxn txn(*impl_);
  {
    Query q(impl_->prepare("UPDATE runs SET heartbeat = ? WHERE id = ?"));
    q.bind(unix_now()).bind(run_id).run();
  }
  if (sqlite3_changes(impl_->db) == 0)
    throw StoreError(fmt::format("heartbeat: no run with id {}", run_id));
  txn.commit();
}

std::vector<RunRow> Store::list_runs(int limit, RunView view) const {
  // id breaks ties between runs started within the same clock tick.
  Query q(impl_->prepare(run_columns(impl_->version) + "WHERE 1" +
                         view_condition(impl_->version, view) +
                         " ORDER BY r.start_time DESC, r.id DESC LIMIT ?"));
  q.bind(limit > 0 ? limit : -1);  // LIMIT -1 = no limit
  std::vector<RunRow> out;
  while (q.step()) out.push_back(read_run(q));
  return out;
}

std::optional<RunRow> Store::get_run(int64_t id) const {
  Query q(impl_->prepare(run_columns(impl_->version) + "WHERE r.id = ?"));
  q.bind(id);
  if (!q.step()) return std::nullopt;
  return read_run(q);
}

std::vector<RunRow> Store::children(int64_t parent_id) const {
  Query q(impl_->prepare(run_columns(impl_->version) + "WHERE r.parent_id = ? ORDER BY r.id"));
  q.bind(parent_id);
  std::vector<RunRow> out;
  while (q.step()) out.push_back(read_run(q));
  return out;
}

std::vector<int64_t> Store::with_descendants(const std::vector<int64_t>& ids) const {
  std::vector<int64_t> out;
  std::set<int64_t> seen;
  Statement& kids = impl_->prepare("SELECT id FROM runs WHERE parent_id = ? ORDER BY id");
  for (int64_t id : ids)
    if (seen.insert(id).second) out.push_back(id);
  // Breadth first, so a parent always comes before its children.
  for (size_t i = 0; i < out.size(); ++i) {
    Query q(kids);
    q.bind(out[i]);
    std::vector<int64_t> found;
    while (q.step()) found.push_back(q.int64(0));
    for (int64_t id : found)
      if (seen.insert(id).second) out.push_back(id);
  }
  return out;
}

int Store::set_deleted(const std::vector<int64_t>& ids, bool deleted) {
  if (impl_->version < 5)
    throw StoreError(fmt::format("deleting runs needs schema version 5; {} is at version {}",
                                 impl_->path.string(), impl_->version));
  const double now = unix_now();
  Impl::WriteTxn txn(*impl_);
  int changed = 0;
  Statement& s = impl_->prepare(
      deleted ? "UPDATE runs SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL"
              : "UPDATE runs SET deleted_at = NULL WHERE id = ? AND deleted_at IS NOT NULL");
  for (int64_t id : ids) {
    Query q(s);
    if (deleted) q.bind(now);
    q.bind(id).run();
    changed += sqlite3_changes(impl_->db);
  }
  txn.commit();
  return changed;
}

int Store::purge_runs(const std::vector<int64_t>& ids) {
  Impl::WriteTxn txn(*impl_);
  int removed = 0;
  // Children first: a child names its parent (runs.parent_id). The rows of each run (params,
  // metrics, nodes, artifacts, tags) go with it: ON DELETE CASCADE, and migration 4's trigger
  // where foreign keys are off.
  std::vector<int64_t> order = with_descendants(ids);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    for (const char* table : {"params", "metrics", "node_executions", "artifacts"}) {
      Query q(impl_->prepare(std::string("DELETE FROM ") + table + " WHERE run_id = ?"));
      q.bind(*it).run();
    }
    for (const char* table : {"latest_metrics", "tags"}) {
      if ((std::string(table) == "latest_metrics" && impl_->version < 2) ||
          (std::string(table) == "tags" && impl_->version < 3))
        continue;
      Query q(impl_->prepare(std::string("DELETE FROM ") + table + " WHERE run_id = ?"));
      q.bind(*it).run();
    }
    Query q(impl_->prepare("DELETE FROM runs WHERE id = ?"));
    q.bind(*it).run();
    removed += sqlite3_changes(impl_->db);
  }
  txn.commit();
  return removed;
}

std::vector<CacheReference> Store::cache_references() const {
  Query q(impl_->prepare(
      "SELECT cache_key, run_id, MAX(COALESCE(end_time, start_time, 0)) FROM node_executions "
      "WHERE cache_key != '' GROUP BY cache_key, run_id ORDER BY cache_key, run_id"));
  std::vector<CacheReference> out;
  while (q.step()) out.push_back(CacheReference{q.text(0), q.int64(1), q.real(2)});
  return out;
}

void Store::restart_run(int64_t run_id, int64_t pid) {
  // A resumed run is recomputed (cached nodes replay what they logged), so everything it
  // recorded before is replaced rather than duplicated; params and the spec stay.
  Impl::WriteTxn txn(*impl_);
  for (const char* table : {"metrics", "node_executions", "artifacts"}) {
    Query q(impl_->prepare(std::string("DELETE FROM ") + table + " WHERE run_id = ?"));
    q.bind(run_id).run();
  }
  if (impl_->version >= 2) {
    Query q(impl_->prepare("DELETE FROM latest_metrics WHERE run_id = ?"));
    q.bind(run_id).run();
  }
  {
    Query q(impl_->prepare(
        impl_->version >= 2
            ? "UPDATE runs SET status = 'RUNNING', end_time = NULL, error = NULL, pid = ?, "
              "heartbeat = ? WHERE id = ?"
            : "UPDATE runs SET status = 'RUNNING', end_time = NULL, error = NULL, pid = ? "
              "WHERE id = ?"));
    q.bind(pid);
    if (impl_->version >= 2) q.bind(unix_now());
    q.bind(run_id).run();
  }
  if (sqlite3_changes(impl_->db) == 0)
    throw StoreError(fmt::format("restart_run: no run with id {}", run_id));
  txn.commit();
}

std::map<std::string, std::string> Store::params(int64_t run_id) const {
  Query q(impl_->prepare("SELECT key, value FROM params WHERE run_id = ?"));
  q.bind(run_id);
  std::map<std::string, std::string> out;
  while (q.step()) out[q.text(0)] = q.text(1);
  return out;
}

std::map<std::string, std::string> Store::tags(int64_t run_id) const {
  if (impl_->version < 3) return {};  // no tags table yet, so no tags
  Query q(impl_->prepare("SELECT key, value FROM tags WHERE run_id = ?"));
  q.bind(run_id);
  std::map<std::string, std::string> out;
  while (q.step()) out[q.text(0)] = q.text(1);
  return out;
}

std::vector<MetricRow> Store::metrics(int64_t run_id) const {
  Query q(impl_->prepare(
      "SELECT node, key, step, value, timestamp FROM metrics WHERE run_id = ? ORDER BY id"));
  q.bind(run_id);
  std::vector<MetricRow> out;
  while (q.step()) out.push_back(read_metric(q));
  return out;
}

std::vector<MetricRow> Store::final_metrics(int64_t run_id) const {
  // Schema 1 has no summary table: derive it with the same "highest step, then latest insert"
  // rule the summary table uses.
  Query q(impl_->prepare(
      impl_->version >= 2
          ? "SELECT node, key, step, value, timestamp FROM latest_metrics WHERE run_id = ? "
            "ORDER BY node, key"
          : "SELECT node, key, step, value, timestamp FROM metrics m WHERE run_id = ? AND "
            "id = (SELECT m2.id FROM metrics m2 WHERE m2.run_id = m.run_id AND "
            "m2.node = m.node AND m2.key = m.key ORDER BY m2.step DESC, m2.id DESC LIMIT 1) "
            "ORDER BY node, key"));
  q.bind(run_id);
  std::vector<MetricRow> out;
  while (q.step()) out.push_back(read_metric(q));
  return out;
}

std::vector<NodeExecution> Store::node_executions(int64_t run_id) const {
  Query q(
      impl_->prepare("SELECT node, op, cache_key, status, cache_hit, start_time, end_time, error "
                     "FROM node_executions WHERE run_id = ? ORDER BY id"));
  q.bind(run_id);
  std::vector<NodeExecution> out;
  while (q.step()) {
    NodeExecution e;
    e.node = q.text(0);
    e.op = q.text(1);
    e.cache_key = q.text(2);
    e.status = q.text(3);
    e.cache_hit = q.int64(4) != 0;
    e.start_time = q.real(5);
    e.end_time = q.real(6);
    e.error = q.text(7);
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<ArtifactRow> Store::artifacts(int64_t run_id) const {
  Query q(impl_->prepare(
      "SELECT node, path, kind, sha256, size FROM artifacts WHERE run_id = ? ORDER BY id"));
  q.bind(run_id);
  std::vector<ArtifactRow> out;
  while (q.step()) {
    ArtifactRow a;
    a.node = q.text(0);
    a.path = q.text(1);
    a.kind = q.text(2);
    a.sha256 = q.text(3);
    a.size = q.int64(4);
    out.push_back(std::move(a));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// MetricWriter

struct MetricWriter::Impl {
  int64_t run_id = 0;
  std::chrono::milliseconds interval{200};
  size_t max_batch = 2000;
  // Opened on the constructing thread (so open/migration errors surface there) and used only by
  // the writer thread afterwards; never concurrently.
  std::unique_ptr<Store> store;

  std::mutex mu;
  std::condition_variable wake_writer;  // rows queued past max_batch, flush requested, stop
  std::condition_variable batch_done;   // a batch was committed (or failed)
  std::vector<std::pair<int64_t, MetricRow>> queue;  // (run id, row)
  uint64_t logged = 0;                               // rows ever enqueued
  uint64_t done = 0;          // rows ever handed to the database (committed or failed)
  uint64_t flush_target = 0;  // highest `logged` value some flush() is waiting for
  bool stop = false;
  std::exception_ptr error;  // first unreported writer-thread failure
  std::atomic<int64_t> written{0};
  std::thread thread;

  void run() {
    std::vector<std::pair<int64_t, MetricRow>> batch;
    std::vector<MetricRow> rows;
    std::unique_lock<std::mutex> lk(mu);
    for (;;) {
      wake_writer.wait_for(
          lk, interval, [&] { return stop || queue.size() >= max_batch || flush_target > done; });
      if (queue.empty()) {
        if (stop) return;
        continue;
      }
      batch.swap(queue);
      const uint64_t upto = logged;
      lk.unlock();  // producers keep logging while we write
      std::exception_ptr failure;
      try {
        // One transaction per run in the batch (a sweep's writer serves all its children); the
        // stable sort keeps each run's rows in logging order.
        std::stable_sort(batch.begin(), batch.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        for (size_t i = 0; i < batch.size();) {
          size_t j = i;
          rows.clear();
          while (j < batch.size() && batch[j].first == batch[i].first)
            rows.push_back(batch[j++].second);
          store->log_metrics(batch[i].first, rows);
          written.fetch_add(static_cast<int64_t>(rows.size()));
          i = j;
        }
      } catch (...) {
        failure = std::current_exception();
      }
      batch.clear();
      lk.lock();
      if (failure && !error) error = failure;
      done = upto;
      batch_done.notify_all();
    }
  }

  // Caller holds `mu`. Reports a writer failure once; the writer keeps going with later rows.
  void rethrow_error() {
    if (error) std::rethrow_exception(std::exchange(error, nullptr));
  }
};

MetricWriter::MetricWriter(const std::filesystem::path& db_path, int64_t run_id,
                           int flush_interval_ms, size_t max_batch)
    : impl_(std::make_unique<Impl>()) {
  impl_->run_id = run_id;
  impl_->interval = std::chrono::milliseconds(std::max(1, flush_interval_ms));
  impl_->max_batch = std::max<size_t>(1, max_batch);
  impl_->store = std::make_unique<Store>(db_path);
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

MetricWriter::~MetricWriter() {
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    impl_->stop = true;  // the writer drains the queue before it exits
  }
  impl_->wake_writer.notify_one();
  impl_->thread.join();
  if (impl_->error) {
    // A destructor must not throw; the last resort is to say so loudly.
    try {
      std::rethrow_exception(impl_->error);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "flowlab: MetricWriter lost metrics for run %lld: %s\n",
                   static_cast<long long>(impl_->run_id), e.what());
    } catch (...) {
      std::fprintf(stderr, "flowlab: MetricWriter lost metrics for run %lld\n",
                   static_cast<long long>(impl_->run_id));
    }
  }
}

void MetricWriter::log(const std::string& node, const std::string& key, int64_t step,
                       double value) {
  log_for(impl_->run_id, node, key, step, value);
}

void MetricWriter::log_for(int64_t run_id, const std::string& node, const std::string& key,
                           int64_t step, double value) {
  const double ts = unix_now();
  bool wake = false;
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    impl_->rethrow_error();
    impl_->queue.emplace_back(run_id, MetricRow{node, key, step, value, ts});
    ++impl_->logged;
    wake = impl_->queue.size() >= impl_->max_batch;
  }
  if (wake) impl_->wake_writer.notify_one();
}

void MetricWriter::flush() {
  std::unique_lock<std::mutex> lk(impl_->mu);
  impl_->rethrow_error();
  const uint64_t target = impl_->logged;
  if (impl_->done >= target) return;
  impl_->flush_target = std::max(impl_->flush_target, target);
  impl_->wake_writer.notify_one();
  impl_->batch_done.wait(lk, [&] { return impl_->done >= target; });
  impl_->rethrow_error();
}

int64_t MetricWriter::rows_written() const { return impl_->written.load(); }

}  // namespace flowlab::tracking
