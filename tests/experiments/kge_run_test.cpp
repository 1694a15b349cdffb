// Knowledge-graph embedding end to end: a small WordNet graph trains far above the exact
// random-scoring floor, an interrupted training resumes to exactly the metrics of a run left
// alone, and bad input (a malformed triple file, a model evaluated on another graph) fails with
// a message naming what is wrong.
#include <filesystem>
#include <map>

#include <boost/test/unit_test.hpp>

#include "tests/support/resume_check.h"
#include "tests/support/run_fixture.h"
#include "tracking/store.h"

namespace fs = std::filesystem;
using flowlab::testing::RunFixture;
using flowlab::testing::source_dir;

namespace {

bool has_wordnet() { return fs::exists("/usr/share/wordnet/data.noun"); }

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
  const auto graph = f.final_metrics(r.outcome.run_id, "graph");
  BOOST_TEST(graph.at("entities") <= 1000);
  BOOST_TEST(graph.at("test_triples") > 20);
  const auto eval = f.final_metrics(r.outcome.run_id, "eval");
  BOOST_TEST(eval.at("random_mrr") < 0.02);
  BOOST_TEST(eval.at("mrr") > 5 * eval.at("random_mrr"),
             "mrr " << eval.at("mrr") << " random " << eval.at("random_mrr"));
  BOOST_TEST(eval.count("mrr/_hypernym") == 1u);
  BOOST_TEST(eval.count("involution/_hypernym") == 1u);
  const auto train = f.final_metrics(r.outcome.run_id, "train");
  BOOST_TEST(train.at("best_epoch") >= 1);
  BOOST_TEST(train.at("best_val_mrr") > 5 * eval.at("random_mrr"));
}

BOOST_AUTO_TEST_CASE(an_interrupted_training_resumes_to_the_same_metrics) {
  // Stopped once step 250 is logged (within epoch 10 of 30): the last checkpoint is step 200's.
  const auto r = flowlab::testing::run_whole_and_resumed("kge.yaml", {}, 250);
  BOOST_REQUIRE(r.stopped);
  BOOST_REQUIRE(!r.whole.empty());
  BOOST_TEST((r.resumed == r.whole));
}

BOOST_AUTO_TEST_CASE(distmult_scores_every_relation_symmetrically_and_nfe_does_not) {
  // DistMult's <h * r, t> is symmetric in h and t by construction, whatever it learned; NFE-1's
  // random initial flows (scales near 0) are not.
  RunFixture f;
  const auto d =
      f.run("kge.yaml", {"nodes.train.params.model=distmult", "nodes.train.params.epochs=1"});
  BOOST_REQUIRE_EQUAL(d.outcome.exit_code, 0);
  const auto eval = f.final_metrics(d.outcome.run_id, "eval");
  BOOST_TEST(std::abs(eval.at("symmetry/_hypernym") - 1) < 1e-6);
  BOOST_TEST(eval.count("involution/_hypernym") == 0u);  // no relation flows
  const auto n = f.run("kge.yaml", {"nodes.train.params.epochs=1"});
  BOOST_REQUIRE_EQUAL(n.outcome.exit_code, 0);
  BOOST_TEST(f.final_metrics(n.outcome.run_id, "eval").at("symmetry/_hypernym") < 0.9);
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
  const auto graph = f.final_metrics(r.outcome.run_id, "graph");
  BOOST_TEST(graph.at("entities") == 4);
  BOOST_TEST(graph.at("relations") == 2);
  BOOST_TEST(graph.at("heldout_triples_with_unseen_entities") == 1);
  BOOST_TEST(f.final_metrics(r.outcome.run_id, "eval").at("queries") ==
             2);  // one triple, both ways
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
