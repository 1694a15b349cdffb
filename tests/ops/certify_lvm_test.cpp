// LVM-RS against mathematics. Simplex maps: hand-computed sparsemax vectors, agreement with an
// independent projection onto the simplex, temperature limits. Bounds: the empirical-Bernstein
// formula and its coverage, exact Clopper-Pearson values at alpha/K. Soundness: on a linear
// two-class classifier the expected soft outputs are known in closed form (or by quadrature), and
// no certificate may exceed Theorem 1's radius for them in more than alpha of the trials.
// Two-stage discipline: selection sees only the n0 selection rows, certification only the n fresh
// ones. End to end: experiments/certify_lvm_quick.yaml.
//
// Reference values computed with python3 (math, statistics.NormalDist; Clopper-Pearson by
// bisection on the exact binomial CDF), independently of Boost.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include <boost/test/unit_test.hpp>
#include <torch/torch.h>

#include "ops/certify/lvm.h"
#include "ops/certify/stats.h"
#include "tests/support/run_fixture.h"
#include "tracking/store.h"

namespace lvm = flowlab::ops::certify;
namespace tt = boost::test_tools;

namespace {

at::Tensor lvm_rows(std::vector<std::vector<double>> rows) {
  auto t = torch::empty({int64_t(rows.size()), int64_t(rows[0].size())}, torch::kFloat64);
  for (size_t r = 0; r < rows.size(); ++r)
    for (size_t c = 0; c < rows[r].size(); ++c) t[r][c] = rows[r][c];
  return t;
}

// Euclidean projection of u onto the simplex by bisection on tau in sum_i max(u_i - tau, 0) = 1
// (the sum falls from >= 1 at tau = max - 1 to 0 at tau = max): independent of the sort formula.
std::vector<double> lvm_projection_by_bisection(const std::vector<double>& u) {
  double hi = *std::max_element(u.begin(), u.end()), lo = hi - 1.0;
  for (int it = 0; it < 200; ++it) {
    double tau = 0.5 * (lo + hi), sum = 0;
    for (double v : u) sum += std::max(v - tau, 0.0);
    (sum > 1.0 ? lo : hi) = tau;
  }
  std::vector<double> out;
  for (double v : u) out.push_back(std::max(v - 0.5 * (lo + hi), 0.0));
  return out;
}

// Two classes: logits [0, w.x + b].
lvm::LogitsFn lvm_linear_logits(const torch::Tensor& w, double b) {
  return [=](const at::Tensor& batch) {
    auto score = batch.reshape({batch.size(0), -1}).to(torch::kFloat64).matmul(w) + b;
    return torch::stack({torch::zeros_like(score), score}, 1);
  };
}

double lvm_phi(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI); }

// E[h(s)] for s ~ N(s0, tau^2): composite Simpson on [-12, 12] standard deviations.
template <class H>
double lvm_gaussian_mean(H h, double s0, double tau) {
  const int m = 20000;
  const double lo = -12, step = 24.0 / m;
  double sum = 0;
  for (int i = 0; i <= m; ++i) {
    double g = lo + i * step;
    sum += lvm_phi(g) * h(s0 + tau * g) * (i == 0 || i == m ? 1 : (i % 2 ? 4 : 2));
  }
  return sum * step / 3;
}

// E[S(t z)_1] for logits z = [0, s], s ~ N(s0, tau^2): the smoothed soft classifier's probability
// of class 1, from the two-class forms of the maps (not from lvm.cpp): hardmax 1[s > 0], softmax
// logistic(t s), sparsemax clamp((1 + t s) / 2, 0, 1).
double lvm_expected_class1(lvm::SimplexMap map, double t, double s0, double tau) {
  switch (map) {
    case lvm::SimplexMap::hardmax:
      return lvm::normal_cdf(s0 / tau);
    case lvm::SimplexMap::sparsemax: {
      // Y = (1 + t s) / 2 ~ N(a, b^2): E[clamp(Y, 0, 1)] = int_0^1 Phi((a - y) / b) dy
      // = b (psi(a / b) - psi((a - 1) / b)), psi(x) = x Phi(x) + phi(x) the antiderivative of Phi.
      double a = (1 + t * s0) / 2, b = t * tau / 2;
      auto psi = [](double x) { return x * lvm::normal_cdf(x) + lvm_phi(x); };
      return b * (psi(a / b) - psi((a - 1) / b));
    }
    case lvm::SimplexMap::softmax:
      return lvm_gaussian_mean([t](double s) { return 1 / (1 + std::exp(-t * s)); }, s0, tau);
  }
  return NAN;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ops_certify_lvm)

