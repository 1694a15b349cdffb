// rRCM's contrastive pieces against mathematics: InfoNCE equals a brute-force double loop of
// -log(exp(s_ii / tau) / Σ_j exp(s_ij / tau)) over cosine similarities, its closed form for
// orthonormal pairs, its invariance to the rows' lengths, and its gradient against finite
// differences; the Karras grid runs from t_max to t_min by the formula, and the nearest grid
// point is the closest one.
#include <cmath>

#include <boost/test/unit_test.hpp>
#include <torch/torch.h>

#include "ops/rrcm/contrastive.h"

namespace rc = flowlab::ops::rrcm;

BOOST_AUTO_TEST_SUITE(rrcm_contrastive)

BOOST_AUTO_TEST_CASE(info_nce_equals_a_brute_force_loop_and_its_closed_form) {
  torch::manual_seed(1);
  const auto q = torch::randn({5, 3}, torch::kDouble), k = torch::randn({5, 3}, torch::kDouble);
  const double tau = 0.2;
  double brute = 0;
  for (int i = 0; i < 5; ++i) {
    std::vector<double> s(5);
    for (int j = 0; j < 5; ++j)
      s[j] = (q[i] * k[j]).sum().item<double>() /
             (q[i].norm().item<double>() * k[j].norm().item<double>()) / tau;
    double denom = 0;
    for (double x : s) denom += std::exp(x);
    brute += -std::log(std::exp(s[i]) / denom) / 5;
  }
  BOOST_TEST(rc::info_nce(q, k, tau).item<double>() == brute, boost::test_tools::tolerance(1e-12));
  // Lengths do not matter (rows are normalized).
  BOOST_TEST(rc::info_nce(q * 3.0, k * 0.5, tau).item<double>() == brute,
             boost::test_tools::tolerance(1e-12));
  // Orthonormal positives: log(1 + (B - 1) e^(-1/tau)).
  const auto eye = torch::eye(4, torch::kDouble);
  BOOST_TEST(rc::info_nce(eye, eye, tau).item<double>() == std::log(1 + 3 * std::exp(-1 / tau)),
             boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(info_nce_gradient_matches_finite_differences) {
  torch::manual_seed(2);
  auto q = torch::randn({4, 3}, torch::kDouble).requires_grad_(true);
  const auto k = torch::randn({4, 3}, torch::kDouble);
  rc::info_nce(q, k, 0.5).backward();
  const auto grad = q.grad().clone();
  double worst = 0;
  for (int i = 0; i < 4; ++i)
    for (int d = 0; d < 3; ++d) {
      auto plus = q.detach().clone(), minus = q.detach().clone();
      plus[i][d] += 1e-6, minus[i][d] -= 1e-6;
      const double numeric =
          (rc::info_nce(plus, k, 0.5).item<double>() - rc::info_nce(minus, k, 0.5).item<double>()) /
          2e-6;
      worst = std::max(worst, std::abs(numeric - grad[i][d].item<double>()));
    }
  BOOST_TEST(worst < 1e-7);
}

BOOST_AUTO_TEST_CASE(karras_grid_follows_its_formula_and_the_nearest_point_is_closest) {
  const auto t = rc::karras_grid(21);
  BOOST_TEST(t.front() == 80.0);
  BOOST_TEST(t.back() == 0.002);
  for (size_t k = 1; k < t.size(); ++k) BOOST_TEST(t[k] < t[k - 1]);
  const double mid = std::pow((std::pow(80.0, 1 / 7.0) + std::pow(0.002, 1 / 7.0)) / 2, 7.0);
  BOOST_TEST(t[10] == mid, boost::test_tools::tolerance(1e-12));
  for (double x : {0.0, 0.5, 1.0, 3.3, 100.0}) {
    const auto i = rc::nearest_grid_index(t, x);
    for (double y : t) BOOST_TEST(std::abs(t[size_t(i)] - x) <= std::abs(y - x));
  }
  BOOST_CHECK_THROW(rc::karras_grid(1), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
