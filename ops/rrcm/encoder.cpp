#include "ops/rrcm/encoder.h"

#include <cmath>

#include <fmt/format.h>

#include "common/error.h"
#include "ops/classifier_net.h"
#include "ops/rrcm/contrastive.h"

namespace flowlab::ops::rrcm {

namespace nn = torch::nn;

Encoder::Encoder(const Params& p, const ModelInput& in) {
  if (in.shape.size() != 3 || in.vocab_size > 0)
    throw RunError(fmt::format("rrcm needs images [C, H, W], got inputs of shape [{}]",
                               fmt::join(in.shape, ", ")));
  if (!(in.scale > 0))
    throw RunError("rrcm needs the pixel std of its input layer (the model record's input scale)");
  const int64_t w = p.get_int("width"), dim = p.get_int("dim");
  const int64_t channels[] = {in.shape[0], w, 2 * w, 2 * w};
  int64_t film = 0;
  for (int l = 0; l < 3; ++l) {
    convs.push_back(
        register_module(fmt::format("conv{}", l),
                        nn::Conv2d(nn::Conv2dOptions(channels[l], channels[l + 1], 3).padding(1))));
    film += 2 * channels[l + 1];
  }
  frequencies_ = p.get_int("level_frequencies");
  auto last = nn::Linear(64, film);
  {  // FiLM starts as the identity: the level's influence is learned from zero
    torch::NoGradGuard no_grad;
    last->weight.zero_();
    last->bias.zero_();
  }
  embedding = register_module("embedding",
                              nn::Sequential(nn::Linear(2 * frequencies_, 64), nn::SiLU(), last));
  const int64_t flat = 2 * w * (in.shape[1] / 4) * (in.shape[2] / 4);
  to_representation = register_module("to_representation", nn::Linear(flat, dim));
  head = register_module("head", nn::Linear(dim, in.outputs));
  projector = register_module(
      "projector", nn::Sequential(nn::Linear(dim, 2 * dim), nn::BatchNorm1d(2 * dim), nn::ReLU(),
                                  nn::Linear(2 * dim, p.get_int("projection_dim"))));
  grid_ = karras_grid(p.get_int("grid_points"), p.get_float("t_min"), p.get_float("t_max"),
                      p.get_float("rho"));
  level_ = grid_[nearest_grid_index(grid_, p.get_float("condition_sigma") / in.scale)];
}

// EDM's sinusoidal features of c_noise = ln(t) / 4, scaled by 1000 as the reference does:
// cos and sin of 250 ln(t) at frequencies 10000^(-i / F), i < F.
torch::Tensor Encoder::level_features(const torch::Tensor& t) const {
  auto freqs =
      torch::arange(frequencies_, t.options()).mul(-std::log(10000.0) / frequencies_).exp();
  auto angle = (250.0 * t.log()).unsqueeze(1) * freqs.unsqueeze(0);  // [N, F]
  return torch::cat({angle.cos(), angle.sin()}, 1);
}

torch::Tensor Encoder::represent(const torch::Tensor& x, const torch::Tensor& t) {
  const auto level = t.to(x.options()).reshape({-1});
  auto film = embedding->forward(level_features(level));            // [N or 1, sum of 2 C_l]
  auto z = x * (level.square() + 1.0).rsqrt().view({-1, 1, 1, 1});  // c_in(t)
  int64_t offset = 0;
  for (size_t l = 0; l < convs.size(); ++l) {
    z = convs[l]->forward(z);
    const int64_t c = z.size(1);
    auto scale = film.slice(1, offset, offset + c).view({-1, c, 1, 1});
    auto shift = film.slice(1, offset + c, offset + 2 * c).view({-1, c, 1, 1});
    offset += 2 * c;
    z = torch::relu(torch::addcmul(z + shift, z, scale));  // z (1 + scale) + shift
    if (l < 2) z = torch::max_pool2d(z, 2);
  }
  return to_representation->forward(z.flatten(1));
}

torch::Tensor Encoder::forward(const torch::Tensor& x) {
  images_classified_ += x.size(0);
  return classify(represent(x, torch::full({1}, level_, x.options())));
}

InferenceFn Encoder::prepare_inference() {
  torch::NoGradGuard no_grad;
  const auto& reference = convs.front()->weight;
  if (!reference.device().is_cpu()) return {};  // the prepared path is the CPU's
  auto level = torch::full({1}, level_, reference.options());
  auto film = embedding->forward(level_features(level)).squeeze(0);
  const double c_in = 1.0 / std::sqrt(level_ * level_ + 1.0);
  nn::Sequential folded;
  int64_t offset = 0;
  for (size_t l = 0; l < convs.size(); ++l) {
    const auto& conv = convs[l];
    const int64_t c = conv->options.out_channels();
    auto gain = film.slice(0, offset, offset + c) + 1.0;  // z (1 + scale) + shift
    auto shift = film.slice(0, offset + c, offset + 2 * c);
    offset += 2 * c;
    nn::Conv2d copy(nn::Conv2dOptions(conv->options.in_channels(), c, 3).padding(1));
    copy->weight.copy_(conv->weight * gain.view({-1, 1, 1, 1}) * (l == 0 ? c_in : 1.0));
    copy->bias.copy_(conv->bias * gain + shift);
    folded->push_back(copy);
    folded->push_back(nn::ReLU());
    if (l < 2) folded->push_back(nn::MaxPool2d(2));
  }
  folded->push_back(nn::Flatten());
  folded->push_back(to_representation);
  folded->push_back(head);
  InferenceFn fast = prepare_sequential_inference(folded);
  if (!fast) return {};
  return [this, fast = std::move(fast)](const at::Tensor& x) {
    images_classified_ += x.size(0);
    return fast(x);
  };
}

Encoder& encoder_of(const Classifier& model, const std::string& what) {
  auto* encoder = dynamic_cast<Encoder*>(model.net().layers.get());
  if (!encoder)
    throw RunError(fmt::format("{} must be an rrcm model (model: rrcm), got architecture '{}'",
                               what, model.record().arch));
  return *encoder;
}

void register_rrcm_model(Registry& r) {
  ModelDef m;
  m.family = "classifier";
  m.name = "rrcm";
  m.summary =
      "rRCM encoder: a noise-level-conditioned (FiLM) 3-block CNN with a linear head and a "
      "pre-training projector (train.rrcm_pretrain, train.rrcm)";
  m.params = {
      int_param("width", 16, "channels of the first conv block (the other two have twice as many)",
                1.0, 1024.0),
      int_param("dim", 128, "size of the representation h the head and the projector read", 1.0,
                65536.0),
      int_param("projection_dim", 64, "output size of the pre-training projector", 1.0, 65536.0),
      float_param("condition_sigma", 0.25,
                  "the pixel-space noise std it classifies at: forward() conditions on the grid "
                  "point nearest condition_sigma / pixel std (set it to the certification sigma)",
                  0.0, 100.0, /*min_exclusive=*/true),
      int_param("grid_points", 40, "points of the Karras noise grid (K)", 2.0, 100000.0),
      float_param("t_min", 0.002, "smallest noise level of the grid (input units)", 0.0, 1.0,
                  /*min_exclusive=*/true),
      float_param("t_max", 10.0, "largest noise level of the grid (input units)", 0.0, 1e4,
                  /*min_exclusive=*/true),
      float_param("rho", 7.0, "Karras grid exponent (EDM: 7)", 0.0, 100.0, /*min_exclusive=*/true),
      int_param("level_frequencies", 16, "sinusoidal frequencies of the noise-level embedding", 1.0,
                1024.0),
  };
  m.build = [](const Params& p, const ModelInput& in) -> std::shared_ptr<Network> {
    if (!(p.get_float("t_max") > p.get_float("t_min")))
      throw RunError(fmt::format("rrcm: t_max ({}) must exceed t_min ({})", p.get_float("t_max"),
                                 p.get_float("t_min")));
    return std::make_shared<Encoder>(p, in);
  };
  add_model(r, std::move(m));
}

}  // namespace flowlab::ops::rrcm