BOOST_AUTO_TEST_CASE(sparsemax_matches_hand_computed_vectors) {
  // [0.5, 0.2, -0.1]: all three in the support, tau = (0.6 - 1) / 3 = -0.1333...
  auto a = lvm::sparsemax(lvm_rows({{0.5, 0.2, -0.1}}), 1.0);
  BOOST_TEST(a[0][0].item<double>() == 0.6 + 1.0 / 30, tt::tolerance(1e-14));
  BOOST_TEST(a[0][1].item<double>() == 1.0 / 3, tt::tolerance(1e-14));
  BOOST_TEST(a[0][2].item<double>() == 1.0 / 30, tt::tolerance(1e-14));
  // The temperature scales the logits first: 0.5 * [1, 0.4, -0.2] is the same vector.
  auto scaled = lvm::sparsemax(lvm_rows({{1.0, 0.4, -0.2}}), 0.5);
  BOOST_TEST(torch::allclose(scaled, a, 0, 1e-14));
  // [2, 0, 0]: support {0}, tau = 1.
  auto b = lvm::sparsemax(lvm_rows({{2.0, 0.0, 0.0}}), 1.0);
  BOOST_TEST(torch::equal(b, lvm_rows({{1.0, 0.0, 0.0}})));
  // [0.3, 0.3, -1, 0.1]: support {0, 1, 3} after sorting, tau = (0.7 - 1) / 3 = -0.1.
  auto c = lvm::sparsemax(lvm_rows({{0.3, 0.3, -1.0, 0.1}}), 1.0);
  BOOST_TEST(torch::allclose(c, lvm_rows({{0.4, 0.4, 0.0, 0.2}}), 0, 1e-14));
  // Ties at the top of a wide gap: split evenly.
  auto d = lvm::sparsemax(lvm_rows({{5.0, 5.0, 0.0}}), 1.0);
  BOOST_TEST(torch::allclose(d, lvm_rows({{0.5, 0.5, 0.0}}), 0, 1e-14));
}

BOOST_AUTO_TEST_CASE(sparsemax_is_the_euclidean_projection_onto_the_simplex) {
  torch::manual_seed(11);
  for (double t : {0.05, 0.7, 3.0, 40.0}) {
    auto z = torch::randn({200, 10}, torch::kFloat64) * 2.0;
    auto s = lvm::sparsemax(z, t);
    BOOST_TEST(s.min().item<double>() >= 0.0);
    BOOST_TEST((s.sum(1) - 1).abs().max().item<double>() < 1e-12);
    auto u = (z * t).contiguous();
    for (int64_t r = 0; r < z.size(0); ++r) {
      std::vector<double> row(u[r].data_ptr<double>(), u[r].data_ptr<double>() + 10);
      auto p = lvm_projection_by_bisection(row);
      for (int64_t c = 0; c < 10; ++c)
        BOOST_TEST_REQUIRE(s[r][c].item<double>() == p[c], tt::tolerance(1e-9));
    }
  }
}

BOOST_AUTO_TEST_CASE(hardmax_breaks_ties_low_and_is_the_large_temperature_limit) {
  BOOST_TEST(torch::equal(lvm::hardmax(lvm_rows({{1, 3, 3}, {2, 2, 2}, {-1, -5, 0}})),
                          lvm_rows({{0, 1, 0}, {1, 0, 0}, {0, 0, 1}})));
  torch::manual_seed(12);
  auto z = torch::randn({50, 10}, torch::kFloat64);
  auto h = lvm::hardmax(z);
  BOOST_TEST(torch::equal(h.argmax(1), z.argmax(1)));
  BOOST_TEST(torch::equal(lvm::sparsemax(z, 1e9), h));
  BOOST_TEST(torch::equal(lvm::softmax(z, 1e9), h));
  // Temperature 0 is the uniform vector for both soft maps.
  BOOST_TEST(torch::allclose(lvm::softmax(z, 1e-12), torch::full_like(z, 0.1), 0, 1e-10));
  BOOST_TEST(torch::allclose(lvm::sparsemax(z, 1e-12), torch::full_like(z, 0.1), 0, 1e-10));
}

BOOST_AUTO_TEST_CASE(softmax_rows_are_probability_vectors) {
  // softmax([0, ln 3]) = [1/4, 3/4]; at t = 2, [1, 9] / 10.
  auto z = lvm_rows({{0.0, std::log(3.0)}});
  BOOST_TEST(torch::allclose(lvm::softmax(z, 1.0), lvm_rows({{0.25, 0.75}}), 0, 1e-15));
  BOOST_TEST(torch::allclose(lvm::softmax(z, 2.0), lvm_rows({{0.1, 0.9}}), 0, 1e-15));
  torch::manual_seed(13);
  auto s = lvm::softmax(torch::randn({100, 10}) * 5, 3.0);
  BOOST_TEST(s.dtype() == torch::kFloat64);
  BOOST_TEST((s.sum(1) - 1).abs().max().item<double>() < 1e-14);
  BOOST_TEST(s.min().item<double>() >= 0.0);
}

BOOST_AUTO_TEST_CASE(bernstein_bounds_follow_maurer_pontil_at_alpha_over_k) {
  // 1000 rows [x_i, 1 - x_i], x_i = 0.3 + 0.04 ((7 i) mod 11); alpha = 0.01, K = 2, so
  // delta = 0.005 per class; python3 with math.fsum and the unbiased variance.
  auto x = (torch::arange(1000, torch::kInt64) * 7 % 11).to(torch::kFloat64) * 0.04 + 0.3;
  auto mapped = torch::stack({x, 1 - x}, 1);
  auto m = lvm::class_moments(mapped);
  BOOST_TEST(m.n == 1000);
  BOOST_TEST(m.mean[0] == 0.5000399999999999, tt::tolerance(1e-13));
  BOOST_TEST(m.variance[0] == 0.016030428828828828, tt::tolerance(1e-12));
  for (auto map : {lvm::SimplexMap::softmax, lvm::SimplexMap::sparsemax}) {
    auto b = lvm::class_bounds(map, m, 1000, 0.01);
    BOOST_TEST(b.lower[0] == 0.47218621447799886, tt::tolerance(1e-12));
    BOOST_TEST(b.upper[0] == 0.527893785522001, tt::tolerance(1e-12));
    BOOST_TEST(b.lower[1] == 0.47210621447799894, tt::tolerance(1e-12));
    BOOST_TEST(b.upper[1] == 0.5278137855220011, tt::tolerance(1e-12));
  }
  // A constant column: the variance term vanishes, 7 ln(2/delta) / (3 (n - 1)) remains, and the
  // bounds are clamped to [0, 1].
  auto zeros = lvm::class_moments(torch::stack({torch::zeros({1000}), torch::ones({1000})}, 1));
  auto b = lvm::class_bounds(lvm::SimplexMap::softmax, zeros, 1000, 0.01);
  const double slack = 7 * std::log(400.0) / (3 * 999.0);
  BOOST_TEST(b.lower[0] == 0.0);
  BOOST_TEST(b.upper[0] == slack, tt::tolerance(1e-14));
  BOOST_TEST(b.lower[1] == 1 - slack, tt::tolerance(1e-14));
  BOOST_TEST(b.upper[1] == 1.0);
}

