// rRCM's model and training pieces against mathematics and counting: the consistency regularizer
// equals a brute-force loop over copies and images; the crops follow their closed form and the
// whole-image crop is the image or its mirror; the encoder's noise conditioning goes through the
// level it is given (FiLM and c_in, and nothing else), forward() classifies at the grid point
// nearest condition_sigma / pixel std; and CERTIFY costs exactly one encoder forward per noise
// draw.
#include <cmath>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <torch/torch.h>

#include "ops/certify/common.h"
#include "ops/certify/smoothing.h"
#include "ops/classifier.h"
#include "ops/classifier_net.h"
#include "ops/rrcm/augment.h"
#include "ops/rrcm/consistency.h"
#include "ops/rrcm/contrastive.h"
#include "ops/rrcm/encoder.h"
#include "ops/torch_runtime.h"
#include "ops/training/ema.h"

namespace rc = flowlab::ops::rrcm;

namespace {

flowlab::ops::ModelRecord rrcm_record(double condition_sigma, double pixel_std) {
  flowlab::ops::ModelRecord record;
  record.family = "classifier";
  record.arch = "rrcm";
  record.params = flowlab::Params({{"width", int64_t{4}},
                                   {"dim", int64_t{16}},
                                   {"projection_dim", int64_t{8}},
                                   {"condition_sigma", condition_sigma},
                                   {"grid_points", int64_t{12}},
                                   {"t_min", 0.002},
                                   {"t_max", 10.0},
                                   {"rho", 7.0},
                                   {"level_frequencies", int64_t{8}}});
  record.input.shape = {1, 28, 28};
  record.input.outputs = 10;
  record.input.scale = pixel_std;
  return record;
}

std::shared_ptr<flowlab::ops::Classifier> rrcm_classifier(double condition_sigma, double std) {
  flowlab::Registry registry;
  flowlab::ops::register_models(registry);
  torch::manual_seed(11);
  auto model = std::make_shared<flowlab::ops::Classifier>(
      rrcm_record(condition_sigma, std), flowlab::ops::Standardization{0.3, std, "all"}, registry);
  model->net().eval();
  return model;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rrcm_model)

BOOST_AUTO_TEST_CASE(consistency_regularizer_equals_a_brute_force_loop) {
  torch::manual_seed(3);
  const int m = 3, batch = 4, classes = 5;
  const auto logits = torch::randn({m, batch, classes}, torch::kDouble) * 2;
  const double lambda = 10, eta = 0.5;
  double kl_sum = 0, entropy_sum = 0;
  for (int b = 0; b < batch; ++b) {
    std::vector<std::vector<double>> p(m, std::vector<double>(classes));
    std::vector<double> mean(classes, 0.0);
    for (int i = 0; i < m; ++i) {
      double z = 0;
      for (int k = 0; k < classes; ++k) z += std::exp(logits[i][b][k].item<double>());
      for (int k = 0; k < classes; ++k) {
        p[i][k] = std::exp(logits[i][b][k].item<double>()) / z;
        mean[k] += p[i][k] / m;
      }
    }
    for (int i = 0; i < m; ++i)
      for (int k = 0; k < classes; ++k)
        kl_sum += mean[k] * std::log(mean[k] / p[i][k]) / m;  // KL(mean || p_i), averaged
    for (int k = 0; k < classes; ++k) entropy_sum -= mean[k] * std::log(mean[k]);
  }
  const double brute = lambda * kl_sum / batch + eta * entropy_sum / batch;
  BOOST_TEST(rc::consistency_regularizer(logits, lambda, eta).item<double>() == brute,
             boost::test_tools::tolerance(1e-12));
  // Identical copies: no disagreement, only the entropy of their common prediction remains.
  const auto same = logits[0].unsqueeze(0).expand({m, batch, classes}).contiguous();
  const auto p0 = torch::softmax(logits[0], 1);
  const double entropy = -(p0 * p0.log()).sum(1).mean().item<double>();
  BOOST_TEST(rc::consistency_regularizer(same, lambda, eta).item<double>() == eta * entropy,
             boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(crops_follow_their_closed_form_and_the_whole_image_crop_is_exact) {
  // u = (area 0.5, ratio 0.5, x 1, y 0, flip 0.9): area 0.8, ratio 1 (log-uniform midpoint of
  // [3/4, 4/3]), side sqrt(0.8), centred at the right and top edges, not flipped.
  const auto u = torch::tensor({0.5, 0.5, 1.0, 0.0, 0.9}, torch::kDouble).view({1, 5});
  const auto theta = rc::crop_thetas(u, rc::CropOptions{});
  const double side = std::sqrt(0.8);
  const auto expected =
      torch::tensor({side, 0.0, 1 - side, 0.0, side, -(1 - side)}, torch::kDouble).view({1, 2, 3});
  BOOST_TEST(torch::allclose(theta, expected, 1e-12, 1e-12));
  // flip < 0.5 mirrors x: the first entry changes sign.
  const auto flipped = rc::crop_thetas(
      torch::tensor({0.5, 0.5, 1.0, 0.0, 0.1}, torch::kDouble).view({1, 5}), rc::CropOptions{});
  BOOST_TEST(flipped[0][0][0].item<double>() == -side, boost::test_tools::tolerance(1e-12));

  // Area 1 and ratio 1: each view is the image itself or its mirror, and both occur.
  rc::CropOptions whole{1.0, 1.0, 1.0, 1.0};
  torch::manual_seed(4);
  const auto x = torch::rand({64, 1, 28, 28});
  auto gen = at::detail::createCPUGenerator(9);
  const auto views = rc::random_resized_crop_flip(x, gen, whole);
  int mirrored = 0, same = 0;
  for (int i = 0; i < 64; ++i) {
    if (torch::allclose(views[i], x[i], 1e-5, 1e-5))
      ++same;
    else if (torch::allclose(views[i], x[i].flip({2}), 1e-5, 1e-5))
      ++mirrored;
  }
  BOOST_TEST(same + mirrored == 64);
  BOOST_TEST(same > 15);
  BOOST_TEST(mirrored > 15);
}

BOOST_AUTO_TEST_CASE(the_encoder_conditions_on_the_level_it_is_given) {
  const double std = 0.35;
  auto model = rrcm_classifier(0.25, std);
  auto& encoder = rc::encoder_of(*model, "the test model");
  torch::NoGradGuard no_grad;
  // forward() classifies at the grid point nearest 0.25 / pixel std.
  const auto grid = rc::karras_grid(12, 0.002, 10.0, 7.0);
  size_t nearest = 0;
  for (size_t k = 0; k < grid.size(); ++k)
    if (std::abs(grid[k] - 0.25 / std) < std::abs(grid[nearest] - 0.25 / std)) nearest = k;
  BOOST_TEST(encoder.classification_level() == grid[nearest]);
  torch::manual_seed(5);
  const auto x = torch::randn({6, 1, 28, 28});
  const auto at_level = torch::full({1}, grid[nearest]);
  BOOST_TEST(torch::equal(encoder.forward(x), encoder.classify(encoder.represent(x, at_level))));

  // Two levels t, s and an input pre-scaled so that c_in(t) x = c_in(s) x': with the FiLM
  // embedding at its zero initialization the representations agree (c_in is the only other path
  // the level takes); with FiLM weights drawn at random they differ.
  const double t = 0.5, s = 2.0;
  const auto c_in = [](double level) { return 1.0 / std::sqrt(level * level + 1); };
  const auto rescaled = x * (c_in(t) / c_in(s));
  const auto h_t = encoder.represent(x, torch::full({1}, t));
  BOOST_TEST(torch::allclose(h_t, encoder.represent(rescaled, torch::full({1}, s)), 1e-5, 1e-5));
  for (auto& p : encoder.embedding->parameters()) p.normal_(0, 0.5);
  const auto film_t = encoder.represent(x, torch::full({1}, t));
  const auto film_s = encoder.represent(rescaled, torch::full({1}, s));
  BOOST_TEST((film_t - film_s).abs().max().item<double>() > 1e-2);
  // A level per image is the same as one level for the batch.
  const auto per_image = encoder.represent(x, torch::full({6}, t));
  BOOST_TEST((per_image - film_t).abs().max().item<double>() < 1e-5);
  // And the classifier's answer moves with the level: forward at another condition_sigma differs.
  auto other = rrcm_classifier(0.5, std);
  flowlab::ops::training::copy_state(model->net(), other->net());
  const auto pixels = x * std + 0.3;
  BOOST_TEST((model->forward(pixels) - other->forward(pixels)).abs().max().item<double>() > 1e-3);
}

BOOST_AUTO_TEST_CASE(certify_costs_one_encoder_forward_per_noise_draw) {
  auto model = rrcm_classifier(0.25, 0.35);
  const auto& encoder = rc::encoder_of(*model, "the test model");
  flowlab::ops::certify::SmoothingOptions o;
  o.sigma = 0.25, o.n0 = 100, o.n = 1000, o.batch_size = 300;
  const auto f = flowlab::ops::certify::standardized_logits(*model, o);  // what the ops call
  torch::manual_seed(6);
  const auto x = torch::rand({1, 28, 28});
  auto gen = flowlab::ops::certify::image_generator(0, 0);
  const int64_t before = encoder.images_classified();
  flowlab::ops::certify::certify(f, x, 10, o, gen);
  BOOST_TEST(encoder.images_classified() - before == o.n0 + o.n);
  flowlab::ops::certify::predict(f, x, 10, o, gen);
  BOOST_TEST(encoder.images_classified() - before == o.n0 + 2 * o.n);
}

BOOST_AUTO_TEST_SUITE_END()
