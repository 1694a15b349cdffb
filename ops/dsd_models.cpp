#include "ops/dsd_models.h"

#include <cmath>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "common/error.h"
#include "common/file_io.h"
#include "ops/models/saved_model.h"

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

struct DsdGradientDescent::State {
  std::unique_ptr<torch::optim::Optimizer> optimizer;
};

DsdGradientDescent::DsdGradientDescent(DsdModelConfig c, const at::Tensor& init, at::Tensor x,
                                       at::Tensor y, DsdTrainOptions o)
    : config_(std::move(c)),
      options_(std::move(o)),
      x_(std::move(x)),
      y_(std::move(y)),
      state_(std::make_unique<State>()) {
  validate(config_);
  if (init.dim() != 2 || init.size(0) != config_.units() || init.size(1) != config_.fan_in())
    throw RunError(fmt::format("initial weights of shape {} for a {} with k = {}, d = {}",
                               fmt::join(init.sizes(), "x"), config_.arch, config_.k, config_.d));
  if (options_.loss != "logistic" && options_.loss != "squared")
    throw RunError("unknown loss '" + options_.loss + "'");
  w_ = init.to(x_.device(), torch::kFloat32).clone();
  if (options_.project) project_to_unit_filters(w_);
  w_.set_requires_grad(true);
  if (options_.optimizer == "gd")
    state_->optimizer = std::make_unique<torch::optim::SGD>(
        std::vector<torch::Tensor>{w_},
        torch::optim::SGDOptions(options_.lr).momentum(options_.momentum));
  else if (options_.optimizer == "adam")
    state_->optimizer = std::make_unique<torch::optim::Adam>(
        std::vector<torch::Tensor>{w_}, torch::optim::AdamOptions(options_.lr));
  else
    throw RunError("unknown optimizer '" + options_.optimizer + "' (expected gd or adam)");
}

DsdGradientDescent::~DsdGradientDescent() = default;

double DsdGradientDescent::step() {
  auto& opt = *state_->optimizer;
  opt.zero_grad();
  auto f = dsd_forward(config_, w_, x_);
  auto loss = options_.loss == "logistic" ? torch::nn::functional::softplus(-y_ * f).mean()
                                          : 0.5 * (f - y_).square().mean();
  const double value = loss.item<double>();
  f_ = f.detach();
  if (!std::isfinite(value)) return value;
  loss.backward();
  opt.step();
  if (options_.project) project_to_unit_filters(w_);
  return value;
}

at::Tensor DsdGradientDescent::weights() const { return w_.detach(); }

void DsdGradientDescent::save(const std::filesystem::path& dir) const {
  write_file_with(dir / "weights.pt", [&](const ByteSink& s) { torch::save(w_.detach(), s); });
  write_file_with(dir / "optimizer.pt",
                  [&](const ByteSink& s) { torch::save(*state_->optimizer, s); });
}

void DsdGradientDescent::load(const std::filesystem::path& dir) {
  torch::Tensor w;
  torch::load(w, (dir / "weights.pt").string());
  {
    torch::NoGradGuard no_grad;
    w_.copy_(w);  // in place: the optimizer holds w_
  }
  torch::load(*state_->optimizer, (dir / "optimizer.pt").string());
}

at::Tensor train_dsd_weights(const DsdModelConfig& c, const at::Tensor& init, const at::Tensor& x,
                             const at::Tensor& y, const DsdTrainOptions& o) {
  DsdGradientDescent gd(c, init, x, y, o);
  for (int64_t step = 1; step <= o.steps; ++step) {
    const double value = gd.step();
    if (!std::isfinite(value))
      throw RunError(fmt::format("the loss became {} at step {} (lr = {}); try a smaller params.lr",
                                 value, step, o.lr));
    if (o.on_step) o.on_step(step, value, gd.outputs());
  }
  return gd.weights();
}

