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

#include "common/clock.h"
#include "tracking/schema.h"

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

SqlValue nullable(const std::string& text) {  // "" is stored as NULL
  return text.empty() ? SqlValue{} : SqlValue{text};
}
template <typename T>
SqlValue nullable(const std::optional<T>& v) {
  return v ? SqlValue{*v} : SqlValue{};
}

MetricRow read_metric(const std::vector<SqlValue>& row) {
  MetricRow m;
  m.node = as_text(row[0]);
  m.key = as_text(row[1]);
  m.step = as_int(row[2]);
  m.value = as_real(row[3]);
  m.timestamp = as_real(row[4]);
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
  if (version < 5) return view == RunView::kActiveOnly ? "" : " AND FALSE";
  return view == RunView::kActiveOnly ? " AND r.deleted_at IS NULL"
                                      : " AND r.deleted_at IS NOT NULL";
}

RunRow read_run(const std::vector<SqlValue>& row) {
  RunRow r;
  r.id = as_int(row[0]);
  r.uuid = as_text(row[1]);
  r.experiment = as_text(row[2]);
  r.parent_id = as_opt_int(row[3]);
  r.name = as_text(row[4]);
  r.status = run_status_from_string(as_text(row[5]));
  r.start_time = as_real(row[6]);
  r.end_time = as_opt_real(row[7]);
  r.spec_file = as_text(row[8]);
  r.composed_yaml = as_text(row[9]);
  r.overrides = as_text(row[10]);
  r.git_commit = as_text(row[11]);
  r.host = as_text(row[12]);
  r.flowlab_version = as_text(row[13]);
  r.error = as_text(row[14]);
  r.pid = as_int(row[15]);
  r.seed = as_int(row[16]);
  r.heartbeat = as_opt_real(row[17]);
  r.deleted_at = as_opt_real(row[18]);
  return r;
}

std::vector<RunRow> read_runs(const ResultSet& rs) {
  std::vector<RunRow> out;
  out.reserve(rs.rows.size());
  for (const auto& row : rs.rows) out.push_back(read_run(row));
  return out;
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
    case RunStatus::kScheduled:
      return "SCHEDULED";
  }
  throw StoreError(fmt::format("invalid RunStatus value {}", static_cast<int>(s)));
}

