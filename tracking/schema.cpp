// The results store's schema, for both backends, and the migrations that bring a store up to
// it. Each migration is a list of single statements (run one by one so that an error names the
// exact statement). Never edit a migration that has shipped: add a new one instead, to both
// lists.
#include "tracking/schema.h"

#include <string>
#include <vector>

#include <fmt/format.h>

namespace flowlab::tracking {
namespace {

// ---------------------------------------------------------------------------------------------
// Schema. Each migration is a list of single statements (run one by one so that an error names
// the exact statement). Migration N takes a database from user_version N-1 to N. Never edit a
// migration that has shipped: add a new one instead.

const std::vector<std::vector<std::string>>& sqlite_migrations() {
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
      // 6: metric batches already written, so that a writer which lost its connection while
      // committing (to a PostgreSQL server) can send the batch again without writing it twice:
      // the batch's (writer, seq) goes in with its rows, in one transaction.
      {
          R"sql(CREATE TABLE metric_batches(
            writer TEXT NOT NULL,
            seq INTEGER NOT NULL,
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            PRIMARY KEY (writer, seq)))sql",
          "CREATE INDEX metric_batches_run ON metric_batches(run_id)",
          R"sql(CREATE TRIGGER runs_delete_batches AFTER DELETE ON runs BEGIN
            DELETE FROM metric_batches WHERE run_id = OLD.id;
          END)sql",
      },
      // 7: MLflow's SCHEDULED status, for runs a launcher has queued (Slurm array tasks). Only the
      // CHECK constraint of runs.status changes, and it only widens: SQLite's documented way to
      // do that without rebuilding the table (which views and foreign keys name) is to edit the
      // stored CREATE TABLE text under writable_schema and bump schema_version so that every
      // connection reloads it. Existing rows cannot violate the wider constraint.
      {
          "PRAGMA writable_schema = ON",
          R"sql(UPDATE sqlite_schema SET sql = replace(sql,
            'CHECK (status IN (''RUNNING'',''FINISHED'',''FAILED'',''KILLED''))',
            'CHECK (status IN (''RUNNING'',''FINISHED'',''FAILED'',''KILLED'',''SCHEDULED''))')
            WHERE type = 'table' AND name = 'runs')sql",
          "PRAGMA writable_schema = OFF",
      },
  };
  return kMigrations;
}

