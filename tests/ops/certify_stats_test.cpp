// Certification statistics against exact values computed independently with SciPy 1.10.1
// (Debian python3-scipy): scipy.stats.beta.ppf for Clopper-Pearson bounds,
// scipy.stats.binomtest(k, n, 0.5).pvalue for the two-sided test, scipy.stats.norm.ppf.
#include <cmath>

#include <boost/test/unit_test.hpp>

#include "ops/certify/stats.h"

namespace cs = flowlab::ops::certify;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_SUITE(ops_certify_stats)

BOOST_AUTO_TEST_CASE(clopper_pearson_lower_bounds_match_scipy) {
  // beta.ppf(alpha, k, n - k + 1)
  BOOST_TEST(cs::clopper_pearson_lower(990, 1000, 0.001) == 0.9760361871553114,
             tt::tolerance(1e-12));
  BOOST_TEST(cs::clopper_pearson_lower(50, 100, 0.05) == 0.41362171463091163, tt::tolerance(1e-12));
  BOOST_TEST(cs::clopper_pearson_lower(1, 10, 0.01) == 0.0010045287082499491, tt::tolerance(1e-10));
  BOOST_TEST(cs::clopper_pearson_lower(9990, 10000, 0.001) == 0.9975883080325683,
             tt::tolerance(1e-12));
  BOOST_TEST(cs::clopper_pearson_lower(100, 100, 0.001) == 0.933254300796991, tt::tolerance(1e-12));
  BOOST_TEST(cs::clopper_pearson_lower(7, 20, 0.001) == 0.08623410669514445, tt::tolerance(1e-10));
  BOOST_TEST(cs::clopper_pearson_lower(0, 10, 0.05) == 0.0);
}

BOOST_AUTO_TEST_CASE(clopper_pearson_upper_bounds_match_scipy) {
  // beta.ppf(1 - alpha, k + 1, n - k)
  BOOST_TEST(cs::clopper_pearson_upper(990, 1000, 0.001) == 0.9970304990695041,
             tt::tolerance(1e-12));
  BOOST_TEST(cs::clopper_pearson_upper(50, 100, 0.05) == 0.5863782853690883, tt::tolerance(1e-12));
  BOOST_TEST(cs::clopper_pearson_upper(1, 10, 0.01) == 0.5043526629308013, tt::tolerance(1e-12));
  BOOST_TEST(cs::clopper_pearson_upper(0, 10, 0.05) == 0.2588655508930522, tt::tolerance(1e-12));
  BOOST_TEST(cs::clopper_pearson_upper(7, 20, 0.001) == 0.7070202518688662, tt::tolerance(1e-12));
  BOOST_TEST(cs::clopper_pearson_upper(100, 100, 0.001) == 1.0);
}

BOOST_AUTO_TEST_CASE(all_successes_give_alpha_to_the_one_over_n) {
  for (int64_t n : {1, 10, 1000, 100000})
    BOOST_TEST(cs::clopper_pearson_lower(n, n, 0.001) == std::pow(0.001, 1.0 / n),
               tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(two_sided_binomial_test_matches_scipy) {
  BOOST_TEST(cs::binomial_test_half(10, 10) == 0.001953125, tt::tolerance(1e-14));  // 2 * 0.5^10
  BOOST_TEST(cs::binomial_test_half(11, 11) == 0.0009765625, tt::tolerance(1e-14));
  BOOST_TEST(cs::binomial_test_half(60, 100) == 0.05688793364098088, tt::tolerance(1e-12));
  BOOST_TEST(cs::binomial_test_half(520, 1000) == 0.2174482932041409, tt::tolerance(1e-12));
  BOOST_TEST(cs::binomial_test_half(0, 5) == 0.0625, tt::tolerance(1e-14));
  BOOST_TEST(cs::binomial_test_half(30, 40) == 0.0022214337732293643, tt::tolerance(1e-12));
  BOOST_TEST(cs::binomial_test_half(3, 7) == 1.0);
}

BOOST_AUTO_TEST_CASE(normal_quantiles_match_scipy) {
  BOOST_TEST(cs::normal_quantile(0.5) == 0.0, tt::tolerance(1e-15));
  BOOST_TEST(cs::normal_quantile(0.976036187155311) == 1.9780095821411936, tt::tolerance(1e-12));
  BOOST_TEST(cs::normal_quantile(0.999) == 3.090232306167813, tt::tolerance(1e-12));
  BOOST_TEST(cs::normal_quantile(0.9) == 1.2815515655446004, tt::tolerance(1e-12));
  BOOST_TEST(std::isinf(cs::normal_quantile(1.0)));
  BOOST_TEST(cs::normal_cdf(cs::normal_quantile(0.3)) == 0.3, tt::tolerance(1e-13));
}

BOOST_AUTO_TEST_CASE(largest_certifiable_radius_is_sigma_phi_inverse_of_alpha_to_the_one_over_n) {
  // norm.ppf(0.001 ** (1 / n)): 3.8115 sigma at n = 100k, 3.1986 at 10k, 2.4633 at 1k.
  BOOST_TEST(cs::max_certifiable_radius(1.0, 100000, 0.001) == 3.8114565633899145,
             tt::tolerance(1e-10));
  BOOST_TEST(cs::max_certifiable_radius(1.0, 10000, 0.001) == 3.1985775147383384,
             tt::tolerance(1e-10));
  BOOST_TEST(cs::max_certifiable_radius(0.25, 1000, 0.001) == 0.25 * 2.4632626147808114,
             tt::tolerance(1e-10));
}

BOOST_AUTO_TEST_CASE(empirical_bernstein_shift_follows_maurer_pontil) {
  // sqrt(2 V ln(2/d) / n) + 7 ln(2/d) / (3 (n - 1)) evaluated by hand for V = 0.01, n = 10000, d =
  // 1e-4.
  double log_term = std::log(2.0 / 1e-4);
  double expected = std::sqrt(2 * 0.01 * log_term / 10000) + 7 * log_term / (3.0 * 9999);
  BOOST_TEST(cs::empirical_bernstein_shift(0.01, 10000, 1e-4) == expected, tt::tolerance(1e-14));
  BOOST_TEST(std::isinf(cs::empirical_bernstein_shift(0.01, 1, 0.1)));
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_rejected) {
  BOOST_CHECK_THROW(cs::clopper_pearson_lower(11, 10, 0.01), std::invalid_argument);
  BOOST_CHECK_THROW(cs::clopper_pearson_lower(1, 10, 0.0), std::invalid_argument);
  BOOST_CHECK_THROW(cs::binomial_test_half(-1, 10), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