RunStatus run_status_from_string(const std::string& s) {
  if (s == "RUNNING") return RunStatus::kRunning;
  if (s == "FINISHED") return RunStatus::kFinished;
  if (s == "FAILED") return RunStatus::kFailed;
  if (s == "KILLED") return RunStatus::kKilled;
  if (s == "SCHEDULED") return RunStatus::kScheduled;
  throw StoreError(fmt::format(
      "invalid run status '{}' (expected RUNNING, FINISHED, FAILED, KILLED or SCHEDULED)", s));
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

// ---------------------------------------------------------------------------------------------
// Store

struct Store::Impl {
  StoreLocation where;
  std::unique_ptr<Connection> db;
  int version = 0;

  // A write transaction, rolled back unless committed.
  class WriteTxn {
   public:
    explicit WriteTxn(Impl& impl) : db_(*impl.db) { db_.begin_write(); }
    ~WriteTxn() {
      if (!done_) db_.rollback();
    }
    WriteTxn(const WriteTxn&) = delete;
    WriteTxn& operator=(const WriteTxn&) = delete;
    void commit() {
      db_.commit();
      done_ = true;
    }

   private:
    Connection& db_;
    bool done_ = false;
  };

  void open_read_only(const StoreLocation& location) {
    where = location;
    db = open_connection(where, OpenMode::kReadOnly);
    version = read_schema_version(*db);
    if (version == 0 && !where.is_sqlite())
      throw StoreError(fmt::format("{} holds no flowlab store yet (no run was ever recorded there)",
                                   db->describe()));
    if (version < 1 || version > latest_schema_version())
      throw StoreError(fmt::format(
          "{}: database schema version {} is not one this build of flowlab reads (1..{})",
          db->describe(), version, latest_schema_version()));
  }

  // Runs `body` (one whole transaction, or one read) again after a lost PostgreSQL server, with
  // backoff from 50 ms to 2 s, for store_retry_seconds(); then lets StoreUnavailable through. A
  // run thus rides out a server restart. (SQLite has no server to lose.)
  template <typename F>
  auto retrying(F&& body) -> decltype(body()) {
    const auto deadline =
        std::chrono::steady_clock::now() +
        std::chrono::milliseconds(static_cast<int64_t>(store_retry_seconds() * 1000));
    std::chrono::milliseconds delay(50);
    for (;;) {
      try {
        return body();
      } catch (const StoreUnavailable&) {
        if (db->dialect() == Dialect::kSqlite || std::chrono::steady_clock::now() >= deadline)
          throw;
      }
      std::this_thread::sleep_for(delay);
      delay = std::min(delay * 2, std::chrono::milliseconds(2000));
      db->reconnect();  // a failure shows at the next attempt
    }
  }

  // `what` is the start of the sentence: "tags need", "heartbeat needs".
  void require(int needed, const char* what) const {
    if (version < needed)
      throw StoreError(fmt::format("{} schema version {}; {} is at version {}", what, needed,
                                   db->describe(), version));
  }

  // Inserts `rows` of one run and brings latest_metrics and the heartbeat up to date; the caller
  // holds the write transaction.
  void insert_metrics(int64_t run_id, const std::vector<MetricRow>& rows, double now) {
    std::vector<std::vector<SqlValue>> values;
    values.reserve(rows.size());
    for (const auto& r : rows)
      // A row built without a timestamp gets the write time rather than 1970.
      values.push_back(
          {run_id, r.node, r.key, r.step, r.value, r.timestamp > 0 ? r.timestamp : now});
    db->insert_rows("metrics", {"run_id", "node", "key", "step", "value", "timestamp"}, values);
    if (version < 2) return;
    // Only the last row per series in this batch can affect latest_metrics, so upsert just
    // those (a 2,000-row batch of one series costs one upsert, not 2,000). Same rule as the
    // migration backfill: higher step wins, equal step -> later row wins.
    std::map<std::pair<std::string, std::string>, const MetricRow*> last;
    for (const auto& r : rows) {
      const MetricRow*& slot = last[{r.node, r.key}];
      if (!slot || r.step >= slot->step) slot = &r;
    }
    for (const auto& [series, r] : last)
      db->execute(
          "INSERT INTO latest_metrics(run_id, node, key, step, value, timestamp) "
          "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(run_id, node, key) DO UPDATE SET "
          "step = excluded.step, value = excluded.value, timestamp = excluded.timestamp "
          "WHERE excluded.step >= latest_metrics.step",
          {run_id, r->node, r->key, r->step, r->value, r->timestamp > 0 ? r->timestamp : now});
    // Logging metrics is proof of life: keep the heartbeat fresh for free.
    db->execute("UPDATE runs SET heartbeat = ? WHERE id = ?", {now, run_id});
  }
};

Store::Store(const StoreLocation& where, int schema_version) : impl_(std::make_unique<Impl>()) {
  impl_->where = where;
  impl_->db = open_connection(where, OpenMode::kReadWrite);
  impl_->version = migrate(*impl_->db, schema_version);
}

Store::Store(const StoreLocation& where, Access access) : impl_(std::make_unique<Impl>()) {
  if (access == Access::kReadOnly) {
    impl_->open_read_only(where);
  } else {
    impl_->where = where;
    impl_->db = open_connection(where, OpenMode::kReadWrite);
    impl_->version = migrate(*impl_->db);
  }
}

Store::~Store() = default;

int Store::schema_version() const { return impl_->version; }
const std::filesystem::path& Store::path() const { return impl_->where.sqlite_path; }
const StoreLocation& Store::location() const { return impl_->where; }
Dialect Store::dialect() const { return impl_->db->dialect(); }
bool Store::reconnect() { return impl_->db->reconnect(); }

namespace {

// The experiment's id, creating it on first use; inside the caller's write transaction.
int64_t experiment_id(Connection& db, const std::string& name, double now) {
  db.execute("INSERT INTO experiments(name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING",
             {name, now});
  const ResultSet rs = db.query("SELECT id FROM experiments WHERE name = ?", {name});
  if (rs.rows.empty()) throw StoreError("experiment row vanished: " + name);
  return as_int(rs.rows[0][0]);
}

// The SQL that inserts a run with `columns` (and `values`, their placeholders) and returns its
// id. SQLite from schema 4 on issues the id above every id ever issued (migration 4), so a deleted
// run's id, and any rows it left behind, never pass to a new run; PostgreSQL's BIGSERIAL never
// reuses one.
std::string insert_run_sql(Dialect dialect, int version, const std::string& columns,
                           const std::string& values) {
  if (dialect == Dialect::kSqlite && version >= 4)
    return "INSERT INTO runs(id, " + columns + ") VALUES ((SELECT MAX(value, " +
           "COALESCE((SELECT MAX(id) FROM runs), 0)) + 1 FROM run_id_high_water), " + values +
           ") RETURNING id";
  return "INSERT INTO runs(" + columns + ") VALUES (" + values + ") RETURNING id";
}

}  // namespace

int64_t Store::begin_run(const RunStart& run) {
  return impl_->retrying([&]() -> int64_t {
    const double now = unix_now();
    Impl::WriteTxn txn(*impl_);
    const int64_t experiment = experiment_id(*impl_->db, run.experiment, now);
    // Schema 1 has no heartbeat column; from 2 on a run starts with a fresh heartbeat.
    std::string columns =
        "uuid, experiment_id, parent_id, name, status, start_time, spec_file, composed_yaml, "
        "overrides, git_commit, host, pid, seed, flowlab_version";
    std::string values = "?, ?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?, ?, ?, ?";
    std::vector<SqlValue> binds = {
        random_uuid_hex(), experiment,        nullable(run.parent_id), run.name,       now,
        run.spec_file,     run.composed_yaml, run.overrides,           run.git_commit, run.host,
        run.pid,           run.seed,          run.flowlab_version};
    if (impl_->version >= 2) {
      columns += ", heartbeat";
      values += ", ?";
      binds.emplace_back(now);
    }
    const ResultSet rs = impl_->db->query(
        insert_run_sql(impl_->db->dialect(), impl_->version, columns, values), binds);
    const int64_t id = as_int(rs.rows.at(0).at(0));
    txn.commit();
    return id;
  });
}

void Store::log_params(int64_t run_id, const std::map<std::string, std::string>& params) {
  return impl_->retrying([&]() -> void {
    if (params.empty()) return;
    Impl::WriteTxn txn(*impl_);
    for (const auto& [key, value] : params)
      impl_->db->execute(
          "INSERT INTO params(run_id, key, value) VALUES (?, ?, ?) "
          "ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value",
          {run_id, key, value});
    txn.commit();
  });
}

void Store::log_metrics(int64_t run_id, const std::vector<MetricRow>& rows) {
  return impl_->retrying([&]() -> void {
    if (rows.empty()) return;
    const double now = unix_now();
    Impl::WriteTxn txn(*impl_);
    impl_->insert_metrics(run_id, rows, now);
    txn.commit();
  });
}

bool Store::log_metric_batch(int64_t run_id, const std::vector<MetricRow>& rows,
                             const std::string& writer, int64_t seq) {
  impl_->require(6, "metric batches need");
  const double now = unix_now();
  Impl::WriteTxn txn(*impl_);
  // The batch's token goes in first: when it is already there, an earlier attempt committed
  // (its acknowledgement was what got lost) and the rows are not written again.
  const int64_t fresh = impl_->db->execute(
      "INSERT INTO metric_batches(writer, seq, run_id) VALUES (?, ?, ?) "
      "ON CONFLICT(writer, seq) DO NOTHING",
      {writer, seq, run_id});
  if (fresh == 0) return false;  // the transaction rolls back: nothing was written
  impl_->insert_metrics(run_id, rows, now);
  txn.commit();
  return true;
}

void Store::set_tag(int64_t run_id, const std::string& key, const std::string& value) {
  set_tags(run_id, {{key, value}});
}

void Store::set_tags(int64_t run_id, const std::map<std::string, std::string>& tags) {
  return impl_->retrying([&]() -> void {
    if (tags.empty()) return;
    impl_->require(3, "tags need");
    Impl::WriteTxn txn(*impl_);
    // Tags are mutable (MLflow semantics): setting one again replaces its value.
    for (const auto& [key, value] : tags)
      impl_->db->execute(
          "INSERT INTO tags(run_id, key, value) VALUES (?, ?, ?) "
          "ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value",
          {run_id, key, value});
    txn.commit();
  });
}

bool Store::delete_tag(int64_t run_id, const std::string& key) {
  return impl_->retrying([&]() -> bool {
    if (impl_->version < 3) return false;  // no tags table yet, so no tag to delete
    Impl::WriteTxn txn(*impl_);
    const int64_t deleted =
        impl_->db->execute("DELETE FROM tags WHERE run_id = ? AND key = ?", {run_id, key});
    txn.commit();
    return deleted > 0;
  });
}

namespace {

void insert_node(Connection& db, int64_t run_id, const NodeExecution& exec) {
  db.execute(
      "INSERT INTO node_executions(run_id, node, op, cache_key, status, cache_hit, "
      "start_time, end_time, wall_s, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {run_id, exec.node, exec.op, exec.cache_key, exec.status, int64_t{exec.cache_hit ? 1 : 0},
       exec.start_time, exec.end_time, exec.end_time - exec.start_time, nullable(exec.error)});
}

void insert_artifact(Connection& db, int64_t run_id, const ArtifactRow& a) {
  db.execute(
      "INSERT INTO artifacts(run_id, node, path, kind, sha256, size) VALUES (?, ?, ?, ?, ?, ?)",
      {run_id, a.node, a.path, a.kind, a.sha256, a.size});
}

}  // namespace