// PostgreSQL stores start at the latest version in one step: they are new, so there is no
// history to replay. The tables, columns (in the same order), keys and views are SQLite's at
// version 7, in PostgreSQL's types: BIGINT for INTEGER (64-bit ids and steps), DOUBLE PRECISION
// for REAL (REAL is 4 bytes in PostgreSQL) and BIGSERIAL ids, which are never reused (what
// SQLite's migration 4 does by hand). Text columns collate as "C" (bytewise, like SQLite), so
// sorting and ILIKE's case folding (ASCII only) agree with a SQLite store.
const std::vector<std::string>& postgres_schema() {
  static const std::vector<std::string> kSchema = {
      R"sql(CREATE TABLE experiments(
        id BIGSERIAL PRIMARY KEY,
        name TEXT COLLATE "C" NOT NULL UNIQUE,
        created_at DOUBLE PRECISION NOT NULL))sql",
      R"sql(CREATE TABLE runs(
        id BIGSERIAL PRIMARY KEY,
        uuid TEXT COLLATE "C" NOT NULL UNIQUE,
        experiment_id BIGINT NOT NULL REFERENCES experiments(id),
        parent_id BIGINT REFERENCES runs(id),
        name TEXT COLLATE "C" NOT NULL,
        status TEXT COLLATE "C" NOT NULL
          CHECK (status IN ('RUNNING','FINISHED','FAILED','KILLED','SCHEDULED')),
        start_time DOUBLE PRECISION NOT NULL,
        end_time DOUBLE PRECISION,
        spec_file TEXT COLLATE "C" NOT NULL DEFAULT '',
        composed_yaml TEXT COLLATE "C" NOT NULL DEFAULT '',
        overrides TEXT COLLATE "C" NOT NULL DEFAULT '',
        git_commit TEXT COLLATE "C" NOT NULL DEFAULT '',
        host TEXT COLLATE "C" NOT NULL DEFAULT '',
        pid BIGINT NOT NULL DEFAULT 0,
        seed BIGINT NOT NULL DEFAULT 0,
        flowlab_version TEXT COLLATE "C" NOT NULL DEFAULT '',
        error TEXT COLLATE "C",
        heartbeat DOUBLE PRECISION,
        deleted_at DOUBLE PRECISION))sql",
      R"sql(CREATE TABLE params(
        run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key TEXT COLLATE "C" NOT NULL,
        value TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (run_id, key)))sql",
      R"sql(CREATE TABLE metrics(
        id BIGSERIAL PRIMARY KEY,
        run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        node TEXT COLLATE "C" NOT NULL,
        key TEXT COLLATE "C" NOT NULL,
        step BIGINT NOT NULL,
        value DOUBLE PRECISION,
        timestamp DOUBLE PRECISION NOT NULL))sql",
      "CREATE INDEX metrics_run_key_step ON metrics(run_id, key, step)",
      R"sql(CREATE TABLE node_executions(
        id BIGSERIAL PRIMARY KEY,
        run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        node TEXT COLLATE "C" NOT NULL,
        op TEXT COLLATE "C" NOT NULL,
        cache_key TEXT COLLATE "C" NOT NULL DEFAULT '',
        status TEXT COLLATE "C" NOT NULL,
        cache_hit INTEGER NOT NULL DEFAULT 0,
        start_time DOUBLE PRECISION,
        end_time DOUBLE PRECISION,
        wall_s DOUBLE PRECISION,
        error TEXT COLLATE "C"))sql",
      R"sql(CREATE TABLE artifacts(
        id BIGSERIAL PRIMARY KEY,
        run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        node TEXT COLLATE "C" NOT NULL,
        path TEXT COLLATE "C" NOT NULL,
        kind TEXT COLLATE "C" NOT NULL DEFAULT '',
        sha256 TEXT COLLATE "C" NOT NULL DEFAULT '',
        size BIGINT NOT NULL DEFAULT 0))sql",
      R"sql(CREATE TABLE latest_metrics(
        run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        node TEXT COLLATE "C" NOT NULL,
        key TEXT COLLATE "C" NOT NULL,
        step BIGINT NOT NULL,
        value DOUBLE PRECISION,
        timestamp DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (run_id, node, key)))sql",
      R"sql(CREATE TABLE tags(
        run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key TEXT COLLATE "C" NOT NULL,
        value TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (run_id, key)))sql",
      R"sql(CREATE TABLE metric_batches(
        writer TEXT COLLATE "C" NOT NULL,
        seq BIGINT NOT NULL,
        run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        PRIMARY KEY (writer, seq)))sql",
      "CREATE INDEX metric_batches_run ON metric_batches(run_id)",
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
      R"sql(CREATE VIEW run_attributes AS
        SELECT r.id AS run_id, r.uuid, e.name AS experiment, r.name, r.status, r.parent_id,
               r.start_time, r.end_time,
               COALESCE(r.end_time, r.heartbeat, r.start_time) - r.start_time AS duration_s,
               to_char(to_timestamp(r.start_time), 'YYYY-MM-DD HH24:MI:SS') AS started,
               r.heartbeat, r.host, r.pid, r.seed, r.git_commit, r.spec_file, r.overrides,
               r.flowlab_version, r.error, r.deleted_at,
               CASE WHEN r.deleted_at IS NULL THEN 'active' ELSE 'deleted' END
                 AS lifecycle_stage
        FROM runs r JOIN experiments e ON e.id = r.experiment_id)sql",
      "CREATE VIEW run_params AS SELECT run_id, key, value FROM params",
      "CREATE VIEW run_tags AS SELECT run_id, key, value FROM tags",
      R"sql(CREATE VIEW run_metrics AS
        SELECT run_id, node, key, step, value, timestamp FROM metrics)sql",
      R"sql(CREATE VIEW final_metrics AS
        SELECT run_id, node, key, value FROM latest_metrics)sql",
      // SQLite's flowlab_number (a C function there): the number a whole text spells in
      // flowlab::parse_double's syntax, else NULL; 1e999 is NULL, 1e-999 is 0.
      R"sql(CREATE FUNCTION flowlab_number(t TEXT) RETURNS DOUBLE PRECISION
        LANGUAGE plpgsql IMMUTABLE AS $f$
        BEGIN
          IF t IS NULL OR t !~ '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$' THEN
            RETURN NULL;
          END IF;
          RETURN t::DOUBLE PRECISION;
        EXCEPTION WHEN numeric_value_out_of_range THEN
          IF t ~ '[eE]-' THEN
            RETURN CASE WHEN t LIKE '-%' THEN '-0'::DOUBLE PRECISION ELSE 0 END;
          END IF;
          RETURN NULL;
        END $f$)sql",
  };
  return kSchema;
}

}  // namespace