BOOST_AUTO_TEST_CASE(bernstein_bounds_cover_the_true_mean) {
  // Three [0,1] variables with known means: U^2 (1/3), 0.2 + 0.5 Bernoulli(0.1) (0.25), U (1/2).
  // With alpha = 0.3 and K = 3 each one-sided bound may fail with probability <= 0.1.
  const int trials = 2000, n = 60;
  const double alpha = 0.3, mu[3] = {1.0 / 3, 0.25, 0.5};
  auto gen = at::detail::createCPUGenerator(5);
  auto u = torch::rand({trials, n, 3}, gen, torch::kFloat64);
  auto data = torch::stack({u.select(2, 0).square(),
                            0.2 + 0.5 * (u.select(2, 1) < 0.1).to(torch::kFloat64), u.select(2, 2)},
                           2);
  int low_fail[3] = {0, 0, 0}, high_fail[3] = {0, 0, 0}, certificate_fail = 0;
  for (int t = 0; t < trials; ++t) {
    auto b = lvm::class_bounds(lvm::SimplexMap::sparsemax, lvm::class_moments(data[t]), n, alpha);
    for (int c = 0; c < 3; ++c) {
      low_fail[c] += b.lower[c] > mu[c];
      high_fail[c] += b.upper[c] < mu[c];
    }
    // The sides one certificate with A = 2 uses: all hold together in >= 1 - alpha.
    certificate_fail += b.lower[2] > mu[2] || b.upper[0] < mu[0] || b.upper[1] < mu[1];
  }
  // Bin(2000, 0.1) exceeds 260 with probability < 1e-5; Bin(2000, 0.3) exceeds 680 likewise.
  for (int c = 0; c < 3; ++c) {
    BOOST_TEST(low_fail[c] <= 260);
    BOOST_TEST(high_fail[c] <= 260);
  }
  BOOST_TEST(certificate_fail <= 680);
}