void Store::record_node(int64_t run_id, const NodeExecution& exec) {
  return impl_->retrying([&]() -> void {
    Impl::WriteTxn txn(*impl_);
    insert_node(*impl_->db, run_id, exec);
    txn.commit();
  });
}

void Store::record_artifact(int64_t run_id, const ArtifactRow& a) {
  return impl_->retrying([&]() -> void {
    Impl::WriteTxn txn(*impl_);
    insert_artifact(*impl_->db, run_id, a);
    txn.commit();
  });
}

void Store::finish_run(int64_t run_id, RunStatus status, const std::string& error) {
  return impl_->retrying([&]() -> void {
    if (status == RunStatus::kRunning || status == RunStatus::kScheduled)
      throw StoreError(
          fmt::format("finish_run({}): {} is not a final status", run_id, to_string(status)));
    const double now = unix_now();
    Impl::WriteTxn txn(*impl_);
    const int64_t changed =
        impl_->version >= 2
            ? impl_->db->execute(
                  "UPDATE runs SET status = ?, end_time = ?, error = ?, heartbeat = ? WHERE id = ?",
                  {to_string(status), now, nullable(error), now, run_id})
            : impl_->db->execute("UPDATE runs SET status = ?, end_time = ?, error = ? WHERE id = ?",
                                 {to_string(status), now, nullable(error), run_id});
    if (changed == 0) throw StoreError(fmt::format("finish_run: no run with id {}", run_id));
    txn.commit();
  });
}

