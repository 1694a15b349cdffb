#pragma once
// The results store: experiments, runs, params, metrics, node executions and artifacts, in a
// SQLite file (the default) or a PostgreSQL database (a group's shared store), with the same
// schema and the same answers (connection.h has the two backends). No LibTorch here (the target
// does not link it).
//
// Concurrency: one Store per thread (it owns one connection). A SQLite file is opened in WAL mode
// with a busy timeout and every write transaction starts with BEGIN IMMEDIATE, so several
// processes can share one file; PostgreSQL takes many writers on many machines as it is. Metrics
// go through MetricWriter (metric_writer.h), which batches rows on a background thread so that
// logging never blocks a training loop on I/O.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tracking/connection.h"
#include "tracking/schema.h"
#include "tracking/store_errors.h"

namespace flowlab::tracking {

/// MLflow's run statuses. SCHEDULED (schema 7): recorded, waiting for a launcher's job to start
/// it (a Slurm array task); the job makes it RUNNING.
enum class RunStatus { kRunning, kFinished, kFailed, kKilled, kScheduled };
std::string to_string(RunStatus s);                      // "RUNNING", "FINISHED", ...
RunStatus run_status_from_string(const std::string& s);  // throws StoreError on junk

/// Which runs a listing shows (MLflow's ViewType): runs that were not deleted (the default
/// everywhere), only deleted ones, or all.
enum class RunView { kActiveOnly, kDeletedOnly, kAll };
std::string to_string(RunView v);                    // "active_only", "deleted_only", "all"
RunView run_view_from_string(const std::string& s);  // also "active", "deleted"; else StoreError

/// Everything known about a run when it starts.
struct RunStart {
  std::string experiment;  // experiment name; created on first use
  std::string name;        // run name (e.g. spec stem)
  std::optional<int64_t> parent_id;
  std::string spec_file;
  std::string composed_yaml;
  std::string overrides;   // the command-line overrides, as a JSON array of strings
  std::string git_commit;  // empty when the spec is not in a git checkout
  std::string host;
  int64_t pid = 0;
  int64_t seed = 0;
  std::string flowlab_version;
};

struct RunRow {
  int64_t id = 0;
  std::string uuid;
  std::string experiment;
  std::optional<int64_t> parent_id;
  std::string name;
  RunStatus status = RunStatus::kRunning;
  double start_time = 0;  // unix seconds
  std::optional<double> end_time;
  std::string spec_file, composed_yaml, overrides, git_commit, host, flowlab_version, error;
  int64_t pid = 0;
  int64_t seed = 0;
  std::optional<double> heartbeat;   // last sign of life of the process running it
  std::optional<double> deleted_at;  // set while the run is (soft-)deleted; schema 5
};

/// A cache entry a run's node used or wrote (node_executions.cache_key), with the latest time
/// that run's node with that key ended (unix seconds).
struct CacheReference {
  std::string cache_key;
  int64_t run_id = 0;
  double last_used = 0;
};

struct MetricRow {
  std::string node, key;
  int64_t step = 0;
  double value = 0;
  double timestamp = 0;
};

struct NodeExecution {
  std::string node, op, cache_key;
  std::string status;  // FINISHED | FAILED | SKIPPED | KILLED
  bool cache_hit = false;
  double start_time = 0, end_time = 0;
  std::string error;
};

struct ArtifactRow {
  std::string node, path, kind, sha256;
  int64_t size = 0;
};

/// Everything a store holds about one run, for moving it to another store (flowlab store copy).
struct RunRecord {
  RunRow run;
  std::map<std::string, std::string> params, tags;
  std::vector<MetricRow> metrics;         // every row, in insert order
  std::vector<MetricRow> latest_metrics;  // the summary (final_metrics)
  std::vector<NodeExecution> nodes;
  std::vector<ArtifactRow> artifacts;
};

class Store {
 public:
  enum class Access { kReadWrite, kReadOnly };

  /// Opens (creating if needed) the store and migrates it to `schema_version` (default: latest;
  /// a PostgreSQL store only has the latest). Migrations run in one exclusive transaction. A
  /// database that cannot be written (a read-only workspace) throws a StoreError that says so; a
  /// server that cannot be reached throws StoreUnavailable.
  explicit Store(const StoreLocation& where, int schema_version = -1);
  /// Access::kReadOnly: opens an existing store for reading only (a SQLite file read-only, see
  /// open_sqlite_read_only in read_only_db.h; a PostgreSQL session READ ONLY), at whatever schema
  /// version it has (1 to latest; nothing is migrated), so that it works in a read-only workspace
  /// and never takes a write lock. Every method that writes throws StoreError.
  /// Access::kReadWrite is Store(where).
  Store(const StoreLocation& where, Access access);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  int schema_version() const;
  const std::filesystem::path& path() const;  // a SQLite store's file; empty for PostgreSQL
  const StoreLocation& location() const;
  Dialect dialect() const;
  /// After StoreUnavailable: connects again; false when the server still cannot be reached.
  bool reconnect();

