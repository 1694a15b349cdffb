// Dual randomized smoothing against its closed form: for two half-space classifiers, one per
// checkerboard half, the smoothed dual classifier's exact robust radius is (d_l + d_r)/sqrt(2)
// (d_i = signed distance of the half to its hyperplane). The certificate must stay below it in at
// least 1 - alpha of the trials, approach it for large n, and the published sqrt(R_l^2 + R_r^2)
// (or clamping a negative branch to 0) must be seen to overshoot it.
#include <cmath>

#include <boost/test/unit_test.hpp>
#include <torch/torch.h>

#include "ops/certify/dual.h"
#include "ops/certify/stats.h"
#include "ops/classifier.h"
#include "ops/register.h"

namespace cs = flowlab::ops::certify;
namespace tt = boost::test_tools;

namespace {

struct HalfSpace {
  torch::Tensor w;  // [1, 4, 4], zero outside its half
  double b;
  cs::LogitsFn classifier() const {
    auto weights = w;
    double bias = b;
    return [weights, bias](const at::Tensor& batch) {
      auto score = (batch * weights).sum({1, 2, 3}) + bias;
      return torch::stack({torch::zeros_like(score), score}, 1);
    };
  }
  double distance(const torch::Tensor& x) const {
    return ((x * w).sum().item<double>() + b) / w.norm().item<double>();
  }
};

// A half-space on `half` whose signed distance from x is `d`.
HalfSpace half_space(const std::string& half, const torch::Tensor& x, double d, int seed) {
  torch::manual_seed(seed);
  auto mask = flowlab::ops::checkerboard_mask(half, 4, 4).view({1, 4, 4});
  auto w = torch::randn({1, 4, 4}) * mask;
  double b = d * w.norm().item<double>() - (x * w).sum().item<double>();
  return {w, b};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ops_certify_dual)

BOOST_AUTO_TEST_CASE(checkerboard_halves_partition_the_image) {
  auto odd = flowlab::ops::checkerboard_mask("odd", 28, 28);
  auto even = flowlab::ops::checkerboard_mask("even", 28, 28);
  BOOST_TEST((odd + even).eq(1).all().item<bool>());
  BOOST_TEST(odd.sum().item<double>() == 392.0);
  BOOST_TEST(odd[0][0][0][1].item<float>() == 1.0f);  // (0, 1): i + j odd
  BOOST_TEST(odd[0][0][1][1].item<float>() == 0.0f);
  BOOST_CHECK_THROW(flowlab::ops::checkerboard_mask("diagonal", 4, 4), std::exception);
}

BOOST_AUTO_TEST_CASE(certified_radius_never_exceeds_the_exact_dual_radius) {
  const double sigma = 0.5;
  auto x = torch::rand({1, 4, 4});
  // (d_l, d_r) in units of sigma: unequal halves, a negative half, equal halves.
  for (auto [dl, dr] :
       std::vector<std::pair<double, double>>{{2.0, 0.5}, {2.0, -0.3}, {1.0, 1.0}}) {
    auto left = half_space("odd", x, dl * sigma, 1), right = half_space("even", x, dr * sigma, 2);
    BOOST_REQUIRE_CLOSE(left.distance(x), dl * sigma, 1e-3);
    const double true_radius = (left.distance(x) + right.distance(x)) / std::sqrt(2.0);
    cs::SmoothingOptions o;
    o.sigma = sigma, o.n0 = 20, o.n = 300, o.alpha = 0.01, o.batch_size = 320;
    int violations = 0;
    const int trials = 200;
    for (int t = 0; t < trials; ++t) {
      auto gen = at::detail::createCPUGenerator(100 + t);
      auto c = cs::dual_certify(left.classifier(), right.classifier(), x, 2, o, gen);
      if (c.prediction != cs::kAbstain) violations += c.prediction != 1 || c.radius >= true_radius;
    }
    // alpha = 0.01: 2 expected of 200; more than 10 has probability below 1e-4.
    BOOST_TEST(violations <= 10, "d_l=" << dl << " d_r=" << dr);

    o.n = 100000, o.n0 = 100, o.alpha = 0.001, o.batch_size = 10000;
    auto gen = at::detail::createCPUGenerator(7);
    auto c = cs::dual_certify(left.classifier(), right.classifier(), x, 2, o, gen);
    BOOST_TEST(c.prediction == 1);
    BOOST_TEST(c.radius < true_radius);
    BOOST_TEST(c.radius > 0.93 * true_radius, "d_l=" << dl << " d_r=" << dr);
    BOOST_TEST(c.radius == (c.radius_l + c.radius_r) / std::sqrt(2.0), tt::tolerance(1e-12));
    // Each branch bound is at alpha / 2.
    BOOST_TEST(c.p_lower_l == cs::clopper_pearson_lower(c.count_l, o.n, o.alpha / 2),
               tt::tolerance(1e-14));
    if (dl != dr) {
      // What the unsound variants would certify on the same counts: beyond the exact radius.
      double root_sum_squares = std::sqrt(c.radius_l * c.radius_l + c.radius_r * c.radius_r);
      double clamped = (std::max(c.radius_l, 0.0) + std::max(c.radius_r, 0.0)) / std::sqrt(2.0);
      BOOST_TEST((root_sum_squares > true_radius || clamped > true_radius),
                 "d_l=" << dl << " d_r=" << dr);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_half_model_ignores_the_other_half_of_its_input) {
  // Dual smoothing's independence of the two branches rests on this: a model trained on the odd
  // squares gives the same logits whatever the even squares hold, and vice versa.
  flowlab::Registry registry;
  flowlab::ops::register_ops(registry);
  flowlab::ops::ModelRecord record;
  record.family = "classifier";
  record.arch = "linear";
  record.input.shape = {1, 6, 6};
  record.input.outputs = 3;
  torch::manual_seed(3);
  const auto x = torch::rand({5, 1, 6, 6});
  for (const char* half : {"odd", "even"}) {
    flowlab::ops::Standardization s;
    s.mean = 0.3, s.std = 0.4, s.input_mask = half;
    flowlab::ops::Classifier model(record, s, registry);
    const auto other = 1 - flowlab::ops::checkerboard_mask(half, 6, 6).view({1, 1, 6, 6});
    const auto changed = x + other * torch::randn({5, 1, 6, 6});  // only the other half
    BOOST_TEST(torch::equal(model.forward(x), model.forward(changed)), half);
    const auto own = x + (1 - other) * 0.5;  // and its own half does matter
    BOOST_TEST(!torch::equal(model.forward(x), model.forward(own)), half);
  }
}

BOOST_AUTO_TEST_CASE(both_halves_against_the_class_abstain) {
  auto x = torch::rand({1, 4, 4});
  auto left = half_space("odd", x, -0.4, 3), right = half_space("even", x, 0.1, 4);
  cs::SmoothingOptions o;
  o.sigma = 0.5, o.n = 2000;
  auto gen = at::detail::createCPUGenerator(9);
  // d_l + d_r < 0 for class 1 and the summed votes favour class 0, whose branch distances are
  // (0.4, -0.1): positive sum, so class 0 is certified with radius below (0.4 - 0.1)/sqrt(2).
  auto c = cs::dual_certify(left.classifier(), right.classifier(), x, 2, o, gen);
  // With these distances and 2,000 draws both branches' bounds are far from 1/2, so the call
  // certifies: an abstention here would be a failure, not a pass.
  BOOST_REQUIRE(c.prediction != cs::kAbstain);
  BOOST_TEST(c.prediction == 0);
  BOOST_TEST(c.radius > 0);
  BOOST_TEST(c.radius < 0.3 / std::sqrt(2.0));
}

BOOST_AUTO_TEST_SUITE_END()
