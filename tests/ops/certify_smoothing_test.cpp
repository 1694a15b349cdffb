// CERTIFY and PREDICT against mathematics: a constant classifier certifies exactly the largest
// possible radius; on a linear classifier (whose smoothed version is known in closed form) the
// certified radius stays below the true distance to the hyperplane in at least 1 - alpha of the
// trials and approaches it for large n.
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <torch/torch.h>

#include "ops/certify/smoothing.h"
#include "ops/certify/stats.h"
#include "ops/classifier.h"
#include "ops/torch_runtime.h"

namespace cs = flowlab::ops::certify;
namespace tt = boost::test_tools;

namespace {

// Sets this thread's LibTorch thread count for a test and gives the old one back at scope end.
struct TorchThreads {
  explicit TorchThreads(int threads) : before(at::get_num_threads()) {
    flowlab::ops::set_torch_threads(threads);
  }
  ~TorchThreads() { flowlab::ops::set_torch_threads(before); }
  void set(int threads) const { flowlab::ops::set_torch_threads(threads); }
  const int before;
};

cs::LogitsFn constant_classifier(int64_t cls, int64_t k) {
  return [=](const at::Tensor& batch) {
    auto logits = torch::zeros({batch.size(0), k});
    logits.index_put_({torch::indexing::Slice(), cls}, 1.0);
    return logits;
  };
}

// Two classes: 1 iff w.x + b > 0.
cs::LogitsFn linear_classifier(const torch::Tensor& w, double b) {
  return [=](const at::Tensor& batch) {
    auto score = batch.reshape({batch.size(0), -1}).matmul(w) + b;
    return torch::stack({torch::zeros_like(score), score}, 1);
  };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ops_certify_smoothing)

BOOST_AUTO_TEST_CASE(constant_classifier_certifies_the_largest_possible_radius_at_every_sigma) {
  auto x = torch::rand({1, 4, 4});
  for (double sigma : {0.12, 0.25, 0.5, 1.0}) {
    cs::SmoothingOptions o;
    o.sigma = sigma, o.n0 = 50, o.n = 1000, o.alpha = 0.001, o.batch_size = 300;
    auto gen = at::detail::createCPUGenerator(1);
    auto c = cs::certify(constant_classifier(3, 10), x, 10, o, gen);
    BOOST_TEST(c.prediction == 3);
    BOOST_TEST(c.count == 1000);
    // sigma * Phi^{-1}(alpha^(1/n)); Phi^{-1}(0.001^(1/1000)) = 2.4632626147808114 (scipy).
    BOOST_TEST(c.radius == sigma * 2.4632626147808114, tt::tolerance(1e-10));
  }
}

BOOST_AUTO_TEST_CASE(predict_abstains_exactly_when_the_binomial_test_does_not_reject) {
  auto x = torch::rand({2});
  cs::SmoothingOptions o;
  o.alpha = 0.001;
  auto gen = at::detail::createCPUGenerator(2);
  o.n = 10;  // 10 of 10 votes: p = 2 * 0.5^10 = 0.00195 > 0.001
  BOOST_TEST(cs::predict(constant_classifier(1, 3), x, 3, o, gen) == cs::kAbstain);
  o.n = 11;  // p = 0.00098 <= 0.001
  BOOST_TEST(cs::predict(constant_classifier(1, 3), x, 3, o, gen) == 1);
}

BOOST_AUTO_TEST_CASE(
    certified_radius_is_below_the_distance_to_the_hyperplane_with_probability_1_minus_alpha) {
  // The smoothed linear classifier predicts class 1 with probability Phi(d / sigma), where d is
  // the signed distance to the hyperplane; its exact robust radius is d (Cohen et al., Thm. 2).
  torch::manual_seed(0);
  auto w = torch::randn({10});
  auto x = torch::randn({10});
  const double sigma = 0.5, target = 1.2 * sigma;  // p_A = Phi(1.2) = 0.885
  double b = target * w.norm().item<double>() - x.dot(w).item<double>();
  double true_radius = (x.dot(w).item<double>() + b) / w.norm().item<double>();
  BOOST_REQUIRE_CLOSE(true_radius, target, 1e-3);
  auto f = linear_classifier(w, b);

  cs::SmoothingOptions o;
  o.sigma = sigma, o.n0 = 20, o.n = 200, o.alpha = 0.01, o.batch_size = 220;
  const int trials = 300;
  int violations = 0, abstains = 0;
  for (int t = 0; t < trials; ++t) {
    auto gen = at::detail::createCPUGenerator(1000 + t);
    auto c = cs::certify(f, x, 2, o, gen);
    if (c.prediction == cs::kAbstain)
      ++abstains;
    else
      violations += c.prediction != 1 || c.radius >= true_radius;
  }
  // At most alpha of the certificates may be wrong: 3 expected of 300; more than 12 has
  // probability below 1e-5 for a correct implementation.
  BOOST_TEST(violations <= 12);
  BOOST_TEST(abstains < trials / 10);

  // With many samples the certified radius approaches the true one from below.
  o.n = 100000, o.n0 = 100, o.alpha = 0.001, o.batch_size = 10000;
  auto gen = at::detail::createCPUGenerator(7);
  auto c = cs::certify(f, x, 2, o, gen);
  BOOST_TEST(c.prediction == 1);
  BOOST_TEST(c.radius < true_radius);
  BOOST_TEST(c.radius > 0.95 * true_radius);
}

BOOST_AUTO_TEST_CASE(far_side_of_the_hyperplane_certifies_the_other_class) {
  auto w = torch::ones({4});
  auto x = torch::full({4}, -0.5);  // w.x = -2, distance 1 from the hyperplane w.x = 0
  cs::SmoothingOptions o;
  o.sigma = 0.25, o.n0 = 100, o.n = 20000, o.alpha = 0.001, o.batch_size = 5000;
  auto gen = at::detail::createCPUGenerator(3);
  auto c = cs::certify(linear_classifier(w, 0.0), x, 2, o, gen);
  BOOST_TEST(c.prediction == 0);
  // p_A = Phi(4) is so close to 1 that all votes agree: the certificate hits the cap.
  BOOST_TEST(c.radius == cs::max_certifiable_radius(0.25, 20000, 0.001), tt::tolerance(1e-10));
  BOOST_TEST(c.radius < 1.0);
}

BOOST_AUTO_TEST_CASE(the_sampler_folds_standardization_into_exactly_pixel_space_noise) {
  // The sampler hands the model standardized inputs with the noise already divided by the std.
  // Against the definition on the same random numbers: pixel-space noise N(0, sigma^2) added to
  // the (masked) image, then (x - mean) / std. Fashion-MNIST's std 0.353 means a sampler that
  // drew std sigma instead of sigma / std would be 2.8x off here.
  auto x = torch::rand({1, 4, 4});
  for (const char* half : {"all", "odd"}) {
    cs::InputStandardization input;
    input.shift = 0.286, input.scale = 0.353;
    const bool masked = std::string(half) != "all";
    if (masked) input.mask = flowlab::ops::checkerboard_mask(half, 4, 4).view({1, 4, 4});
    std::vector<torch::Tensor> batches(3);
    auto gen = at::detail::createCPUGenerator(21);
    cs::for_each_noisy_batch(
        x, 10, 0.5, 4, gen,
        [&](int64_t k, const torch::Tensor& b) { batches.at(size_t(k)) = b.clone(); }, input);
    const auto folded = torch::cat(batches);
    auto reference_gen = at::detail::createCPUGenerator(21);
    std::vector<torch::Tensor> noise;
    for (int64_t done = 0; done < 10; done += 4)  // the same draws, batch by batch
      noise.push_back(torch::empty({std::min<int64_t>(4, 10 - done), 1, 4, 4})
                          .normal_(0.0, 1.0, reference_gen));
    auto pixels = x.unsqueeze(0) + 0.5 * torch::cat(noise);
    if (masked) pixels = pixels * input.mask;
    const auto expected = (pixels - 0.286) / 0.353;
    BOOST_TEST((folded - expected).abs().max().item<double>() < 1e-5, half);
  }
}

BOOST_AUTO_TEST_CASE(workers_draw_exactly_the_one_thread_noise) {
  // With two threads two workers draw and visit batches side by side; batch k's noise must be the
  // one-thread sampler's bit for bit (same generator, batch order), the short last batch included,
  // and both workers must really have visited batches (else this tests nothing).
  auto x = torch::rand({1, 28, 28});
  cs::InputStandardization input;
  input.shift = 0.286, input.scale = 0.353;
  input.mask = flowlab::ops::checkerboard_mask("odd", 28, 28).view({1, 28, 28});
  const TorchThreads scope(1);
  auto sample = [&](int threads, std::set<std::thread::id>& visitors) {
    scope.set(threads);
    auto gen = at::detail::createCPUGenerator(5);
    std::vector<torch::Tensor> batches(6);
    std::mutex mutex;
    cs::for_each_noisy_batch(
        x, 5500, 0.25, 1000, gen,
        [&](int64_t k, const torch::Tensor& b) {
          auto copy = b.clone();
          // A slow first batch: the other worker must take batches meanwhile.
          if (k == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
          std::lock_guard<std::mutex> lock(mutex);
          visitors.insert(std::this_thread::get_id());
          batches.at(size_t(k)) = copy;
        },
        input);
    return torch::cat(batches);
  };
  std::set<std::thread::id> serial_visitors, parallel_visitors;
  const auto serial = sample(1, serial_visitors);
  const auto parallel = sample(2, parallel_visitors);
  const int after = at::get_num_threads();
  BOOST_TEST(serial_visitors.size() == 1u);
  BOOST_TEST(parallel_visitors.size() == 2u);
  BOOST_TEST(after == 2);  // the caller's thread count is given back
  BOOST_TEST(serial.size(0) == 5500);
  BOOST_TEST(torch::equal(serial, parallel));
}

BOOST_AUTO_TEST_CASE(sampled_counts_do_not_depend_on_the_thread_count) {
  auto w = torch::randn({6});
  auto x = torch::randn({6}) * 0.1;
  const TorchThreads scope(1);
  std::vector<torch::Tensor> counts;
  for (int threads : {1, 2, 3}) {
    scope.set(threads);
    auto gen = at::detail::createCPUGenerator(8);
    counts.push_back(cs::sample_counts(linear_classifier(w, 0.1), x, 2500, 0.5, 2, 300, gen));
  }
  BOOST_TEST(counts[0].sum().item<int64_t>() == 2500);
  BOOST_TEST(torch::equal(counts[0], counts[1]));
  BOOST_TEST(torch::equal(counts[0], counts[2]));
}

BOOST_AUTO_TEST_CASE(workers_classify_exactly_as_one_thread_does) {
  // Two workers run a conv and GEMMs of real sizes at once (BLAS and oneDNN called from two
  // threads): every logit must equal the one-thread sampler's bit for bit.
  torch::manual_seed(3);
  auto conv = torch::randn({8, 1, 3, 3}), w1 = torch::randn({8 * 28 * 28, 256}) * 0.01,
       w2 = torch::randn({256, 10}) * 0.1;
  cs::LogitsFn f = [&](const at::Tensor& batch) {
    auto h = torch::conv2d(batch, conv, {}, 1, 1).relu_().flatten(1);
    return torch::mm(torch::mm(h, w1).relu_(), w2);
  };
  auto x = torch::rand({1, 28, 28});
  const TorchThreads scope(1);
  std::vector<torch::Tensor> logits;
  for (int threads : {1, 2}) {
    scope.set(threads);
    auto gen = at::detail::createCPUGenerator(4);
    logits.push_back(cs::sample_logits(f, x, 4000, 0.25, 250, gen));
  }
  BOOST_TEST(logits[0].size(0) == 4000);
  BOOST_TEST(torch::equal(logits[0], logits[1]));
}

BOOST_AUTO_TEST_CASE(a_visitor_error_stops_every_worker_and_is_rethrown) {
  const TorchThreads scope(2);
  auto gen = at::detail::createCPUGenerator(5);
  std::atomic<int> visited{0};
  BOOST_CHECK_THROW(
      cs::for_each_noisy_batch(torch::rand({1, 8, 8}), 50000, 0.25, 1000, gen,
                               [&](int64_t k, const torch::Tensor&) {
                                 ++visited;
                                 if (k == 1) throw std::runtime_error("x");
                                 std::this_thread::sleep_for(std::chrono::milliseconds(5));
                               }),
      std::runtime_error);
  const int after = at::get_num_threads();
  BOOST_TEST(visited.load() < 50);  // stopped early, not after all 50 batches
  BOOST_TEST(after == 2);
}

BOOST_AUTO_TEST_CASE(same_seed_gives_the_same_certificate) {
  auto w = torch::randn({6});
  auto x = torch::randn({6}) * 0.1;
  cs::SmoothingOptions o;
  o.sigma = 0.5, o.n = 500;
  auto g1 = at::detail::createCPUGenerator(42), g2 = at::detail::createCPUGenerator(42);
  auto a = cs::certify(linear_classifier(w, 0.1), x, 2, o, g1);
  auto b = cs::certify(linear_classifier(w, 0.1), x, 2, o, g2);
  BOOST_TEST(a.count == b.count);
  BOOST_TEST(a.radius == b.radius);
}

BOOST_AUTO_TEST_SUITE_END()
