// analyze.sample_complexity: crossings, slopes and medians by hand, then the op on synthetic
// sweeps whose n* grows exactly like k (one model) and k^2 (another).
#include "ops/analyze/sample_complexity.h"

#include <cmath>
#include <limits>

#include <boost/test/unit_test.hpp>

#include "graph/sweep_results.h"
#include "ops/register.h"
#include "tests/support/temp_dir.h"

namespace an = flowlab::ops::analyze;
namespace tt = boost::test_tools;

namespace {

struct Recorder : flowlab::RunObserver {
  std::map<std::string, double> metrics;
  void metric(const std::string&, const std::string& key, int64_t, double value) override { metrics[key] = value; }
  void progress(const std::string&, double, const std::string&) override {}
  void artifact_file(const std::string&, const std::filesystem::path&, const std::string&) override {}
};

// Error curve with a sharp drop: error = 0.5 for n < n_star, 0 after.
double error_at(double n, double n_star) { return n < n_star ? 0.5 : 0.0; }

}  // namespace

BOOST_AUTO_TEST_SUITE(ops_sample_complexity)

BOOST_AUTO_TEST_CASE(crossing_interpolates_linearly_in_log_n) {
  // gap = error - target: +0.1 at n = 100, -0.1 at n = 400: halfway in log n is n = 200.
  auto c = an::first_crossing({{400, 0.1, 0.2}, {100, 0.3, 0.2}, {1600, 0.0, 0.2}});
  BOOST_TEST(c.n_star == 200.0, tt::tolerance(1e-12));
  BOOST_TEST(!c.below_grid);
  BOOST_TEST(!c.above_grid);
  // One quarter of the way: gaps +0.1 and -0.3.
  auto q = an::first_crossing({{100, 0.3, 0.2}, {1600, -0.1, 0.2}});
  BOOST_TEST(q.n_star == std::exp(std::log(100.0) + 0.25 * std::log(16.0)), tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(crossing_reports_when_the_grid_is_too_coarse) {
  auto low = an::first_crossing({{64, 0.01, 0.05}, {128, 0.0, 0.05}});
  BOOST_TEST(low.below_grid);
  BOOST_TEST(low.n_star == 64.0);
  auto high = an::first_crossing({{64, 0.4, 0.05}, {128, 0.3, 0.05}});
  BOOST_TEST(high.above_grid);
  BOOST_TEST(std::isinf(high.n_star));
}

BOOST_AUTO_TEST_CASE(loglog_slope_and_median) {
  BOOST_TEST(*an::loglog_slope({{2, 12}, {4, 48}, {8, 192}}) == 2.0, tt::tolerance(1e-12));  // 3 x^2
  BOOST_TEST(!an::loglog_slope({{2, 12}}).has_value());
  BOOST_TEST(*an::median({3, 1, 2}) == 2.0);
  BOOST_TEST(*an::median({4, 1, 2, 3}) == 2.5);
  const double inf = std::numeric_limits<double>::infinity();
  BOOST_TEST(std::isinf(*an::median({1, inf, inf})));
}

BOOST_AUTO_TEST_CASE(op_finds_linear_and_quadratic_growth_per_model) {
  flowlab::Registry registry;
  flowlab::ops::analyze::register_sample_complexity(registry);
  const flowlab::OpDef* op = registry.find("analyze.sample_complexity");
  BOOST_REQUIRE(op);
  auto results = std::make_shared<flowlab::SweepResults>();
  int64_t id = 1;
  for (std::string model : {"cnn", "lcn"})
    for (int k : {2, 4, 8, 16})
      for (int seed : {0, 1, 2})
        for (int n = 8; n <= 65536; n *= 2) {
          // n* = 10 k (cnn) or 10 k^2 (lcn), times a per-seed factor: the median is seed 1's.
          double n_star = (model == "cnn" ? 10.0 * k : 10.0 * k * k) * (1.0 + 0.1 * seed);
          flowlab::ChildResult c;
          c.run_id = id++;
          c.status = "FINISHED";
          c.params = {{"train.model", model}, {"data.k", std::to_string(k)}, {"data.d", "8"},
                      {"seed", std::to_string(seed)}, {"data.n_train", std::to_string(n)}};
          c.metrics["train.excess_error"] = error_at(n, n_star);
          results->children.push_back(c);
        }
  std::map<std::string, flowlab::ParamValue> values;
  for (const auto& spec : op->params) values[spec.name] = *spec.default_value;
  flowlab::Params params(values);
  Recorder recorder;
  std::atomic<bool> stop{false};
  flowlab::testing::TempDir dir;
  flowlab::OpContext ctx("analysis", params, {{"runs", results}}, 1, dir.path(), recorder, stop);
  op->run(ctx);
  // Slopes: the drop is sharp, so n* lands on the first grid point past the true n*; on a
  // doubling grid the slope is still exactly 1 and 2 whenever 10k(1.1) rounds up consistently.
  BOOST_TEST(recorder.metrics.at("slope/data.k/train.model=cnn,data.d=8") == 1.0, tt::tolerance(0.15));
  BOOST_TEST(recorder.metrics.at("slope/data.k/train.model=lcn,data.d=8") == 2.0, tt::tolerance(0.1));
  // The LCN needs more samples than the CNN at every k.
  for (int k : {2, 4, 8, 16}) {
    std::string tail = ",data.k=" + std::to_string(k) + ",data.d=8";
    BOOST_TEST(recorder.metrics.at("n_star/train.model=lcn" + tail) >
               recorder.metrics.at("n_star/train.model=cnn" + tail));
  }
  BOOST_TEST(recorder.metrics.at("children_used") == 2 * 4 * 3 * 14);
  // Only one d: no slope against d can be fitted.
  BOOST_TEST(recorder.metrics.count("slope/data.d/train.model=cnn,data.k=2") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