  int64_t begin_run(const RunStart& run);
  void log_params(int64_t run_id, const std::map<std::string, std::string>& params);
  /// Writes rows in one transaction.
  void log_metrics(int64_t run_id, const std::vector<MetricRow>& rows);
  /// The same, at most once per (writer, seq) whatever happens to the connection: the batch's
  /// token is committed with its rows, and a batch whose token is already there is not written
  /// again (returns false). MetricWriter sends every batch this way, so that resending one whose
  /// commit was acknowledged by a server that then vanished adds nothing. Needs schema 6.
  bool log_metric_batch(int64_t run_id, const std::vector<MetricRow>& rows,
                        const std::string& writer, int64_t seq);
  /// Sets (or replaces) a run's tag. Needs schema version 3.
  void set_tag(int64_t run_id, const std::string& key, const std::string& value);
  /// Sets (or replaces) several tags in one transaction.
  void set_tags(int64_t run_id, const std::map<std::string, std::string>& tags);
  /// Removes a run's tag; false when it had none of that key.
  bool delete_tag(int64_t run_id, const std::string& key);
  void record_node(int64_t run_id, const NodeExecution& exec);
  void record_artifact(int64_t run_id, const ArtifactRow& artifact);
  void finish_run(int64_t run_id, RunStatus status, const std::string& error = "");
  /// Marks runs SCHEDULED: recorded, waiting for a launcher's job (schema 7). The job calls
  /// restart_run when it starts them.
  void schedule_runs(const std::vector<int64_t>& ids);
  /// Marks every run that process `pid` on `host` still has RUNNING as KILLED with `error` (a
  /// second Ctrl-C quits at once: no run may be left looking alive). Returns how many.
  int kill_runs_of_process(const std::string& host, int64_t pid, const std::string& error);
  void heartbeat(int64_t run_id);

  /// Puts a killed or failed run back to RUNNING for `flowlab resume`: its metrics, node
  /// executions and artifacts are deleted (the resumed execution records them again).
  void restart_run(int64_t run_id, int64_t pid);
  /// Marks a run RUNNING in process `pid` on `host` (a launcher's job taking up a SCHEDULED run,
  /// or the stage of a sweep that runs on its parent) with a fresh heartbeat; what it recorded
  /// stays. With `start_clock`, a SCHEDULED run's start time becomes now (a child's time in the
  /// queue is not its run time; a sweep's parent keeps its submission time).
  void claim_run(int64_t run_id, const std::string& host, int64_t pid, bool start_clock = true);

  /// Newest first; `limit` <= 0: all of them.
  std::vector<RunRow> list_runs(int limit = 20, RunView view = RunView::kActiveOnly) const;
  std::vector<RunRow> children(int64_t parent_id) const;  // a sweep's child runs, by id
  std::optional<RunRow> get_run(int64_t id) const;
  /// The id the run with `uuid` has in this store.
  std::optional<int64_t> find_run(const std::string& uuid) const;
  std::map<std::string, std::string> params(int64_t run_id) const;
  std::map<std::string, std::string> tags(int64_t run_id) const;
  std::vector<MetricRow> metrics(int64_t run_id) const;        // every row, in insert order
  std::vector<MetricRow> final_metrics(int64_t run_id) const;  // last value per (node, key)
  std::vector<NodeExecution> node_executions(int64_t run_id) const;
  std::vector<ArtifactRow> artifacts(int64_t run_id) const;

  /// `ids` (each once, in order) followed by every run below them (sweep children, theirs, ...),
  /// parents before children.
  std::vector<int64_t> with_descendants(const std::vector<int64_t>& ids) const;
  /// Soft delete (`deleted` true: sets deleted_at where it is not set) or restore (clears it) of
  /// exactly the runs in `ids`, in one transaction. Returns how many runs changed. Needs schema
  /// version 5.
  int set_deleted(const std::vector<int64_t>& ids, bool deleted);
  /// Removes `ids` and every run below them, with all their rows (params, metrics, nodes,
  /// artifacts, tags), in one transaction. Returns how many runs were removed.
  int purge_runs(const std::vector<int64_t>& ids);
  /// Every (cache key, run) pair node_executions records, by key then run.
  std::vector<CacheReference> cache_references() const;

  /// Everything about run `run_id` (throws StoreError when there is none).
  RunRecord export_run(int64_t run_id) const;
  /// Adds a run recorded in another store, in one transaction: its uuid, status, times and
  /// rows as they are, under a new id, with `parent_id` (an id in this store). Returns the new id,
  /// or nullopt when a run with that uuid is already here (copying twice adds nothing).
  std::optional<int64_t> import_run(const RunRecord& record, std::optional<int64_t> parent_id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowlab::tracking
