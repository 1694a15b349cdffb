#pragma once
// Reading recorded runs without writing SQL: the CLI (plots, sweep summaries) and sweep aggregates
// ask here. Every answer comes from the documented views (run_attributes, run_params,
// final_metrics), so the tables behind them may change; the one exception is metric_history (see
// there). Reads go through a read-only connection, so a reader never stalls a run that is logging
// into the same file. No LibTorch here.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tracking/read_only_db.h"
#include "tracking/store.h"

namespace flowlab::tracking {

/// A run as the run_attributes view lists it: RunRow without the composed spec (Store::get_run
/// has that).
struct RunInfo {
  int64_t id = 0;
  std::string uuid, experiment, name;
  RunStatus status = RunStatus::kRunning;
  std::optional<int64_t> parent_id;
  double start_time = 0;  // unix seconds
  std::optional<double> end_time;
  std::optional<double> heartbeat;
  std::string host;
  int64_t pid = 0;
  int64_t seed = 0;
  std::string git_commit, spec_file, overrides, flowlab_version, error;
};

/// The last value of one metric series (the final_metrics view). NaN where NaN was logged.
struct FinalMetric {
  std::string node, key;
  double value = 0;
};

/// One point of a metric's history.
struct MetricPoint {
  int64_t step = 0;
  double value = 0;  // NaN where NaN was logged
};

/// Brings an older database up to the current schema (through a short-lived Store); a current one
/// is only opened read-only, so reading a current database works in a read-only workspace, and so
/// does one at version 3 or later that cannot be migrated (it has every view readers use). Throws
/// StoreError when there is no file, it cannot be read, or one older than 3 cannot be written.
void ensure_current_schema(const StoreLocation& where);

/// The name `flowlab sweep` gives the parent run of a sweep of `spec_stem`: "<stem> (sweep)".
/// RunReader::is_sweep_parent recognises it, so a parent is known as one before any child is
/// recorded.
std::string sweep_parent_name(const std::string& spec_stem);

class RunReader {
 public:
  /// Opens the database read-only, after bringing an older file up to the current schema (the
  /// views came with version 3) through a short-lived Store. Throws StoreError when the file does
  /// not exist or cannot be opened.
  explicit RunReader(const StoreLocation& where);

  /// The connection, for run_query (filters) and anything else read-only.
  const ReadOnlyDb& db() const { return db_; }

  /// One run, or nullopt when there is no run `id`.
  std::optional<RunInfo> run(int64_t id) const;
  /// The runs whose parent is `parent_id` (a sweep's children), by id.
  std::vector<RunInfo> children(int64_t parent_id) const;

  /// Whether run `id` is the parent of a sweep: the run that records the sweep (its axes, size and
  /// aggregates) while its children hold the results. That is a run other runs name as their
  /// parent, or one named sweep_parent_name(...) (a sweep interrupted before it recorded any
  /// child). This is the one definition; the listings below use the same.
  bool is_sweep_parent(int64_t id) const;

  /// Every run except sweep parents and deleted runs (`flowlab delete`), by id; only those of
  /// `experiment` when it is not empty. These are the runs that stand for results.
  std::vector<RunInfo> runs_except_sweep_parents(const std::string& experiment = "") const;

  /// Every experiment name with a run that is not deleted, sorted.
  std::vector<std::string> experiments() const;
  /// The experiment of the most recently started run that is not deleted (ties: the higher id);
  /// "" when there are no runs.
  std::string newest_experiment() const;

  /// The params of each run in `ids`, run id -> key -> value, in a few queries however many runs
  /// there are. Runs without params (or that do not exist) have no entry.
  std::map<int64_t, std::map<std::string, std::string>> params(
      const std::vector<int64_t>& ids) const;
  /// The final value of every metric series of each run in `ids` (sorted by node, then key), run
  /// id -> series, in a few queries however many runs there are. Runs without metrics have no
  /// entry.
  std::map<int64_t, std::vector<FinalMetric>> final_metrics(const std::vector<int64_t>& ids) const;

  /// How many children each of `ids` has, by stored status (deleted children left out): parent
  /// id -> status -> count, in a few queries however many ids. Runs without children: no entry.
  std::map<int64_t, std::map<std::string, int64_t>> child_status_counts(
      const std::vector<int64_t>& ids) const;

  /// Every step run `run_id` logged of series (node, key), ascending; a step logged more than
  /// once keeps its last value (the rule final_metrics follows). Reads the metrics table: the
  /// run_metrics view does not carry the insert order that decides which value of a step is last.
  std::vector<MetricPoint> metric_history(int64_t run_id, const std::string& node,
                                          const std::string& key) const;

 private:
  ReadOnlyDb db_;
};

}  // namespace flowlab::tracking
