// train.dsd runs through the shared training loop, so a node interrupted after a checkpoint and
// run again resumes from it and ends with exactly the metric history of an uninterrupted run.
#include <mutex>
#include <tuple>

#include <boost/test/unit_test.hpp>

#include "experiments/cli/builtin.h"
#include "graph/compose.h"
#include "graph/executor.h"
#include "graph/plan.h"
#include "tests/support/temp_dir.h"

namespace {

using Row = std::tuple<std::string, std::string, int64_t, double>;  // node, key, step, value

// Keeps every metric; sets `stop` once `node` logs `key` at step `stop_step`.
struct Recorder : flowlab::ExecutionListener {
  std::mutex mutex;
  std::vector<Row> rows;
  std::atomic<bool>* stop = nullptr;
  std::string stop_node;
  int64_t stop_step = -1;
  void node_started(const flowlab::PlannedNode&) override {}
  void node_finished(const flowlab::PlannedNode&, const flowlab::NodeOutcome&) override {}
  void progress(const flowlab::PlannedNode&, double, const std::string&) override {}
  void artifact_file(const flowlab::PlannedNode&, const std::filesystem::path&,
                     const std::string&) override {}
  void metric(const flowlab::PlannedNode& node, const std::string& key, int64_t step,
              double value) override {
    std::lock_guard<std::mutex> lock(mutex);
    if (key == "train_time_s") return;  // measures the machine
    rows.emplace_back(node.name, key, step, value);
    if (stop && node.name == stop_node && key == "loss" && step == stop_step) stop->store(true);
  }
  std::vector<Row> of(const std::string& node) {
    std::vector<Row> out;
    for (const auto& r : rows)
      if (std::get<0>(r) == node) out.push_back(r);
    return out;
  }
};

const char* kSpec =
    "seed: 4\n"
    "nodes:\n"
    "  data: {op: dataset.dsd, params: {k: 4, d: 8, sigma: 0.5, n_train: 128, n_test: 500}}\n"
    "  lcn:\n"
    "    op: train.dsd\n"
    "    inputs: {data: data}\n"
    "    params: {model: lcn, steps: 300, log_every: 10, checkpoint_every: 50}\n";

flowlab::ExecutionResult run(const flowlab::Plan& plan, const flowlab::Registry& registry,
                             const std::filesystem::path& ws, Recorder& recorder,
                             std::atomic<bool>& stop) {
  flowlab::ExecuteOptions o;
  o.threads = 1;
  o.cache_dir = ws / "cache";
  o.checkpoint_dir = ws / "checkpoints";
  o.stop = &stop;
  return flowlab::execute(plan, registry, recorder, o);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(train_dsd_resume)

BOOST_AUTO_TEST_CASE(an_interrupted_dsd_training_resumes_to_the_same_metrics) {
  const flowlab::Registry registry = flowlab::cli::make_builtin_registry();
  const flowlab::Plan plan =
      flowlab::make_plan(flowlab::compose_text(kSpec, "spec.yaml", {}, {}), registry);

  flowlab::testing::TempDir whole_ws, killed_ws;
  Recorder whole;
  std::atomic<bool> no_stop{false};
  BOOST_REQUIRE(!run(plan, registry, whole_ws.path(), whole, no_stop).failed);

  // Interrupt after step 160 is logged: the last checkpoint is then the one of step 150.
  Recorder first;
  std::atomic<bool> stop{false};
  first.stop = &stop, first.stop_node = "lcn", first.stop_step = 160;
  auto interrupted = run(plan, registry, killed_ws.path(), first, stop);
  BOOST_REQUIRE(interrupted.killed);
  BOOST_TEST(flowlab::to_string(interrupted.outcomes[1].status) == "KILLED");
  BOOST_TEST(std::get<2>(first.of("lcn").back()) <= 170);  // it really stopped early

  Recorder resumed;
  std::atomic<bool> go{false};
  auto result = run(plan, registry, killed_ws.path(), resumed, go);
  BOOST_REQUIRE(!result.failed);
  // The resumed node re-logs what its checkpoint holds (steps 10..150), then goes on from 151.
  auto want = whole.of("lcn"), got = resumed.of("lcn");
  BOOST_REQUIRE_EQUAL(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    BOOST_TEST(std::get<1>(got[i]) == std::get<1>(want[i]));
    BOOST_TEST(std::get<2>(got[i]) == std::get<2>(want[i]));
    BOOST_TEST(std::get<3>(got[i]) == std::get<3>(want[i]),
               std::get<1>(want[i]) << " at step " << std::get<2>(want[i]));
  }
}

BOOST_AUTO_TEST_SUITE_END()
