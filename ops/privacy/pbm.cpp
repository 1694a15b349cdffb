#include "ops/privacy/pbm.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/error.h"
#include "ops/privacy/rqm.h"

namespace flowlab::ops::privacy {

void validate(const PbmParams& params) {
  if (!(std::isfinite(params.clip) && params.clip > 0))
    throw RunError(fmt::format("PBM needs a clip range c > 0, got {}", params.clip));
  if (!(params.theta > 0 && params.theta <= 0.5))
    throw RunError(fmt::format("PBM needs theta in (0, 1/2], got {}", params.theta));
  if (params.trials < 1)
    throw RunError(fmt::format("PBM needs at least 1 trial, got {}", params.trials));
}

double pbm_success_probability(const PbmParams& params, double x) {
  validate(params);
  if (std::isnan(x)) throw RunError("PBM got a NaN input");
  return 0.5 + params.theta * std::clamp(x, -params.clip, params.clip) / params.clip;
}

std::vector<double> pbm_pmf(const PbmParams& params, double x) {
  const double p = pbm_success_probability(params, x);
  const int m = params.trials;
  std::vector<double> pmf(m + 1, 0.0);
  // theta = 1/2 reaches p = 0 or 1 at x = -c or c, where the log form below is undefined.
  if (p <= 0 || p >= 1) {
    pmf[p <= 0 ? 0 : m] = 1.0;
    return pmf;
  }
  const double log_p = std::log(p), log_not_p = std::log1p(-p);
  const double log_m_factorial = std::lgamma(m + 1.0);
  for (int z = 0; z <= m; ++z)
    pmf[z] = std::exp(log_m_factorial - std::lgamma(z + 1.0) - std::lgamma(m - z + 1.0) +
                      z * log_p + (m - z) * log_not_p);
  return pmf;
}

int pbm_sample(const PbmParams& params, double x, std::mt19937_64& rng) {
  const double p = pbm_success_probability(params, x);
  int successes = 0;
  for (int i = 0; i < params.trials; ++i) successes += unit_uniform(rng) < p;
  return successes;
}

double pbm_decode(const PbmParams& params, int successes) {
  validate(params);
  if (successes < 0 || successes > params.trials)
    throw RunError(fmt::format("PBM count {} is outside 0..{}", successes, params.trials));
  return params.clip * (successes - 0.5 * params.trials) / (params.trials * params.theta);
}

double pbm_decode_mean(const PbmParams& params, int64_t successes_sum, int64_t clients) {
  validate(params);
  if (clients < 1) throw RunError(fmt::format("PBM mean over {} clients", clients));
  if (successes_sum < 0 || successes_sum > clients * params.trials)
    throw RunError(fmt::format("PBM count sum {} is outside 0..{} for {} clients", successes_sum,
                               clients * params.trials, clients));
  const double mean_successes = double(successes_sum) / double(clients);
  return params.clip * (mean_successes - 0.5 * params.trials) / (params.trials * params.theta);
}

}  // namespace flowlab::ops::privacy
