// The mechanism layer shared by the privacy ops and fl.federated, against mathematics: the
// aggregate decoder equals the mean of per-client decodes; the exact decode variance against
// closed forms (stochastic rounding for RQM with q = 1, c^2 p(1 - p) / (m theta^2) for PBM) and
// against Monte Carlo (4 standard errors); calibration spends the target; and the two ops run
// on defaults and agree with the accountant and with their own exact MSE.
#include <atomic>
#include <cmath>
#include <fstream>
#include <map>
#include <random>

#include <boost/test/unit_test.hpp>

#include "common/error.h"
#include "graph/op.h"
#include "ops/metrics_table.h"
#include "ops/privacy/mechanism.h"
#include "ops/privacy/privacy_ops.h"
#include "tests/support/temp_dir.h"

namespace pv = flowlab::ops::privacy;
namespace tt = boost::test_tools;
using flowlab::RunError;

namespace {

pv::MechanismSpec rqm(int levels, double keep, double margin, double clip = 1.0) {
  pv::MechanismSpec m;
  m.name = "rqm";
  m.clip = clip;
  m.rqm = {clip, margin, levels, keep};
  return m;
}

pv::MechanismSpec pbm(int trials, double theta, double clip = 1.0) {
  pv::MechanismSpec m;
  m.name = "pbm";
  m.clip = clip;
  m.pbm = {clip, theta, trials};
  return m;
}

pv::MechanismSpec gaussian(double sigma, double clip = 1.0) {
  pv::MechanismSpec m;
  m.name = "gaussian";
  m.clip = clip;
  m.sigma = sigma;
  return m;
}

// One client's decoded value: the aggregate decoder with one client.
double decode_one(const pv::MechanismSpec& m, double message) {
  double out = 0;
  pv::decode_mean(m, &message, 1, 1, &out);
  return out;
}

struct Recorder : flowlab::RunObserver {
  std::map<std::string, double> metrics;
  std::map<std::string, std::filesystem::path> files;
  void metric(const std::string&, const std::string& key, int64_t, double value) override {
    metrics[key] = value;
  }
  void progress(const std::string&, double, const std::string&) override {}
  void artifact_file(const std::string&, const std::filesystem::path& path,
                     const std::string&) override {
    files[path.filename().string()] = path;
  }
};

// Runs a registered privacy op on its defaults plus `overrides` (the chosen mechanism's params
// included, as validation would add them).
std::map<std::string, double> run_op(const std::string& name,
                                     std::map<std::string, flowlab::ParamValue> overrides,
                                     Recorder& recorder, const std::filesystem::path& dir) {
  flowlab::Registry registry;
  registry.add_type({flowlab::ops::MetricsTable::kType, "numbers",
                     flowlab::loader(&flowlab::ops::MetricsTable::load)});
  pv::register_privacy(registry);
  registry.check();
  const flowlab::OpDef* op = registry.find(name);
  BOOST_REQUIRE(op);
  std::map<std::string, flowlab::ParamValue> values;
  for (const auto& spec : op->params) values[spec.name] = *spec.default_value;
  const auto* group = registry.find_group("mechanism");
  BOOST_REQUIRE(group);
  std::string chosen = std::get<std::string>(values.at("mechanism"));
  if (overrides.count("mechanism")) chosen = std::get<std::string>(overrides.at("mechanism"));
  for (const auto& spec : group->find(chosen)->params) values[spec.name] = *spec.default_value;
  for (auto& [k, v] : overrides) values[k] = v;
  flowlab::Params params(values);
  std::atomic<bool> stop{false};
  flowlab::OpContext ctx("node", params, {}, 1, dir, recorder, stop);
  op->run(ctx);
  return recorder.metrics;
}

flowlab::ParamValue text(const char* s) { return std::string(s); }
flowlab::ParamValue number(double v) { return v; }
flowlab::ParamValue integer(int64_t v) { return v; }

}  // namespace

BOOST_AUTO_TEST_SUITE(privacy_mechanism)

BOOST_AUTO_TEST_CASE(the_aggregate_decoder_equals_the_mean_of_per_client_decodes) {
  for (const auto& m : {rqm(16, 0.5, 0.7), rqm(2, 0.0, 1.5), pbm(15, 0.2), gaussian(0.8)}) {
    std::mt19937_64 rng(7);
    const int clients = 13, d = 5;
    std::vector<float> x(d);
    std::vector<double> message(d), sum(d, 0.0), per_client_mean(d, 0.0), aggregate(d);
    for (int i = 0; i < clients; ++i) {
      for (int j = 0; j < d; ++j) x[j] = static_cast<float>(-1.2 + 0.2 * i + 0.1 * j);
      pv::encode(m, x.data(), d, rng, message.data());
      for (int j = 0; j < d; ++j) {
        sum[j] += message[j];
        per_client_mean[j] += decode_one(m, message[j]) / clients;
      }
    }
    pv::decode_mean(m, sum.data(), d, clients, aggregate.data());
    for (int j = 0; j < d; ++j)
      BOOST_TEST(aggregate[j] == per_client_mean[j], tt::tolerance(1e-12));
  }
}

