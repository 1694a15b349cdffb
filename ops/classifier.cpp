#include "ops/classifier.h"

#include <fstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "common/error.h"
#include "common/file_io.h"
#include "datasets/classification_data.h"
#include "ops/classifier_net.h"
#include "ops/models/saved_model.h"
#include "ops/torch_runtime.h"

namespace flowlab::ops {

at::Tensor checkerboard_mask(const std::string& half, int64_t height, int64_t width) {
  if (half == "all") return torch::ones({1, 1, height, width});
  if (half != "odd" && half != "even")
    throw RunError("unknown input mask '" + half + "' (expected all, odd or even)");
  auto i = torch::arange(height).unsqueeze(1), j = torch::arange(width).unsqueeze(0);
  auto odd = (i + j).remainder(2).eq(1);
  return (half == "odd" ? odd : odd.logical_not()).to(torch::kFloat32).view({1, 1, height, width});
}

Classifier::Classifier(ModelRecord record, Standardization standardization,
                       const Registry& registry)
    : record_(std::move(record)), standardization_(std::move(standardization)) {
  net_ = std::make_shared<Net>(record_.build(registry), standardization_, record_.input.shape);
}

Classifier::~Classifier() = default;

at::Tensor Classifier::forward(const at::Tensor& x) const { return net_->forward(x); }

at::Tensor Classifier::forward_standardized(const at::Tensor& x) const {
  return net_->layers->forward(x);
}

const InferenceFn& Classifier::inference() const {
  std::lock_guard<std::mutex> lock(inference_mutex_);
  if (!inference_prepared_) {
    inference_ = prepare_inference(*net_->layers);
    inference_prepared_ = true;
  }
  return inference_;
}

at::Tensor Classifier::infer_standardized(const at::Tensor& x) const {
  torch::NoGradGuard no_grad;
  const auto& fast = inference();
  return fast ? fast(x) : net_->layers->forward(x);
}

at::Tensor Classifier::infer(const at::Tensor& x) const {
  return infer_standardized(net_->standardize(x));
}

void Classifier::to_device(const std::string& device) {
  net_->to(torch::Device(device));
  std::lock_guard<std::mutex> lock(inference_mutex_);
  inference_prepared_ = false;  // prepared again, for the new device, on the next call
  inference_ = nullptr;
}

std::string Classifier::device() const {
  auto params = net_->parameters();
  return params.empty() ? "cpu" : params.front().device().str();
}

void Classifier::save(const std::filesystem::path& dir) const {
  nlohmann::json j = {{"mean", standardization_.mean},
                      {"std", standardization_.std},
                      {"input_mask", standardization_.input_mask}};
  write_text_file(dir / "standardization.json", j.dump(1));
  save_network(dir, record_, *net_);
}

ArtifactPtr Classifier::load(const std::filesystem::path& dir, const Registry& registry) {
  std::ifstream in(dir / "standardization.json");
  if (!in) throw RunError("cannot read " + (dir / "standardization.json").string());
  auto j = nlohmann::json::parse(in);
  Standardization s;
  s.mean = j.at("mean"), s.std = j.at("std"), s.input_mask = j.at("input_mask");
  ModelRecord record = ModelRecord::load(dir, registry);
  std::shared_ptr<Classifier> model;
  {
    std::lock_guard<std::mutex> lock(global_rng_mutex());  // building draws initial weights
    model = std::make_shared<Classifier>(std::move(record), std::move(s), registry);
  }
  load_weights(dir, model->net());
  model->net().eval();
  return model;
}

ModelRecord classifier_record(const Registry& registry, const Params& params,
                              const datasets::ClassificationData& data) {
  ModelRecord record;
  record.family = "classifier";
  record.arch = params.get_string("model");
  record.params = model_params(registry, record.family, record.arch, params);
  record.input.shape = data.train_x.sizes().slice(1).vec();
  record.input.outputs = data.num_classes();
  record.input.vocab_size = data.vocab_size;
  // Images: the pixel std the input layer divides by, so an architecture can state noise levels
  // in pixel units (rrcm's condition_sigma).
  if (data.vocab_size == 0) record.input.scale = data.std;
  return record;
}

// Accuracy and mean cross-entropy over a split, in batches, without gradients.
std::pair<double, double> evaluate_split(const Classifier& model, const at::Tensor& x,
                                         const at::Tensor& y) {
  const torch::Device device(model.device());
  torch::NoGradGuard no_grad;
  model.net().eval();
  int64_t correct = 0;
  double loss_sum = 0;
  for (int64_t start = 0; start < x.size(0); start += 1000) {
    auto xb = x.slice(0, start, start + 1000).to(device);
    auto yb = y.slice(0, start, start + 1000).to(device);
    auto logits = model.forward(xb);
    loss_sum +=
        torch::nn::functional::cross_entropy(
            logits, yb, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            .item<double>();
    correct += logits.argmax(1).eq(yb).sum().item<int64_t>();
  }
  model.net().train();
  double n = static_cast<double>(std::max<int64_t>(x.size(0), 1));
  return {correct / n, loss_sum / n};
}

}  // namespace flowlab::ops