int latest_schema_version() { return static_cast<int>(sqlite_migrations().size()); }

int read_schema_version(Connection& db) {
  if (db.dialect() == Dialect::kSqlite)
    return static_cast<int>(as_int(db.query("PRAGMA user_version").rows.at(0).at(0)));
  // The catalog read as a table, under the statement's snapshot: a name lookup (to_regclass)
  // goes through a cache that can still say "no such table" after another session's migration
  // committed while this one waited for the migration lock. current_schema() follows
  // search_path, so a store may live in a schema of its own.
  if (as_int(db.query("SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = "
                      "current_schema() AND tablename = 'flowlab_schema'")
                 .rows.at(0)
                 .at(0)) == 0)
    return 0;
  const ResultSet rs = db.query("SELECT version FROM flowlab_schema");
  return rs.rows.empty() ? 0 : static_cast<int>(as_int(rs.rows[0][0]));
}

int migrate(Connection& db, int target) {
  const int latest = latest_schema_version();
  const bool postgres = db.dialect() == Dialect::kPostgres;
  if (target == -1) target = latest;
  if (target < 1 || target > latest)
    throw StoreError(fmt::format(
        "{}: requested schema version {} is not supported (this build knows versions 1..{})",
        db.describe(), target, latest));
  if (postgres && target != latest)
    throw StoreError(
        fmt::format("{}: a PostgreSQL store is created at the latest schema version ({}), not {}",
                    db.describe(), latest, target));
  auto check_version = [&](int current) {
    if (current > latest)
      throw StoreError(
          fmt::format("{}: database schema version {} is newer than this build of flowlab supports "
                      "(latest {}); upgrade flowlab to open it",
                      db.describe(), current, latest));
    if (current > target)
      throw StoreError(fmt::format(
          "{}: database is at schema version {}; refusing to downgrade it to version {}",
          db.describe(), current, target));
  };
  int version = read_schema_version(db);
  check_version(version);
  if (version == target) return version;  // common case: no write lock needed at all

  // One writer migrates; the others wait and then find the work done, because the version is
  // re-read under the lock. SQLite: an EXCLUSIVE transaction. PostgreSQL: a transaction-scoped
  // advisory lock (DDL is transactional there too, so a failed migration leaves nothing).
  if (postgres) {
    db.execute("BEGIN");
    db.execute("SELECT pg_advisory_xact_lock(7031956)");  // any fixed number: flowlab's
  } else {
    db.execute("BEGIN EXCLUSIVE");
  }
  try {
    version = read_schema_version(db);
    check_version(version);
    if (version < target) {
      if (postgres) {
        if (version != 0)
          throw StoreError(fmt::format("{}: no migration from schema version {} to {}",
                                       db.describe(), version, target));
        for (const auto& sql : postgres_schema()) db.execute(sql);
        db.execute("CREATE TABLE flowlab_schema(version INTEGER NOT NULL)");
        db.execute("INSERT INTO flowlab_schema(version) VALUES (?)", {int64_t{target}});
      } else {
        for (int v = version + 1; v <= target; ++v)
          for (const auto& sql : sqlite_migrations()[static_cast<size_t>(v - 1)]) db.execute(sql);
        // PRAGMA takes no bound parameters; these are ints this code chose, not user input.
        // schema_version moves on whenever a migration edited the schema text in place (7), so
        // that every connection re-reads it.
        const int64_t cookie = as_int(db.query("PRAGMA schema_version").rows.at(0).at(0));
        if (version < 7 && target >= 7) {
          db.execute(fmt::format("PRAGMA schema_version = {}", cookie + 1));
          if (as_int(db.query("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'runs' AND sql "
                              "LIKE '%''SCHEDULED''%'")
                         .rows.at(0)
                         .at(0)) != 1)
            throw StoreError(fmt::format(
                "{}: migration 7 could not widen the CHECK constraint of runs.status (its "
                "CREATE TABLE text is not the one flowlab wrote)",
                db.describe()));
        }
        db.execute(fmt::format("PRAGMA user_version = {}", target));
      }
    }
    db.commit();
  } catch (...) {
    db.rollback();
    throw;
  }
  return target;
}

}  // namespace flowlab::tracking