void Store::schedule_runs(const std::vector<int64_t>& ids) {
  return impl_->retrying([&]() -> void {
    impl_->require(7, "scheduling runs needs");
    Impl::WriteTxn txn(*impl_);
    for (int64_t id : ids)
      if (impl_->db->execute(
              "UPDATE runs SET status = 'SCHEDULED', end_time = NULL, error = NULL, pid = 0, "
              "heartbeat = NULL WHERE id = ?",
              {id}) == 0)
        throw StoreError(fmt::format("schedule_runs: no run with id {}", id));
    txn.commit();
  });
}

int Store::kill_runs_of_process(const std::string& host, int64_t pid, const std::string& error) {
  return impl_->retrying([&]() -> int {
    const double now = unix_now();
    Impl::WriteTxn txn(*impl_);
    const int64_t changed = impl_->db->execute(
        "UPDATE runs SET status = 'KILLED', end_time = ?, error = ? WHERE status = 'RUNNING' AND "
        "host = ? AND pid = ?",
        {now, error, host, pid});
    txn.commit();
    return static_cast<int>(changed);
  });
}

void Store::heartbeat(int64_t run_id) {
  return impl_->retrying([&]() -> void {
    impl_->require(2, "heartbeat needs");
    Impl::WriteTxn txn(*impl_);
    const int64_t changed =
        impl_->db->execute("UPDATE runs SET heartbeat = ? WHERE id = ?", {unix_now(), run_id});
    if (changed == 0) throw StoreError(fmt::format("heartbeat: no run with id {}", run_id));
    txn.commit();
  });
}

