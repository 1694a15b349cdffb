// classifier/s4d and classifier/s4_ptd: a stack of diagonal SSM layers over a sequence, the
// backbone of the S4D reference example.py (Gu, Gupta, Goel, Ré 2022): a linear encoder to d_model
// channels, residual S4D blocks with LayerNorm (post-norm by default, as the reference; pre-norm as
// an option) and dropout, mean pooling over the sequence and a linear decoder. The SSM parameters
// (dt, A, B) form their own optimizer group: learning rate min(ssm_lr, lr), no weight decay. s4d
// initializes A and B by one of the S4D schemes; s4_ptd by perturb-then-diagonalize of the full
// HiPPO-LegS matrix (Yu et al. 2024) and reports the perturbation's kappa(V), ||E||/||A|| and
// backward error.
#include <fmt/format.h>

#include "common/error.h"
#include "ops/models/model.h"
#include "ops/models/network.h"
#include "ops/ssm/backbone.h"
#include "ops/ssm/hippo.h"
#include "ops/ssm/ptd.h"
#include "ops/ssm/s4d_layer.h"

namespace flowlab::ops {
namespace {

struct S4dNetwork : Network, ssm::SsmBackbone {
  S4dNetwork(const Params& p, const ModelInput& in, const std::string& init,
             const ssm::PtdOptions& ptd)
      : prenorm(p.get_bool("prenorm")) {
    const int64_t h = p.get_int("d_model");
    ssm_lr = p.get_float("ssm_lr");
    if (in.vocab_size > 0)  // token ids [B, L]: an embedding per token
      embedding = register_module("embedding", torch::nn::Embedding(in.vocab_size, h));
    else
      encoder = register_module("encoder", torch::nn::Linear(in.shape[1], h));
    ssm::S4dOptions o;
    o.channels = h;
    o.state = p.get_int("state");
    o.init = init;
    o.ptd = ptd;
    o.discretization = ssm::parse_discretization(p.get_string("discretization"));
    o.dt_min = p.get_float("dt_min");
    o.dt_max = p.get_float("dt_max");
    o.dropout = p.get_float("dropout");
    if (o.dt_min > o.dt_max)
      throw RunError(fmt::format("dt_min ({}) is above dt_max ({})", o.dt_min, o.dt_max));
    for (int64_t i = 0; i < p.get_int("layers"); ++i) {
      layers.push_back(register_module(fmt::format("layer{}", i), ssm::S4dLayer(o)));
      norms.push_back(register_module(fmt::format("norm{}", i),
                                      torch::nn::LayerNorm(torch::nn::LayerNormOptions({h}))));
      drops.push_back(
          register_module(fmt::format("dropout{}", i), torch::nn::Dropout(p.get_float("dropout"))));
    }
    decoder = register_module("decoder", torch::nn::Linear(h, in.outputs));
    if (init == "ptd") {
      ssm::PtdOptions full = ptd;
      full.size = o.state / 2;
      const ssm::Perturbation e = ssm::perturb_then_diagonalize(full);  // memoized: no recompute
      report = {{"ptd_kappa_v", e.kappa},
                {"ptd_relative_norm_e", e.relative_norm},
                {"ptd_backward_error", e.backward_error}};
    }
  }

  std::vector<std::pair<std::string, double>> init_metrics() override { return report; }

  // LayerNorm over channels of a [B, H, L] tensor.
  static torch::Tensor norm(torch::nn::LayerNorm& ln, const torch::Tensor& x) {
    return ln(x.transpose(1, 2)).transpose(1, 2);
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    return run(x, /*recurrent=*/false, nullptr);
  }

  torch::Tensor forward_with_layer_noise(const torch::Tensor& x,
                                         const ssm::LayerInputNoise& noise) override {
    return run(x, /*recurrent=*/false, &noise);
  }

  std::vector<ssm::S4dLayer> ssm_layers() const override { return layers; }

