#include "ops/classifier.h"

#include "ops/classifier_net.h"
#include "ops/torch_runtime.h"

#include <fstream>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace flowlab::ops {

at::Tensor checkerboard_mask(const std::string& half, int64_t height, int64_t width) {
  if (half == "all") return torch::ones({1, 1, height, width});
  if (half != "odd" && half != "even")
    throw RunError("unknown input mask '" + half + "' (expected all, odd or even)");
  auto i = torch::arange(height).unsqueeze(1), j = torch::arange(width).unsqueeze(0);
  auto odd = (i + j).remainder(2).eq(1);
  return (half == "odd" ? odd : odd.logical_not()).to(torch::kFloat32).view({1, 1, height, width});
}

Classifier::Classifier(ClassifierConfig config)
    : config_(std::move(config)), net_(std::make_shared<Net>(config_)) {}

Classifier::~Classifier() = default;

at::Tensor Classifier::forward(const at::Tensor& x) const { return net_->forward(x); }

at::Tensor Classifier::forward_standardized(const at::Tensor& x) const { return net_->layers->forward(x); }

void Classifier::to_device(const std::string& device) { net_->to(torch::Device(device)); }

std::string Classifier::device() const {
  auto params = net_->parameters();
  return params.empty() ? "cpu" : params.front().device().str();
}

void Classifier::save(const std::filesystem::path& dir) const {
  nlohmann::json j = {{"arch", config_.arch},       {"width", config_.width},
                      {"channels", config_.channels}, {"height", config_.height},
                      {"width_px", config_.width_px}, {"classes", config_.classes},
                      {"mean", config_.mean},         {"std", config_.std},
                      {"input_mask", config_.input_mask}};
  std::ofstream(dir / "config.json") << j.dump(1);
  // Weights are saved from CPU so a model trained on a GPU loads anywhere.
  torch::serialize::OutputArchive archive;
  if (device() == "cpu") {
    net_->save(archive);
    archive.save_to((dir / "weights.pt").string());
    return;
  }
  std::shared_ptr<Net> cpu;
  {
    // Building a Net draws initial weights from the global RNG: never interleave with a
    // trainer that seeded it (see train.classifier).
    std::lock_guard<std::mutex> lock(global_rng_mutex());
    cpu = std::make_shared<Net>(config_);
  }
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
  c.input_mask = j.value("input_mask", "all");
  std::shared_ptr<Classifier> model;
  {
    std::lock_guard<std::mutex> lock(global_rng_mutex());  // see save()
    model = std::make_shared<Classifier>(c);
  }
  torch::serialize::InputArchive archive;
  archive.load_from((dir / "weights.pt").string());
  model->net_->load(archive);
  model->net_->eval();
  return model;
}

}  // namespace flowlab::ops
