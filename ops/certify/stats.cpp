#include "ops/certify/stats.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/normal.hpp>

namespace flowlab::ops::certify {
namespace bm = boost::math;

namespace {
void check(int64_t k, int64_t n, double alpha) {
  if (n <= 0 || k < 0 || k > n)
    throw std::invalid_argument("binomial bound needs 0 <= k <= n, n > 0");
  if (!(alpha > 0 && alpha < 1)) throw std::invalid_argument("alpha must be in (0, 1)");
}
}  // namespace

double clopper_pearson_lower(int64_t k, int64_t n, double alpha) {
  check(k, n, alpha);
  if (k == 0) return 0.0;
  return bm::quantile(bm::beta_distribution<double>(double(k), double(n - k + 1)), alpha);
}

double clopper_pearson_upper(int64_t k, int64_t n, double alpha) {
  check(k, n, alpha);
  if (k == n) return 1.0;
  return bm::quantile(
      bm::complement(bm::beta_distribution<double>(double(k + 1), double(n - k)), alpha));
}

double binomial_test_half(int64_t k, int64_t n) {
  if (n <= 0 || k < 0 || k > n)
    throw std::invalid_argument("binomial test needs 0 <= k <= n, n > 0");
  int64_t m = std::max(k, n - k);
  // P[X >= m] = 1 - P[X <= m - 1]; for m = 0 every outcome counts.
  bm::binomial_distribution<double> bin(double(n), 0.5);
  double tail = m == 0 ? 1.0 : bm::cdf(bm::complement(bin, double(m - 1)));
  return std::min(1.0, 2.0 * tail);
}

double normal_quantile(double p) {
  if (p <= 0) return -std::numeric_limits<double>::infinity();
  if (p >= 1) return std::numeric_limits<double>::infinity();
  return bm::quantile(bm::normal_distribution<double>(), p);
}

double normal_cdf(double x) { return bm::cdf(bm::normal_distribution<double>(), x); }

double empirical_bernstein_shift(double variance, int64_t n, double delta) {
  if (n < 2) return std::numeric_limits<double>::infinity();
  double log_term = std::log(2.0 / delta);
  return std::sqrt(2.0 * variance * log_term / double(n)) + 7.0 * log_term / (3.0 * double(n - 1));
}

double max_certifiable_radius(double sigma, int64_t n, double alpha) {
  return sigma * normal_quantile(clopper_pearson_lower(n, n, alpha));
}

}  // namespace flowlab::ops::certify