BOOST_AUTO_TEST_CASE(rqm_keeping_every_level_has_the_variance_of_stochastic_rounding) {
  // q = 1: the neighbours a < x < b on the full grid, Var = (x - a)(b - x).
  const auto m = rqm(9, 1.0, 0.6);
  const double extent = 1.6, step = 2 * extent / 8;
  for (double x : {-1.0, -0.77, -0.2, 0.0, 0.31, 0.9, 1.0}) {
    const double a = -extent + std::floor((x + extent) / step) * step, b = a + step;
    BOOST_TEST(pv::decode_variance(m, x) == (x - a) * (b - x), tt::tolerance(1e-9));
  }
}

BOOST_AUTO_TEST_CASE(pbm_decode_variance_is_the_binomial_closed_form) {
  const auto m = pbm(15, 0.3, 2.0);
  for (double x : {-2.0, -0.5, 0.0, 1.3, 2.0, 5.0}) {
    const double xc = std::clamp(x, -2.0, 2.0), p = 0.5 + 0.3 * xc / 2.0;
    BOOST_TEST(pv::decode_variance(m, x) == 4.0 * p * (1 - p) / (15 * 0.09), tt::tolerance(1e-9));
  }
}

BOOST_AUTO_TEST_CASE(monte_carlo_squared_error_matches_the_exact_variance) {
  // The mechanisms are unbiased, so E[(decode - x)^2] is the exact variance; the sample mean of
  // the squared errors is within 4 of its standard errors.
  for (const auto& m : {rqm(16, 0.3, 0.5), pbm(7, 0.25), gaussian(0.4)}) {
    for (double x : {-1.0, 0.23, 0.8}) {
      std::mt19937_64 rng(11);
      const float xf = static_cast<float>(x);
      const int draws = 40000;
      double s = 0, s2 = 0;
      for (int k = 0; k < draws; ++k) {
        double message;
        pv::encode(m, &xf, 1, rng, &message);
        const double e = decode_one(m, message) - double(xf);
        s += e * e;
        s2 += e * e * e * e;
      }
      const double mean = s / draws, se = std::sqrt((s2 / draws - mean * mean) / draws);
      const double exact = pv::decode_variance(m, xf);
      BOOST_TEST_INFO(m.name << " x=" << x << " mean " << mean << " exact " << exact);
      BOOST_TEST(std::abs(mean - exact) <= 4 * se);
    }
  }
}

BOOST_AUTO_TEST_CASE(standard_normal_has_mean_zero_and_variance_one) {
  std::mt19937_64 rng(3);
  const int n = 100000;
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double z = pv::standard_normal(rng);
    s += z;
    s2 += z * z;
  }
  BOOST_TEST(std::abs(s / n) <= 4 / std::sqrt(double(n)));
  BOOST_TEST(std::abs(s2 / n - 1) <= 4 * std::sqrt(2.0 / n));
}

BOOST_AUTO_TEST_CASE(bits_per_coordinate_are_the_message_widths) {
  BOOST_TEST(pv::bits_per_coordinate(rqm(2, 0.5, 1)) == 1);
  BOOST_TEST(pv::bits_per_coordinate(rqm(16, 0.5, 1)) == 4);
  BOOST_TEST(pv::bits_per_coordinate(rqm(17, 0.5, 1)) == 5);
  BOOST_TEST(pv::bits_per_coordinate(pbm(15, 0.2)) == 4);
  BOOST_TEST(pv::bits_per_coordinate(pbm(16, 0.2)) == 5);
  BOOST_TEST(pv::bits_per_coordinate(gaussian(1)) == 32);
}

BOOST_AUTO_TEST_CASE(calibration_spends_the_target_and_none_cannot_be_calibrated) {
  pv::LocalAccounting run;
  run.coordinates = 100;
  run.rounds = 3;
  for (const auto& m : {rqm(16, 0.5, 1.0), pbm(15, 0.25), gaussian(1.0)}) {
    const auto calibrated = pv::calibrate(m, 4.0, run);
    const double eps = pv::epsilon_of(calibrated, run).epsilon;
    BOOST_TEST_INFO(m.name);
    BOOST_TEST(eps <= 4.0);
    BOOST_TEST(eps >= 4.0 - 1e-5);
  }
  pv::MechanismSpec none;
  none.name = "none";
  BOOST_CHECK_THROW(pv::calibrate(none, 1.0, run), RunError);
  BOOST_TEST(std::isinf(pv::epsilon_of(none, run).epsilon));
}

