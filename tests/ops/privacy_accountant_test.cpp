// The Rényi accountant against closed forms: Bernoulli and Gaussian divergences, RQM with two
// levels (pure epsilon = ln(1 + 2c/Delta)), PBM (m times the Bernoulli divergence), the exact
// breakpoint search against dense grids, composition, both (epsilon, delta) conversions (hand
// computed, and sound against the Gaussian mechanism's exact privacy profile), the bisections.
// Reference numbers marked [mpmath] were computed with mpmath 1.3.0 at 50 digits.
#include <algorithm>
#include <cmath>
#include <limits>

#include <boost/test/unit_test.hpp>

#include "common/error.h"
#include "ops/certify/stats.h"
#include "ops/privacy/accountant.h"

namespace pv = flowlab::ops::privacy;
using flowlab::RunError;

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// D_alpha(Bern(p) || Bern(p')) = log(p^a p'^(1-a) + (1-p)^a (1-p')^(1-a)) / (a - 1), the two
// terms taken in logs so that large orders do not overflow.
double bernoulli_divergence(double p, double p_prime, double alpha) {
  const double one = alpha * std::log(p) + (1 - alpha) * std::log(p_prime);
  const double zero = alpha * std::log1p(-p) + (1 - alpha) * std::log1p(-p_prime);
  const double high = std::max(one, zero), low = std::min(one, zero);
  return (high + std::log1p(std::exp(low - high))) / (alpha - 1);
}

pv::Mechanism rqm(const pv::RqmParams& p) {
  return [p](double x) { return pv::rqm_pmf(p, x); };
}

// Balle and Wang 2018, Thm. 8: the exact delta(epsilon) of the Gaussian mechanism with l2
// sensitivity s and noise sigma.
double gaussian_exact_delta(double epsilon, double sensitivity, double sigma) {
  using flowlab::ops::certify::normal_cdf;
  const double a = sensitivity / (2 * sigma), b = epsilon * sigma / sensitivity;
  return normal_cdf(a - b) - std::exp(epsilon) * normal_cdf(-a - b);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ops_privacy_accountant)

BOOST_AUTO_TEST_CASE(renyi_divergence_matches_closed_forms) {
  for (double alpha : {1.5, 2.0, 7.0, 100.0}) {
    BOOST_TEST(std::abs(pv::renyi_divergence({0.3, 0.7}, {0.6, 0.4}, alpha) -
                        bernoulli_divergence(0.7, 0.4, alpha)) < 1e-13);
    BOOST_TEST(pv::renyi_divergence({0.2, 0.5, 0.3}, {0.2, 0.5, 0.3}, alpha) == 0.0);
    // Q has a zero where P does not: infinite; the reverse is finite.
    BOOST_TEST(pv::renyi_divergence({0.5, 0.5}, {1.0, 0.0}, alpha) == kInfinity);
    BOOST_TEST(std::isfinite(pv::renyi_divergence({1.0, 0.0}, {0.5, 0.5}, alpha)));
    BOOST_TEST(std::abs(pv::renyi_divergence({1.0, 0.0}, {0.5, 0.5}, alpha) - std::log(2.0)) <
               1e-15);
  }
  // Order infinity: the largest log ratio over P's support.
  BOOST_TEST(std::abs(pv::renyi_divergence({0.3, 0.7, 0.0}, {0.6, 0.1, 0.3}, kInfinity) -
                      std::log(7.0)) < 1e-14);
  // A large order, where the sum is dominated by one term (the log-sum-exp path).
  BOOST_TEST(std::abs(pv::renyi_divergence({1e-3, 1 - 1e-3}, {0.9, 0.1}, 1000.0) -
                      (std::log(1 - 1e-3) * 1000 + std::log(0.1) * (1 - 1000.0) +
                       std::log1p(std::pow(1e-3, 1000.0) * std::pow(0.9, -999.0))) /
                          999) < 1e-12);
}

