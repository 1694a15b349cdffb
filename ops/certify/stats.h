#pragma once
// The statistics behind certified robustness, on Boost.Math's beta, binomial and normal
// distributions (no hand-rolled approximations). Torch-free.
#include <cstdint>

namespace flowlab::ops::certify {

/// One-sided (1 - alpha) Clopper-Pearson lower bound on a binomial proportion from k successes
/// in n trials: the alpha-quantile of Beta(k, n - k + 1); 0 when k = 0 (alpha^(1/n) when k = n).
double clopper_pearson_lower(int64_t k, int64_t n, double alpha);

/// One-sided (1 - alpha) upper bound: the (1 - alpha)-quantile of Beta(k + 1, n - k); 1 when k = n.
double clopper_pearson_upper(int64_t k, int64_t n, double alpha);

/// Two-sided exact binomial test of k successes in n trials against p = 1/2 (Cohen's PREDICT):
/// min(1, 2 P[X >= max(k, n - k)]) for X ~ Bin(n, 1/2).
double binomial_test_half(int64_t k, int64_t n);

/// Phi^{-1}(p), the standard normal quantile; -inf / +inf at 0 / 1.
double normal_quantile(double p);
/// Phi(x).
double normal_cdf(double x);

/// Maurer-Pontil empirical Bernstein deviation for n i.i.d. samples in [0,1] with sample
/// variance `variance` (the unbiased one): with probability >= 1 - delta the mean is within
/// sqrt(2 V ln(2/delta) / n) + 7 ln(2/delta) / (3 (n - 1)) of the sample mean (one side).
double empirical_bernstein_shift(double variance, int64_t n, double delta);

/// The largest radius CERTIFY can return with n samples at level alpha: sigma
/// Phi^{-1}(alpha^(1/n)).
double max_certifiable_radius(double sigma, int64_t n, double alpha);

}  // namespace flowlab::ops::certify
