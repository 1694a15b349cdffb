// Training noise for smoothed classifiers: exactly sigma times the generator's standard normals,
// added in [0, 1] pixel space; over 409,600 draws its mean, standard deviation and the share within
// one and two sigma are those of N(0, sigma^2) (fixed seed: deterministic, with bounds of several
// standard errors).
#include "ops/training/gaussian_augmentation.h"

#include <cmath>

#include <boost/test/unit_test.hpp>
#include <torch/torch.h>

BOOST_AUTO_TEST_SUITE(gaussian_augmentation)

BOOST_AUTO_TEST_CASE(noise_is_sigma_times_standard_normals_in_pixel_space) {
  const double sigma = 0.25;
  const auto x = torch::full({400, 1, 32, 32}, 0.5);
  auto gen = at::detail::createCPUGenerator(7);
  const auto noisy = flowlab::ops::training::add_gaussian_noise(x, sigma, gen);
  // The definition on the same draws.
  auto again = at::detail::createCPUGenerator(7);
  const auto normals = torch::randn(x.sizes(), again, torch::TensorOptions().dtype(torch::kFloat));
  BOOST_TEST(torch::allclose(noisy, x + sigma * normals, 0.0, 1e-7));
  // Its distribution: N = 409,600 draws.
  const auto e = (noisy - x).to(torch::kDouble);
  const double n = static_cast<double>(e.numel());
  const double mean = e.mean().item<double>(), sd = e.std().item<double>();
  BOOST_TEST(std::abs(mean) < 5 * sigma / std::sqrt(n));        // 5 standard errors
  BOOST_TEST(std::abs(sd / sigma - 1) < 5 / std::sqrt(2 * n));  // sd's standard error
  const double within1 = (e.abs() < sigma).to(torch::kDouble).mean().item<double>();
  const double within2 = (e.abs() < 2 * sigma).to(torch::kDouble).mean().item<double>();
  BOOST_TEST(std::abs(within1 - 0.682689) < 0.004);
  BOOST_TEST(std::abs(within2 - 0.954500) < 0.002);
  // A different seed gives different noise; sigma = 0 none at all.
  auto other = at::detail::createCPUGenerator(8);
  BOOST_TEST(!torch::equal(noisy, flowlab::ops::training::add_gaussian_noise(x, sigma, other)));
  BOOST_TEST(torch::equal(flowlab::ops::training::add_gaussian_noise(x, 0.0, other), x));
}

BOOST_AUTO_TEST_SUITE_END()
