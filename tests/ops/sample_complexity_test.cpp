// analyze.sample_complexity: crossings, slopes and medians by hand, then the op on synthetic
// sweeps whose n* grows exactly like k (one model) and k^2 (another).
#include "ops/analyze/sample_complexity.h"

#include <cmath>
#include <fstream>
#include <iterator>
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
  std::map<std::string, std::filesystem::path> files;  // file name -> path
  void artifact_file(const std::string&, const std::filesystem::path& path, const std::string&) override {
    files[path.filename().string()] = path;
  }
};

// Error curve with a sharp drop: error = 0.5 for n < n_star, 0 after.
double error_at(double n, double n_star) { return n < n_star ? 0.5 : 0.0; }

}  // namespace

BOOST_AUTO_TEST_SUITE(ops_sample_complexity)

BOOST_AUTO_TEST_CASE(settling_point_interpolates_linearly_in_log_n) {
  // gap = error - target: +0.1 at n = 100, -0.1 at n = 400: halfway in log n is n = 200.
  auto c = an::settling_point({{400, 0.1, 0.2}, {100, 0.3, 0.2}, {1600, 0.0, 0.2}});
  BOOST_TEST(c.n_star == 200.0, tt::tolerance(1e-12));
  BOOST_TEST(!c.below_grid);
  BOOST_TEST(!c.above_grid);
  BOOST_TEST(!c.dipped);
  // One quarter of the way: gaps +0.1 and -0.3.
  auto q = an::settling_point({{100, 0.3, 0.2}, {1600, -0.1, 0.2}});
  BOOST_TEST(q.n_star == std::exp(std::log(100.0) + 0.25 * std::log(16.0)), tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(settling_point_ignores_an_early_dip) {
  // Touches the target at n = 8 (a lucky run), back above at 16 and 32, settles between 32 and 64.
  auto c = an::settling_point({{4, 0.3, 0.05}, {8, 0.04, 0.05}, {16, 0.2, 0.05}, {32, 0.15, 0.05},
                               {64, 0.05, 0.05}, {128, 0.01, 0.05}});
  BOOST_TEST(c.dipped);
  BOOST_TEST(c.n_star == 64.0, tt::tolerance(1e-12));  // gap exactly 0 at 64
  // An error exactly at the target counts as reached.
  BOOST_TEST(an::settling_point({{8, 0.05, 0.05}, {16, 0.05, 0.05}}).below_grid);
}

BOOST_AUTO_TEST_CASE(settling_point_reports_when_the_grid_is_too_coarse) {
  auto low = an::settling_point({{64, 0.01, 0.05}, {128, 0.0, 0.05}});
  BOOST_TEST(low.below_grid);
  BOOST_TEST(low.n_star == 64.0);
  auto high = an::settling_point({{64, 0.4, 0.05}, {128, 0.3, 0.05}});
  BOOST_TEST(high.above_grid);
  BOOST_TEST(std::isinf(high.n_star));
  // Reached in the middle but above again at the largest n: not settled on this grid.
  auto relapse = an::settling_point({{64, 0.4, 0.05}, {128, 0.01, 0.05}, {256, 0.06, 0.05}});
  BOOST_TEST(relapse.above_grid);
  BOOST_TEST(relapse.dipped);
}

BOOST_AUTO_TEST_CASE(loglog_slope_quantiles_and_median) {
  BOOST_TEST(*an::loglog_slope({{2, 12}, {4, 48}, {8, 192}}) == 2.0, tt::tolerance(1e-12));  // 3 x^2
  BOOST_TEST(!an::loglog_slope({{2, 12}}).has_value());
  const double inf = std::numeric_limits<double>::infinity();
  // Infinite points are left out of the fit.
  BOOST_TEST(*an::loglog_slope({{2, 12}, {4, 48}, {8, inf}}) == 2.0, tt::tolerance(1e-12));
  BOOST_TEST(*an::median({3, 1, 2}) == 2.0);
  BOOST_TEST(*an::median({4, 1, 2, 3}) == 2.5);
  BOOST_TEST(std::isinf(*an::median({1, inf, inf})));
  BOOST_TEST(!an::median({}).has_value());
  // numpy.quantile([1, 2, 3, 4, 10], [0.25, 0.75]) = [2, 4]; of [1, 2, 3, 4]: [1.75, 3.25].
  BOOST_TEST(*an::quantile({10, 4, 3, 2, 1}, 0.25) == 2.0, tt::tolerance(1e-12));
  BOOST_TEST(*an::quantile({10, 4, 3, 2, 1}, 0.75) == 4.0, tt::tolerance(1e-12));
  BOOST_TEST(*an::quantile({1, 2, 3, 4}, 0.25) == 1.75, tt::tolerance(1e-12));
  BOOST_TEST(*an::quantile({1, 2, 3, 4}, 0.75) == 3.25, tt::tolerance(1e-12));
  // A quantile that interpolates towards +inf is +inf; one below it is finite.
  BOOST_TEST(std::isinf(*an::quantile({1, 2, 3, inf}, 0.75)));
  BOOST_TEST(*an::quantile({1, 2, 3, inf}, 0.5) == 2.5, tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(op_finds_linear_and_quadratic_growth_per_model) {
  flowlab::Registry registry;
  flowlab::ops::analyze::register_sample_complexity(registry);
  const flowlab::OpDef* op = registry.find("analyze.sample_complexity");
  BOOST_REQUIRE(op);
  auto results = std::make_shared<flowlab::SweepResults>();
  int64_t id = 1;
  for (std::string model : {"cnn", "lcn", "fcn"})
    for (int k : {2, 4, 8, 16})
      for (int seed : {0, 1, 2})
        for (int n = 8; n <= 65536; n *= 2) {
          // n* = 10 k (cnn) or 10 k^2 (lcn), times a per-seed factor: the median is seed 1's.
          // fcn: 100 k^3, beyond the grid (65,536) at k = 16.
          double n_star = (model == "cnn" ? 10.0 * k : model == "lcn" ? 10.0 * k * k : 100.0 * k * k * k) *
                          (1.0 + 0.1 * seed);
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
  BOOST_TEST(recorder.metrics.at("children_used") == 3 * 4 * 3 * 14);
  // FCN: never reached at k = 16 (n* = +inf), so no slope is claimed for it.
  BOOST_TEST(std::isinf(recorder.metrics.at("n_star/train.model=fcn,data.k=16,data.d=8")));
  BOOST_TEST(recorder.metrics.count("slope/data.k/train.model=fcn,data.d=8") == 0u);
  // Only one d: no slope against d can be fitted.
  BOOST_TEST(recorder.metrics.count("slope/data.d/train.model=cnn,data.k=2") == 0u);

  // The tables and the figure: n* against k, one line per model with its slope in the legend, the
  // fixed d in the subtitle, the unreached FCN point named; no figure against d (a single d).
  BOOST_REQUIRE(recorder.files.count("n_star.csv"));
  BOOST_REQUIRE(recorder.files.count("slopes.csv"));
  BOOST_REQUIRE(recorder.files.count("n_star_vs_k.svg"));
  BOOST_TEST(recorder.files.count("n_star_vs_d.svg") == 0u);
  std::ifstream in(recorder.files["n_star_vs_k.svg"]);
  std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  BOOST_TEST(svg.rfind("<?xml", 0) == 0);
  BOOST_TEST(svg.find("</svg>") != std::string::npos);
  BOOST_TEST(svg.find("cnn  (slope 1.0") != std::string::npos);
  BOOST_TEST(svg.find("lcn  (slope 2.0") != std::string::npos);
  BOOST_TEST(svg.find("[n* &gt; 65536 at k=16]") != std::string::npos);
  BOOST_TEST(svg.find("data.d=8") != std::string::npos);
  BOOST_TEST(svg.find("over 3 seeds") != std::string::npos);
  // One CSV row per curve, with every seed's n*.
  std::ifstream csv(recorder.files["n_star.csv"]);
  std::string line;
  int rows = 0;
  std::getline(csv, line);
  BOOST_TEST(line.find("n_star_q25") != std::string::npos);
  std::vector<std::string> ks;
  while (std::getline(csv, line)) {
    ++rows;
    if (line.rfind("cnn,", 0) == 0) ks.push_back(line.substr(4, line.find(',', 4) - 4));
  }
  BOOST_TEST(rows == 3 * 4);
  BOOST_TEST(ks == (std::vector<std::string>{"2", "4", "8", "16"}), tt::per_element());  // numeric order
  std::ifstream slopes(recorder.files["slopes.csv"]);
  std::string all((std::istreambuf_iterator<char>(slopes)), std::istreambuf_iterator<char>());
  BOOST_TEST(all.find("data.k,\"train.model=fcn,data.d=8\",4,3,not reached everywhere") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