std::vector<RunRow> Store::list_runs(int limit, RunView view) const {
  return impl_->retrying([&]() -> std::vector<RunRow> {
    // id breaks ties between runs started within the same clock tick.
    std::string sql = run_columns(impl_->version) + "WHERE TRUE" +
                      view_condition(impl_->version, view) +
                      " ORDER BY r.start_time DESC, r.id DESC";
    std::vector<SqlValue> binds;
    if (limit > 0) {
      sql += " LIMIT ?";
      binds.emplace_back(int64_t{limit});
    }
    return read_runs(impl_->db->query(sql, binds));
  });
}

std::optional<RunRow> Store::get_run(int64_t id) const {
  return impl_->retrying([&]() -> std::optional<RunRow> {
    const ResultSet rs = impl_->db->query(run_columns(impl_->version) + "WHERE r.id = ?", {id});
    if (rs.rows.empty()) return std::nullopt;
    return read_run(rs.rows[0]);
  });
}

std::optional<int64_t> Store::find_run(const std::string& uuid) const {
  return impl_->retrying([&]() -> std::optional<int64_t> {
    const ResultSet rs = impl_->db->query("SELECT id FROM runs WHERE uuid = ?", {uuid});
    if (rs.rows.empty()) return std::nullopt;
    return as_int(rs.rows[0][0]);
  });
}

std::vector<RunRow> Store::children(int64_t parent_id) const {
  return impl_->retrying([&]() -> std::vector<RunRow> {
    return read_runs(impl_->db->query(
        run_columns(impl_->version) + "WHERE r.parent_id = ? ORDER BY r.id", {parent_id}));
  });
}

std::vector<int64_t> Store::with_descendants(const std::vector<int64_t>& ids) const {
  std::vector<int64_t> out;
  std::set<int64_t> seen;
  for (int64_t id : ids)
    if (seen.insert(id).second) out.push_back(id);
  // Breadth first, so a parent always comes before its children.
  for (size_t i = 0; i < out.size(); ++i) {
    const ResultSet rs =
        impl_->db->query("SELECT id FROM runs WHERE parent_id = ? ORDER BY id", {out[i]});
    for (const auto& row : rs.rows)
      if (seen.insert(as_int(row[0])).second) out.push_back(as_int(row[0]));
  }
  return out;
}

