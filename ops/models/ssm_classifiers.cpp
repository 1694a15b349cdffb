// classifier/s4d, classifier/s4_ptd and classifier/s5_ptd: a stack of diagonal state-space layers
// over a sequence, the backbone of the S4D reference example.py (Gu, Gupta, Goel, Ré 2022): a
// linear encoder to d_model channels (an embedding for token sequences), residual blocks with
// LayerNorm (post-norm by default, as the reference; pre-norm as an option) and dropout, mean
// pooling over the sequence and a linear decoder. The SSM parameters (dt, A, B) form their own
// optimizer group: learning rate min(ssm_lr, lr), no weight decay.
//   s4d     S4D layers (H single-input SSMs), A and B from one of the S4D initializations
//   s4_ptd  S4D layers initialized by perturb-then-diagonalize of HiPPO-LegS (Yu et al. 2024)
//   s5_ptd  S5 layers (one multi-input SSM of P states, a parallel scan) with the PTD init
// The PTD models report the perturbation's kappa(V), ||E||/||A|| and backward error.
#include <fmt/format.h>

#include "common/error.h"
#include "ops/models/model.h"
#include "ops/models/network.h"
#include "ops/ssm/backbone.h"
#include "ops/ssm/hippo.h"
#include "ops/ssm/ptd.h"
#include "ops/ssm/s4d_layer.h"
#include "ops/ssm/s5_layer.h"

namespace flowlab::ops {
namespace {

// Layer: a TORCH_MODULE holder (ssm::S4dLayer, ssm::S5Layer) with forward, forward_recurrent,
// dt, ssm_parameters and mean_transfer_magnitude.
template <class Layer>
struct SsmNetwork : Network, ssm::SsmBackbone {
  SsmNetwork(const Params& p, const ModelInput& in, const std::function<Layer()>& make_layer)
      : prenorm(p.get_bool("prenorm")),
        ssm_lr(p.get_float("ssm_lr")),
        channels(p.get_int("d_model")) {
    const int64_t h = channels;
    if (in.vocab_size > 0)  // token ids [B, L]: an embedding per token
      embedding = register_module("embedding", torch::nn::Embedding(in.vocab_size, h));
    else
      encoder = register_module("encoder", torch::nn::Linear(in.shape[1], h));
    for (int64_t i = 0; i < p.get_int("layers"); ++i) {
      layers.push_back(register_module(fmt::format("layer{}", i), make_layer()));
      norms.push_back(register_module(fmt::format("norm{}", i),
                                      torch::nn::LayerNorm(torch::nn::LayerNormOptions({h}))));
      drops.push_back(
          register_module(fmt::format("dropout{}", i), torch::nn::Dropout(p.get_float("dropout"))));
    }
    decoder = register_module("decoder", torch::nn::Linear(h, in.outputs));
  }

  // LayerNorm over channels of a [B, H, L] tensor.
  static torch::Tensor norm(torch::nn::LayerNorm& ln, const torch::Tensor& x) {
    return ln(x.transpose(1, 2)).transpose(1, 2);
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    return run(x, /*recurrent=*/false, nullptr);
  }
  /// The same outputs with every SSM layer run step by step.
  torch::Tensor forward_recurrent(const torch::Tensor& x) {
    return run(x, /*recurrent=*/true, nullptr);
  }
  torch::Tensor forward_with_layer_noise(const torch::Tensor& x,
                                         const ssm::LayerInputNoise& noise) override {
    return run(x, /*recurrent=*/false, &noise);
  }
  size_t num_ssm_layers() const override { return layers.size(); }
  int64_t ssm_channels() const override { return channels; }
  torch::Tensor first_layer_transfer_magnitude(const torch::Tensor& omegas) const override {
    return layers.front()->mean_transfer_magnitude(omegas);
  }

