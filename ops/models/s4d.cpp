// classifier/s4d: a stack of S4D layers over a sequence (Gu, Gupta, Goel, Ré 2022), the backbone
// of the reference example.py: a linear encoder to d_model channels, residual S4D blocks with
// LayerNorm (post-norm by default, as the reference; pre-norm as an option) and dropout, mean
// pooling over the sequence and a linear decoder. The SSM parameters (dt, A, B) form their own
// optimizer group: learning rate min(ssm_lr, lr), no weight decay.
#include <fmt/format.h>

#include "common/error.h"
#include "ops/models/model.h"
#include "ops/models/network.h"
#include "ops/ssm/hippo.h"
#include "ops/ssm/s4d_layer.h"

namespace flowlab::ops {
namespace {

struct S4dNetwork : Network {
  S4dNetwork(const Params& p, const ModelInput& in) : prenorm(p.get_bool("prenorm")) {
    const int64_t h = p.get_int("d_model"), features = in.shape[1];
    ssm_lr = p.get_float("ssm_lr");
    encoder = register_module("encoder", torch::nn::Linear(features, h));
    ssm::S4dOptions o;
    o.channels = h;
    o.state = p.get_int("state");
    o.init = p.get_string("init");
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
  }

  // LayerNorm over channels of a [B, H, L] tensor.
  static torch::Tensor norm(torch::nn::LayerNorm& ln, const torch::Tensor& x) {
    return ln(x.transpose(1, 2)).transpose(1, 2);
  }

  torch::Tensor forward(const torch::Tensor& x) override { return run(x, /*recurrent=*/false); }

  // x [B, L, features] -> logits [B, classes]; `recurrent` runs every SSM step by step.
  torch::Tensor run(const torch::Tensor& x, bool recurrent) {
    auto z = encoder(x).transpose(1, 2);  // [B, H, L]
    for (size_t i = 0; i < layers.size(); ++i) {
      auto y = prenorm ? norm(norms[i], z) : z;
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
  torch::nn::Linear encoder{nullptr}, decoder{nullptr};
  std::vector<ssm::S4dLayer> layers;
  std::vector<torch::nn::LayerNorm> norms;
  std::vector<torch::nn::Dropout> drops;
};

}  // namespace

void register_s4d(Registry& r) {
  ModelDef m;
  m.family = "classifier";
  m.name = "s4d";
  m.summary =
      "S4D diagonal state-space layers over a sequence [L, features]: encoder, residual S4D "
      "blocks, mean pooling, decoder";
  m.params = {
      int_param("d_model", 64, "channels H (independent SSMs per layer)", 1.0, 4096.0),
      int_param("state", 64, "state size N per channel (N/2 stored conjugate pairs; even)", 2.0,
                4096.0),
      int_param("layers", 4, "S4D blocks", 1.0, 64.0),
      string_param("init", "lin",
                   "initialization of A (and B): lin (S4D-Lin), inv (S4D-Inv), legs (S4D-LegS), "
                   "real (S4D-Real), random",
                   ssm::diagonal_init_names()),
      string_param("discretization", "zoh", "zoh or bilinear", {"zoh", "bilinear"}),
      float_param("dt_min", 0.001, "smallest initial step (log-uniform in [dt_min, dt_max])", 0.0,
                  10.0, true),
      float_param("dt_max", 0.1, "largest initial step", 0.0, 10.0, true),
      float_param("dropout", 0.0, "dropout inside and after each block", 0.0, 0.9),
      bool_param("prenorm", false, "LayerNorm before each block (default: after, as reference)"),
      float_param("ssm_lr", 0.001, "learning rate cap of dt, A and B (no weight decay)", 0.0, 10.0,
                  true),
  };
  m.build = [](const Params& p, const ModelInput& in) -> std::shared_ptr<Network> {
    if (in.shape.size() != 2)
      throw RunError(fmt::format(
          "s4d needs sequences [L, features], got inputs of shape [{}]; images become sequences "
          "through a dataset.as_sequence node",
          fmt::join(in.shape, ", ")));
    if (p.get_int("state") % 2 != 0)
      throw RunError(fmt::format("s4d: state must be even, got {}", p.get_int("state")));
    return std::make_shared<S4dNetwork>(p, in);
  };
  add_model(r, std::move(m));
}

}  // namespace flowlab::ops
