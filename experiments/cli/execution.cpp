#include "experiments/cli/execution.h"

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/sha256.h"
#include "experiments/cli/progress.h"
#include "tracking/metric_writer.h"

namespace flowlab::cli {
namespace fs = std::filesystem;
using tracking::RunStatus;

namespace {

// How one run's nodes ended so far.
struct RunProgress {
  size_t remaining = 0;  // nodes not finished yet
  bool failed = false, killed = false;
  std::string error;  // the failed nodes' messages, under this run's node names
  bool recorded = false;

  RunStatus status() const {
    return failed ? RunStatus::kFailed : killed ? RunStatus::kKilled : RunStatus::kFinished;
  }
};

// Sends what the executor reports to every run a merged node stands for, under the name that
// run knows the node by. With `finish_runs`, a run is recorded as ended the moment its own last
// node ends (a sweep child does not wait for the others, and keeps its own end time).
class RunsListener : public ExecutionListener {
 public:
  RunsListener(const MergedPlan& merged, const std::vector<const Plan*>& plans,
               const std::vector<int64_t>& run_ids, tracking::Store& store,
               tracking::MetricWriter& writer, ProgressPrinter& printer, bool finish_runs)
      : merged_(merged),
        plans_(plans),
        run_ids_(run_ids),
        store_(store),
        writer_(writer),
        printer_(printer),
        finish_runs_(finish_runs),
        runs_(plans.size()) {
    for (size_t p = 0; p < plans.size(); ++p) runs_[p].remaining = plans[p]->nodes.size();
  }

  /// After the graph ran: how each run ended (those not recorded yet are recorded now when
  /// finishing runs).
  std::vector<RunProgress> results() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t p = 0; p < runs_.size(); ++p)
      if (finish_runs_ && !runs_[p].recorded) record_end(p);
    return runs_;
  }

  void metric(const PlannedNode& node, const std::string& key, int64_t step,
              double value) override {
    // A metric that cannot be written (the database stayed locked past its timeout) must not
    // kill a training: warn once and go on.
    try {
      for (const auto& o : merged_.owners[node.index])
        writer_.log_for(run_ids_[o.plan], own_name(o), key, step, value);
    } catch (const std::exception& e) {
      if (!warned_.exchange(true))
        std::fprintf(stderr, "flowlab: warning: metrics could not be recorded: %s\n", e.what());
    }
  }
  void progress(const PlannedNode& node, double fraction, const std::string& message) override {
    printer_.update(node.name, fraction, message);
  }
  void artifact_file(const PlannedNode& node, const fs::path& path,
                     const std::string& kind) override {
    std::error_code ec;
    tracking::ArtifactRow row{"", path.string(), kind, sha256_file(path),
                              static_cast<int64_t>(fs::file_size(path, ec))};
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& o : merged_.owners[node.index]) {
      row.node = own_name(o);
      store_.record_artifact(run_ids_[o.plan], row);
    }
  }
  void node_started(const PlannedNode& node) override {
    printer_.started(node.name, node.op->name);
  }
  void node_finished(const PlannedNode& node, const NodeOutcome& outcome) override {
    printer_.finished(node.name, to_string(outcome.status), outcome.end_time - outcome.start_time,
                      outcome.error);
    std::lock_guard<std::mutex> lock(mutex_);
    bool first = true;
    for (const auto& o : merged_.owners[node.index]) {
      tracking::NodeExecution exec;
      exec.node = own_name(o), exec.op = node.op->name, exec.cache_key = node.key;
      exec.status = to_string(outcome.status);
      // Only the first run that needs a shared node computes it; the others reuse its output.
      exec.cache_hit = outcome.status == NodeStatus::kCached ||
                       (!first && outcome.status == NodeStatus::kFinished);
      exec.start_time = outcome.start_time, exec.end_time = outcome.end_time;
      exec.error = outcome.error;
      store_.record_node(run_ids_[o.plan], exec);
      first = false;
      RunProgress& run = runs_[o.plan];
      run.failed |= outcome.status == NodeStatus::kFailed;
      run.killed |= outcome.status == NodeStatus::kKilled;
      if (outcome.status == NodeStatus::kFailed) {
        // The message names the merged node ("train[2]"); this run knows it by its own name.
        std::string message = outcome.error;
        const std::string merged_name = "node '" + node.name + "'";
        if (auto at = message.find(merged_name); at != std::string::npos)
          message.replace(at, merged_name.size(), "node '" + own_name(o) + "'");
        run.error += (run.error.empty() ? "" : "\n") + message;
      }
      if (run.remaining > 0 && --run.remaining == 0 && finish_runs_) record_end(o.plan);
    }
  }

 private:
  const std::string& own_name(const PlanNodeRef& o) const {
    return plans_[o.plan]->nodes[o.node].name;
  }

  void record_end(size_t p) {
    RunProgress& run = runs_[p];
    if (run.status() == RunStatus::kKilled && run.error.empty()) run.error = "interrupted";
    // A database that cannot be written must not take the graph down: warn, the end is recorded
    // again after the graph (execute_children).
    try {
      store_.finish_run(run_ids_[p], run.status(), run.error);
      run.recorded = true;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "flowlab: warning: run %lld's end not recorded yet: %s\n",
                   static_cast<long long>(run_ids_[p]), e.what());
    }
  }

  const MergedPlan& merged_;
  const std::vector<const Plan*>& plans_;
  const std::vector<int64_t>& run_ids_;
  tracking::Store& store_;
  tracking::MetricWriter& writer_;
  ProgressPrinter& printer_;
  const bool finish_runs_;
  std::vector<RunProgress> runs_;
  std::mutex mutex_;
  std::atomic<bool> warned_{false};
};