BOOST_AUTO_TEST_CASE(tiny_divergences_keep_their_relative_precision) {
  // Bern(1/2 + 1e-7) against Bern(1/2 - 1e-7) [mpmath].
  const std::vector<double> p{0.5 - 1e-7, 0.5 + 1e-7}, q{0.5 + 1e-7, 0.5 - 1e-7};
  BOOST_TEST(pv::renyi_divergence(p, q, 2.0) == 1.599999999999936e-13,
             boost::test_tools::tolerance(1e-6));
  BOOST_TEST(pv::renyi_divergence(p, q, 8.0) == 6.399999999990528e-13,
             boost::test_tools::tolerance(1e-6));
  BOOST_TEST(pv::renyi_divergence(p, q, 1.5) == 1.199999999999992e-13,
             boost::test_tools::tolerance(1e-6));
}

BOOST_AUTO_TEST_CASE(renyi_divergence_rejects_bad_input) {
  BOOST_CHECK_THROW(pv::renyi_divergence({0.5, 0.5}, {0.5, 0.5}, 1.0), RunError);
  BOOST_CHECK_THROW(pv::renyi_divergence({0.5, 0.5}, {0.5, 0.5}, 0.5), RunError);
  BOOST_CHECK_THROW(pv::renyi_divergence({0.5, 0.5}, {0.5, 0.25, 0.25}, 2.0), RunError);
  BOOST_CHECK_THROW(pv::renyi_divergence({0.5, 0.6}, {0.5, 0.5}, 2.0), RunError);
  BOOST_CHECK_THROW(pv::renyi_divergence({1.5, -0.5}, {0.5, 0.5}, 2.0), RunError);
}

