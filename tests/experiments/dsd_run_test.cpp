// The shipped quick DSD experiment end to end: dataset.dsd and train.dsd for the three models
// record consistent metrics, every model stays at or below the Bayes-optimal accuracy, and the
// spec's seed changes the samples but not the task.
#include <cmath>
#include <map>

#include <boost/test/unit_test.hpp>

#include "tests/support/run_fixture.h"
#include "tracking/store.h"

namespace {

using DsdRunMetrics = std::map<std::string, std::map<std::string, double>>;  // node -> key -> value

DsdRunMetrics dsd_final_metrics(const flowlab::tracking::Store& store, int64_t run_id) {
  DsdRunMetrics m;
  for (const auto& row : store.final_metrics(run_id)) m[row.node][row.key] = row.value;
  return m;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(experiments_dsd)

BOOST_AUTO_TEST_CASE(quick_dsd_run_records_models_against_the_bayes_classifier) {
  flowlab::testing::RunFixture f;
  const std::string spec = (flowlab::testing::source_dir() / "experiments/dsd_quick.yaml").string();
  auto r = f.run(spec);
  BOOST_REQUIRE_EQUAL(r.outcome.exit_code, 0);
  flowlab::tracking::Store store(f.db());
  auto m = dsd_final_metrics(store, r.outcome.run_id);

  auto& data = m["data"];
  BOOST_TEST(data["n_train"] == 256);
  BOOST_TEST(data["n_test"] == 4000);
  const double bayes = data["bayes_accuracy"], expected = data["bayes_accuracy_expected"];
  BOOST_TEST(data["bayes_error"] == 1 - bayes, boost::test_tools::tolerance(1e-12));
  // The test set's Bayes accuracy is a 4,000-sample estimate of the population value.
  BOOST_TEST(std::abs(bayes - expected) <
             4 * std::sqrt(expected * (1 - expected) / 4000 +
                           std::pow(data["bayes_accuracy_expected_se"], 2)));
  BOOST_TEST(expected > 0.85);  // k = 4, sigma = 0.5: 0.864
  BOOST_TEST(expected < 0.88);

  for (const char* node : {"cnn", "lcn", "fcn"}) {
    BOOST_TEST_CONTEXT(node) {
      auto& n = m[node];
      BOOST_TEST(n["bayes_accuracy"] == bayes);
      BOOST_TEST(n["bayes_accuracy_expected"] == expected);
      BOOST_TEST(n["test_error"] == 1 - n["test_accuracy"], boost::test_tools::tolerance(1e-12));
      BOOST_TEST(n["excess_error"] == n["test_error"] - (1 - bayes),
                 boost::test_tools::tolerance(1e-9));
      BOOST_TEST(n["test_accuracy"] > 0.65);          // chance is 0.5
      BOOST_TEST(n["test_accuracy"] < bayes + 0.02);  // no model beats Bayes beyond noise
      BOOST_TEST(n.count("train_time_s") == 1u);
      BOOST_TEST(n.count("alignment") == (std::string(node) == "fcn" ? 0u : 1u));
      // Per-step series: loss and train accuracy every 20 of the 200 steps, the loss falling.
      std::vector<double> loss;
      for (const auto& row : store.metrics(r.outcome.run_id))
        if (row.node == node && row.key == "loss") loss.push_back(row.value);
      BOOST_REQUIRE_EQUAL(loss.size(), 10u);
      BOOST_TEST(loss.back() < loss.front());
    }
  }
  BOOST_TEST(m["cnn"]["test_accuracy"] > m["lcn"]["test_accuracy"]);
  BOOST_TEST(m["lcn"]["test_accuracy"] > m["fcn"]["test_accuracy"]);

  // Another seed: new samples of the same task (w* comes from signal_seed).
  auto other = f.run(spec, {"seed=1"});
  BOOST_REQUIRE_EQUAL(other.outcome.exit_code, 0);
  auto m1 = dsd_final_metrics(store, other.outcome.run_id);
  BOOST_TEST(m1["data"]["bayes_accuracy_expected"] == expected);
  BOOST_TEST(m1["data"]["bayes_accuracy"] != bayes);
}

BOOST_AUTO_TEST_SUITE_END()
