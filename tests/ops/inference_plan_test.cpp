// The prepared inference path (ops/models/inference_plan.h) against the eager forward of the
// same weights: equal logits up to floating-point reassociation, the caller's input untouched,
// and the eager forward wherever a layer has no prepared form.
#include "ops/models/inference_plan.h"

#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include <boost/test/unit_test.hpp>
#include <torch/torch.h>

#include "ops/classifier.h"
#include "ops/classifier_net.h"
#include "ops/models/model.h"
#include "ops/models/sequential.h"
#include "ops/rrcm/encoder.h"

namespace {

namespace nn = torch::nn;
using flowlab::ops::prepare_inference;

// A registered classifier architecture with drawn weights (and biases moved off zero).
std::shared_ptr<flowlab::ops::Classifier> plan_test_classifier(
    const std::string& arch, int64_t width, std::map<std::string, flowlab::ParamValue> extra = {}) {
  flowlab::Registry registry;
  flowlab::ops::register_models(registry);
  flowlab::ops::ModelRecord record;
  record.family = "classifier";
  record.arch = arch;
  extra["width"] = width;
  record.params = flowlab::Params(std::move(extra));
  record.input.shape = {1, 28, 28};
  record.input.outputs = 10;
  record.input.scale = 0.35;
  torch::manual_seed(5);
  auto model = std::make_shared<flowlab::ops::Classifier>(
      record, flowlab::ops::Standardization{0.29, 0.35, "all"}, registry);
  torch::NoGradGuard no_grad;
  for (auto& p : model->net().parameters()) p.add_(torch::randn_like(p) * 0.05);
  model->net().eval();
  return model;
}

// max |a - b| / max |b|: the reassociation of sums of ~10^3 float products stays near 1e-6.
double relative_gap(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / b.abs().max().item<double>();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(inference_plan)

BOOST_AUTO_TEST_CASE(prepared_cnn_and_mlp_give_the_eager_logits) {
  for (const auto& [arch, width] : {std::pair<std::string, int64_t>{"cnn", 8}, {"mlp", 64}}) {
    auto model = plan_test_classifier(arch, width);
    auto fast = prepare_inference(*model->net().layers);
    BOOST_REQUIRE_MESSAGE(static_cast<bool>(fast), arch << " has a prepared path");
    torch::NoGradGuard no_grad;
    for (int64_t batch : {1, 7, 300}) {
      auto x = torch::randn({batch, 1, 28, 28});
      auto eager = model->net().layers->forward(x);
      auto prepared = fast(x);
      BOOST_TEST(prepared.sizes() == eager.sizes());
      BOOST_TEST(!prepared.is_mkldnn());
      BOOST_TEST(relative_gap(prepared, eager) < 1e-5, arch << " batch " << batch);
      // What Classifier hands to evaluation and certification, raw and standardized inputs.
      BOOST_TEST(relative_gap(model->infer_standardized(x), eager) < 1e-5);
      auto raw = torch::rand({batch, 1, 28, 28});
      BOOST_TEST(relative_gap(model->infer(raw), model->forward(raw)) < 1e-5);
    }
  }
}

// rrcm: FiLM scales and shifts and c_in folded into the conv weights at the classification level.
// All weights drawn (FiLM starts at zero), so a wrong fold shows.
BOOST_AUTO_TEST_CASE(prepared_rrcm_folds_its_conditioning_and_counts_its_forwards) {
  std::map<std::string, flowlab::ParamValue> p({{"dim", int64_t{16}},
                                                {"projection_dim", int64_t{8}},
                                                {"condition_sigma", 0.5},
                                                {"grid_points", int64_t{12}},
                                                {"t_min", 0.002},
                                                {"t_max", 10.0},
                                                {"rho", 7.0},
                                                {"level_frequencies", int64_t{8}}});
  auto model = plan_test_classifier("rrcm", 4, p);
  {
    torch::NoGradGuard no_grad;
    for (auto& w : model->net().parameters()) w.copy_(torch::randn_like(w) * 0.3);
  }
  auto& encoder = flowlab::ops::rrcm::encoder_of(*model, "the test model");
  auto fast = prepare_inference(encoder);
  BOOST_REQUIRE(static_cast<bool>(fast));
  torch::NoGradGuard no_grad;
  auto x = torch::randn({9, 1, 28, 28});
  auto eager = encoder.forward(x);
  const int64_t before = encoder.images_classified();
  auto prepared = fast(x);
  BOOST_TEST(encoder.images_classified() - before == 9);
  BOOST_TEST(relative_gap(prepared, eager) < 1e-5);
  // The fold is at the classification level: another level's representation differs.
  auto other = encoder.classify(encoder.represent(x, torch::full({1}, encoder.grid().front())));
  BOOST_TEST(relative_gap(other, eager) > 1e-2);
}

BOOST_AUTO_TEST_CASE(the_callers_input_is_never_modified) {
  // ReLU first: it sees the caller's tensor, so it must not work in place; and the cnn, whose
  // first conv converts the input.
  torch::manual_seed(3);
  flowlab::ops::SequentialNetwork relu_first(
      nn::Sequential(nn::ReLU(), nn::Flatten(), nn::Linear(12, 4), nn::ReLU(), nn::Linear(4, 2)));
  auto fast = prepare_inference(relu_first);
  BOOST_REQUIRE(static_cast<bool>(fast));
  torch::NoGradGuard no_grad;
  auto x = torch::randn({5, 3, 4});
  auto copy = x.clone();
  auto eager = relu_first.forward(x);
  BOOST_TEST(relative_gap(fast(x), eager) < 1e-6);
  BOOST_TEST(torch::equal(x, copy));
  auto model = plan_test_classifier("cnn", 4);
  auto images = torch::randn({3, 1, 28, 28});
  auto images_copy = images.clone();
  model->infer_standardized(images);
  BOOST_TEST(torch::equal(images, images_copy));
}

BOOST_AUTO_TEST_CASE(layers_without_a_prepared_form_leave_the_eager_forward) {
  torch::manual_seed(4);
  flowlab::ops::SequentialNetwork with_tanh(
      nn::Sequential(nn::Flatten(), nn::Linear(12, 4), nn::Tanh(), nn::Linear(4, 2)));
  BOOST_TEST(!prepare_inference(with_tanh));
  flowlab::ops::SequentialNetwork dilated_pool(nn::Sequential(
      nn::Conv2d(nn::Conv2dOptions(1, 2, 3).padding(1)),
      nn::MaxPool2d(nn::MaxPool2dOptions(2).dilation(2)), nn::Flatten(), nn::Linear(18, 2)));
  BOOST_TEST(!prepare_inference(dilated_pool));
  // Weights in double: the prepared kernels are float32 only.
  flowlab::ops::SequentialNetwork in_double(nn::Sequential(nn::Flatten(), nn::Linear(12, 2)));
  in_double.to(torch::kFloat64);
  BOOST_TEST(!prepare_inference(in_double));
  // The user's switch, for comparisons.
  auto model = plan_test_classifier("cnn", 4);
  setenv("FLOWLAB_EAGER_INFERENCE", "1", 1);
  const bool prepared_anyway = static_cast<bool>(prepare_inference(*model->net().layers));
  unsetenv("FLOWLAB_EAGER_INFERENCE");
  BOOST_TEST(!prepared_anyway);
  BOOST_TEST(static_cast<bool>(prepare_inference(*model->net().layers)));
}

BOOST_AUTO_TEST_CASE(the_path_holds_the_weights_of_its_preparation) {
  auto model = plan_test_classifier("mlp", 16);
  auto x = torch::randn({4, 1, 28, 28});
  auto before = model->infer_standardized(x);  // prepares
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->net().parameters()) p.mul_(2);
  }
  BOOST_TEST(torch::equal(model->infer_standardized(x), before));  // as documented: not seen
  torch::NoGradGuard no_grad;
  BOOST_TEST(relative_gap(model->net().layers->forward(x), before) > 0.1);
}

BOOST_AUTO_TEST_SUITE_END()