BOOST_AUTO_TEST_CASE(gaussian_rdp_is_the_closed_form_and_the_discretised_divergence) {
  const double clip = 1.0, sigma = 2.0;
  const std::vector<double> orders{1.5, 2.0, 4.0, 8.0};
  const pv::RdpCurve curve = pv::gaussian_rdp(clip, sigma, orders);
  for (size_t k = 0; k < orders.size(); ++k)
    BOOST_TEST(curve.epsilons[k] == orders[k] * 4 * clip * clip / (2 * sigma * sigma),
               boost::test_tools::tolerance(1e-15));
  // N(0, sigma^2) against N(2c, sigma^2) on a fine grid: Riemann sums of Gaussians converge
  // fast, so the discrete divergence matches the closed form closely.
  std::vector<double> p, q;
  double p_total = 0, q_total = 0;
  for (double x = -40; x <= 42; x += 0.01) {
    p.push_back(std::exp(-x * x / (2 * sigma * sigma)));
    q.push_back(std::exp(-(x - 2 * clip) * (x - 2 * clip) / (2 * sigma * sigma)));
    p_total += p.back();
    q_total += q.back();
  }
  for (double& v : p) v /= p_total;
  for (double& v : q) v /= q_total;
  for (size_t k = 0; k < orders.size(); ++k)
    BOOST_TEST(pv::renyi_divergence(p, q, orders[k]) == curve.epsilons[k],
               boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(two_levels_give_pure_epsilon_log_one_plus_two_c_over_delta) {
  for (double clip : {1.0, 0.3})
    for (double margin : {0.05, 0.5, 1.0, 4.0}) {
      const pv::RqmParams params{clip, margin, 2, 0.5};
      const double epsilon = std::log(1 + 2 * clip / margin);
      // Pure DP (order infinity), on the exact breakpoints and on a grid scan.
      const pv::WorstPair exact =
          pv::worst_pairs(rqm(params), pv::rqm_breakpoints(params), {kInfinity}).front();
      BOOST_TEST(std::abs(exact.divergence - epsilon) < 1e-12);
      const pv::WorstPair scanned = pv::worst_pair(rqm(params), clip, kInfinity, 51);
      BOOST_TEST(std::abs(scanned.divergence - epsilon) < 1e-12);
      BOOST_TEST(std::abs(scanned.x) == clip);
      BOOST_TEST(scanned.x_prime == -scanned.x);
      // Finite orders: the Bernoulli closed form, rising towards epsilon from below, within
      // epsilon + log(p) / (alpha - 1) <= D_alpha <= epsilon (p = P_c(top)).
      const double top = (2 * clip + margin) / (2 * (clip + margin));
      const std::vector<double> orders{2, 64, 256, 1024, 4096};
      const pv::RdpCurve curve = pv::rqm_rdp(params, orders);
      for (size_t k = 0; k < orders.size(); ++k) {
        const double alpha = orders[k];
        BOOST_TEST(curve.epsilons[k] == bernoulli_divergence(top, 1 - top, alpha),
                   boost::test_tools::tolerance(1e-11));
        BOOST_TEST(curve.epsilons[k] <= epsilon + 1e-12);
        BOOST_TEST(curve.epsilons[k] >= epsilon + std::log(top) / (alpha - 1) - 1e-12);
        if (k > 0) BOOST_TEST(curve.epsilons[k] > curve.epsilons[k - 1]);
      }
      BOOST_TEST(epsilon - curve.epsilons.back() < 1e-3);
      // Pure DP converts to itself whatever delta.
      BOOST_TEST(pv::rdp_to_dp(pv::rqm_rdp(params, {kInfinity}), 1e-5).epsilon == exact.divergence);
    }
}

BOOST_AUTO_TEST_CASE(epsilon_falls_as_the_margin_grows_and_is_finite_only_for_a_margin) {
  const pv::LocalAccounting run{100, 10, 1e-5};
  for (int m : {2, 3, 5, 16})
    for (double q : {0.25, 0.5, 0.75}) {
      pv::RdpCurve previous;
      double previous_epsilon = kInfinity;
      for (double margin = 0.05; margin < 25; margin *= 2) {
        const pv::RqmParams params{1.0, margin, m, q};
        const pv::RdpCurve curve = pv::rqm_rdp(params);
        const double epsilon = pv::rqm_epsilon(params, run).epsilon;
        BOOST_TEST(std::isfinite(epsilon));
        BOOST_TEST(epsilon < previous_epsilon, "m " << m << " q " << q << " margin " << margin);
        for (size_t k = 0; k < curve.epsilons.size() && !previous.epsilons.empty(); ++k)
          BOOST_TEST(curve.epsilons[k] < previous.epsilons[k], "m " << m << " q " << q << " margin "
                                                                    << margin << " order "
                                                                    << curve.orders[k]);
        previous = curve;
        previous_epsilon = epsilon;
      }
      // As the margin vanishes the top level is reached only from x = c: epsilon blows up.
      BOOST_TEST(pv::rqm_rdp({1.0, 1e-9, m, q}, {2.0}).epsilons[0] > 15);
      BOOST_CHECK_THROW(pv::rqm_rdp({1.0, 0.0, m, q}), RunError);
    }
}

BOOST_AUTO_TEST_CASE(keeping_every_level_without_subsampling_is_not_private) {
  // q = 1, m = 3: x = c rounds between levels 1 and 2, x = -c between 0 and 1.
  BOOST_TEST(pv::rqm_rdp({1.0, 0.5, 3, 1.0}, {2.0}).epsilons[0] == kInfinity);
  BOOST_TEST(std::isinf(pv::rqm_epsilon({1.0, 0.5, 3, 1.0}, {}).epsilon));
}

BOOST_AUTO_TEST_CASE(the_breakpoint_search_is_exact_against_dense_grids) {
  // P_x is piecewise linear in x, so no input between breakpoints can beat them; a grid that
  // contains the breakpoints finds the same value.
  const std::vector<double> orders{1.5, 2.0, 8.0, 64.0};
  for (const pv::RqmParams& params : std::vector<pv::RqmParams>{
           {1.0, 0.3, 5, 0.5}, {1.0, 2.0, 16, 0.3}, {1.0, 0.05, 9, 0.75}, {0.5, 0.5, 4, 0.5}}) {
    const pv::RdpCurve exact = pv::rqm_rdp(params, orders);
    const std::vector<pv::WorstPair> dense =
        pv::worst_pairs(rqm(params), pv::scan_inputs(params.clip, 301), orders);
    const std::vector<pv::WorstPair> with_breakpoints = pv::worst_pairs(
        rqm(params), pv::scan_inputs(params.clip, 41, pv::rqm_breakpoints(params)), orders);
    for (size_t k = 0; k < orders.size(); ++k) {
      BOOST_TEST(dense[k].divergence <= exact.epsilons[k] * (1 + 1e-12));
      BOOST_TEST(with_breakpoints[k].divergence == exact.epsilons[k],
                 boost::test_tools::tolerance(1e-12));
    }
  }
}

BOOST_AUTO_TEST_CASE(the_endpoints_are_not_always_the_worst_pair) {
  // m = 16, q = 0.1, c = Delta = 1, order 20: the level B(4) = -14/15 against c beats -c
  // against c, so a check of the endpoints alone would understate the RDP.
  const pv::RqmParams params{1.0, 1.0, 16, 0.1};
  const pv::WorstPair worst =
      pv::worst_pairs(rqm(params), pv::rqm_breakpoints(params), {20.0}).front();
  const double endpoints =
      std::max(pv::renyi_divergence(pv::rqm_pmf(params, 1.0), pv::rqm_pmf(params, -1.0), 20.0),
               pv::renyi_divergence(pv::rqm_pmf(params, -1.0), pv::rqm_pmf(params, 1.0), 20.0));
  BOOST_TEST(std::abs(worst.x + 14.0 / 15) < 1e-12);
  BOOST_TEST(worst.x_prime == 1.0);
  BOOST_TEST(worst.divergence > 1.005 * endpoints);
  BOOST_TEST(pv::rqm_rdp(params, {20.0}).epsilons[0] == worst.divergence);
}

BOOST_AUTO_TEST_CASE(scan_inputs_keep_both_endpoints) {
  const std::vector<double> inputs = pv::scan_inputs(0.7, 8, {0.05, 5.0, 0.05});
  BOOST_TEST(inputs.front() == -0.7);
  BOOST_TEST(inputs.back() == 0.7);
  BOOST_TEST(inputs.size() == 9u);  // 8 grid points + 0.05; 5.0 clips onto 0.7
  BOOST_CHECK_THROW(pv::scan_inputs(1.0, 1), RunError);
}

BOOST_AUTO_TEST_CASE(pbm_divergence_is_m_times_the_bernoulli_divergence_at_the_endpoints) {
  const std::vector<double> orders{1.5, 2.0, 10.0, 100.0};
  for (int m : {1, 8, 32})
    for (double theta : {0.1, 0.3}) {
      const pv::PbmParams params{1.5, theta, m};
      const std::vector<pv::WorstPair> scanned = pv::worst_pairs(
          [&](double x) { return pv::pbm_pmf(params, x); }, pv::scan_inputs(1.5, 41), orders);
      const pv::RdpCurve closed = pv::pbm_rdp(params, orders);
      for (size_t k = 0; k < orders.size(); ++k) {
        const double expected = m * bernoulli_divergence(0.5 + theta, 0.5 - theta, orders[k]);
        BOOST_TEST(scanned[k].divergence == expected, boost::test_tools::tolerance(1e-10));
        BOOST_TEST(closed.epsilons[k] == expected, boost::test_tools::tolerance(1e-12));
        BOOST_TEST(std::abs(scanned[k].x) == 1.5);
        BOOST_TEST(scanned[k].x_prime == -scanned[k].x);
      }
    }
  // theta = 1/2 reaches p = 0 and 1: no privacy.
  BOOST_TEST(pv::pbm_rdp({1.0, 0.5, 4}, {2.0}).epsilons[0] == kInfinity);
}

BOOST_AUTO_TEST_CASE(composition_adds_rdp) {
  const pv::RdpCurve a{{2.0, 4.0}, {0.1, 0.3}}, b{{2.0, 4.0}, {0.05, 1.0}};
  const pv::RdpCurve seven = pv::compose(a, 7);
  BOOST_TEST(seven.epsilons[0] == 0.7, boost::test_tools::tolerance(1e-15));
  BOOST_TEST(seven.epsilons[1] == 2.1, boost::test_tools::tolerance(1e-15));
  const pv::RdpCurve sum = pv::compose(std::vector<pv::RdpCurve>{a, b, a});
  BOOST_TEST(sum.epsilons[0] == 0.25, boost::test_tools::tolerance(1e-15));
  BOOST_TEST(sum.epsilons[1] == 1.6, boost::test_tools::tolerance(1e-15));
  BOOST_CHECK_THROW(pv::compose(std::vector<pv::RdpCurve>{a, {{2.0, 5.0}, {0.1, 0.1}}}), RunError);
  // A run: d coordinates times R rounds of the per-coordinate curve.
  const pv::RqmParams params{1.0, 1.0, 16, 0.5};
  const pv::LocalAccounting run{1000, 20, 1e-6};
  const pv::DpGuarantee direct = pv::rqm_epsilon(params, run);
  const pv::DpGuarantee by_hand =
      pv::rdp_to_dp(pv::compose(pv::rqm_rdp(params), 20000.0), 1e-6, pv::RdpConversion::improved);
  BOOST_TEST(direct.epsilon == by_hand.epsilon);
  BOOST_TEST(direct.order == by_hand.order);
}

BOOST_AUTO_TEST_CASE(conversions_match_hand_computed_values) {
  // Standard conversion of eps_alpha = alpha / 2 at delta = e^-4.5:
  // min_alpha alpha/2 + 4.5/(alpha - 1) is at alpha = 1 + sqrt(9) = 4 (in the default list),
  // where it is 2 + 1.5 = 3.5.
  pv::RdpCurve linear{pv::default_orders(), {}};
  for (double order : linear.orders) linear.epsilons.push_back(order / 2);
  const pv::DpGuarantee standard =
      pv::rdp_to_dp(linear, std::exp(-4.5), pv::RdpConversion::standard);
  BOOST_TEST(standard.epsilon == 3.5, boost::test_tools::tolerance(1e-14));
  BOOST_TEST(standard.order == 4.0);
  // Improved conversion at one order: 2 + log(3/4) - (log delta + log 4) / 3 [mpmath].
  const pv::DpGuarantee improved =
      pv::rdp_to_dp({{4.0}, {2.0}}, std::exp(-4.5), pv::RdpConversion::improved);
  BOOST_TEST(improved.epsilon == 2.7502198071749222, boost::test_tools::tolerance(1e-14));
  BOOST_TEST(pv::rdp_to_dp(linear, std::exp(-4.5)).epsilon < standard.epsilon);
  // Clamped at 0; infinite when every order is.
  BOOST_TEST(pv::rdp_to_dp({{4.0}, {1e-6}}, 0.5).epsilon == 0.0);
  BOOST_TEST(pv::rdp_to_dp({{2.0, 4.0}, {kInfinity, kInfinity}}, 1e-5).epsilon == kInfinity);
  BOOST_CHECK_THROW(pv::rdp_to_dp(linear, 0.0), RunError);
  BOOST_CHECK_THROW(pv::rdp_to_dp(linear, 1.0), RunError);
  BOOST_CHECK_THROW(pv::rdp_to_dp({{2.0}, {-0.1}}, 1e-5), RunError);
}

BOOST_AUTO_TEST_CASE(conversions_are_sound_for_the_gaussian_mechanism) {
  // k uses of the Gaussian mechanism with per-use sensitivity 2c are one Gaussian mechanism with
  // l2 sensitivity 2c sqrt(k): its exact delta at the converted epsilon must not exceed delta.
  // (sigma, uses) with l2 sensitivity / sigma = 0.2, 0.5, 2 and 5.
  for (auto [sigma, uses] :
       std::vector<std::pair<double, int64_t>>{{10, 1}, {4, 1}, {10, 100}, {40, 10000}})
    for (double delta : {1e-3, 1e-5, 1e-8}) {
      const pv::LocalAccounting run{uses, 1, delta};
      pv::LocalAccounting standard_run = run;
      standard_run.conversion = pv::RdpConversion::standard;
      const double improved = pv::gaussian_epsilon(1.0, sigma, run).epsilon;
      const double standard = pv::gaussian_epsilon(1.0, sigma, standard_run).epsilon;
      BOOST_TEST(improved <= standard);
      const double sensitivity = 2.0 * std::sqrt(double(uses));
      BOOST_TEST(gaussian_exact_delta(improved, sensitivity, sigma) <= delta * (1 + 1e-9),
                 "sigma " << sigma << " uses " << uses << " delta " << delta);
      BOOST_TEST(gaussian_exact_delta(standard, sensitivity, sigma) <= delta * (1 + 1e-9));
    }
}

BOOST_AUTO_TEST_CASE(bisections_hit_their_target) {
  const pv::LocalAccounting run{100, 10, 1e-5};
  for (double target : {0.5, 2.0, 8.0}) {
    const double sigma = pv::gaussian_sigma_for_epsilon(1.0, target, run);
    const double reached = pv::gaussian_epsilon(1.0, sigma, run).epsilon;
    BOOST_TEST(reached <= target);
    BOOST_TEST(reached >= target - 1e-6);

    const pv::RqmParams rqm_params{1.0, 1.0, 16, 0.5};
    const double margin = pv::rqm_margin_for_epsilon(rqm_params, target, run);
    pv::RqmParams solved = rqm_params;
    solved.margin = margin;
    const double rqm_reached = pv::rqm_epsilon(solved, run).epsilon;
    BOOST_TEST(rqm_reached <= target);
    BOOST_TEST(rqm_reached >= target - 1e-6);

    const pv::PbmParams pbm_params{1.0, 0.25, 16};
    const double theta = pv::pbm_theta_for_epsilon(pbm_params, target, run);
    BOOST_TEST((theta > 0 && theta <= 0.5));
    const double pbm_reached = pv::pbm_epsilon({1.0, theta, 16}, run).epsilon;
    BOOST_TEST(pbm_reached <= target);
    BOOST_TEST(pbm_reached >= target - 1e-6);
  }
}

BOOST_AUTO_TEST_CASE(bisections_match_closed_forms) {
  // One order, standard conversion: alpha k (2c)^2 / (2 sigma^2) + log(1/delta)/(alpha - 1) = t.
  pv::LocalAccounting run{1000, 1, 1e-5, pv::RdpConversion::standard, {8.0}};
  const double target = 4.0;
  const double sigma = pv::gaussian_sigma_for_epsilon(1.0, target, run, 1e-10);
  const double expected = std::sqrt(8.0 * 1000 * 4 / (2 * (target - std::log(1e5) / 7)));
  BOOST_TEST(sigma == expected, boost::test_tools::tolerance(1e-8));
  // Pure DP of two-level RQM for one coordinate: ln(1 + 2c/Delta) = t at Delta = 2c/(e^t - 1).
  pv::LocalAccounting pure{1, 1, 1e-5, pv::RdpConversion::improved, {kInfinity}};
  for (double t : {0.5, 1.0, 3.0}) {
    const double margin = pv::rqm_margin_for_epsilon({0.7, 1.0, 2, 0.5}, t, pure, 1e-11);
    BOOST_TEST(margin == 2 * 0.7 / std::expm1(t), boost::test_tools::tolerance(1e-9));
  }
}

BOOST_AUTO_TEST_CASE(unreachable_targets_are_reported) {
  const pv::LocalAccounting run{100, 10, 1e-5};
  BOOST_CHECK_EXCEPTION(
      pv::gaussian_sigma_for_epsilon(1.0, 1e-3, run), RunError, [](const RunError& e) {
        return std::string(e.what()).find("the conversion alone spends") != std::string::npos;
      });
  BOOST_CHECK_THROW(pv::rqm_margin_for_epsilon({1.0, 1.0, 16, 0.5}, 1e-3, run), RunError);
  BOOST_CHECK_THROW(pv::gaussian_sigma_for_epsilon(1.0, -1.0, run), RunError);
}

BOOST_AUTO_TEST_SUITE_END()