namespace {

// The registered network of a DSD architecture: one weight matrix [units, fan_in].
struct DsdNet : Network {
  DsdNet(DsdModelConfig c, const at::Tensor& w) : config(std::move(c)) {
    weights = register_parameter("weights", w.clone());
  }
  torch::Tensor forward(const torch::Tensor& x) override { return dsd_forward(config, weights, x); }
  DsdModelConfig config;
  torch::Tensor weights;
};

ModelRecord record_of(const DsdModelConfig& c) {
  ModelRecord r;
  r.family = "dsd", r.arch = c.arch;
  r.params = Params({{"threshold", c.threshold}});
  r.input.shape = {c.k, c.d};
  r.input.outputs = 1;
  return r;
}

}  // namespace

DsdModelConfig dsd_config(const ModelRecord& r) {
  if (r.input.shape.size() != 2)
    throw RunError(
        fmt::format("a DSD model needs inputs [k, d], got [{}]", fmt::join(r.input.shape, ", ")));
  DsdModelConfig c;
  c.arch = r.arch, c.k = r.input.shape[0], c.d = r.input.shape[1];
  c.threshold = r.params.get_float("threshold") * r.input.scale;
  return c;
}

ModelDef dsd_model_def(const std::string& arch, const std::string& summary) {
  ModelDef m;
  m.family = "dsd";
  m.name = arch;
  m.summary = summary;
  m.params = {float_param(
      "threshold", 0.9,
      "the activation's threshold b in units of the data's sigma (b = threshold * sigma); with "
      "unit-norm filters a noise patch's pre-activation is N(0, sigma^2), so this is how many "
      "noise standard deviations are suppressed. The best fixed value grows with k (about 0 at "
      "k = 2 to 1.5 at k = 16 for a CNN planted at w*, sigma = 0.5); 0.9 keeps that planted CNN "
      "within 0.02 of the Bayes accuracy for every k in 2..16, the floor of the excess error a "
      "trained model can reach",
      0.0, 100.0)};
  std::string name = arch;
  m.build = [name](const Params& p, const ModelInput& in) -> std::shared_ptr<Network> {
    ModelRecord r;
    r.family = "dsd", r.arch = name, r.params = p, r.input = in;
    DsdModelConfig c = dsd_config(r);
    // The global generator, like every architecture's builder (callers seed it and hold the lock).
    at::Generator global = at::detail::getDefaultCPUGenerator();  // a handle on the global one
    return std::make_shared<DsdNet>(c, dsd_initial_weights(c, 1.0, global));
  };
  return m;
}

DsdModel::DsdModel(ModelRecord record, at::Tensor weights)
    : record_(std::move(record)),
      config_(dsd_config(record_)),
      weights_(weights.detach().to(torch::kCPU, torch::kFloat32).contiguous()) {
  validate(config_);
  if (weights_.dim() != 2 || weights_.size(0) != config_.units() ||
      weights_.size(1) != config_.fan_in())
    throw RunError(fmt::format("weights of shape {} for a {} with k = {}, d = {}",
                               fmt::join(weights_.sizes(), "x"), config_.arch, config_.k,
                               config_.d));
}

DsdModel::DsdModel(DsdModelConfig config, at::Tensor weights)
    : DsdModel(record_of(config), std::move(weights)) {}

at::Tensor DsdModel::forward(const at::Tensor& x) const {
  torch::NoGradGuard no_grad;
  return dsd_forward(config_, weights_, x.to(torch::kCPU, torch::kFloat32));
}

void DsdModel::save(const std::filesystem::path& dir) const {
  DsdNet net(config_, weights_);
  save_network(dir, record_, net);
}

ArtifactPtr DsdModel::load(const std::filesystem::path& dir, const Registry& registry) {
  ModelRecord record = ModelRecord::load(dir, registry);
  auto net = build_locked(record, registry);
  load_weights(dir, *net);
  return std::make_shared<DsdModel>(std::move(record), net->named_parameters()["weights"]);
}

}  // namespace flowlab::ops