int Store::set_deleted(const std::vector<int64_t>& ids, bool deleted) {
  return impl_->retrying([&]() -> int {
    impl_->require(5, "deleting runs needs");
    const double now = unix_now();
    Impl::WriteTxn txn(*impl_);
    int64_t changed = 0;
    for (int64_t id : ids)
      changed += deleted ? impl_->db->execute(
                               "UPDATE runs SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
                               {now, id})
                         : impl_->db->execute(
                               "UPDATE runs SET deleted_at = NULL WHERE id = ? AND "
                               "deleted_at IS NOT NULL",
                               {id});
    txn.commit();
    return static_cast<int>(changed);
  });
}

namespace {

// The tables holding a run's rows that exist at schema `version`.
std::vector<std::string> run_row_tables(int version) {
  std::vector<std::string> out = {"params", "metrics", "node_executions", "artifacts"};
  if (version >= 2) out.push_back("latest_metrics");
  if (version >= 3) out.push_back("tags");
  if (version >= 6) out.push_back("metric_batches");
  return out;
}

}  // namespace

int Store::purge_runs(const std::vector<int64_t>& ids) {
  return impl_->retrying([&]() -> int {
    Impl::WriteTxn txn(*impl_);
    int64_t removed = 0;
    // Children first: a child names its parent (runs.parent_id). The rows of each run (params,
    // metrics, nodes, artifacts, tags) go with it: ON DELETE CASCADE, and migration 4's trigger
    // where foreign keys are off; deleted here explicitly all the same.
    std::vector<int64_t> order = with_descendants(ids);
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      for (const auto& table : run_row_tables(impl_->version))
        impl_->db->execute("DELETE FROM " + table + " WHERE run_id = ?", {*it});
      removed += impl_->db->execute("DELETE FROM runs WHERE id = ?", {*it});
    }
    txn.commit();
    return static_cast<int>(removed);
  });
}

std::vector<CacheReference> Store::cache_references() const {
  return impl_->retrying([&]() -> std::vector<CacheReference> {
    const ResultSet rs = impl_->db->query(
        "SELECT cache_key, run_id, MAX(COALESCE(end_time, start_time, 0)) FROM node_executions "
        "WHERE cache_key != '' GROUP BY cache_key, run_id ORDER BY cache_key, run_id");
    std::vector<CacheReference> out;
    for (const auto& row : rs.rows)
      out.push_back(CacheReference{as_text(row[0]), as_int(row[1]), as_real(row[2])});
    return out;
  });
}

void Store::claim_run(int64_t run_id, const std::string& host, int64_t pid, bool start_clock) {
  return impl_->retrying([&]() -> void {
    Impl::WriteTxn txn(*impl_);
    // A SCHEDULED run starts now: its time in the queue is not its run time.
    const double now = unix_now();
    if (impl_->db->execute(
            "UPDATE runs SET start_time = CASE WHEN status = 'SCHEDULED' AND ? = 1 THEN ? "
            "ELSE start_time END, status = 'RUNNING', end_time = NULL, error = NULL, "
            "host = ?, pid = ?, heartbeat = ? WHERE id = ?",
            {int64_t{start_clock ? 1 : 0}, now, host, pid, now, run_id}) == 0)
      throw StoreError(fmt::format("claim_run: no run with id {}", run_id));
    txn.commit();
  });
}

