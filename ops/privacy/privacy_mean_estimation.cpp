// privacy.mean_estimation: distributed mean estimation, the first experiment of the RQM notes
// (research/models.md §7.4). `clients` clients each hold a vector in [-c, c]^dimension, send it
// through the mechanism, and the server decodes the mean from the sum of the messages. Reports
// the mean squared error per coordinate over `repeats` independent repetitions, with its standard
// error and the exact expected value (from the mechanism's pmf: the mechanisms are unbiased, so
// it is the decoded mean's variance), the bits sent and the epsilon spent.
#include <cmath>
#include <random>

#include <fmt/format.h>

#include "common/error.h"
#include "ops/metrics_table.h"
#include "ops/privacy/mechanism.h"
#include "ops/privacy/privacy_ops.h"

namespace flowlab::ops::privacy {
namespace {

ArtifactPtr run_mean_estimation(OpContext& ctx) {
  const Params& p = ctx.params();
  const int64_t n = p.get_int("clients"), d = p.get_int("dimension"), trials = p.get_int("repeats");
  const std::string data = p.get_string("data");
  LocalAccounting run;
  run.coordinates = d;
  run.rounds = 1;
  run.delta = p.get_float("delta");
  MechanismSpec m = read_mechanism(p);
  if (p.get_float("target_epsilon") > 0) m = calibrate(m, p.get_float("target_epsilon"), run);

  // One generator for the data, one for the mechanism: changing the mechanism keeps the inputs.
  std::mt19937_64 data_rng(static_cast<uint64_t>(p.get_int("seed")));
  std::mt19937_64 noise_rng(static_cast<uint64_t>(p.get_int("seed")) ^ 0x6a09e667f3bcc909ULL);
  std::vector<float> x(n * d);
  std::vector<double> message(d), sum(d), decoded(d);
  double mse_sum = 0, mse_sq_sum = 0, exact_sum = 0;
  for (int64_t t = 0; t < trials; ++t) {
    ctx.check_cancelled();
    for (auto& v : x) {
      const double u = unit_uniform(data_rng);
      v = static_cast<float>(data == "corners" ? (u < 0.5 ? -m.clip : m.clip)
                                               : m.clip * (2 * u - 1));
    }
    std::fill(sum.begin(), sum.end(), 0.0);
    double exact = 0;
    for (int64_t i = 0; i < n; ++i) {
      encode(m, &x[i * d], d, noise_rng, message.data());
      for (int64_t j = 0; j < d; ++j) {
        sum[j] += message[j];
        exact += decode_variance(m, x[i * d + j]);
      }
    }
    decode_mean(m, sum.data(), d, n, decoded.data());
    double se = 0;
    for (int64_t j = 0; j < d; ++j) {
      double mean = 0;
      for (int64_t i = 0; i < n; ++i) mean += x[i * d + j];
      const double e = decoded[j] - mean / double(n);
      se += e * e;
    }
    const double mse = se / double(d);
    mse_sum += mse;
    mse_sq_sum += mse * mse;
    exact_sum += exact / (double(n) * double(n) * double(d));
    ctx.progress(double(t + 1) / double(trials), fmt::format("trial {}/{}", t + 1, trials));
  }
  const double mse = mse_sum / double(trials);
  const double var =
      trials > 1 ? std::max(0.0, (mse_sq_sum - trials * mse * mse) / (trials - 1)) : 0.0;

  auto table = std::make_shared<MetricsTable>();
  auto record = [&](const std::string& key, double value) {
    table->values[key] = value;
    ctx.log_metric(key, value);
  };
  record("mse", mse);
  if (trials > 1) record("mse_se", std::sqrt(var / double(trials)));
  record("mse_exact", exact_sum / double(trials));
  record("bits_per_coordinate", bits_per_coordinate(m));
  const DpGuarantee dp = epsilon_of(m, run);
  if (std::isfinite(dp.epsilon)) record("epsilon", dp.epsilon);
  if (m.name == "rqm") record("margin", m.rqm.margin);
  if (m.name == "pbm") record("theta", m.pbm.theta);
  if (m.name == "gaussian") record("sigma", m.sigma);
  return table;
}

}  // namespace

void register_mean_estimation(Registry& r) {
  OpDef op;
  op.name = "privacy.mean_estimation";
  op.summary =
      "distributed mean estimation through a privacy mechanism: MSE (measured and exact), bits "
      "and epsilon";
  op.version = 1;
  op.headline_metrics = {"mse", "mse_exact", "epsilon", "bits_per_coordinate"};
  op.params = mechanism_params();
  op.params.push_back(int_param("clients", 100, "n, clients whose vectors are averaged", 1.0, 1e7));
  op.params.push_back(int_param("dimension", 100, "d, coordinates per vector", 1.0, 1e7));
  op.params.push_back(
      int_param("repeats", 20, "independent repetitions (fresh data and noise)", 1.0, 1e6));
  op.params.push_back(
      string_param("data", "uniform",
                   "client vectors: uniform in [-c, c]^d, or corners (each coordinate -c or c)",
                   {"uniform", "corners"}));
  op.params.push_back(inherited(int_param("seed", 0, "data and noise seed", 0.0)));
  op.output_type = MetricsTable::kType;
  op.run = run_mean_estimation;
  r.add(std::move(op));
}

}  // namespace flowlab::ops::privacy
