// The RQM and PBM mechanisms against mathematics: exact unbiasedness, normalisation, the pmf
// against brute-force enumeration of every keep pattern, the sampler against the pmf
// (4 standard errors, chi-square), the q = 1 / q = 0 / m = 2 reductions, the decoders.
#include "ops/privacy/rqm.h"

#include <cmath>
#include <numeric>
#include <random>

#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/test/unit_test.hpp>

#include "common/error.h"
#include "ops/privacy/pbm.h"

namespace pv = flowlab::ops::privacy;
using flowlab::RunError;

namespace {

// Levels written out from the definition, independently of rqm_level.
double level(const pv::RqmParams& p, int j) {
  const double extent = p.clip + p.margin;
  return -extent + 2.0 * j * extent / (p.levels - 1);
}

std::vector<double> inputs_over(double clip, int count) {
  std::vector<double> xs;
  for (int i = 0; i < count; ++i) xs.push_back(-clip + 2.0 * clip * i / (count - 1));
  return xs;
}

// Every kept set of the m - 2 interior levels, its probability, the bracket around x and the
// randomized rounding.
std::vector<double> enumerated_pmf(const pv::RqmParams& p, double x) {
  const int m = p.levels, interior = m - 2;
  std::vector<double> pmf(m, 0.0);
  for (unsigned mask = 0; mask < (1u << interior); ++mask) {
    std::vector<bool> kept(m, true);
    double probability = 1;
    for (int j = 1; j <= interior; ++j) {
      kept[j] = (mask >> (j - 1)) & 1u;
      probability *= kept[j] ? p.keep : 1 - p.keep;
    }
    if (probability == 0) continue;
    int lower = 0;
    for (int j = 0; j < m; ++j)
      if (kept[j] && level(p, j) <= x) lower = j;
    int upper = lower + 1;
    while (!kept[upper]) ++upper;
    const double up = (x - level(p, lower)) / (level(p, upper) - level(p, lower));
    pmf[upper] += probability * up;
    pmf[lower] += probability * (1 - up);
  }
  return pmf;
}

bool message_has(const RunError& e, const std::string& part) {
  return std::string(e.what()).find(part) != std::string::npos;
}

// Draws n samples of a mechanism and checks them against its exact pmf: the mean of the
// decoded values within 4 standard errors of x (sample variance) and a chi-square goodness of
// fit at level 1e-6 over the cells with an expected count >= 5 (the rest pooled).
template <class Sample, class Decode>
void check_sampler(const std::vector<double>& pmf, double x, int n, Sample sample, Decode decode) {
  std::vector<int64_t> counts(pmf.size(), 0);
  double sum = 0, sum_squares = 0;
  for (int i = 0; i < n; ++i) {
    const int z = sample();
    BOOST_REQUIRE(z >= 0 && z < int(pmf.size()));
    ++counts[z];
    const double value = decode(z);
    sum += value;
    sum_squares += value * value;
  }
  const double mean = sum / n;
  const double variance = (sum_squares - n * mean * mean) / (n - 1);
  const double standard_error = std::sqrt(std::max(variance, 0.0) / n);
  BOOST_TEST(std::abs(mean - x) <= 4 * standard_error + 1e-12,
             "mean " << mean << " vs x = " << x << " (se " << standard_error << ")");

  double statistic = 0, pooled_expected = 0, pooled_observed = 0;
  int cells = 0;
  for (size_t z = 0; z < pmf.size(); ++z) {
    const double expected = n * pmf[z];
    if (expected == 0) {
      BOOST_TEST(counts[z] == 0, "outcome " << z << " has probability 0 but was drawn");
    } else if (expected < 5) {
      pooled_expected += expected;
      pooled_observed += counts[z];
    } else {
      statistic += (counts[z] - expected) * (counts[z] - expected) / expected;
      ++cells;
    }
  }
  if (pooled_expected >= 5) {
    statistic +=
        (pooled_observed - pooled_expected) * (pooled_observed - pooled_expected) / pooled_expected;
    ++cells;
  }
  if (cells >= 2) {
    boost::math::chi_squared chi(cells - 1);
    const double critical = boost::math::quantile(boost::math::complement(chi, 1e-6));
    BOOST_TEST(statistic < critical,
               "chi-square " << statistic << " over " << cells << " cells, critical " << critical);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ops_privacy_rqm)

BOOST_AUTO_TEST_CASE(pmf_sums_to_one_and_is_exactly_unbiased) {
  for (double clip : {1.0, 0.3})
    for (int m : {2, 3, 5, 8, 16, 33})
      for (double q : {0.0, 0.25, 0.5, 0.9, 1.0})
        for (double margin_ratio : {0.05, 1.0, 3.0}) {
          const pv::RqmParams p{clip, margin_ratio * clip, m, q};
          std::vector<double> xs = inputs_over(clip, 41);
          for (int j = 0; j < m; ++j)  // the levels themselves are edge cases of the bracket
            if (std::abs(level(p, j)) <= clip) xs.push_back(level(p, j));
          for (double x : xs) {
            const std::vector<double> pmf = pv::rqm_pmf(p, x);
            BOOST_REQUIRE_EQUAL(pmf.size(), size_t(m));
            double total = 0, mean = 0;
            for (int z = 0; z < m; ++z) {
              BOOST_TEST(pmf[z] >= 0);
              total += pmf[z];
              mean += pmf[z] * level(p, z);
            }
            BOOST_TEST(std::abs(total - 1) < 1e-12, "m " << m << " q " << q << " x " << x);
            BOOST_TEST(std::abs(mean - x) < 1e-12,
                       "m " << m << " q " << q << " x " << x << ": mean " << mean);
          }
        }
}

BOOST_AUTO_TEST_CASE(inputs_outside_the_clip_range_are_clipped) {
  const pv::RqmParams p{0.5, 0.2, 6, 0.4};
  BOOST_TEST(pv::rqm_pmf(p, 3.0) == pv::rqm_pmf(p, 0.5));
  BOOST_TEST(pv::rqm_pmf(p, -1e9) == pv::rqm_pmf(p, -0.5));
  BOOST_CHECK_THROW(pv::rqm_pmf(p, std::nan("")), RunError);
}

BOOST_AUTO_TEST_CASE(pmf_equals_enumeration_of_all_keep_patterns) {
  for (int m : {3, 5, 6, 8})
    for (double q : {0.2, 0.5, 0.85})
      for (double margin : {0.1, 0.7, 2.5}) {
        const pv::RqmParams p{1.0, margin, m, q};
        std::vector<double> xs = inputs_over(1.0, 23);
        for (int j = 0; j < m; ++j)
          if (std::abs(level(p, j)) <= 1.0) xs.push_back(level(p, j));
        for (double x : xs) {
          const std::vector<double> dp = pv::rqm_pmf(p, x), brute = enumerated_pmf(p, x);
          for (int z = 0; z < m; ++z)
            BOOST_TEST(std::abs(dp[z] - brute[z]) < 1e-13,
                       "m " << m << " q " << q << " margin " << margin << " x " << x << " z " << z
                            << ": " << dp[z] << " vs " << brute[z]);
        }
      }
}

BOOST_AUTO_TEST_CASE(sampler_matches_the_exact_pmf) {
  std::mt19937_64 rng(20240611);
  const std::vector<pv::RqmParams> settings{{1.0, 0.5, 5, 0.5},
                                            {1.0, 1.0, 16, 0.3},
                                            {0.5, 0.1, 2, 0.5},
                                            {2.0, 0.4, 9, 0.0},
                                            {1.0, 0.2, 7, 1.0}};
  for (const pv::RqmParams& p : settings)
    for (double fraction : {-1.0, -0.37, 0.0, 0.81, 1.0}) {
      const double x = fraction * p.clip;
      BOOST_TEST_CONTEXT("m " << p.levels << " q " << p.keep << " x " << x) {
        check_sampler(
            pv::rqm_pmf(p, x), x, 100000, [&] { return pv::rqm_sample(p, x, rng); },
            [&](int z) { return pv::rqm_decode(p, z); });
      }
    }
}

BOOST_AUTO_TEST_CASE(keeping_every_level_is_stochastic_rounding_on_the_full_grid) {
  for (int m : {3, 5, 16})
    for (double margin : {0.1, 1.0}) {
      const pv::RqmParams p{1.0, margin, m, 1.0};
      for (double x : inputs_over(1.0, 37)) {
        const double u = (x + 1.0 + margin) * (m - 1) / (2 * (1.0 + margin));
        const int below = int(std::floor(u));
        const std::vector<double> pmf = pv::rqm_pmf(p, x);
        for (int z = 0; z < m; ++z) {
          double expected = 0;
          if (z == below) expected = 1 - (u - below);
          if (z == below + 1) expected = u - below;
          BOOST_TEST(std::abs(pmf[z] - expected) < 1e-12, "m " << m << " x " << x << " z " << z);
        }
      }
    }
}

BOOST_AUTO_TEST_CASE(keeping_no_interior_level_or_two_levels_use_only_the_endpoints) {
  std::mt19937_64 rng(7);
  for (auto [m, q] : std::vector<std::pair<int, double>>{{2, 0.5}, {2, 0.0}, {5, 0.0}, {16, 0.0}})
    for (double margin : {0.2, 1.5}) {
      const pv::RqmParams p{1.0, margin, m, q};
      const double extent = 1.0 + margin;
      for (double x : inputs_over(1.0, 21)) {
        const std::vector<double> pmf = pv::rqm_pmf(p, x);
        const double top = (x + extent) / (2 * extent);
        BOOST_TEST(std::abs(pmf[m - 1] - top) < 1e-12);
        BOOST_TEST(std::abs(pmf[0] - (1 - top)) < 1e-12);
        for (int z = 1; z < m - 1; ++z) BOOST_TEST(pmf[z] == 0.0);
        for (int i = 0; i < 50; ++i) {
          const int z = pv::rqm_sample(p, x, rng);
          BOOST_TEST((z == 0 || z == m - 1));
        }
      }
    }
}

BOOST_AUTO_TEST_CASE(decoders_and_the_aggregate_decoder) {
  const pv::RqmParams p{0.8, 0.3, 11, 0.6};
  for (int j = 0; j < p.levels; ++j) BOOST_TEST(pv::rqm_decode(p, j) == level(p, j));
  BOOST_TEST(std::abs(pv::rqm_decode(p, 0) + 1.1) < 1e-15);
  BOOST_TEST(std::abs(pv::rqm_decode(p, 5)) < 1e-15);
  BOOST_TEST(std::abs(pv::rqm_decode(p, 10) - 1.1) < 1e-15);

  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> input(-1.0, 1.0);
  for (int clients : {1, 2, 37, 500}) {
    int64_t index_sum = 0;
    double decoded_sum = 0;
    for (int i = 0; i < clients; ++i) {
      const int z = pv::rqm_sample(p, input(rng), rng);
      index_sum += z;
      decoded_sum += pv::rqm_decode(p, z);
    }
    BOOST_TEST(std::abs(pv::rqm_decode_mean(p, index_sum, clients) - decoded_sum / clients) <
               1e-12);
  }
  BOOST_CHECK_THROW(pv::rqm_decode(p, 11), RunError);
  BOOST_CHECK_THROW(pv::rqm_decode(p, -1), RunError);
  BOOST_CHECK_THROW(pv::rqm_decode_mean(p, 21, 2), RunError);
  BOOST_CHECK_THROW(pv::rqm_decode_mean(p, 0, 0), RunError);
}

BOOST_AUTO_TEST_CASE(breakpoints_are_the_clip_range_and_the_levels_inside_it) {
  // m = 5, c = 1, Delta = 1: levels -2, -1, 0, 1, 2; only 0 is strictly inside (-1, 1).
  BOOST_TEST(pv::rqm_breakpoints({1.0, 1.0, 5, 0.5}) == (std::vector<double>{-1.0, 0.0, 1.0}));
  // m = 2: no level inside.
  BOOST_TEST(pv::rqm_breakpoints({1.0, 0.1, 2, 0.5}) == (std::vector<double>{-1.0, 1.0}));
}

BOOST_AUTO_TEST_CASE(invalid_params_are_rejected_with_the_field_named) {
  auto rejects = [](pv::RqmParams p, const std::string& part) {
    BOOST_CHECK_EXCEPTION(pv::validate(p), RunError,
                          [&](const RunError& e) { return message_has(e, part); });
    BOOST_CHECK_THROW(pv::rqm_pmf(p, 0.0), RunError);
  };
  rejects({1.0, 1.0, 1, 0.5}, "at least 2 levels, got 1");
  rejects({1.0, 0.0, 4, 0.5}, "margin Delta > 0");
  rejects({1.0, -1.0, 4, 0.5}, "margin Delta > 0");
  rejects({1.0, 1.0, 4, 1.5}, "keep probability q in [0, 1], got 1.5");
  rejects({1.0, 1.0, 4, -0.1}, "keep probability");
  rejects({1.0, 1.0, 4, std::nan("")}, "keep probability");
  rejects({0.0, 1.0, 4, 0.5}, "clip range c > 0");
  rejects({1.0, INFINITY, 4, 0.5}, "margin");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ops_privacy_pbm)

BOOST_AUTO_TEST_CASE(pmf_is_the_binomial_and_the_decoder_is_exactly_unbiased) {
  for (int m : {1, 4, 16, 64})
    for (double theta : {0.05, 0.25, 0.5}) {
      const pv::PbmParams p{2.0, theta, m};
      for (double x : inputs_over(2.0, 21)) {
        const std::vector<double> pmf = pv::pbm_pmf(p, x);
        BOOST_REQUIRE_EQUAL(pmf.size(), size_t(m + 1));
        const double success = 0.5 + theta * x / 2.0;
        double total = 0, mean = 0;
        for (int z = 0; z <= m; ++z) {
          const double reference =
              success <= 0 || success >= 1
                  ? (z == (success <= 0 ? 0 : m) ? 1.0 : 0.0)
                  : boost::math::pdf(boost::math::binomial(m, success), double(z));
          BOOST_TEST(std::abs(pmf[z] - reference) < 1e-13);
          total += pmf[z];
          mean += pmf[z] * pv::pbm_decode(p, z);
        }
        BOOST_TEST(std::abs(total - 1) < 1e-12);
        BOOST_TEST(std::abs(mean - x) < 1e-12, "m " << m << " theta " << theta << " x " << x);
      }
    }
}

BOOST_AUTO_TEST_CASE(sampler_matches_the_pmf_and_the_aggregate_decoder_is_the_mean) {
  std::mt19937_64 rng(4242);
  const pv::PbmParams p{1.0, 0.3, 12};
  for (double x : {-1.0, -0.2, 0.0, 0.55, 1.0}) BOOST_TEST_CONTEXT("x " << x) {
      check_sampler(
          pv::pbm_pmf(p, x), x, 100000, [&] { return pv::pbm_sample(p, x, rng); },
          [&](int z) { return pv::pbm_decode(p, z); });
    }
  for (int clients : {1, 3, 100}) {
    int64_t sum = 0;
    double decoded = 0;
    for (int i = 0; i < clients; ++i) {
      const int z = pv::pbm_sample(p, 0.1 * i - 0.5, rng);
      sum += z;
      decoded += pv::pbm_decode(p, z);
    }
    BOOST_TEST(std::abs(pv::pbm_decode_mean(p, sum, clients) - decoded / clients) < 1e-12);
  }
}

BOOST_AUTO_TEST_CASE(invalid_params_are_rejected) {
  BOOST_CHECK_THROW(pv::validate(pv::PbmParams{1.0, 0.0, 4}), RunError);
  BOOST_CHECK_THROW(pv::validate(pv::PbmParams{1.0, 0.6, 4}), RunError);
  BOOST_CHECK_THROW(pv::validate(pv::PbmParams{1.0, 0.2, 0}), RunError);
  BOOST_CHECK_THROW(pv::validate(pv::PbmParams{-1.0, 0.2, 4}), RunError);
  BOOST_CHECK_THROW(pv::pbm_decode(pv::PbmParams{1.0, 0.2, 4}, 5), RunError);
}

BOOST_AUTO_TEST_SUITE_END()