void Store::restart_run(int64_t run_id, int64_t pid) {
  return impl_->retrying([&]() -> void {
    // A resumed run is recomputed (cached nodes replay what they logged), so everything it
    // recorded before is replaced rather than duplicated; params, tags and the spec stay.
    Impl::WriteTxn txn(*impl_);
    for (const auto& table : run_row_tables(impl_->version))
      if (table != "params" && table != "tags")
        impl_->db->execute("DELETE FROM " + table + " WHERE run_id = ?", {run_id});
    const int64_t changed =
        impl_->version >= 2
            ? impl_->db->execute(
                  "UPDATE runs SET status = 'RUNNING', end_time = NULL, error = NULL, pid = ?, "
                  "heartbeat = ? WHERE id = ?",
                  {pid, unix_now(), run_id})
            : impl_->db->execute(
                  "UPDATE runs SET status = 'RUNNING', end_time = NULL, error = NULL, pid = ? "
                  "WHERE id = ?",
                  {pid, run_id});
    if (changed == 0) throw StoreError(fmt::format("restart_run: no run with id {}", run_id));
    txn.commit();
  });
}

std::map<std::string, std::string> Store::params(int64_t run_id) const {
  return impl_->retrying([&]() -> std::map<std::string, std::string> {
    std::map<std::string, std::string> out;
    for (const auto& row :
         impl_->db->query("SELECT key, value FROM params WHERE run_id = ?", {run_id}).rows)
      out[as_text(row[0])] = as_text(row[1]);
    return out;
  });
}

std::map<std::string, std::string> Store::tags(int64_t run_id) const {
  return impl_->retrying([&]() -> std::map<std::string, std::string> {
    if (impl_->version < 3) return {};  // no tags table yet, so no tags
    std::map<std::string, std::string> out;
    for (const auto& row :
         impl_->db->query("SELECT key, value FROM tags WHERE run_id = ?", {run_id}).rows)
      out[as_text(row[0])] = as_text(row[1]);
    return out;
  });
}

std::vector<MetricRow> Store::metrics(int64_t run_id) const {
  return impl_->retrying([&]() -> std::vector<MetricRow> {
    std::vector<MetricRow> out;
    for (const auto& row : impl_->db
                               ->query("SELECT node, key, step, value, timestamp FROM metrics "
                                       "WHERE run_id = ? ORDER BY id",
                                       {run_id})
                               .rows)
      out.push_back(read_metric(row));
    return out;
  });
}

std::vector<MetricRow> Store::final_metrics(int64_t run_id) const {
  return impl_->retrying([&]() -> std::vector<MetricRow> {
    // Schema 1 has no summary table: derive it with the same "highest step, then latest insert"
    // rule the summary table uses.
    const ResultSet rs = impl_->db->query(
        impl_->version >= 2
            ? "SELECT node, key, step, value, timestamp FROM latest_metrics WHERE run_id = ? "
              "ORDER BY node, key"
            : "SELECT node, key, step, value, timestamp FROM metrics m WHERE run_id = ? AND "
              "id = (SELECT m2.id FROM metrics m2 WHERE m2.run_id = m.run_id AND "
              "m2.node = m.node AND m2.key = m.key ORDER BY m2.step DESC, m2.id DESC LIMIT 1) "
              "ORDER BY node, key",
        {run_id});
    std::vector<MetricRow> out;
    for (const auto& row : rs.rows) out.push_back(read_metric(row));
    return out;
  });
}

std::vector<NodeExecution> Store::node_executions(int64_t run_id) const {
  return impl_->retrying([&]() -> std::vector<NodeExecution> {
    const ResultSet rs = impl_->db->query(
        "SELECT node, op, cache_key, status, cache_hit, start_time, end_time, error "
        "FROM node_executions WHERE run_id = ? ORDER BY id",
        {run_id});
    std::vector<NodeExecution> out;
    for (const auto& row : rs.rows) {
      NodeExecution e;
      e.node = as_text(row[0]);
      e.op = as_text(row[1]);
      e.cache_key = as_text(row[2]);
      e.status = as_text(row[3]);
      e.cache_hit = as_int(row[4]) != 0;
      e.start_time = as_opt_real(row[5]).value_or(0);
      e.end_time = as_opt_real(row[6]).value_or(0);
      e.error = as_text(row[7]);
      out.push_back(std::move(e));
    }
    return out;
  });
}

