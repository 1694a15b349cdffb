// The DSD generator against its definition (moments, label and position laws, seeds), and the
// Bayes-optimal classifier against mathematics: the closed-form log-odds equals the posterior
// computed from the Gaussian likelihoods, its accuracy on fresh samples agrees with the
// Rao-Blackwellized population estimate, and for k = 1 it is Phi(1/sigma).
#include "datasets/dsd.h"

#include <cmath>

#include <boost/test/unit_test.hpp>
#include <torch/torch.h>

#include "tests/support/temp_dir.h"

namespace ds = flowlab::datasets;
namespace tt = boost::test_tools;

namespace {

double dsdt_normal_cdf(double t) { return 0.5 * std::erfc(-t / std::sqrt(2.0)); }

// Rows of x [n, k, d] at (sample, patch) where `mask` [n, k] is true, as [m, d] float64.
torch::Tensor dsdt_patches(const ds::DsdSplit& s, bool signal) {
  auto is_signal = torch::nn::functional::one_hot(s.signal_index, s.x.size(1)).to(torch::kBool);
  return s.x.to(torch::kFloat64).index({signal ? is_signal : is_signal.logical_not()});
}

// Sample covariance of the rows of p [m, d] around `mean` [d].
torch::Tensor dsdt_covariance(const torch::Tensor& p, const torch::Tensor& mean) {
  auto c = p - mean;
  return c.t().matmul(c) / static_cast<double>(p.size(0));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(datasets_dsd)

BOOST_AUTO_TEST_CASE(signal_is_a_seeded_unit_vector) {
  auto w = ds::dsd_signal(8, 3);
  BOOST_TEST(w.dtype() == torch::kFloat32);
  BOOST_TEST(w.size(0) == 8);
  BOOST_TEST(w.to(torch::kFloat64).norm().item<double>() == 1.0, tt::tolerance(1e-6));
  BOOST_TEST(torch::equal(w, ds::dsd_signal(8, 3)));
  BOOST_TEST(!torch::allclose(w, ds::dsd_signal(8, 4)));
  // Uniform on the sphere: over many seeds the mean direction is near 0 and E[w w^T] = I / d.
  std::vector<torch::Tensor> ws;
  for (uint64_t s = 0; s < 2000; ++s) ws.push_back(ds::dsd_signal(4, s).to(torch::kFloat64));
  auto all = torch::stack(ws);
  BOOST_TEST(all.mean(0).abs().max().item<double>() < 0.05);  // sd 0.5 / sqrt(2000) = 0.011
  auto second = all.t().matmul(all) / 2000.0 - torch::eye(4, torch::kFloat64) / 4.0;
  BOOST_TEST(second.abs().max().item<double>() < 0.03);  // sd about 0.2 / sqrt(2000) = 0.0045
}

BOOST_AUTO_TEST_CASE(samples_are_a_nested_stream_per_seed_and_split) {
  auto w = ds::dsd_signal(5, 0);
  auto small = ds::sample_dsd(w, 3, 0.7, 300, 9, ds::DsdStream::kTrain);
  auto large = ds::sample_dsd(w, 3, 0.7, 700, 9, ds::DsdStream::kTrain);
  BOOST_TEST((small.x.sizes() == torch::IntArrayRef{300, 3, 5}));
  BOOST_TEST(torch::equal(small.x, large.x.slice(0, 0, 300)));
  BOOST_TEST(torch::equal(small.y, large.y.slice(0, 0, 300)));
  BOOST_TEST(torch::equal(small.signal_index, large.signal_index.slice(0, 0, 300)));
  auto test = ds::sample_dsd(w, 3, 0.7, 300, 9, ds::DsdStream::kTest);
  auto other_seed = ds::sample_dsd(w, 3, 0.7, 300, 10, ds::DsdStream::kTrain);
  BOOST_TEST(!torch::allclose(small.x, test.x));
  BOOST_TEST(!torch::allclose(small.x, other_seed.x));
  BOOST_TEST(torch::equal(small.x, ds::sample_dsd(w, 3, 0.7, 300, 9, ds::DsdStream::kTrain).x));
}

BOOST_AUTO_TEST_CASE(generator_moments_match_the_definition) {
  const int64_t k = 4, d = 8, n = 40000;
  const double sigma = 0.5;
  auto w = ds::dsd_signal(d, 1);
  auto s = ds::sample_dsd(w, k, sigma, n, 2, ds::DsdStream::kTrain);
  BOOST_TEST(s.x.dtype() == torch::kFloat32);
  BOOST_TEST(s.y.abs().eq(1).all().item<bool>());

  // Labels balanced; signal position uniform on 0..k-1 and independent of y: a chi-square test
  // on the 2k cells (7 degrees of freedom; 24.3 is the 0.999 quantile).
  BOOST_TEST(std::abs(s.y.mean().item<double>()) < 4.0 / std::sqrt(double(n)));
  BOOST_TEST(s.signal_index.min().item<int64_t>() == 0);
  BOOST_TEST(s.signal_index.max().item<int64_t>() == k - 1);
  auto cell = s.signal_index * 2 + s.y.gt(0).to(torch::kInt64);
  auto counts = torch::bincount(cell, {}, 2 * k).to(torch::kFloat64);
  const double expected = double(n) / (2 * k);
  BOOST_TEST(((counts - expected).square() / expected).sum().item<double>() < 24.3);

  auto wd = w.to(torch::kFloat64);
  auto yd = s.y.to(torch::kFloat64);
  // Signal patch: mean y w* (so E[y x_{i*}] = w*), and noise covariance sigma^2 I around it.
  auto sig = dsdt_patches(s, true);  // rows in sample order: one per sample
  BOOST_REQUIRE_EQUAL(sig.size(0), n);
  const double se = sigma / std::sqrt(double(n));
  BOOST_TEST((sig * yd.unsqueeze(1)).mean(0).sub(wd).abs().max().item<double>() < 5 * se);
  auto plus = yd.gt(0);
  BOOST_TEST(sig.index({plus}).mean(0).sub(wd).abs().max().item<double>() < 7 * se);
  BOOST_TEST(sig.index({plus.logical_not()}).mean(0).add(wd).abs().max().item<double>() < 7 * se);
  auto residual = sig - yd.unsqueeze(1) * wd.unsqueeze(0);
  auto eye = torch::eye(d, torch::kFloat64) * sigma * sigma;
  BOOST_TEST(dsdt_covariance(residual, torch::zeros({d}, torch::kFloat64))
                 .sub(eye)
                 .abs()
                 .max()
                 .item<double>() < 6 * sigma * sigma * std::sqrt(2.0 / n));

  // Every other patch: mean 0, covariance sigma^2 I, and uncorrelated with the label.
  auto noise = dsdt_patches(s, false);
  BOOST_REQUIRE_EQUAL(noise.size(0), n * (k - 1));
  const double m = static_cast<double>(noise.size(0));
  BOOST_TEST(noise.mean(0).abs().max().item<double>() < 5 * sigma / std::sqrt(m));
  BOOST_TEST(dsdt_covariance(noise, torch::zeros({d}, torch::kFloat64))
                 .sub(eye)
                 .abs()
                 .max()
                 .item<double>() < 6 * sigma * sigma * std::sqrt(2.0 / m));
  auto y_rep = yd.repeat_interleave(k - 1).unsqueeze(1);  // noise rows are in sample order too
  BOOST_TEST((noise * y_rep).mean(0).abs().max().item<double>() < 5 * sigma / std::sqrt(m));
  // The whole input: E[x] = 0 (the signal's sign is symmetric) with per-patch covariance
  // sigma^2 I + w* w*^T / k.
  auto flat = s.x.to(torch::kFloat64).reshape({n * k, d});
  auto full_cov = eye + torch::outer(wd, wd) / double(k);
  BOOST_TEST(dsdt_covariance(flat, torch::zeros({d}, torch::kFloat64))
                 .sub(full_cov)
                 .abs()
                 .max()
                 .item<double>() < 0.01);
}

BOOST_AUTO_TEST_CASE(closed_form_log_odds_is_the_gaussian_posterior) {
  // log p(y=+1|x)/p(y=-1|x) from the likelihoods p(x | y, i*) of the generative model, with
  // every term kept (nothing cancelled), against the closed form.
  const int64_t k = 5, d = 3;
  const double sigma = 0.8;
  auto w = ds::dsd_signal(d, 7).to(torch::kFloat64);
  auto gen = at::detail::createCPUGenerator(4);
  auto x = torch::randn({50, k, d}, gen, torch::TensorOptions().dtype(torch::kFloat64)) * 1.5;
  x.index_put_({0}, x.index({0}) * 6.0);  // far from the data: exponents of several hundred
  auto closed = ds::dsd_bayes_log_odds(x.to(torch::kFloat32), w.to(torch::kFloat32), sigma);
  auto x32 = x.to(torch::kFloat32).to(torch::kFloat64);  // what the closed form saw
  for (int64_t i = 0; i < x.size(0); ++i) {
    auto xi = x32[i];
    std::vector<double> log_like[2];
    for (int sign = 0; sign < 2; ++sign) {
      const double y = sign == 0 ? 1.0 : -1.0;
      for (int64_t star = 0; star < k; ++star) {
        double sq = 0;
        for (int64_t j = 0; j < k; ++j) {
          auto mu = j == star ? (w * y) : torch::zeros({d}, torch::kFloat64);
          sq += (xi[j] - mu).square().sum().item<double>();
        }
        log_like[sign].push_back(-sq / (2 * sigma * sigma));
      }
    }
    auto lse = [](const std::vector<double>& v) {
      return torch::logsumexp(torch::tensor(v, torch::kFloat64), 0).item<double>();
    };
    BOOST_TEST(closed[i].item<double>() == lse(log_like[0]) - lse(log_like[1]),
               tt::tolerance(1e-9));
  }
}

BOOST_AUTO_TEST_CASE(bayes_accuracy_agrees_with_the_rule_on_fresh_samples) {
  struct Case {
    int64_t k;
    double sigma;
  };
  for (Case c : {Case{2, 0.5}, Case{4, 0.5}, Case{16, 0.5}, Case{8, 1.0}}) {
    auto est = ds::dsd_bayes_accuracy(c.k, c.sigma, 200000, 11);
    BOOST_TEST(est.standard_error > 0.0);
    BOOST_TEST(est.standard_error < 0.002);
    // An independent estimate: the closed-form rule applied to fresh samples of the full model.
    const int64_t n = 100000;
    auto w = ds::dsd_signal(4, 12);
    auto s = ds::sample_dsd(w, c.k, c.sigma, n, 13, ds::DsdStream::kTest);
    double fresh = ds::sign_accuracy(ds::dsd_bayes_log_odds(s.x, w, c.sigma), s.y);
    double tol = 4 * std::sqrt(est.standard_error * est.standard_error + fresh * (1 - fresh) / n);
    BOOST_TEST_CONTEXT("k = " << c.k << ", sigma = " << c.sigma) {
      BOOST_TEST(std::abs(est.value - fresh) < tol,
                 est.value << " vs " << fresh << " (tol " << tol << ")");
      BOOST_TEST(est.value > 0.5);
      BOOST_TEST(est.value < dsdt_normal_cdf(1.0 / c.sigma));  // more patches only hide the signal
    }
  }
  // Harder with more patches, at every noise level.
  BOOST_TEST(ds::dsd_bayes_accuracy(8, 0.5, 50000, 1).value <
             ds::dsd_bayes_accuracy(4, 0.5, 50000, 1).value);
}

BOOST_AUTO_TEST_CASE(one_patch_bayes_accuracy_is_phi_of_one_over_sigma) {
  // k = 1: the log-odds is 2 <w*, x> / sigma^2 and the rule errs iff the noise along w* exceeds 1.
  for (double sigma : {0.3, 0.5, 1.0, 2.0}) {
    auto est = ds::dsd_bayes_accuracy(1, sigma, 1000, 0);
    BOOST_TEST(est.value == dsdt_normal_cdf(1.0 / sigma), tt::tolerance(1e-15));
    BOOST_TEST(est.standard_error == 0.0);
    auto w = ds::dsd_signal(6, 2);
    const int64_t n = 200000;
    auto s = ds::sample_dsd(w, 1, sigma, n, 3, ds::DsdStream::kTest);
    auto odds = ds::dsd_bayes_log_odds(s.x, w, sigma);
    auto linear =
        s.x.to(torch::kFloat64).squeeze(1).matmul(w.to(torch::kFloat64)) * (2 / (sigma * sigma));
    BOOST_TEST(torch::allclose(odds, linear, 1e-9, 1e-9));
    double fresh = ds::sign_accuracy(odds, s.y);
    BOOST_TEST(std::abs(fresh - est.value) < 4 * std::sqrt(est.value * (1 - est.value) / n));
  }
  // Phi(2) = 0.97724986805182079 (sigma = 0.5).
  BOOST_TEST(ds::dsd_bayes_accuracy(1, 0.5, 1000, 0).value == 0.97724986805182079,
             tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(bayes_quantities_stay_finite_at_small_sigma) {
  // Exponents <w*, x_j> / sigma^2 of tens of thousands: log-sum-exp and the log-space asinh.
  auto est = ds::dsd_bayes_accuracy(8, 0.02, 20000, 5);
  BOOST_TEST(std::isfinite(est.value));
  BOOST_TEST(est.value > 0.999);
  auto w = ds::dsd_signal(4, 0);
  auto s = ds::sample_dsd(w, 8, 0.02, 1000, 1, ds::DsdStream::kTest);
  auto odds = ds::dsd_bayes_log_odds(s.x, w, 0.02);
  BOOST_TEST(torch::isfinite(odds).all().item<bool>());
  BOOST_TEST(ds::sign_accuracy(odds, s.y) == 1.0);
}

BOOST_AUTO_TEST_CASE(sign_accuracy_counts_a_zero_score_as_half) {
  auto y = torch::tensor({1.0f, -1.0f, 1.0f, -1.0f});
  BOOST_TEST(ds::sign_accuracy(torch::tensor({2.0, -0.1, 0.0, 0.5}), y) == 2.5 / 4);
}

BOOST_AUTO_TEST_CASE(artifact_round_trips_through_save_and_load) {
  flowlab::testing::TempDir dir;
  ds::DsdData a;
  a.k = 3, a.d = 2, a.sigma = 0.25;
  a.w_star = ds::dsd_signal(2, 5);
  a.train = ds::sample_dsd(a.w_star, 3, 0.25, 40, 1, ds::DsdStream::kTrain);
  a.test = ds::sample_dsd(a.w_star, 3, 0.25, 30, 1, ds::DsdStream::kTest);
  a.bayes_accuracy_test = 0.9;
  a.bayes_accuracy = {0.91, 0.001};
  a.save(dir.path());
  auto b = std::dynamic_pointer_cast<const ds::DsdData>(ds::DsdData::load(dir.path()));
  BOOST_REQUIRE(b);
  BOOST_TEST(b->type() == "dsd");
  BOOST_TEST((b->k == 3 && b->d == 2 && b->sigma == 0.25));
  BOOST_TEST(torch::equal(b->train.x, a.train.x));
  BOOST_TEST(torch::equal(b->test.y, a.test.y));
  BOOST_TEST(torch::equal(b->test.signal_index, a.test.signal_index));
  BOOST_TEST(torch::equal(b->w_star, a.w_star));
  BOOST_TEST(b->bayes_accuracy_test == 0.9);
  BOOST_TEST(b->bayes_accuracy.value == 0.91);
  BOOST_TEST(b->bayes_accuracy.standard_error == 0.001);
}

BOOST_AUTO_TEST_SUITE_END()