// Keeps the runs' heartbeats fresh from a thread of its own, so `flowlab runs` can tell a live
// run from one whose process died (a trainer may log nothing for minutes).
class Heartbeat {
 public:
  Heartbeat(tracking::StoreLocation db, std::vector<int64_t> run_ids)
      : db_(std::move(db)), ids_(std::move(run_ids)) {
    thread_ = std::thread([this] { loop(); });
  }
  ~Heartbeat() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void loop() {
    std::unique_ptr<tracking::Store> store;
    std::unique_lock<std::mutex> lock(mutex_);
    while (!cv_.wait_for(lock, std::chrono::seconds(5), [&] { return done_; })) {
      lock.unlock();
      // A missed heartbeat only makes a live run look stale for a while; never stop for it.
      try {
        if (!store) store = std::make_unique<tracking::Store>(db_);
        for (int64_t id : ids_) store->heartbeat(id);
      } catch (const std::exception&) {
        store.reset();
      }
      lock.lock();
    }
  }
  tracking::StoreLocation db_;
  std::vector<int64_t> ids_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

int resolve_threads(const RunOptions& options, const Plan& plan) {
  int threads = options.threads > 0 ? options.threads : plan.threads;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return threads;
}

GraphRun run_graph(const std::vector<const Plan*>& plans, const std::vector<int64_t>& run_ids,
                   const RunOptions& options, const Registry& registry, tracking::Store& store,
                   std::vector<int64_t> heartbeat_ids, std::ostream& err,
                   const std::atomic<bool>& stop, bool finish_runs,
                   const std::function<void(MergedPlan&, ExecuteOptions&)>& prepare) {
  GraphRun run;
  run.merged = merge_plans(plans);
  ExecuteOptions exec;
  exec.threads = resolve_threads(options, run.merged.plan);
  exec.max_concurrency = options.jobs;
  exec.read_cache = !options.no_cache;
  exec.cache_dir = options.workspace / "cache";
  exec.checkpoint_dir = options.workspace / "checkpoints";
  exec.stop = &stop;
  if (prepare) prepare(run.merged, exec);
  std::string fatal;
  const double t0 = unix_now();
  {
    // One writer for every run: a thread and a connection, however large the sweep.
    tracking::MetricWriterOptions writer_options;
    writer_options.spool_dir = options.workspace / "spool";
    tracking::MetricWriter writer(store_of(options), run_ids.front(), writer_options);
    for (int64_t id : run_ids) heartbeat_ids.push_back(id);
    Heartbeat heartbeat(store_of(options), heartbeat_ids);
    // Supplied nodes are not run, so they are not counted.
    ProgressPrinter printer(err, options.quiet,
                            run.merged.plan.nodes.size() - exec.supplied.size());
    RunsListener listener(run.merged, plans, run_ids, store, writer, printer, finish_runs);
    try {
      run.exec = execute(run.merged.plan, registry, listener, exec);
    } catch (const std::exception& e) {
      // Nothing should escape the executor; if something does, no run may stay RUNNING.
      fatal = std::string("internal error while running the graph: ") + e.what();
    }
    try {
      writer.flush();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "flowlab: warning: some metrics were not recorded: %s\n", e.what());
    }
    if (fatal.empty())
      for (const auto& r : listener.results()) {
        run.status.push_back(r.status());
        run.errors.push_back(r.error);
      }
  }
  if (!fatal.empty()) {
    // No run may stay RUNNING: the graph's runs and those it kept alive (a sweep's parent).
    for (int64_t id : heartbeat_ids) store.finish_run(id, RunStatus::kFailed, fatal);
    throw RunError(fatal);
  }
  run.seconds = unix_now() - t0;
  return run;
}

BatchResult execute_children(std::vector<Child>& children, const RunOptions& options,
                             const Registry& registry, tracking::Store& store,
                             std::vector<int64_t> heartbeat_ids, std::ostream& err,
                             const std::atomic<bool>& stop) {
  std::vector<const Plan*> plans;
  std::vector<int64_t> run_ids;
  for (const auto& c : children) plans.push_back(&c.plan), run_ids.push_back(c.run_id);
  // Each child is recorded as ended when its own last node ends (the listener does it).
  GraphRun run = run_graph(plans, run_ids, options, registry, store, std::move(heartbeat_ids), err,
                           stop, /*finish_runs=*/true);
  BatchResult result;
  result.exec = run.exec;
  result.seconds = run.seconds;
  result.status = run.status;
  result.errors = run.errors;
  for (size_t c = 0; c < children.size(); ++c) {
    std::vector<NodeOutcome> outcomes;
    for (size_t k = 0; k < children[c].plan.nodes.size(); ++k)
      outcomes.push_back(run.exec.outcomes[run.merged.merged_index[c][k]]);
    result.outcomes.push_back(std::move(outcomes));
  }
  return result;
}

int exit_code_of(const std::vector<RunStatus>& statuses) {
  bool failed = false, killed = false;
  for (auto s : statuses) failed |= s == RunStatus::kFailed, killed |= s == RunStatus::kKilled;
  return killed ? 130 : failed ? 1 : 0;
}

}  // namespace flowlab::cli
