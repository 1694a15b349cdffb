#include "ops/classifier.h"

#include <fstream>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "graph/error.h"

namespace flowlab::ops {
namespace nn = torch::nn;

// A plain module holding the layers; the normalization is a fixed first layer (buffers, not
// parameters) so that saved weights and robustness radii both refer to raw pixels.
struct Classifier::Net : nn::Module {
  explicit Net(const ClassifierConfig& c) {
    mean = register_buffer("mean", torch::full({1}, c.mean));
    stdev = register_buffer("stdev", torch::full({1}, c.std));
    if (c.arch == "cnn") {
      // Two 3x3 conv blocks with 2x2 max pooling, then a hidden layer: a LeNet-style CNN.
      int64_t w = c.width;
      int64_t flat = 2 * w * (c.height / 4) * (c.width_px / 4);
      layers = register_module(
          "layers", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(c.channels, w, 3).padding(1)),
                                   nn::Functional(torch::relu), nn::MaxPool2d(2),
                                   nn::Conv2d(nn::Conv2dOptions(w, 2 * w, 3).padding(1)),
                                   nn::Functional(torch::relu), nn::MaxPool2d(2), nn::Flatten(),
                                   nn::Linear(flat, 128), nn::Functional(torch::relu),
                                   nn::Linear(128, c.classes)));
    } else if (c.arch == "mlp") {
      int64_t in = c.channels * c.height * c.width_px;
      layers = register_module(
          "layers", nn::Sequential(nn::Flatten(), nn::Linear(in, c.width), nn::Functional(torch::relu),
                                   nn::Linear(c.width, c.width), nn::Functional(torch::relu),
                                   nn::Linear(c.width, c.classes)));
    } else {
      throw RunError("unknown classifier architecture '" + c.arch + "' (expected cnn or mlp)");
    }
  }
  torch::Tensor forward(const torch::Tensor& x) { return layers->forward((x - mean) / stdev); }

  torch::Tensor mean, stdev;
  nn::Sequential layers{nullptr};
};

Classifier::Classifier(ClassifierConfig config)
    : config_(std::move(config)), net_(std::make_shared<Net>(config_)) {}

Classifier::~Classifier() = default;

at::Tensor Classifier::forward(const at::Tensor& x) const { return net_->forward(x); }

void Classifier::to_device(const std::string& device) { net_->to(torch::Device(device)); }

std::string Classifier::device() const {
  auto params = net_->parameters();
  return params.empty() ? "cpu" : params.front().device().str();
}

void Classifier::save(const std::filesystem::path& dir) const {
  nlohmann::json j = {{"arch", config_.arch},       {"width", config_.width},
                      {"channels", config_.channels}, {"height", config_.height},
                      {"width_px", config_.width_px}, {"classes", config_.classes},
                      {"mean", config_.mean},         {"std", config_.std}};
  std::ofstream(dir / "config.json") << j.dump(1);
  // Weights are saved from CPU so a model trained on a GPU loads anywhere.
  torch::serialize::OutputArchive archive;
  auto cpu = std::make_shared<Net>(config_);
  {
    torch::NoGradGuard no_grad;
    auto src = net_->named_parameters(), dst = cpu->named_parameters();
    for (auto& item : src) dst[item.key()].copy_(item.value().to(torch::kCPU));
    auto src_b = net_->named_buffers(), dst_b = cpu->named_buffers();
    for (auto& item : src_b) dst_b[item.key()].copy_(item.value().to(torch::kCPU));
  }
  cpu->save(archive);
  archive.save_to((dir / "weights.pt").string());
}

ArtifactPtr Classifier::load(const std::filesystem::path& dir) {
  std::ifstream in(dir / "config.json");
  auto j = nlohmann::json::parse(in);
  ClassifierConfig c;
  c.arch = j.at("arch"), c.width = j.at("width"), c.channels = j.at("channels");
  c.height = j.at("height"), c.width_px = j.at("width_px"), c.classes = j.at("classes");
  c.mean = j.at("mean"), c.std = j.at("std");
  auto model = std::make_shared<Classifier>(c);
  torch::serialize::InputArchive archive;
  archive.load_from((dir / "weights.pt").string());
  model->net_->load(archive);
  model->net_->eval();
  return model;
}

}  // namespace flowlab::ops