  // x [B, L, features] -> logits [B, classes]; `recurrent` runs every SSM step by step; `noise`
  // (if given) is added to each SSM layer's input.
  torch::Tensor run(const torch::Tensor& x, bool recurrent, const ssm::LayerInputNoise* noise) {
    auto z = (embedding ? embedding(x) : encoder(x)).transpose(1, 2);  // [B, H, L]
    for (size_t i = 0; i < layers.size(); ++i) {
      auto y = prenorm ? norm(norms[i], z) : z;
      if (noise) y = y + (*noise)(i, y, layers[i]->dt());
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

  bool prenorm;
  double ssm_lr = 0.001;
  std::vector<std::pair<std::string, double>> report;
  torch::nn::Linear encoder{nullptr}, decoder{nullptr};
  torch::nn::Embedding embedding{nullptr};
  std::vector<ssm::S4dLayer> layers;
  std::vector<torch::nn::LayerNorm> norms;
  std::vector<torch::nn::Dropout> drops;
};

std::vector<ParamSpec> backbone_params() {
  return {
      int_param("d_model", 64, "channels H (independent SSMs per layer)", 1.0, 4096.0),
      int_param("state", 64, "state size N per channel (N/2 stored conjugate pairs; even)", 2.0,
                4096.0),
      int_param("layers", 4, "S4D blocks", 1.0, 64.0),
      string_param("discretization", "zoh", "zoh or bilinear", {"zoh", "bilinear"}),
      float_param("dt_min", 0.001, "smallest initial step (log-uniform in [dt_min, dt_max])", 0.0,
                  10.0, true),
      float_param("dt_max", 0.1, "largest initial step", 0.0, 10.0, true),
      float_param("dropout", 0.0, "dropout inside and after each block", 0.0, 0.9),
      bool_param("prenorm", false, "LayerNorm before each block (default: after, as reference)"),
      float_param("ssm_lr", 0.001, "learning rate cap of dt, A and B (no weight decay)", 0.0, 10.0,
                  true),
  };
}

void check_input(const std::string& arch, const Params& p, const ModelInput& in) {
  if (in.shape.size() != (in.vocab_size > 0 ? 1u : 2u))
    throw RunError(fmt::format(
        "{} needs sequences [L, features] or token sequences [L], got inputs of shape [{}]; "
        "images become sequences through a dataset.as_sequence node",
        arch, fmt::join(in.shape, ", ")));
  if (p.get_int("state") % 2 != 0)
    throw RunError(fmt::format("{}: state must be even, got {}", arch, p.get_int("state")));
}

}  // namespace

void register_s4d(Registry& r) {
  ModelDef m;
  m.family = "classifier";
  m.name = "s4d";
  m.summary =
      "S4D diagonal state-space layers over a sequence [L, features]: encoder, residual S4D "
      "blocks, mean pooling, decoder";
  m.params = backbone_params();
  m.params.push_back(string_param("init", "lin",
                                  "initialization of A (and B): lin (S4D-Lin), inv (S4D-Inv), legs "
                                  "(S4D-LegS), real (S4D-Real), random",
                                  ssm::diagonal_init_names()));
  m.build = [](const Params& p, const ModelInput& in) -> std::shared_ptr<Network> {
    check_input("s4d", p, in);
    return std::make_shared<S4dNetwork>(p, in, p.get_string("init"), ssm::PtdOptions{});
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
  m.params = backbone_params();
  m.params.push_back(float_param("ptd_lambda", 0.2,
                                 "weight of ||E||_F against kappa(V)^2 when choosing the "
                                 "perturbation E (smaller: larger E, better-conditioned V)",
                                 0.0, 1e6, true));
  m.params.push_back(
      int_param("ptd_iterations", 3000, "Adam steps of the perturbation's search", 1.0, 1e6));
  m.build = [](const Params& p, const ModelInput& in) -> std::shared_ptr<Network> {
    check_input("s4_ptd", p, in);
    ssm::PtdOptions ptd;
    ptd.lambda = p.get_float("ptd_lambda");
    ptd.iterations = p.get_int("ptd_iterations");
    return std::make_shared<S4dNetwork>(p, in, "ptd", ptd);
  };
  add_model(r, std::move(m));
}

}  // namespace flowlab::ops