BOOST_AUTO_TEST_CASE(a_run_spends_its_per_coordinate_curve_composed_over_every_use) {
  pv::LocalAccounting run;
  run.coordinates = 50;
  run.rounds = 7;
  for (const auto& m : {rqm(16, 0.5, 0.8), pbm(15, 0.1), gaussian(3.0)}) {
    const auto curve = pv::rdp_per_coordinate(m);
    const auto composed = pv::compose(curve, 350.0);
    const auto expected = pv::rdp_to_dp(composed, run.delta, run.conversion);
    BOOST_TEST_INFO(m.name);
    BOOST_TEST(pv::epsilon_after(curve, 350.0, run).epsilon == expected.epsilon);
    BOOST_TEST(pv::epsilon_of(m, run).epsilon == expected.epsilon);
    BOOST_TEST(composed.epsilons.back() == 350.0 * curve.epsilons.back(), tt::tolerance(1e-12));
  }
  pv::MechanismSpec none;
  none.name = "none";
  BOOST_CHECK_THROW(pv::rdp_per_coordinate(none), RunError);
}

BOOST_AUTO_TEST_CASE(the_accountant_op_reports_the_two_level_closed_form) {
  // m = 2 is randomized response between +-X: pure epsilon ln(1 + 2c/Delta) = ln 2 here, so the
  // per-coordinate RDP is at most ln 2 at every order, tends to it as the order grows, and 3
  // coordinates compose to 3 times the per-coordinate curve.
  flowlab::testing::TempDir dir;
  Recorder recorder;
  auto metrics = run_op("privacy.accountant",
                        {{"mechanism", text("rqm")},
                         {"levels", integer(2)},
                         {"margin", number(2.0)},
                         {"coordinates", integer(3)}},
                        recorder, dir.path());
  BOOST_TEST(metrics.at("epsilon") > 0);
  BOOST_TEST(metrics.at("bits_per_coordinate") == 1);
  BOOST_REQUIRE(recorder.files.count("rdp.csv"));
  std::ifstream csv(recorder.files.at("rdp.csv"));
  std::string line;
  std::getline(csv, line);
  BOOST_TEST(line == "order,rdp_per_coordinate,rdp_run,epsilon");
  double order = 0, per = 0, composed = 0, epsilon = 0, smallest_epsilon = 1e300;
  int rows = 0;
  char comma;
  while (csv >> order >> comma >> per >> comma >> composed >> comma >> epsilon) {
    ++rows;
    BOOST_TEST(per <= std::log(2.0) + 1e-12);
    BOOST_TEST(composed == 3 * per, tt::tolerance(1e-12));
    smallest_epsilon = std::min(smallest_epsilon, epsilon);
  }
  BOOST_TEST(rows > 10);
  BOOST_TEST(per >= 0.99 * std::log(2.0));  // the largest order, last
  BOOST_TEST(metrics.at("epsilon") == smallest_epsilon, tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(the_accountant_op_calibrates_to_a_target) {
  flowlab::testing::TempDir dir;
  Recorder recorder;
  auto metrics = run_op("privacy.accountant",
                        {{"mechanism", text("pbm")},
                         {"target_epsilon", number(2.0)},
                         {"coordinates", integer(10)},
                         {"rounds", integer(5)}},
                        recorder, dir.path());
  BOOST_TEST(metrics.at("epsilon") <= 2.0);
  BOOST_TEST(metrics.at("epsilon") >= 2.0 - 1e-5);
  BOOST_TEST(metrics.at("theta") > 0);
  BOOST_TEST(metrics.at("theta") < 0.5);
}

BOOST_AUTO_TEST_CASE(mean_estimation_mse_matches_its_exact_value) {
  for (const char* name : {"rqm", "pbm", "gaussian"}) {
    flowlab::testing::TempDir dir;
    Recorder recorder;
    auto metrics = run_op("privacy.mean_estimation",
                          {{"mechanism", text(name)},
                           {"clients", integer(20)},
                           {"dimension", integer(50)},
                           {"repeats", integer(40)}},
                          recorder, dir.path());
    BOOST_TEST_INFO(name << " mse " << metrics.at("mse") << " exact " << metrics.at("mse_exact"));
    BOOST_TEST(std::abs(metrics.at("mse") - metrics.at("mse_exact")) <= 4 * metrics.at("mse_se"));
    BOOST_TEST(metrics.at("epsilon") > 0);
  }
  // none: the exact mean, no privacy, no epsilon.
  flowlab::testing::TempDir dir;
  Recorder recorder;
  auto metrics =
      run_op("privacy.mean_estimation", {{"mechanism", text("none")}}, recorder, dir.path());
  BOOST_TEST(metrics.at("mse") < 1e-12);
  BOOST_TEST(metrics.count("epsilon") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