BOOST_AUTO_TEST_CASE(hardmax_bounds_are_clopper_pearson_at_alpha_over_k) {
  // 1000 votes among K = 10 classes: 990 for class 3, 6 for class 0, 4 for class 7; alpha = 0.01
  // so alpha/K = 0.001.
  auto votes = torch::zeros({1000}, torch::kInt64);
  votes.narrow(0, 0, 990).fill_(3);
  votes.narrow(0, 990, 6).fill_(0);
  votes.narrow(0, 996, 4).fill_(7);
  auto onehot = torch::one_hot(votes, 10).to(torch::kFloat64);
  auto b = lvm::class_bounds(lvm::SimplexMap::hardmax, lvm::class_moments(onehot), 1000, 0.01);
  BOOST_TEST(b.lower[3] == 0.976036187155311, tt::tolerance(1e-12));  // certify.md section 0
  BOOST_TEST(b.upper[0] == 0.017952993395014938, tt::tolerance(1e-9));
  BOOST_TEST(b.upper[7] == 0.014714516065253813, tt::tolerance(1e-9));
  BOOST_TEST(b.upper[5] == 0.006883951579066183, tt::tolerance(1e-12));  // 1 - 0.001^(1/1000)
  const int64_t counts[10] = {6, 0, 0, 990, 0, 0, 0, 4, 0, 0};
  for (int c = 0; c < 10; ++c) {
    BOOST_TEST(b.lower[c] == lvm::clopper_pearson_lower(counts[c], 1000, 0.001));
    BOOST_TEST(b.upper[c] == lvm::clopper_pearson_upper(counts[c], 1000, 0.001));
  }
  // R = (sigma/2)(Phi^-1(0.97604) - Phi^-1(0.017953)) with the largest other upper bound.
  double expected =
      0.25 * (lvm::normal_quantile(0.976036187155311) - lvm::normal_quantile(0.017952993395014938));
  BOOST_TEST(lvm::lvm_radius(b, 3, 0.5) == expected, tt::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(the_lvm_cap_is_the_closed_form_and_below_cohens) {
  // K = 10, n = 1,000, alpha = 0.001, sigma = 0.25: Clopper-Pearson (alpha/K)^(1/n) for hardmax,
  // 1 - 7 ln(2K/alpha) / (3(n - 1)) for the empirical-Bernstein maps, sigma Phi^-1 of each.
  const double sigma = 0.25, alpha = 0.001;
  const double cp = sigma * lvm::normal_quantile(std::pow(alpha / 10, 1.0 / 1000));
  const double eb = sigma * lvm::normal_quantile(1 - 7 * std::log(2 * 10 / alpha) / (3.0 * 999));
  using M = lvm::SimplexMap;
  BOOST_TEST(lvm::lvm_max_radius({M::hardmax}, 1000, 10, alpha, sigma) == cp, tt::tolerance(1e-9));
  BOOST_TEST(lvm::lvm_max_radius({M::softmax, M::sparsemax}, 1000, 10, alpha, sigma) == eb,
             tt::tolerance(1e-9));
  BOOST_TEST(
      lvm::lvm_max_radius({M::hardmax, M::softmax}, 1000, 10, alpha, sigma) == std::max(cp, eb),
      tt::tolerance(1e-9));
  // Cohen's cap sigma Phi^-1(alpha^(1/n)) = 0.616 here; LVM pays alpha / K per class.
  const double cohen = sigma * lvm::normal_quantile(std::pow(alpha, 1.0 / 1000));
  BOOST_TEST(std::abs(cohen - 0.616) < 5e-4);
  BOOST_TEST(std::max(cp, eb) < cohen);
}

BOOST_AUTO_TEST_CASE(calibration_picks_the_best_mean_predicted_radius_not_one_images_best) {
  // Three calibration images, two candidates. Image 0 has two near-tied classes, where a soft map
  // predicts nothing and hardmax little; images 1 and 2 are confident, where the candidates
  // differ. The calibrated choice is the candidate with the largest mean of max(0, predicted
  // radius) over the three, computed here candidate by candidate.
  torch::manual_seed(4);
  std::vector<torch::Tensor> images = {torch::randn({100, 3}) * 0.1,
                                       torch::randn({100, 3}) + torch::tensor({4.0, 0.0, 0.0}),
                                       torch::randn({100, 3}) + torch::tensor({0.0, 2.5, 0.0})};
  const std::vector<lvm::LvmCandidate> candidates = {
      {lvm::SimplexMap::hardmax, std::numeric_limits<double>::infinity()},
      {lvm::SimplexMap::softmax, 0.5},
      {lvm::SimplexMap::sparsemax, 2.0}};
  std::vector<double> mean(candidates.size(), 0.0);
  for (size_t c = 0; c < candidates.size(); ++c)
    for (const auto& z : images)
      mean[c] +=
          std::max(
              0.0,
              lvm::select_lvm_candidate(z, {candidates[c]}, 1000, 0.5, 0.001).predicted_radius) /
          3;
  const auto best = size_t(std::max_element(mean.begin(), mean.end()) - mean.begin());
  const auto chosen = lvm::calibrate_lvm_candidate(images, candidates, 1000, 0.5, 0.001);
  BOOST_TEST(int(chosen.candidate.map) == int(candidates[best].map));
  BOOST_TEST(chosen.candidate.temperature == candidates[best].temperature);
  BOOST_TEST(chosen.mean_predicted_radius == mean[best], tt::tolerance(1e-12));
  for (double m : mean) BOOST_TEST(chosen.mean_predicted_radius >= m - 1e-12);
  BOOST_CHECK_THROW(lvm::calibrate_lvm_candidate({}, candidates, 1000, 0.5, 0.001),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(radius_takes_the_largest_other_upper_bound_never_a_own) {
  lvm::ClassBounds b{{0.9, 0.01, 0.0}, {0.97, 0.05, 0.02}};
  // (0.5/2)(Phi^-1(0.9) - Phi^-1(0.05)) = 0.7316012981240183 (python3 statistics.NormalDist).
  BOOST_TEST(lvm::lvm_radius(b, 0, 0.5) == 0.7316012981240183, tt::tolerance(1e-12));
  lvm::ClassBounds c{{0.6, 0.1, 0.0}, {0.7, 0.2, 0.1}};
  // (0.5/2)(Phi^-1(0.6) - Phi^-1(0.2)) = 0.2737420841771785.
  BOOST_TEST(lvm::lvm_radius(c, 0, 0.5) == 0.2737420841771785, tt::tolerance(1e-12));
  // No margin: non-positive radius; a lower bound of 0: -inf.
  BOOST_TEST(lvm::lvm_radius(lvm::ClassBounds{{0.4, 0.3}, {0.6, 0.45}}, 0, 1.0) < 0);
  BOOST_TEST(std::isinf(lvm::lvm_radius(lvm::ClassBounds{{0.0, 0.0}, {0.5, 0.5}}, 0, 1.0)));
}

BOOST_AUTO_TEST_CASE(predictor_plugs_the_selection_statistics_into_the_bounds_for_n_samples) {
  const double sigma = 0.5, alpha = 0.001;
  // 20 selection rows voting 14 / 4 / 2; the estimation rows are them tiled 50 times, so their
  // counts are the selection counts scaled to n = 1000 and the prediction is exact.
  std::vector<std::vector<double>> rows;
  for (int i = 0; i < 20; ++i)
    rows.push_back(i < 14   ? std::vector<double>{0, 0, 2}
                   : i < 18 ? std::vector<double>{2, 0, 0}
                            : std::vector<double>{0, 2, 0});
  auto sel = lvm_rows(rows), est = sel.repeat({50, 1});
  std::vector<lvm::LvmCandidate> hard = {{lvm::SimplexMap::hardmax, INFINITY}};
  auto c = lvm::certify_lvm(sel, est, hard, sigma, alpha);
  BOOST_TEST(c.selection.cls == 2);
  BOOST_TEST(c.votes == 700);
  BOOST_TEST(c.selection.predicted_radius == c.radius, tt::tolerance(1e-12));
  BOOST_TEST(c.radius > 0);
  // The predictor uses n, not n0: fewer estimation samples, smaller predicted radius.
  BOOST_TEST(lvm::select_lvm_candidate(sel, hard, 100, sigma, alpha).predicted_radius < c.radius);
  // Constant rows: zero variance in both stages, prediction exact for the soft maps too.
  auto constant = lvm_rows({{1.0, 0.2, -0.5}}).repeat({20, 1});
  for (auto map : {lvm::SimplexMap::softmax, lvm::SimplexMap::sparsemax}) {
    auto s = lvm::certify_lvm(constant, constant.repeat({50, 1}), {{map, 2.0}}, sigma, alpha);
    BOOST_TEST(s.selection.cls == 0);
    BOOST_TEST(s.selection.predicted_radius == s.radius, tt::tolerance(1e-9));
  }
  // The selection keeps the candidate with the largest predicted radius, the first on ties.
  torch::manual_seed(14);
  auto noisy = torch::randn({100, 4}, torch::kFloat64) + lvm_rows({{1.5, 0.5, 0.0, -0.5}});
  auto candidates = lvm::lvm_candidates(
      {lvm::SimplexMap::hardmax, lvm::SimplexMap::softmax, lvm::SimplexMap::sparsemax},
      {0.1, 0.3, 1.0, 3.0, 10.0});
  BOOST_TEST(candidates.size() == 11u);
  auto best = lvm::select_lvm_candidate(noisy, candidates, 10000, sigma, alpha);
  size_t first_best = 0;
  std::vector<double> predicted;
  for (const auto& cand : candidates) {
    predicted.push_back(
        lvm::select_lvm_candidate(noisy, {cand}, 10000, sigma, alpha).predicted_radius);
    if (predicted.back() > predicted[first_best]) first_best = predicted.size() - 1;
  }
  BOOST_TEST(best.predicted_radius == predicted[first_best]);
  BOOST_TEST(lvm::to_string(best.candidate.map) == lvm::to_string(candidates[first_best].map));
  BOOST_TEST(best.candidate.temperature == candidates[first_best].temperature);
  BOOST_TEST(best.cls == 0);
}

BOOST_AUTO_TEST_CASE(
    certificates_never_exceed_theorem_1_for_the_true_soft_outputs_of_a_linear_classifier) {
  // Logits [0, s] with s = w.x + b: s(x + eps) ~ N(s0, (|w| sigma)^2), so E[S(t z)] depends on s0
  // only, rises with s0 and is 1/2 at s0 = 0 (every map is monotone and symmetric in s here).
  // The smoothed soft classifier therefore predicts class 1 exactly on the side w.x + b > 0, and
  // Theorem 1 with the true expected outputs gives R* = sigma Phi^-1(E[S_1]) <= d (the distance to
  // the hyperplane, tight for hardmax). A certificate whose bounds hold is <= R*, so exceeding R*
  // (or certifying class 0) may happen in at most alpha of the trials.
  torch::manual_seed(3);
  auto w = torch::randn({10}, torch::kFloat64);
  w = w * (2.0 / w.norm().item<double>());  // |w| = 2
  auto x = torch::randn({10}, torch::kFloat64) * 0.3;
  const double sigma = 0.5, d = 0.4, alpha = 0.05;
  const double s0 = 2.0 * d, tau = 2.0 * sigma;
  const double b = s0 - x.dot(w).item<double>();
  auto f = lvm_linear_logits(w, b);

  lvm::LvmOptions o;
  o.sigma = sigma, o.n0 = 100, o.n = 2000, o.alpha = alpha, o.batch_size = 2100;
  o.candidates = lvm::lvm_candidates(
      {lvm::SimplexMap::hardmax, lvm::SimplexMap::softmax, lvm::SimplexMap::sparsemax},
      {0.1, 0.5, 2.0, 10.0});
  std::map<std::pair<lvm::SimplexMap, double>, double> true_p1, true_radius;
  for (const auto& c : o.candidates) {
    double p1 = lvm_expected_class1(c.map, c.temperature, s0, tau);
    double r = 0.5 * sigma * (lvm::normal_quantile(p1) - lvm::normal_quantile(1 - p1));
    true_p1[{c.map, c.temperature}] = p1;
    true_radius[{c.map, c.temperature}] = r;
    BOOST_TEST(r > 0);
    BOOST_TEST(r <= d + 1e-12);  // no smoothed soft classifier is more robust than the hyperplane
  }
  const double hardmax_radius = true_radius.at({lvm::SimplexMap::hardmax, INFINITY});
  BOOST_TEST(hardmax_radius == d, tt::tolerance(1e-12));
  // The quadrature used for softmax agrees with the sparsemax closed form on sparsemax's integrand.
  for (double t : {0.5, 2.0}) {
    auto clamp_h = [t](double s) { return std::clamp((1 + t * s) / 2, 0.0, 1.0); };
    BOOST_TEST(lvm_gaussian_mean(clamp_h, s0, tau) ==
                   lvm_expected_class1(lvm::SimplexMap::sparsemax, t, s0, tau),
               tt::tolerance(1e-7));
  }

  // Once with every map (hardmax, whose Clopper-Pearson bound is nearly exact, wins most often
  // here), once with the soft maps alone so that the Bernstein path is exercised too.
  const std::vector<lvm::LvmCandidate> all = o.candidates;
  const std::vector<lvm::LvmCandidate> soft(all.begin() + 1, all.end());
  for (const auto* candidates : {&all, &soft}) {
    o.candidates = *candidates;
    const int trials = 150;
    int violations = 0, bound_failures = 0, abstains = 0;
    double radius_sum = 0, true_sum = 0;
    for (int t = 0; t < trials; ++t) {
      auto gen = at::detail::createCPUGenerator(500 + t);
      auto r = lvm::certify_lvm_image(f, x, o, gen).lvm;
      const auto key = std::make_pair(r.selection.candidate.map, r.selection.candidate.temperature);
      const double p_a = r.selection.cls == 1 ? true_p1.at(key) : 1 - true_p1.at(key);
      bound_failures += r.p_lower > p_a || r.p_upper < 1 - p_a;
      if (r.prediction == lvm::kAbstain) {
        ++abstains;
        continue;
      }
      violations += r.prediction != 1 || r.radius > true_radius.at(key);
      radius_sum += r.radius;
      true_sum += true_radius.at(key);
    }
    BOOST_TEST_MESSAGE("linear classifier, "
                       << o.candidates.size() << " candidates: " << violations << " violations, "
                       << bound_failures << " bound failures, " << abstains
                       << " abstains, mean radius / Theorem-1 radius " << radius_sum / true_sum);
    // alpha = 0.05: 7.5 expected at most; P[Bin(150, 0.05) > 20] is below 1e-5.
    BOOST_TEST(violations <= 20);
    BOOST_TEST(bound_failures <= 20);
    // Power: the certificates are informative, not just small.
    BOOST_TEST(abstains <= trials / 10);
    BOOST_TEST(radius_sum > 0.6 * true_sum);
  }
}

BOOST_AUTO_TEST_CASE(selection_sees_only_the_n0_rows_and_certification_only_the_n_fresh_ones) {
  // A three-class linear classifier that records every batch it is given and what it returned.
  torch::manual_seed(21);
  auto weights = torch::randn({3, 8});
  auto x = torch::randn({8}) * 0.2;
  auto calls = std::make_shared<std::vector<at::Tensor>>();
  lvm::LogitsFn f = [weights, calls](const at::Tensor& batch) {
    auto logits = batch.reshape({batch.size(0), -1}).matmul(weights.t());
    calls->push_back(logits.clone());
    return logits;
  };
  lvm::LvmOptions o;
  o.sigma = 0.5, o.n0 = 30, o.n = 200, o.alpha = 0.01, o.batch_size = 64;
  o.candidates = lvm::lvm_candidates(
      {lvm::SimplexMap::hardmax, lvm::SimplexMap::softmax, lvm::SimplexMap::sparsemax},
      {0.2, 1.0, 5.0});
  auto gen = at::detail::createCPUGenerator(9);
  auto r = lvm::certify_lvm_image(f, x, o, gen);

  // n0 + n forward rows in all: one selection batch of 30, then 64 + 64 + 64 + 8 fresh rows.
  std::vector<int64_t> sizes;
  int64_t rows = 0;
  for (const auto& c : *calls) sizes.push_back(c.size(0)), rows += c.size(0);
  BOOST_TEST(rows == o.n0 + o.n);
  BOOST_TEST(sizes == (std::vector<int64_t>{30, 64, 64, 64, 8}), tt::per_element());
  auto selection = (*calls)[0];
  auto estimation = torch::cat(std::vector<at::Tensor>(calls->begin() + 1, calls->end()), 0);

  // The selection is a function of the first 30 rows alone ...
  auto s = lvm::select_lvm_candidate(selection, o.candidates, o.n, o.sigma, o.alpha);
  BOOST_TEST(s.cls == r.lvm.selection.cls);
  BOOST_TEST(s.candidate.temperature == r.lvm.selection.candidate.temperature);
  BOOST_TEST(s.predicted_radius == r.lvm.selection.predicted_radius);
  // ... and the bounds are those of the chosen candidate on the 200 fresh rows alone.
  const auto& cand = r.lvm.selection.candidate;
  auto b = lvm::class_bounds(
      cand.map, lvm::class_moments(lvm::apply_simplex_map(cand.map, estimation, cand.temperature)),
      o.n, o.alpha);
  BOOST_TEST(r.lvm.p_lower == b.lower[r.lvm.selection.cls]);
  BOOST_TEST(std::max(r.lvm.radius, 0.0) ==
             std::max(lvm::lvm_radius(b, r.lvm.selection.cls, o.sigma), 0.0));
  // Cohen's certificate comes from the same rows.
  auto cohen = lvm::cohen_certificate(selection, estimation, o.sigma, o.alpha);
  BOOST_TEST(cohen.count == r.cohen.count);
  BOOST_TEST(cohen.radius == r.cohen.radius);
}

BOOST_AUTO_TEST_CASE(
    the_class_chosen_on_selection_samples_is_not_revised_on_the_estimation_samples) {
  // A classifier that favours class 0 for its first n0 rows and class 1 afterwards: a procedure
  // that looked at the estimation samples to choose (or maximized over candidates there) would
  // certify class 1; the two-stage one must stick to class 0 and abstain.
  auto make = [](int64_t switch_after) {
    auto seen = std::make_shared<int64_t>(0);
    return lvm::LogitsFn([seen, switch_after](const at::Tensor& batch) {
      auto logits = torch::zeros({batch.size(0), 3});
      for (int64_t i = 0; i < batch.size(0); ++i, ++*seen)
        logits[i][*seen < switch_after ? 0 : 1] = 4.0 + 0.5 * batch[i].flatten()[0].item<float>();
      return logits;
    });
  };
  lvm::LvmOptions o;
  o.sigma = 0.25, o.n0 = 50, o.n = 500, o.alpha = 0.001, o.batch_size = 100;
  o.candidates = lvm::lvm_candidates(
      {lvm::SimplexMap::hardmax, lvm::SimplexMap::softmax, lvm::SimplexMap::sparsemax},
      {0.1, 1.0, 10.0});
  auto x = torch::zeros({4});
  auto g1 = at::detail::createCPUGenerator(1);
  auto switched = lvm::certify_lvm_image(make(o.n0), x, o, g1);
  BOOST_TEST(switched.lvm.selection.cls == 0);
  BOOST_TEST(switched.lvm.prediction == lvm::kAbstain);
  BOOST_TEST(switched.lvm.radius == 0.0);
  BOOST_TEST(switched.cohen.prediction == lvm::kAbstain);
  BOOST_TEST(switched.cohen.count == 0);
  // Control: the same classifier without the switch certifies class 0.
  auto g2 = at::detail::createCPUGenerator(1);
  auto steady = lvm::certify_lvm_image(make(o.n0 + o.n), x, o, g2);
  BOOST_TEST(steady.lvm.prediction == 0);
  BOOST_TEST(steady.lvm.radius > 0);
  BOOST_TEST(steady.cohen.prediction == 0);
  // Different estimation samples never change the selection.
  auto sel = torch::randn({50, 3}) + torch::tensor({1.0, 0.0, 0.0});
  auto a = lvm::certify_lvm(sel, torch::randn({300, 3}), o.candidates, 0.25, 0.001);
  auto c = lvm::certify_lvm(sel, torch::randn({300, 3}) * 5 + torch::tensor({0.0, 3.0, 0.0}),
                            o.candidates, 0.25, 0.001);
  BOOST_TEST(a.selection.cls == c.selection.cls);
  BOOST_TEST(lvm::to_string(a.selection.candidate.map) ==
             lvm::to_string(c.selection.candidate.map));
  BOOST_TEST(a.selection.candidate.temperature == c.selection.candidate.temperature);
  BOOST_TEST(a.selection.predicted_radius == c.selection.predicted_radius);
}

BOOST_AUTO_TEST_CASE(cohen_certificate_from_the_shared_logits_equals_certify) {
  torch::manual_seed(31);
  auto weights = torch::randn({4, 6});
  auto x = torch::randn({6}) * 0.5;
  lvm::LogitsFn f = [weights](const at::Tensor& batch) {
    return batch.reshape({batch.size(0), -1}).matmul(weights.t());
  };
  lvm::SmoothingOptions so;
  so.sigma = 0.25, so.n0 = 100, so.n = 3000, so.alpha = 0.001, so.batch_size = 700;
  lvm::LvmOptions o;
  o.sigma = so.sigma, o.n0 = so.n0, o.n = so.n, o.alpha = so.alpha, o.batch_size = so.batch_size;
  o.candidates = lvm::lvm_candidates({lvm::SimplexMap::hardmax}, {});
  auto g1 = at::detail::createCPUGenerator(77), g2 = at::detail::createCPUGenerator(77);
  auto plain = lvm::certify(f, x, 4, so, g1);
  auto shared = lvm::certify_lvm_image(f, x, o, g2).cohen;
  BOOST_TEST(plain.prediction == shared.prediction);
  BOOST_TEST(plain.count == shared.count);
  BOOST_TEST(plain.p_lower == shared.p_lower);
  BOOST_TEST(plain.radius == shared.radius);
  BOOST_TEST(plain.prediction >= 0);
}

BOOST_AUTO_TEST_CASE(quick_lvm_run_is_consistent) {
  flowlab::testing::RunFixture fixture;
  auto r =
      fixture.run((flowlab::testing::source_dir() / "experiments/certify_lvm_quick.yaml").string());
  BOOST_REQUIRE_EQUAL(r.outcome.exit_code, 0);
  flowlab::tracking::Store store(fixture.db());
  std::map<std::string, double> m, plain;
  for (const auto& row : store.final_metrics(r.outcome.run_id)) {
    if (row.node == "certify") m[row.key] = row.value;
    if (row.node == "cohen") plain[row.key] = row.value;
  }
  BOOST_TEST(m.at("images") == 20);
  BOOST_TEST(m.at("samples_per_s") > 0);
  BOOST_TEST(
      m.at("selected.hardmax") + m.at("selected.softmax") + m.at("selected.sparsemax") == 1.0,
      tt::tolerance(1e-12));
  // Both curves never rise with the radius; the cohen.* ones are certify.smoothing's on the same
  // seed, i.e. computed from the very same noise.
  double previous = 1.0, previous_cohen = 1.0;
  for (const char* radius : {"0", "0.25", "0.5", "0.75", "1", "1.25", "1.5", "1.75", "2"}) {
    double acc = m.at(std::string("certified_accuracy@") + radius);
    double cohen = m.at(std::string("cohen.certified_accuracy@") + radius);
    BOOST_TEST(acc <= previous);
    BOOST_TEST(cohen <= previous_cohen);
    BOOST_TEST(cohen == plain.at(std::string("certified_accuracy@") + radius));
    previous = acc, previous_cohen = cohen;
  }
  BOOST_TEST(m.at("cohen.acr") == plain.at("acr"), tt::tolerance(1e-12));
  BOOST_TEST(m.at("cohen.abstain_rate") == plain.at("abstain_rate"));
  BOOST_TEST(m.at("certified_accuracy@0") > 0.3);  // a noise-trained model, far above chance
  BOOST_TEST(m.at("certified_accuracy@0") + m.at("abstain_rate") <= 1.0 + 1e-12);
  // Both capped, LVM below Cohen (alpha / K per class), as the spec's comment says.
  BOOST_TEST(
      m.at("max_radius") == lvm::lvm_max_radius({lvm::SimplexMap::hardmax, lvm::SimplexMap::softmax,
                                                 lvm::SimplexMap::sparsemax},
                                                1000, 10, 0.001, 0.25),
      tt::tolerance(1e-12));
  BOOST_TEST(m.at("max_radius") < m.at("cohen.max_radius"));

  std::string certification, selection;
  for (const auto& a : store.artifacts(r.outcome.run_id)) {
    if (a.node == "certify" && a.kind == "certification") certification = a.path;
    if (a.node == "certify" && a.kind == "lvm_selection") selection = a.path;
  }
  BOOST_REQUIRE(!certification.empty());
  BOOST_REQUIRE(!selection.empty());
  auto read_rows = [](const std::string& path, int skip) {
    std::ifstream in(path);
    std::string line;
    for (int i = 0; i < skip; ++i) std::getline(in, line);
    std::vector<std::vector<std::string>> rows;
    while (std::getline(in, line)) {
      std::stringstream s(line);
      std::vector<std::string> fields;
      for (std::string f; std::getline(s, f, ',');) fields.push_back(f);
      rows.push_back(fields);
    }
    return rows;
  };
  auto cert = read_rows(certification, 2);  // "# method=lvm ...", header
  auto sel = read_rows(selection, 1);
  BOOST_REQUIRE_EQUAL(cert.size(), 20u);
  BOOST_REQUIRE_EQUAL(sel.size(), 20u);
  double acr = 0, cohen_acr = 0;
  std::set<std::string> grid = {"0.01",    "0.01566", "0.02451", "0.03837", "0.06008",
                                "0.09406", "0.1473",  "0.2306",  "0.361",   "0.5651",
                                "0.8848",  "1.385",   "2.169",   "3.395",   "5.316",
                                "8.322",   "13.03",   "20.4",    "31.94",   "50"};
  for (size_t i = 0; i < cert.size(); ++i) {
    // certification.csv: index,label,prediction,radius,correct,...; lvm_selection.csv:
    // index,label,map,temperature,class,predicted_radius,prediction,radius,...,cohen_prediction,cohen_radius,...
    BOOST_TEST(cert[i][0] == sel[i][0]);
    BOOST_TEST(std::stod(cert[i][3]) == std::stod(sel[i][7]));
    BOOST_TEST(std::stod(cert[i][3]) <= m.at("max_radius") + 1e-12);
    acr += cert[i][4] == "1" ? std::stod(cert[i][3]) : 0.0;
    cohen_acr += sel[i][11] == sel[i][1] ? std::stod(sel[i][12]) : 0.0;
    const std::string& map = sel[i][2];
    BOOST_TEST((map == "hardmax" || map == "softmax" || map == "sparsemax"));
    BOOST_TEST((map == "hardmax" ? sel[i][3] == "inf" : grid.count(sel[i][3]) == 1));
  }
  BOOST_TEST(m.at("acr") == acr / 20, tt::tolerance(1e-9));
  BOOST_TEST(m.at("cohen.acr") == cohen_acr / 20, tt::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(fixed_selection_certifies_every_image_with_one_calibrated_candidate) {
  flowlab::testing::RunFixture fixture;
  const auto spec =
      (flowlab::testing::source_dir() / "experiments/certify_lvm_quick.yaml").string();
  auto per_input = fixture.run(spec);
  auto fixed = fixture.run(spec, {"nodes.certify.params.selection=fixed",
                                  "+nodes.certify.params.calibration_images=10"});
  BOOST_TEST_MESSAGE(fixed.err);
  BOOST_REQUIRE_EQUAL(per_input.outcome.exit_code, 0);
  BOOST_REQUIRE_EQUAL(fixed.outcome.exit_code, 0);
  flowlab::tracking::Store store(fixture.db());
  std::map<std::string, double> m, p;
  for (const auto& row : store.final_metrics(fixed.outcome.run_id))
    if (row.node == "certify") m[row.key] = row.value;
  for (const auto& row : store.final_metrics(per_input.outcome.run_id))
    if (row.node == "certify") p[row.key] = row.value;
  BOOST_TEST(m.at("calibration.images") == 10);
  BOOST_TEST(m.at("images") == 20);
  // The test images' noise is the same in both modes: Cohen's certificates are identical.
  BOOST_TEST(m.at("cohen.acr") == p.at("cohen.acr"), tt::tolerance(1e-12));
  // One map for all: its share is 1, and every row of the selection file names it.
  std::string selection;
  for (const auto& a : store.artifacts(fixed.outcome.run_id))
    if (a.node == "certify" && a.kind == "lvm_selection") selection = a.path;
  BOOST_REQUIRE(!selection.empty());
  std::ifstream in(selection);
  std::string line;
  std::getline(in, line);
  std::set<std::string> chosen;
  int rows = 0;
  while (std::getline(in, line)) {
    std::stringstream fields(line);
    std::vector<std::string> f;
    for (std::string x; std::getline(fields, x, ',');) f.push_back(x);
    chosen.insert(f.at(2) + "/" + f.at(3));
    ++rows;
  }
  BOOST_TEST(rows == 20);
  BOOST_TEST(chosen.size() == 1u);
  const auto map = lvm::to_string(static_cast<lvm::SimplexMap>(int(m.at("fixed.map"))));
  BOOST_TEST(chosen.begin()->rfind(map + "/", 0) == 0u, *chosen.begin() << " vs " << map);
  BOOST_TEST(m.at("selected." + map) == 1.0);
  // And it refuses to calibrate and certify on the same split.
  auto val =
      fixture.run(spec, {"nodes.certify.params.selection=fixed", "nodes.certify.params.split=val"});
  BOOST_TEST(val.outcome.exit_code == 1);
  BOOST_TEST(
      val.err.find("selection: fixed calibrates on the validation split") != std::string::npos,
      val.err);
}

BOOST_AUTO_TEST_SUITE_END()
