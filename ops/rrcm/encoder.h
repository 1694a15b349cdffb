#pragma once
// The rRCM encoder (Lei et al., ICLR 2025; research notes certify.md §4, scaled down as §5.3
// suggests): a small CNN whose every block is modulated (FiLM) by an embedding of the noise level
// t it is told its input carries, with the EDM preconditioning c_in(t) = 1 / sqrt(t^2 + 1) (the
// network's inputs are standardized, so the data's std is 1 where the paper's is 0.5 on [-1, 1]
// pixels). Its representation h feeds a linear classification head; in pre-training,
// instance discrimination compares the outputs of a projector (two layers with batch norm; the
// reference's has three and serves a ViT-B) and trajectory consistency compares h itself.
//
// As a registered classifier architecture (`rrcm`, family classifier) its forward(x) classifies
// at one fixed level: the point of its Karras grid nearest to condition_sigma / pixel std, the
// noise randomized smoothing adds at sigma = condition_sigma seen through the input layer. So the
// certify ops certify it unchanged, one forward per noise draw. Include only from .cpp files.
#include <atomic>
#include <vector>

#include <torch/torch.h>

#include "graph/params.h"
#include "ops/classifier.h"
#include "ops/models/model.h"
#include "ops/models/network.h"

namespace flowlab::ops::rrcm {

struct Encoder : Network {
  Encoder(const Params& params, const ModelInput& input);

  /// Logits at the fixed classification level (see above); x standardized [N, C, H, W].
  torch::Tensor forward(const torch::Tensor& x) override;
  /// The representation h [N, dim] of x standardized, told it carries noise of std t (t [N] or
  /// [1], in the network's input units).
  torch::Tensor represent(const torch::Tensor& x, const torch::Tensor& t);
  /// forward() as one plain conv stack: at the fixed level, the FiLM scales and shifts and
  /// c_in are constants, folded into the conv weights and biases; counted like forward().
  InferenceFn prepare_inference() override;
  /// The pre-training projection of a representation.
  torch::Tensor project(const torch::Tensor& h) { return projector->forward(h); }
  /// The classification head on a representation.
  torch::Tensor classify(const torch::Tensor& h) { return head->forward(h); }

  /// The noise-level grid (from t_max down to t_min, grid_points of them), in input units.
  const std::vector<double>& grid() const { return grid_; }
  /// The level forward() conditions on: the grid point nearest condition_sigma / pixel std.
  double classification_level() const { return level_; }
  /// Images forward() has classified since construction: what certification costs in forwards
  /// (CERTIFY must spend exactly one per noise draw; tested).
  int64_t images_classified() const { return images_classified_.load(); }

  std::vector<torch::nn::Conv2d> convs;
  torch::nn::Sequential embedding{nullptr};  // sinusoidal features of ln t -> FiLM scales, shifts
  torch::nn::Linear to_representation{nullptr}, head{nullptr};
  torch::nn::Sequential projector{nullptr};

 private:
  torch::Tensor level_features(const torch::Tensor& t) const;
  std::vector<double> grid_;
  double level_ = 0;
  int64_t frequencies_ = 0;
  std::atomic<int64_t> images_classified_{0};
};

/// The rRCM encoder inside a classifier artifact; throws RunError naming `what` (a node's input)
/// when the classifier is another architecture.
Encoder& encoder_of(const Classifier& model, const std::string& what);

/// Registers the `rrcm` architecture in family classifier.
void register_rrcm_model(Registry& registry);

}  // namespace flowlab::ops::rrcm
