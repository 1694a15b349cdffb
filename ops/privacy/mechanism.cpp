#include "ops/privacy/mechanism.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "common/error.h"

namespace flowlab::ops::privacy {

namespace {
constexpr const char* kGroup = "mechanism";

ParamChoice choice(std::string name, std::string summary, std::vector<ParamSpec> params) {
  ParamChoice c;
  c.name = std::move(name);
  c.summary = std::move(summary);
  c.params = std::move(params);
  return c;
}

double clipped(const MechanismSpec& m, double x) { return std::clamp(x, -m.clip, m.clip); }
}  // namespace

void register_mechanisms(Registry& r) {
  const std::string summary =
      "how a client privatizes a vector, one coordinate at a time (privacy.*, fl.federated)";
  r.add_choice(
      kGroup, summary,
      choice(
          "rqm",
          "randomized quantization: m levels over [-(c+margin), c+margin], interior "
          "levels kept with probability q, randomized rounding between kept levels",
          {int_param("levels", 16, "m, the number of levels (ceil(log2 m) bits sent)", 2.0, 4096.0),
           float_param("keep", 0.5, "q, the probability an interior level is kept", 0.0, 1.0),
           float_param("margin", 1.0,
                       "Delta: how far the levels reach beyond [-c, c] (more is "
                       "more private and noisier; set by target_epsilon when > 0)",
                       0.0, std::nullopt, /*min_exclusive=*/true)}));
  r.add_choice(kGroup, summary,
               choice("pbm",
                      "Poisson binomial mechanism (Chen et al. 2022): Binomial(trials, 1/2 + "
                      "theta x / c), decoded unbiasedly",
                      {int_param("trials", 15, "Bernoulli trials (ceil(log2(trials + 1)) bits)",
                                 1.0, 1'000'000.0),
                       float_param("theta", 0.25,
                                   "bias scale in (0, 1/2] (less is more private; set by "
                                   "target_epsilon when > 0)",
                                   0.0, 0.5, /*min_exclusive=*/true)}));
  r.add_choice(
      kGroup, summary,
      choice("gaussian",
             "clipped value plus N(0, sigma^2) noise, sent as a float (the additive "
             "baseline)",
             {float_param("sigma", 1.0, "noise standard deviation (set by target_epsilon when > 0)",
                          0.0, std::nullopt, /*min_exclusive=*/true)}));
  r.add_choice(
      kGroup, summary,
      choice("none", "the exact value, unclipped: no privacy (the non-private ceiling)", {}));
}

std::vector<ParamSpec> mechanism_params(const std::string& default_mechanism, double default_clip) {
  return {
      group_param("mechanism", kGroup, default_mechanism,
                  "how each coordinate is privatized (its params are set beside it; `flowlab "
                  "models` lists them)"),
      float_param("clip", default_clip,
                  "c: every coordinate is clipped to [-c, c] (ignored by none)", 0.0, std::nullopt,
                  /*min_exclusive=*/true),
      float_param("target_epsilon", 0.0,
                  "0: use the mechanism's own params; > 0: calibrate margin / theta / sigma so "
                  "the run spends exactly this epsilon (local, per client)",
                  0.0),
      float_param("delta", 1e-5, "the delta of the reported (epsilon, delta)", 0.0, 1.0,
                  /*min_exclusive=*/true),
  };
}

MechanismSpec read_mechanism(const Params& p) {
  MechanismSpec m;
  m.name = p.get_string("mechanism");
  m.clip = p.get_float("clip");
  if (m.name == "rqm") {
    m.rqm.clip = m.clip;
    m.rqm.levels = static_cast<int>(p.get_int("levels"));
    m.rqm.keep = p.get_float("keep");
    m.rqm.margin = p.get_float("margin");
  } else if (m.name == "pbm") {
    m.pbm.clip = m.clip;
    m.pbm.trials = static_cast<int>(p.get_int("trials"));
    m.pbm.theta = p.get_float("theta");
  } else if (m.name == "gaussian") {
    m.sigma = p.get_float("sigma");
  }
  validate(m);
  return m;
}

void validate(const MechanismSpec& m) {
  if (m.name == "rqm") return validate(m.rqm);
  if (m.name == "pbm") return validate(m.pbm);
  if (m.name == "gaussian") {
    if (!(std::isfinite(m.sigma) && m.sigma > 0))
      throw RunError(fmt::format("the Gaussian mechanism needs sigma > 0, got {}", m.sigma));
    return;
  }
  if (m.name != "none") throw RunError(fmt::format("unknown mechanism '{}'", m.name));
}

MechanismSpec calibrate(MechanismSpec m, double target_epsilon, const LocalAccounting& run) {
  if (m.name == "rqm")
    m.rqm.margin = rqm_margin_for_epsilon(m.rqm, target_epsilon, run);
  else if (m.name == "pbm")
    m.pbm.theta = pbm_theta_for_epsilon(m.pbm, target_epsilon, run);
  else if (m.name == "gaussian")
    m.sigma = gaussian_sigma_for_epsilon(m.clip, target_epsilon, run);
  else
    throw RunError(
        "target_epsilon: the mechanism `none` spends an unbounded epsilon; set "
        "target_epsilon to 0 or choose rqm, pbm or gaussian");
  return m;
}

RdpCurve rdp_per_coordinate(const MechanismSpec& m, const std::vector<double>& orders) {
  if (m.name == "rqm") return rqm_rdp(m.rqm, orders);
  if (m.name == "pbm") return pbm_rdp(m.pbm, orders);
  if (m.name == "gaussian") return gaussian_rdp(m.clip, m.sigma, orders);
  throw RunError("the mechanism `none` has no Renyi-DP curve (it is not private)");
}

DpGuarantee epsilon_after(const RdpCurve& per_use, double uses, const LocalAccounting& run) {
  return rdp_to_dp(compose(per_use, uses), run.delta, run.conversion);
}

DpGuarantee epsilon_of(const MechanismSpec& m, const LocalAccounting& run) {
  if (m.name == "rqm") return rqm_epsilon(m.rqm, run);
  if (m.name == "pbm") return pbm_epsilon(m.pbm, run);
  if (m.name == "gaussian") return gaussian_epsilon(m.clip, m.sigma, run);
  return {std::numeric_limits<double>::infinity(), run.delta, 0};
}

int bits_per_coordinate(const MechanismSpec& m) {
  auto bits_for = [](int64_t values) {
    int bits = 0;
    while ((int64_t{1} << bits) < values) ++bits;
    return std::max(bits, 1);
  };
  if (m.name == "rqm") return bits_for(m.rqm.levels);
  if (m.name == "pbm") return bits_for(int64_t{m.pbm.trials} + 1);
  return 32;
}

double standard_normal(std::mt19937_64& rng) {
  const double u1 = 1.0 - unit_uniform(rng);  // in (0, 1]: log is finite
  const double u2 = unit_uniform(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
}

void encode(const MechanismSpec& m, const float* x, int64_t n, std::mt19937_64& rng, double* out) {
  for (int64_t i = 0; i < n; ++i)
    if (std::isnan(x[i])) throw RunError(fmt::format("coordinate {} to encode is NaN", i));
  // One branch per vector, not per coordinate.
  if (m.name == "rqm") {
    for (int64_t i = 0; i < n; ++i) out[i] = rqm_sample(m.rqm, x[i], rng);
  } else if (m.name == "pbm") {
    for (int64_t i = 0; i < n; ++i) out[i] = pbm_sample(m.pbm, x[i], rng);
  } else if (m.name == "gaussian") {
    for (int64_t i = 0; i < n; ++i) out[i] = clipped(m, x[i]) + m.sigma * standard_normal(rng);
  } else {
    std::copy(x, x + n, out);
  }
}

void decode_mean(const MechanismSpec& m, const double* message_sum, int64_t n, int64_t clients,
                 double* out) {
  if (clients < 1) throw RunError("decoding a mean needs at least one client");
  auto index_sum = [&](int64_t i) { return static_cast<int64_t>(std::llround(message_sum[i])); };
  if (m.name == "rqm") {
    for (int64_t i = 0; i < n; ++i) out[i] = rqm_decode_mean(m.rqm, index_sum(i), clients);
  } else if (m.name == "pbm") {
    for (int64_t i = 0; i < n; ++i) out[i] = pbm_decode_mean(m.pbm, index_sum(i), clients);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = message_sum[i] / static_cast<double>(clients);
  }
}

double decode_variance(const MechanismSpec& m, double x) {
  if (m.name == "gaussian") return m.sigma * m.sigma;
  if (m.name == "none") return 0.0;
  const double target = clipped(m, x);
  double variance = 0;
  if (m.name == "rqm") {
    const std::vector<double> pmf = rqm_pmf(m.rqm, x);
    for (size_t z = 0; z < pmf.size(); ++z) {
      const double e = rqm_decode(m.rqm, static_cast<int>(z)) - target;
      variance += pmf[z] * e * e;
    }
  } else {
    const std::vector<double> pmf = pbm_pmf(m.pbm, x);
    for (size_t z = 0; z < pmf.size(); ++z) {
      const double e = pbm_decode(m.pbm, static_cast<int>(z)) - target;
      variance += pmf[z] * e * e;
    }
  }
  return variance;
}

}  // namespace flowlab::ops::privacy
