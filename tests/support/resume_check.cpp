#include "tests/support/resume_check.h"

#include <atomic>
#include <mutex>

#include "experiments/cli/builtin.h"
#include "graph/compose.h"
#include "graph/executor.h"
#include "graph/plan.h"
#include "tests/support/run_fixture.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;

namespace flowlab::testing {
namespace {

// Keeps the training node's metrics; sets `stop` once it logs its loss at `stop_step`.
struct Recorder : ExecutionListener {
  std::string node_name;
  std::mutex mutex;
  std::vector<MetricRow> rows;
  std::atomic<bool>* stop = nullptr;
  int64_t stop_step = -1;
  void node_started(const PlannedNode&) override {}
  void node_finished(const PlannedNode&, const NodeOutcome&) override {}
  void progress(const PlannedNode&, double, const std::string&) override {}
  void artifact_file(const PlannedNode&, const fs::path&, const std::string&) override {}
  void metric(const PlannedNode& node, const std::string& key, int64_t step,
              double value) override {
    std::lock_guard<std::mutex> lock(mutex);
    if (node.name != node_name || key == "train_time_s" || key == "samples_per_s") return;
    rows.emplace_back(key, step, value);
    if (stop && key == "loss" && step == stop_step) stop->store(true);
  }
};

}  // namespace

ResumeRecords run_whole_and_resumed(const std::string& spec,
                                    const std::vector<std::string>& overrides, int64_t stop_step,
                                    const std::string& train_node) {
  const Registry registry = cli::make_builtin_registry();
  ComposeOptions compose;
  compose.spec_file =
      fs::path(spec).is_absolute() ? fs::path(spec) : source_dir() / "tests/data/specs" / spec;
  compose.overrides = overrides;
  const Plan plan = make_plan(flowlab::compose(compose), registry);
  auto run = [&](const fs::path& ws, Recorder& recorder, std::atomic<bool>& stop) {
    ExecuteOptions o;
    o.threads = 1;
    o.cache_dir = ws / "cache";
    o.checkpoint_dir = ws / "checkpoints";
    o.stop = &stop;
    return execute(plan, registry, recorder, o);
  };
  TempDir whole_ws, killed_ws;
  ResumeRecords records;
  Recorder whole, first, resumed;
  whole.node_name = first.node_name = resumed.node_name = train_node;
  std::atomic<bool> no_stop{false}, stop{false}, go{false};
  if (run(whole_ws.path(), whole, no_stop).failed) return records;
  first.stop = &stop, first.stop_step = stop_step;
  records.stopped = run(killed_ws.path(), first, stop).killed;
  if (records.stopped && !run(killed_ws.path(), resumed, go).failed)
    records.resumed = std::move(resumed.rows);
  records.whole = std::move(whole.rows);
  return records;
}

}  // namespace flowlab::testing
