// Knowledge-graph embedding end to end: a small WordNet graph trains far above the exact
// random-scoring floor, an interrupted training resumes to exactly the metrics of a run left
// alone, and bad input (a malformed triple file, a model evaluated on another graph) fails with
// a message naming what is wrong.
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <tuple>

#include <boost/test/unit_test.hpp>

#include "experiments/cli/builtin.h"
#include "graph/compose.h"
#include "graph/executor.h"
#include "graph/plan.h"
#include "tests/support/run_fixture.h"
#include "tests/support/temp_dir.h"
#include "tracking/store.h"

namespace fs = std::filesystem;
using flowlab::testing::RunFixture;
using flowlab::testing::source_dir;

namespace {

bool has_wordnet() { return fs::exists("/usr/share/wordnet/data.noun"); }

std::map<std::string, double> final_of(const RunFixture& f, int64_t run, const std::string& node) {
  flowlab::tracking::Store store(f.db());
  std::map<std::string, double> m;
  for (const auto& row : store.final_metrics(run))
    if (row.node == node) m[row.key] = row.value;
  return m;
}

using Row = std::tuple<std::string, int64_t, double>;  // key, step, value

// Keeps the training node's metrics; sets `stop` once it logs its loss at `stop_step`.
struct Recorder : flowlab::ExecutionListener {
  std::mutex mutex;
  std::vector<Row> rows;
  std::atomic<bool>* stop = nullptr;
  int64_t stop_step = -1;
  void node_started(const flowlab::PlannedNode&) override {}
  void node_finished(const flowlab::PlannedNode&, const flowlab::NodeOutcome&) override {}
  void progress(const flowlab::PlannedNode&, double, const std::string&) override {}
  void artifact_file(const flowlab::PlannedNode&, const fs::path&, const std::string&) override {}
  void metric(const flowlab::PlannedNode& node, const std::string& key, int64_t step,
              double value) override {
    std::lock_guard<std::mutex> lock(mutex);
    if (node.name != "train" || key == "train_time_s" || key == "samples_per_s") return;
    rows.emplace_back(key, step, value);
    if (stop && key == "loss" && step == stop_step) stop->store(true);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(experiments_kge,
                      *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                        return boost::unit_test::assertion_result(has_wordnet());
                      }))

BOOST_AUTO_TEST_CASE(a_small_wordnet_graph_trains_far_above_the_random_floor) {
  RunFixture f;
  const auto r = f.run("kge.yaml");
  BOOST_TEST_MESSAGE(r.err);
  BOOST_REQUIRE_EQUAL(r.outcome.exit_code, 0);
  const auto graph = final_of(f, r.outcome.run_id, "graph");
  BOOST_TEST(graph.at("entities") <= 1000);
  BOOST_TEST(graph.at("test_triples") > 20);
  const auto eval = final_of(f, r.outcome.run_id, "eval");
  BOOST_TEST(eval.at("random_mrr") < 0.02);
  BOOST_TEST(eval.at("mrr") > 5 * eval.at("random_mrr"),
             "mrr " << eval.at("mrr") << " random " << eval.at("random_mrr"));
  BOOST_TEST(eval.count("mrr/_hypernym") == 1u);
  BOOST_TEST(eval.count("involution/_hypernym") == 1u);
  const auto train = final_of(f, r.outcome.run_id, "train");
  BOOST_TEST(train.at("best_epoch") >= 1);
  BOOST_TEST(train.at("best_val_mrr") > 5 * eval.at("random_mrr"));
}

BOOST_AUTO_TEST_CASE(an_interrupted_training_resumes_to_the_same_metrics) {
  const flowlab::Registry registry = flowlab::cli::make_builtin_registry();
  const auto spec = source_dir() / "tests/data/specs/kge.yaml";
  flowlab::ComposeOptions compose;
  compose.spec_file = spec;
  const flowlab::Plan plan = flowlab::make_plan(flowlab::compose(compose), registry);
  auto run = [&](const fs::path& ws, Recorder& recorder, std::atomic<bool>& stop) {
    flowlab::ExecuteOptions o;
    o.threads = 1;
    o.cache_dir = ws / "cache";
    o.checkpoint_dir = ws / "checkpoints";
    o.stop = &stop;
    return flowlab::execute(plan, registry, recorder, o);
  };
  flowlab::testing::TempDir whole_ws, killed_ws;
  Recorder whole;
  std::atomic<bool> no_stop{false};
  BOOST_REQUIRE(!run(whole_ws.path(), whole, no_stop).failed);

  // Stop once step 250 is logged (within epoch 10 of 30): the last checkpoint is step 200's.
  Recorder first;
  std::atomic<bool> stop{false};
  first.stop = &stop, first.stop_step = 250;
  BOOST_REQUIRE(run(killed_ws.path(), first, stop).killed);
  Recorder resumed;
  std::atomic<bool> go{false};
  BOOST_REQUIRE(!run(killed_ws.path(), resumed, go).failed);
  BOOST_REQUIRE_EQUAL(resumed.rows.size(), whole.rows.size());
  for (size_t i = 0; i < whole.rows.size(); ++i) {
    BOOST_TEST(std::get<0>(resumed.rows[i]) == std::get<0>(whole.rows[i]));
    BOOST_TEST(std::get<1>(resumed.rows[i]) == std::get<1>(whole.rows[i]));
    BOOST_TEST(std::get<2>(resumed.rows[i]) == std::get<2>(whole.rows[i]),
               std::get<0>(whole.rows[i]) << " at step " << std::get<1>(whole.rows[i]));
  }
}

BOOST_AUTO_TEST_CASE(distmult_scores_every_relation_symmetrically_and_nfe_does_not) {
  // DistMult's <h * r, t> is symmetric in h and t by construction, whatever it learned; NFE-1's
  // random initial flows (scales near 0) are not.
  RunFixture f;
  const auto d =
      f.run("kge.yaml", {"nodes.train.params.model=distmult", "nodes.train.params.epochs=1"});
  BOOST_REQUIRE_EQUAL(d.outcome.exit_code, 0);
  const auto eval = final_of(f, d.outcome.run_id, "eval");
  BOOST_TEST(std::abs(eval.at("symmetry/_hypernym") - 1) < 1e-6);
  BOOST_TEST(eval.count("involution/_hypernym") == 0u);  // no relation flows
  const auto n = f.run("kge.yaml", {"nodes.train.params.epochs=1"});
  BOOST_REQUIRE_EQUAL(n.outcome.exit_code, 0);
  BOOST_TEST(final_of(f, n.outcome.run_id, "eval").at("symmetry/_hypernym") < 0.9);
}

BOOST_AUTO_TEST_CASE(a_model_evaluated_on_another_graph_is_a_clear_error) {
  RunFixture f;
  const auto r =
      f.run("kge.yaml", {"+nodes.other={op: dataset.wordnet_kg, params: "
                         "{max_entities: 500}}",
                         "nodes.eval.inputs.graph=other", "nodes.train.params.epochs=1"});
  BOOST_TEST(r.outcome.exit_code == 1);
  BOOST_TEST(r.err.find("trained on another graph") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(users_triple_files_train_and_count_heldout_entities_unseen_in_train) {
  RunFixture f;
  const auto dir = source_dir() / "tests/data/kg";  // 4 entities; dave occurs only in test
  const auto r = f.run("kge.yaml",
                       {"nodes.graph.op=dataset.kg_files", "~nodes.graph.params.max_entities",
                        "+nodes.graph.params.path=" + dir.string(), "nodes.train.params.epochs=2"});
  BOOST_REQUIRE_EQUAL(r.outcome.exit_code, 0);
  const auto graph = final_of(f, r.outcome.run_id, "graph");
  BOOST_TEST(graph.at("entities") == 4);
  BOOST_TEST(graph.at("relations") == 2);
  BOOST_TEST(graph.at("heldout_triples_with_unseen_entities") == 1);
  BOOST_TEST(final_of(f, r.outcome.run_id, "eval").at("queries") == 2);  // one triple, both ways
}

BOOST_AUTO_TEST_CASE(a_malformed_triple_file_names_its_line) {
  RunFixture f;
  const auto dir = source_dir() / "tests/data/kg_bad";
  const auto r =
      f.run("kge.yaml", {"nodes.graph.op=dataset.kg_files", "~nodes.graph.params.max_entities",
                         "+nodes.graph.params.path=" + dir.string()});
  BOOST_TEST(r.outcome.exit_code == 1);
  BOOST_TEST(
      r.err.find("kg_bad/train.txt:2: expected three tab-separated fields") != std::string::npos,
      r.err);
}

BOOST_AUTO_TEST_SUITE_END()
