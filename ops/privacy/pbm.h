#pragma once
// The Poisson binomial mechanism (PBM; Chen, Ozgur and Kairouz, "The Poisson Binomial Mechanism
// for Unbiased Federated Learning with Secure Aggregation", ICML 2022), the baseline RQM is
// compared with at equal bits: x in [-c, c] is sent as Z ~ Binomial(m, 1/2 + theta x / c).
// Torch-free. The paper analyses the aggregate after secure aggregation; accountant.h gives the
// local (per client) guarantee.
#include <cstdint>
#include <random>
#include <vector>

namespace flowlab::ops::privacy {

struct PbmParams {
  double clip = 1.0;    // c > 0: inputs are clipped to [-c, c]
  double theta = 0.25;  // in (0, 1/2]: smaller is more private and noisier
  int trials = 16;      // m >= 1 Bernoulli trials; the client sends ceil(log2(m + 1)) bits
};

/// Throws RunError naming the first invalid field.
void validate(const PbmParams& params);

/// 1/2 + theta x / c for x clipped to [-c, c].
double pbm_success_probability(const PbmParams& params, double x);

/// The pmf of Z in 0..m for input x (clipped to [-c, c] first).
std::vector<double> pbm_pmf(const PbmParams& params, double x);

/// One draw of Z: m Bernoulli trials on unit_uniform (rqm.h), so the same seed gives the same
/// draws on every standard library.
int pbm_sample(const PbmParams& params, double x, std::mt19937_64& rng);

/// The unbiased estimate c (Z - m/2) / (m theta) of one client's coordinate.
double pbm_decode(const PbmParams& params, int successes);

/// The mean of pbm_decode over `clients` clients from the sum of their Z alone.
double pbm_decode_mean(const PbmParams& params, int64_t successes_sum, int64_t clients);

}  // namespace flowlab::ops::privacy