  // x [B, L, features] (or token ids [B, L]) -> logits [B, classes]; `recurrent` runs every SSM
  // step by step; `noise` (if given) is added to each SSM layer's input.
  torch::Tensor run(const torch::Tensor& x, bool recurrent, const ssm::LayerInputNoise* noise) {
    auto z = (embedding ? embedding(x) : encoder(x)).transpose(1, 2);  // [B, H, L]
    for (size_t i = 0; i < layers.size(); ++i) {
      auto y = prenorm ? norm(norms[i], z) : z;
      if (noise) {
        auto dt = layers[i]->dt();
        if (dt.size(0) != y.size(1)) dt = dt.mean().expand({y.size(1)});  // S5: steps per state
        y = y + (*noise)(i, y, dt);
      }
      y = recurrent ? layers[i]->forward_recurrent(y) : layers[i]->forward(y);
      z = z + drops[i](y);
      if (!prenorm) z = norm(norms[i], z);
    }
    return decoder(z.mean(2));
  }

  std::vector<ParameterGroup> parameter_groups() override {
    ParameterGroup g{"ssm", {}, ssm_lr, 0.0};
    for (auto& l : layers)
      for (auto& t : l->ssm_parameters()) g.parameters.push_back(t);
    return {g};
  }
  std::vector<std::pair<std::string, double>> init_metrics() override { return report; }