std::vector<ArtifactRow> Store::artifacts(int64_t run_id) const {
  return impl_->retrying([&]() -> std::vector<ArtifactRow> {
    const ResultSet rs = impl_->db->query(
        "SELECT node, path, kind, sha256, size FROM artifacts WHERE run_id = ? ORDER BY id",
        {run_id});
    std::vector<ArtifactRow> out;
    for (const auto& row : rs.rows) {
      ArtifactRow a;
      a.node = as_text(row[0]);
      a.path = as_text(row[1]);
      a.kind = as_text(row[2]);
      a.sha256 = as_text(row[3]);
      a.size = as_int(row[4]);
      out.push_back(std::move(a));
    }
    return out;
  });
}

RunRecord Store::export_run(int64_t run_id) const {
  RunRecord rec;
  auto run = get_run(run_id);
  if (!run) throw StoreError(fmt::format("{}: no run with id {}", impl_->db->describe(), run_id));
  rec.run = std::move(*run);
  rec.params = params(run_id);
  rec.tags = tags(run_id);
  rec.metrics = metrics(run_id);
  rec.latest_metrics = final_metrics(run_id);
  rec.nodes = node_executions(run_id);
  rec.artifacts = artifacts(run_id);
  return rec;
}

std::optional<int64_t> Store::import_run(const RunRecord& rec, std::optional<int64_t> parent_id) {
  impl_->require(latest_schema_version(), "importing runs needs");
  Impl::WriteTxn txn(*impl_);
  Connection& db = *impl_->db;
  if (!db.query("SELECT id FROM runs WHERE uuid = ?", {rec.run.uuid}).rows.empty())
    return std::nullopt;  // copied before: the uuid is the run's identity in every store
  const RunRow& r = rec.run;
  const int64_t experiment = experiment_id(db, r.experiment, r.start_time);
  const ResultSet inserted =
      db.query(insert_run_sql(db.dialect(), impl_->version,
                              "uuid, experiment_id, parent_id, name, status, start_time, end_time, "
                              "spec_file, composed_yaml, overrides, git_commit, host, pid, seed, "
                              "flowlab_version, error, heartbeat, deleted_at",
                              "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"),
               {r.uuid, experiment, nullable(parent_id), r.name, to_string(r.status), r.start_time,
                nullable(r.end_time), r.spec_file, r.composed_yaml, r.overrides, r.git_commit,
                r.host, r.pid, r.seed, r.flowlab_version, nullable(r.error), nullable(r.heartbeat),
                nullable(r.deleted_at)});
  const int64_t id = as_int(inserted.rows.at(0).at(0));
  for (const auto& [key, value] : rec.params)
    db.execute("INSERT INTO params(run_id, key, value) VALUES (?, ?, ?)", {id, key, value});
  for (const auto& [key, value] : rec.tags)
    db.execute("INSERT INTO tags(run_id, key, value) VALUES (?, ?, ?)", {id, key, value});
  std::vector<std::vector<SqlValue>> rows;
  rows.reserve(rec.metrics.size());
  for (const auto& m : rec.metrics)
    rows.push_back({id, m.node, m.key, m.step, m.value, m.timestamp});
  db.insert_rows("metrics", {"run_id", "node", "key", "step", "value", "timestamp"}, rows);
  // The summary is copied, not recomputed: equal steps were decided by insert order there.
  for (const auto& m : rec.latest_metrics)
    db.execute(
        "INSERT INTO latest_metrics(run_id, node, key, step, value, timestamp) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        {id, m.node, m.key, m.step, m.value, m.timestamp});
  for (const auto& n : rec.nodes) insert_node(db, id, n);
  for (const auto& a : rec.artifacts) insert_artifact(db, id, a);
  txn.commit();
  return id;
}

}  // namespace flowlab::tracking
