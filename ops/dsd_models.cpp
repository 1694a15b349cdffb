#include "ops/dsd_models.h"

#include <cmath>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "common/error.h"

namespace flowlab::ops {

at::Tensor soft_threshold(const at::Tensor& z, double b) {
  return torch::relu(z - b) - torch::relu(-z - b);
}

int64_t DsdModelConfig::units() const { return arch == "cnn" ? 1 : k; }

int64_t DsdModelConfig::fan_in() const { return arch == "fcn" ? k * d : d; }

void validate(const DsdModelConfig& c) {
  if (c.arch != "cnn" && c.arch != "lcn" && c.arch != "fcn")
    throw RunError("unknown DSD model '" + c.arch + "' (expected cnn, lcn or fcn)");
  if (c.k < 1 || c.d < 1) throw RunError(fmt::format("DSD model with k = {}, d = {}", c.k, c.d));
}

at::Tensor dsd_pre_activations(const DsdModelConfig& c, const at::Tensor& w, const at::Tensor& x) {
  if (x.dim() != 3 || x.size(1) != c.k || x.size(2) != c.d)
    throw RunError(fmt::format("a {} for k = {}, d = {} got input of shape {}", c.arch, c.k, c.d,
                               fmt::join(x.sizes(), "x")));
  if (c.arch == "cnn") return x.matmul(w[0]);               // [n, k, d] . [d]
  if (c.arch == "lcn") return (x * w.unsqueeze(0)).sum(2);  // patch j with filter j
  return x.reshape({x.size(0), c.k * c.d}).matmul(w.t());   // fcn: unit j sees all of x
}

at::Tensor dsd_forward(const DsdModelConfig& c, const at::Tensor& w, const at::Tensor& x) {
  return soft_threshold(dsd_pre_activations(c, w, x), c.threshold).sum(1);
}

at::Tensor dsd_initial_weights(const DsdModelConfig& c, double init_scale, at::Generator& gen) {
  validate(c);
  auto w =
      torch::randn({c.units(), c.fan_in()}, gen, torch::TensorOptions().dtype(torch::kFloat32));
  return w.mul_(init_scale / std::sqrt(static_cast<double>(c.fan_in())));
}

void project_to_unit_filters(at::Tensor& w) {
  torch::NoGradGuard no_grad;
  w.div_(w.norm(2, {1}, /*keepdim=*/true).clamp_min(1e-30));
}

at::Tensor train_dsd_weights(const DsdModelConfig& c, const at::Tensor& init, const at::Tensor& x,
                             const at::Tensor& y, const DsdTrainOptions& o) {
  validate(c);
  if (init.dim() != 2 || init.size(0) != c.units() || init.size(1) != c.fan_in())
    throw RunError(fmt::format("initial weights of shape {} for a {} with k = {}, d = {}",
                               fmt::join(init.sizes(), "x"), c.arch, c.k, c.d));
  if (o.loss != "logistic" && o.loss != "squared") throw RunError("unknown loss '" + o.loss + "'");
  auto w = init.to(x.device(), torch::kFloat32).clone();
  if (o.project) project_to_unit_filters(w);
  w.set_requires_grad(true);
  std::unique_ptr<torch::optim::Optimizer> opt;
  if (o.optimizer == "gd")
    opt = std::make_unique<torch::optim::SGD>(std::vector<torch::Tensor>{w},
                                              torch::optim::SGDOptions(o.lr).momentum(o.momentum));
  else if (o.optimizer == "adam")
    opt = std::make_unique<torch::optim::Adam>(std::vector<torch::Tensor>{w},
                                               torch::optim::AdamOptions(o.lr));
  else
    throw RunError("unknown optimizer '" + o.optimizer + "' (expected gd or adam)");

  for (int64_t step = 1; step <= o.steps; ++step) {
    opt->zero_grad();
    auto f = dsd_forward(c, w, x);
    auto loss = o.loss == "logistic" ? torch::nn::functional::softplus(-y * f).mean()
                                     : 0.5 * (f - y).square().mean();
    const double value = loss.item<double>();
    if (!std::isfinite(value))
      throw RunError(fmt::format("the loss became {} at step {} (lr = {}); try a smaller params.lr",
                                 value, step, o.lr));
    loss.backward();
    opt->step();
    if (o.project) project_to_unit_filters(w);
    if (o.on_step) o.on_step(step, value, f.detach());
  }
  return w.detach();
}

DsdModel::DsdModel(DsdModelConfig config, at::Tensor weights)
    : config_(std::move(config)),
      weights_(weights.detach().to(torch::kCPU, torch::kFloat32).contiguous()) {
  validate(config_);
  if (weights_.dim() != 2 || weights_.size(0) != config_.units() ||
      weights_.size(1) != config_.fan_in())
    throw RunError(fmt::format("weights of shape {} for a {} with k = {}, d = {}",
                               fmt::join(weights_.sizes(), "x"), config_.arch, config_.k,
                               config_.d));
}

at::Tensor DsdModel::forward(const at::Tensor& x) const {
  torch::NoGradGuard no_grad;
  return dsd_forward(config_, weights_, x.to(torch::kCPU, torch::kFloat32));
}

void DsdModel::save(const std::filesystem::path& dir) const {
  nlohmann::json j = {
      {"arch", config_.arch}, {"k", config_.k}, {"d", config_.d}, {"threshold", config_.threshold}};
  std::ofstream out(dir / "config.json");
  out << j.dump(1);
  out.close();
  if (!out) throw RunError("cannot write " + (dir / "config.json").string());
  torch::save(weights_, (dir / "weights.pt").string());
}

ArtifactPtr DsdModel::load(const std::filesystem::path& dir) {
  std::ifstream in(dir / "config.json");
  auto j = nlohmann::json::parse(in);
  DsdModelConfig c;
  c.arch = j.at("arch"), c.k = j.at("k"), c.d = j.at("d"), c.threshold = j.at("threshold");
  at::Tensor w;
  torch::load(w, (dir / "weights.pt").string());
  return std::make_shared<DsdModel>(std::move(c), std::move(w));
}

}  // namespace flowlab::ops