  bool prenorm;
  double ssm_lr;
  int64_t channels;
  std::vector<std::pair<std::string, double>> report;
  torch::nn::Linear encoder{nullptr}, decoder{nullptr};
  torch::nn::Embedding embedding{nullptr};
  std::vector<Layer> layers;
  std::vector<torch::nn::LayerNorm> norms;
  std::vector<torch::nn::Dropout> drops;
};

std::vector<ParamSpec> backbone_params(const std::string& state_doc, double state_default) {
  return {
      int_param("d_model", 64, "channels H (the width of every block)", 1.0, 4096.0),
      int_param("state", static_cast<int64_t>(state_default), state_doc, 2.0, 4096.0),
      int_param("layers", 4, "SSM blocks", 1.0, 64.0),
      float_param("dt_min", 0.001, "smallest initial step (log-uniform in [dt_min, dt_max])", 0.0,
                  10.0, true),
      float_param("dt_max", 0.1, "largest initial step", 0.0, 10.0, true),
      float_param("dropout", 0.0, "dropout inside and after each block", 0.0, 0.9),
      bool_param("prenorm", false, "LayerNorm before each block (default: after, as reference)"),
      float_param("ssm_lr", 0.001,
                  "learning rate cap of dt, A and B (no weight decay); 0 freezes them at their "
                  "initialization, as the PTD paper's robustness script does",
                  0.0, 10.0),
  };
}

void check_input(const std::string& arch, const Params& p, const ModelInput& in) {
  if (in.shape.size() != (in.vocab_size > 0 ? 1u : 2u))
    throw RunError(fmt::format(
        "{} needs sequences [L, features] or token sequences [L], got inputs of shape [{}]; "
        "images become sequences through a dataset.as_sequence node",
        arch, fmt::join(in.shape, ", ")));
  if (arch != "s5_ptd" && p.get_int("state") % 2 != 0)
    throw RunError(fmt::format("{}: state must be even, got {}", arch, p.get_int("state")));
  if (p.get_float("dt_min") > p.get_float("dt_max"))
    throw RunError(fmt::format("dt_min ({}) is above dt_max ({})", p.get_float("dt_min"),
                               p.get_float("dt_max")));
}

ssm::PtdOptions ptd_options(const Params& p, int64_t size) {
  ssm::PtdOptions ptd;
  ptd.size = size;
  ptd.lambda = p.get_float("ptd_lambda");
  ptd.iterations = p.get_int("ptd_iterations");
  return ptd;
}

std::vector<std::pair<std::string, double>> ptd_report(const ssm::PtdOptions& ptd) {
  const ssm::Perturbation e = ssm::perturb_then_diagonalize(ptd);  // memoized: no recompute
  return {{"ptd_kappa_v", e.kappa},
          {"ptd_relative_norm_e", e.relative_norm},
          {"ptd_backward_error", e.backward_error}};
}

std::vector<ParamSpec> ptd_params() {
  return {float_param("ptd_lambda", 0.2,
                      "weight of ||E||_F against kappa(V)^2 when choosing the perturbation E "
                      "(smaller: larger E, better-conditioned V)",
                      0.0, 1e6, true),
          int_param("ptd_iterations", 3000, "Adam steps of the perturbation's search", 1.0, 1e6)};
}

ssm::S4dOptions s4d_options(const Params& p) {
  ssm::S4dOptions o;
  o.channels = p.get_int("d_model");
  o.state = p.get_int("state");
  o.discretization = ssm::parse_discretization(p.get_string("discretization"));
  o.dt_min = p.get_float("dt_min");
  o.dt_max = p.get_float("dt_max");
  o.dropout = p.get_float("dropout");
  o.bidirectional = p.get_bool("bidirectional");
  return o;
}

// The params of the S4D-layer models (s4d, s4_ptd): the backbone's and the discretization.
std::vector<ParamSpec> s4d_layer_params() {
  auto params = backbone_params("state size N per channel (N/2 stored conjugate pairs; even)", 64);
  params.push_back(string_param("discretization", "zoh", "zoh or bilinear", {"zoh", "bilinear"}));
  params.push_back(bool_param("bidirectional", false,
                              "also a second C whose kernel reads the sequence backwards (the S4 "
                              "reference's LRA layers; no recurrent mode)"));
  return params;
}

}  // namespace

void register_s4d(Registry& r) {
  ModelDef m;
  m.family = "classifier";
  m.name = "s4d";
  m.summary =
      "S4D diagonal state-space layers over a sequence [L, features] or tokens [L]: encoder, "
      "residual S4D blocks, mean pooling, decoder";
  m.params = s4d_layer_params();
  m.params.push_back(string_param("init", "lin",
                                  "initialization of A (and B): lin (S4D-Lin), inv (S4D-Inv), legs "
                                  "(S4D-LegS), real (S4D-Real), random",
                                  ssm::diagonal_init_names()));
  m.build = [](const Params& p, const ModelInput& in) -> std::shared_ptr<Network> {
    check_input("s4d", p, in);
    ssm::S4dOptions o = s4d_options(p);
    o.init = p.get_string("init");
    return std::make_shared<SsmNetwork<ssm::S4dLayer>>(p, in, [o] { return ssm::S4dLayer(o); });
  };
  add_model(r, std::move(m));
}

void register_s4_ptd(Registry& r) {
  ModelDef m;
  m.family = "classifier";
  m.name = "s4_ptd";
  m.summary =
      "S4-PTD: the s4d backbone initialized by perturb-then-diagonalize of the full HiPPO-LegS "
      "matrix (well-conditioned eigenvectors, robust to Fourier-mode noise)";
  m.params = s4d_layer_params();
  for (auto& spec : ptd_params()) m.params.push_back(std::move(spec));
  m.build = [](const Params& p, const ModelInput& in) -> std::shared_ptr<Network> {
    check_input("s4_ptd", p, in);
    ssm::S4dOptions o = s4d_options(p);
    o.init = "ptd";
    o.ptd = ptd_options(p, o.state / 2);
    auto net = std::make_shared<SsmNetwork<ssm::S4dLayer>>(p, in, [o] { return ssm::S4dLayer(o); });
    net->report = ptd_report(o.ptd);
    return net;
  };
  add_model(r, std::move(m));
}

void register_s5_ptd(Registry& r) {
  ModelDef m;
  m.family = "classifier";
  m.name = "s5_ptd";
  m.summary =
      "S5-PTD: the same backbone with S5 layers (one multi-input SSM of P states per layer, a "
      "parallel scan) initialized by perturb-then-diagonalize of HiPPO-LegS";
  m.params = backbone_params("state size P of each layer's one multi-input SSM", 32);
  for (auto& spec : ptd_params()) m.params.push_back(std::move(spec));
  m.build = [](const Params& p, const ModelInput& in) -> std::shared_ptr<Network> {
    check_input("s5_ptd", p, in);
    ssm::S5Options o;
    o.channels = p.get_int("d_model");
    o.state = p.get_int("state");
    o.dt_min = p.get_float("dt_min");
    o.dt_max = p.get_float("dt_max");
    o.dropout = p.get_float("dropout");
    o.ptd = ptd_options(p, o.state);
    auto net = std::make_shared<SsmNetwork<ssm::S5Layer>>(p, in, [o] { return ssm::S5Layer(o); });
    net->report = ptd_report(o.ptd);
    return net;
  };
  add_model(r, std::move(m));
}

}  // namespace flowlab::ops
