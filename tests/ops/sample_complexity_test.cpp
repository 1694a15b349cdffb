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
#include "plot/svg_png.h"
#include "tests/support/temp_dir.h"

namespace an = flowlab::ops::analyze;
namespace tt = boost::test_tools;

namespace {

struct Recorder : flowlab::RunObserver {
  std::map<std::string, double> metrics;
  void metric(const std::string&, const std::string& key, int64_t, double value) override {
    metrics[key] = value;
  }
  void progress(const std::string&, double, const std::string&) override {}
  std::map<std::string, std::filesystem::path> files;  // file name -> path
  void artifact_file(const std::string&, const std::filesystem::path& path,
                     const std::string&) override {
    files[path.filename().string()] = path;
  }
};

// analyze.sample_complexity with its default params on `results`, in a directory of its own that
// lives as long as this object (the recorded files point into it).
struct AnalysisRun {
  flowlab::testing::TempDir dir;
  Recorder recorder;
  void run(std::shared_ptr<flowlab::SweepResults> results) {
    flowlab::Registry registry;
    flowlab::ops::analyze::register_sample_complexity(registry);
    const flowlab::OpDef* op = registry.find("analyze.sample_complexity");
    BOOST_REQUIRE(op);
    std::map<std::string, flowlab::ParamValue> values;
    for (const auto& spec : op->params) values[spec.name] = *spec.default_value;
    flowlab::Params params(values);
    std::atomic<bool> stop{false};
    flowlab::OpContext ctx("analysis", params, {{"runs", results}}, 1, dir.path(), recorder, stop);
    op->run(ctx);
  }
};

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
  auto c = an::settling_point({{4, 0.3, 0.05},
                               {8, 0.04, 0.05},
                               {16, 0.2, 0.05},
                               {32, 0.15, 0.05},
                               {64, 0.05, 0.05},
                               {128, 0.01, 0.05}});
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
  BOOST_TEST(*an::loglog_slope({{2, 12}, {4, 48}, {8, 192}}) == 2.0,
             tt::tolerance(1e-12));  // 3 x^2
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

BOOST_AUTO_TEST_CASE(settling_point_with_a_missing_value_takes_the_next_grid_point) {
  const double inf = std::numeric_limits<double>::infinity();
  // The run at n = 128 failed: the curve cannot be said to settle before n = 256.
  auto c =
      an::settling_point({{64, 0.2, 0.05}, {128, inf, 0.05}, {256, 0.01, 0.05}, {512, 0.0, 0.05}});
  BOOST_TEST(c.n_star == 256.0);
  auto nan = an::settling_point({{64, 0.01, 0.05}, {128, NAN, 0.05}, {256, 0.01, 0.05}});
  BOOST_TEST(nan.n_star == 256.0);
  BOOST_TEST(nan.dipped);
}

BOOST_AUTO_TEST_CASE(op_recovers_known_n_star_medians_spreads_and_slopes) {
  auto results = std::make_shared<flowlab::SweepResults>();
  int64_t id = 1;
  const double target = 0.05;
  // True n*: 10 k (cnn), 10 k^2 (lcn), 100 k^3 (fcn; beyond the grid's 65,536 at k = 16), times
  // 1.0 / 1.1 / 1.2 for seeds 0 / 1 / 2. The error is target (1 + ln(n*/n)): its gap to the
  // target is linear in log n, so the op's log-n interpolation must recover n* exactly.
  auto true_n_star = [](const std::string& model, int k, int seed) {
    const double base = model == "cnn"   ? 10.0 * k
                        : model == "lcn" ? 10.0 * k * k
                                         : 100.0 * k * k * k;
    return base * (1.0 + 0.1 * seed);
  };
  for (std::string model : {"cnn", "lcn", "fcn"})
    for (int k : {2, 4, 8, 16})
      for (int seed : {0, 1, 2})
        for (int n = 8; n <= 65536; n *= 2) {
          flowlab::ChildResult c;
          c.run_id = id++;
          c.status = "FINISHED";
          c.params = {{"train.model", model},
                      {"data.k", std::to_string(k)},
                      {"data.d", "8"},
                      {"seed", std::to_string(seed)},
                      {"data.n_train", std::to_string(n)}};
          c.metrics["train.excess_error"] =
              target * (1 + std::log(true_n_star(model, k, seed) / n));
          // A lucky early dip (cnn, k = 4, seed 0 at n = 8) must not count ...
          if (model == "cnn" && k == 4 && seed == 0 && n == 8)
            c.metrics["train.excess_error"] = 0.0;
          // ... and a failed run (lcn, k = 16, seed 2 at n = 4096, past its n* = 3072) must not
          // let that seed settle before the next grid point.
          if (model == "lcn" && k == 16 && seed == 2 && n == 4096) c.status = "FAILED";
          results->children.push_back(c);
        }
  AnalysisRun analysis;
  analysis.run(results);
  Recorder& recorder = analysis.recorder;
  auto metric = [&](const std::string& key) {
    BOOST_REQUIRE_MESSAGE(recorder.metrics.count(key), key);
    return recorder.metrics.at(key);
  };

  for (std::string model : {"cnn", "lcn"})
    for (int k : {2, 4, 8, 16}) {
      const std::string curve =
          "train.model=" + model + ",data.k=" + std::to_string(k) + ",data.d=8";
      BOOST_TEST_CONTEXT(curve) {
        BOOST_TEST(metric("n_star/" + curve) == true_n_star(model, k, 1),
                   tt::tolerance(1e-9));  // seed 1's
        BOOST_TEST(metric("n_star_min/" + curve) == true_n_star(model, k, 0), tt::tolerance(1e-9));
        const bool failed_point = model == "lcn" && k == 16;
        BOOST_TEST(
            metric("n_star_max/" + curve) == (failed_point ? 8192.0 : true_n_star(model, k, 2)),
            tt::tolerance(1e-9));
      }
    }
  BOOST_TEST(metric("slope/data.k/train.model=cnn,data.d=8") == 1.0, tt::tolerance(1e-9));
  BOOST_TEST(metric("slope/data.k/train.model=lcn,data.d=8") == 2.0, tt::tolerance(1e-9));
  // FCN: never reached at k = 16 (n* = +inf), so no slope is claimed for it.
  BOOST_TEST(std::isinf(metric("n_star/train.model=fcn,data.k=16,data.d=8")));
  BOOST_TEST(recorder.metrics.count("slope/data.k/train.model=fcn,data.d=8") == 0u);
  BOOST_TEST(metric("children_used") == 3 * 4 * 3 * 14 - 1);
  BOOST_TEST(metric("children_dropped") == 1);
  // Only one d: no slope against d can be fitted.
  BOOST_TEST(recorder.metrics.count("slope/data.d/train.model=cnn,data.k=2") == 0u);

  // The tables and the figure: n* against k, one line per model with its slope in the legend, the
  // fixed d in the subtitle, the unreached FCN point named; no figure against d (a single d).
  BOOST_REQUIRE(recorder.files.count("n_star.csv"));
  BOOST_REQUIRE(recorder.files.count("slopes.csv"));
  BOOST_REQUIRE(recorder.files.count("n_star_vs_k.svg"));
  BOOST_TEST(recorder.files.count("n_star_vs_d.svg") == 0u);
  BOOST_TEST(recorder.files.count("n_star_vs_k.png") == (flowlab::plot::png_supported() ? 1u : 0u));
  if (flowlab::plot::png_supported()) {  // a real PNG: its signature and a non-trivial size
    std::ifstream png(recorder.files["n_star_vs_k.png"], std::ios::binary);
    std::string head(8, '\0');
    png.read(head.data(), 8);
    BOOST_TEST(head == std::string("\x89PNG\r\n\x1a\n", 8));
    BOOST_TEST(std::filesystem::file_size(recorder.files["n_star_vs_k.png"]) > 10000u);
  }
  std::ifstream in(recorder.files["n_star_vs_k.svg"]);
  std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  BOOST_TEST(svg.rfind("<?xml", 0) == 0);
  BOOST_TEST(svg.find("</svg>") != std::string::npos);
  BOOST_TEST(svg.find("cnn  (slope 1.00)") != std::string::npos);
  BOOST_TEST(svg.find("lcn  (slope 2.00)") != std::string::npos);
  BOOST_TEST(svg.find("fcn  [n* &gt; 65536 at k=16]") != std::string::npos);
  BOOST_TEST(svg.find("data.d=8") != std::string::npos);
  BOOST_TEST(svg.find("over 3 seeds") != std::string::npos);

  // One CSV row per curve in numeric order of k, with quartiles and every seed's n*.
  std::ifstream csv(recorder.files["n_star.csv"]);
  std::string header, line;
  std::getline(csv, header);
  BOOST_TEST(
      header ==
      "train.model,data.k,data.d,seeds,n_star_median,n_star_q25,n_star_q75,n_star_min,"
      "n_star_max,settled_below_grid,not_reached,dipped_earlier,children_dropped,n_star_per_seed");
  std::map<std::string, std::string> rows;  // "model,k" -> row
  std::vector<std::string> cnn_ks;
  while (std::getline(csv, line)) {
    const size_t second_comma = line.find(',', line.find(',') + 1);
    rows[line.substr(0, second_comma)] = line;
    if (line.rfind("cnn,", 0) == 0) cnn_ks.push_back(line.substr(4, second_comma - 4));
  }
  BOOST_TEST(rows.size() == 3u * 4);
  BOOST_TEST(cnn_ks == (std::vector<std::string>{"2", "4", "8", "16"}), tt::per_element());
  // cnn k = 4: n* 40 / 44 / 48; numpy's quartiles of three values are 42 and 46; the dip counted.
  BOOST_TEST(rows["cnn,4"] == "cnn,4,8,3,44,42,46,40,48,0,0,1,0,0:40 1:44 2:48");
  BOOST_TEST(rows["lcn,16"].find(",0,0,0,1,0:2560 1:2816 2:8192") != std::string::npos,
             rows["lcn,16"]);
  std::ifstream slopes(recorder.files["slopes.csv"]);
  std::string all((std::istreambuf_iterator<char>(slopes)), std::istreambuf_iterator<char>());
  BOOST_TEST(all.find("data.k,\"train.model=fcn,data.d=8\",4,3,censored") != std::string::npos,
             all);
}

BOOST_AUTO_TEST_CASE(settling_point_at_interpolation_weight_one_is_the_next_grid_point) {
  // n* = exp((1 - w) ln n_a + w ln n_b) with w = gap_a / (gap_a - gap_b). When the point after the
  // last one above the target is exactly at the target (gap_b = 0), w = 1 and n* is n_b itself,
  // whatever gap_a is; the points after it do not move it.
  for (double gap_a : {1e-9, 0.01, 0.3, 1e6}) {
    BOOST_TEST_CONTEXT("gap_a " << gap_a) {
      auto c =
          an::settling_point({{100, 0.05 + gap_a, 0.05}, {1000, 0.05, 0.05}, {10000, 0.0, 0.05}});
      BOOST_TEST(c.n_star == 1000.0, tt::tolerance(1e-12));
      BOOST_TEST(!c.below_grid);
      BOOST_TEST(!c.above_grid);
      BOOST_TEST(!c.dipped);
    }
  }
  // ... and with w < 1 n* lies strictly between: gaps +0.2 and -0.2 (w = 1/2) give sqrt(100 *
  // 1000), not 1000.
  auto half = an::settling_point({{100, 0.25, 0.05}, {1000, -0.15, 0.05}});
  BOOST_TEST(half.n_star == std::sqrt(100.0 * 1000.0), tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(an_error_exactly_at_the_target_reaches_it_one_just_above_does_not) {
  const double target = 0.05;
  const double above = std::nextafter(target, 1.0);  // the next double above the target
  const double below = std::nextafter(target, 0.0);
  // A dip exactly to the target, then above again: the dip counts as touching the target.
  auto at = an::settling_point(
      {{4, 0.3, target}, {8, target, target}, {16, 0.2, target}, {32, 0.0, target}});
  BOOST_TEST(at.dipped);
  auto just_below = an::settling_point(
      {{4, 0.3, target}, {8, below, target}, {16, 0.2, target}, {32, 0.0, target}});
  BOOST_TEST(just_below.dipped);
  auto just_above = an::settling_point(
      {{4, 0.3, target}, {8, above, target}, {16, 0.2, target}, {32, 0.0, target}});
  BOOST_TEST(!just_above.dipped);
  // The largest grid point exactly at the target: the curve has settled there, not above the grid.
  auto last_at = an::settling_point({{64, 0.4, target}, {128, target, target}});
  BOOST_TEST(!last_at.above_grid);
  BOOST_TEST(last_at.n_star == 128.0, tt::tolerance(1e-12));
  auto last_just_above = an::settling_point({{64, 0.4, target}, {128, above, target}});
  BOOST_TEST(last_just_above.above_grid);
  BOOST_TEST(std::isinf(last_just_above.n_star));
  // At the target over the whole grid (equality only): settled below the grid.
  auto all_at = an::settling_point({{64, target, target}, {128, target, target}});
  BOOST_TEST(all_at.below_grid);
  BOOST_TEST(all_at.n_star == 64.0);
  BOOST_TEST(!an::settling_point({{64, above, target}, {128, target, target}}).below_grid);
}

BOOST_AUTO_TEST_CASE(op_censors_curves_at_target_from_the_smallest_n) {
  // Model "easy" is at the target from the smallest n (8) on for every k and seed: its n* is only
  // an upper bound (<= 8). The op must say so (settled_below_grid, a censored slope, a note in
  // the figure) rather than report n* = 8 as if measured, and fit no slope through it.
  // Model "hard" has an exact n* = 10 k^2 (error target (1 + ln(n*/n)), as above).
  auto results = std::make_shared<flowlab::SweepResults>();
  int64_t id = 1;
  const double target = 0.05;
  for (std::string model : {"easy", "hard"})
    for (int k : {2, 4, 8})
      for (int seed : {0, 1, 2})
        for (int n = 8; n <= 4096; n *= 2) {
          flowlab::ChildResult c;
          c.run_id = id++;
          c.status = "FINISHED";
          c.params = {{"train.model", model},
                      {"data.k", std::to_string(k)},
                      {"data.d", "8"},
                      {"seed", std::to_string(seed)},
                      {"data.n_train", std::to_string(n)}};
          c.metrics["train.excess_error"] =
              model == "easy" ? (seed == 0 ? target : 0.01)  // seed 0 exactly at the target
                              : target * (1 + std::log(10.0 * k * k / n));
          results->children.push_back(c);
        }
  AnalysisRun analysis;
  analysis.run(results);
  Recorder& recorder = analysis.recorder;
  BOOST_TEST(recorder.metrics.at("n_star/train.model=easy,data.k=4,data.d=8") == 8.0);
  BOOST_TEST(recorder.metrics.at("n_star/train.model=hard,data.k=4,data.d=8") == 160.0,
             tt::tolerance(1e-9));
  BOOST_TEST(recorder.metrics.count("slope/data.k/train.model=easy,data.d=8") == 0u);
  BOOST_TEST(recorder.metrics.at("slope/data.k/train.model=hard,data.d=8") == 2.0,
             tt::tolerance(1e-9));

  std::ifstream csv(recorder.files["n_star.csv"]);
  std::string header, line;
  std::getline(csv, header);
  std::map<std::string, std::string> rows;  // "model,k" -> row
  while (std::getline(csv, line)) rows[line.substr(0, line.find(',', line.find(',') + 1))] = line;
  // All three seeds settled below the grid; none unreached, none dipped.
  BOOST_TEST(rows["easy,4"] == "easy,4,8,3,8,8,8,8,8,3,0,0,0,0:8 1:8 2:8");
  BOOST_TEST(rows["hard,4"] == "hard,4,8,3,160,160,160,160,160,0,0,0,0,0:160 1:160 2:160");

  std::ifstream slopes(recorder.files["slopes.csv"]);
  std::string all((std::istreambuf_iterator<char>(slopes)), std::istreambuf_iterator<char>());
  BOOST_TEST(all.find("data.k,\"train.model=easy,data.d=8\",3,0,censored") != std::string::npos,
             all);
  BOOST_TEST(all.find("data.k,\"train.model=hard,data.d=8\",3,3,2") != std::string::npos, all);

  BOOST_REQUIRE(recorder.files.count("n_star_vs_k.svg"));
  std::ifstream in(recorder.files["n_star_vs_k.svg"]);
  std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  BOOST_TEST(svg.find("easy  [n* &lt;= smallest n at k=2,4,8]") != std::string::npos);
  BOOST_TEST(svg.find("hard  (slope 2.00)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(op_refuses_two_runs_at_the_same_point) {
  // Without a seed param the repeats cannot be told apart: an error, not a silent mix.
  auto results = std::make_shared<flowlab::SweepResults>();
  for (int64_t id : {7, 9}) {
    flowlab::ChildResult c;
    c.run_id = id;
    c.status = "FINISHED";
    c.params = {{"train.model", "cnn"}, {"data.k", "2"}, {"data.d", "8"}, {"data.n_train", "64"}};
    c.metrics["train.excess_error"] = 0.01;
    results->children.push_back(c);
  }
  try {
    AnalysisRun().run(results);
    BOOST_FAIL("expected an error");
  } catch (const std::exception& e) {
    const std::string what = e.what();
    BOOST_TEST(what.find("runs 7 and 9 are the same point") != std::string::npos, what);
    BOOST_TEST(what.find("seed=") != std::string::npos, what);
  }
}

BOOST_AUTO_TEST_SUITE_END()
