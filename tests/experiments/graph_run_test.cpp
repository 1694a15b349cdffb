// Graph classification end to end: on CSL, GIN sits exactly at chance (all 150 graphs are 1-WL
// equivalent, so it answers one class for every graph) while SPEN does not; on the synthetic
// cycles task SPEN with k = 2 separates what 1-WL cannot; an interrupted training (with dropout)
// resumes to exactly the metrics of a run left alone; users' graph files train, and bad input
// fails with a message naming what is wrong.
#include <filesystem>
#include <fstream>
#include <map>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/resume_check.h"
#include "tests/support/run_fixture.h"
#include "tracking/store.h"

namespace fs = std::filesystem;
using flowlab::testing::RunFixture;
using flowlab::testing::source_dir;

BOOST_AUTO_TEST_SUITE(experiments_graph)

BOOST_AUTO_TEST_CASE(gin_is_exactly_at_chance_on_csl_and_spen_reports_its_memory) {
  RunFixture f;
  const auto gin = f.run("spen.yaml", {"nodes.train.params.model=gin", "~nodes.train.params.hops"});
  BOOST_TEST_MESSAGE(gin.err);
  BOOST_REQUIRE_EQUAL(gin.outcome.exit_code, 0);
  // One answer for all 30 test graphs, 3 of each class: accuracy 3 / 30 whatever was learned.
  BOOST_TEST(f.final_metrics(gin.outcome.run_id, "eval").at("accuracy") == 0.1);
  BOOST_TEST(f.final_metrics(gin.outcome.run_id, "data").at("wl_distinct_histograms") == 1);

  const auto spen = f.run("spen.yaml");
  BOOST_REQUIRE_EQUAL(spen.outcome.exit_code, 0);
  const auto train = f.final_metrics(spen.outcome.run_id, "train");
  BOOST_TEST(train.at("layer_entries_per_graph") == 41 * 25);  // 41 ego-networks of 5 nodes
  BOOST_TEST(train.at("dense_entries_per_graph") == 41 * 41);
  // The confusion matrix counts every test graph once.
  flowlab::tracking::Store store(f.db());
  std::string path;
  for (const auto& a : store.artifacts(spen.outcome.run_id))
    if (a.path.find("confusion_matrix.json") != std::string::npos) path = a.path;
  std::ifstream in(path);
  BOOST_REQUIRE(in.good());
  const auto j = nlohmann::json::parse(in);
  int64_t total = 0;
  for (const auto& row : j.at("rows_true_cols_predicted"))
    for (int64_t c : row) total += c;
  BOOST_TEST(total == 30);
  BOOST_TEST(j.at("classes")[0] == "R=2");
}

BOOST_AUTO_TEST_CASE(spen_k2_separates_one_cycle_from_two_which_1wl_cannot) {
  RunFixture f;
  const auto r = f.run("spen.yaml",
                       {"nodes.data.op=dataset.synthetic_graphs", "+nodes.data.params.task=cycles",
                        "+nodes.data.params.graphs_per_class=40", "nodes.train.params.hops=2",
                        "nodes.train.params.epochs=15"});
  BOOST_TEST_MESSAGE(r.err);
  BOOST_REQUIRE_EQUAL(r.outcome.exit_code, 0);
  BOOST_TEST(f.final_metrics(r.outcome.run_id, "eval").at("accuracy") >= 0.9);
}

BOOST_AUTO_TEST_CASE(an_interrupted_training_with_dropout_resumes_to_the_same_metrics) {
  // 9 steps per epoch; stopped once step 15 is logged: the last checkpoint is step 10's.
  const auto r = flowlab::testing::run_whole_and_resumed(
      "spen.yaml", {"nodes.train.params.dropout=0.3", "nodes.train.params.checkpoint_every=10"},
      15);
  BOOST_REQUIRE(r.stopped);
  BOOST_REQUIRE(!r.whole.empty());
  BOOST_TEST((r.resumed == r.whole));
}

BOOST_AUTO_TEST_CASE(users_graph_files_train_with_node_labels_and_bad_ones_name_the_line) {
  RunFixture f;
  const auto dir = source_dir() / "tests/data/graphs";
  const auto r =
      f.run("spen.yaml", {"nodes.data.op=dataset.graph_files", "~nodes.data.params.fold",
                          "+nodes.data.params.path=" + dir.string(), "nodes.train.params.epochs=2",
                          "nodes.train.params.batch_size=2"});
  BOOST_TEST_MESSAGE(r.err);
  BOOST_REQUIRE_EQUAL(r.outcome.exit_code, 0);
  BOOST_TEST(f.final_metrics(r.outcome.run_id, "data").at("classes") == 2);
  BOOST_TEST(f.final_metrics(r.outcome.run_id, "data").at("train_graphs") == 4);
  const auto eval = f.final_metrics(r.outcome.run_id, "eval");
  // Two test graphs, one per class: each class's accuracy is 0 or 1 and the accuracy their mean.
  BOOST_TEST(f.final_metrics(r.outcome.run_id, "data").at("test_graphs") == 2);
  const double a0 = eval.at("class_accuracy.0"), a1 = eval.at("class_accuracy.1");
  BOOST_TEST((a0 == 0.0 || a0 == 1.0));
  BOOST_TEST(eval.at("accuracy") == (a0 + a1) / 2);

  const auto bad =
      f.run("spen.yaml",
            {"nodes.data.op=dataset.graph_files", "~nodes.data.params.fold",
             "+nodes.data.params.path=" + (source_dir() / "tests/data/graphs_bad").string()});
  BOOST_TEST(bad.outcome.exit_code == 1);
  BOOST_TEST(bad.err.find("graphs_bad/train.txt:3:") != std::string::npos, bad.err);
}

BOOST_AUTO_TEST_CASE(a_model_evaluated_on_graphs_with_other_classes_is_a_clear_error) {
  RunFixture f;
  const auto r =
      f.run("spen.yaml", {"+nodes.other={op: dataset.synthetic_graphs, params: "
                          "{graphs_per_class: 10}}",
                          "nodes.eval.inputs.data=other", "nodes.train.params.epochs=1"});
  BOOST_TEST(r.outcome.exit_code == 1);
  BOOST_TEST(r.err.find("the model predicts 10 classes but the dataset has 2") != std::string::npos,
             r.err);
}

BOOST_AUTO_TEST_SUITE_END()
