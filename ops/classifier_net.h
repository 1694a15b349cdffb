#pragma once
// The torch::nn module behind Classifier: the fixed input layer (buffers, not parameters, so
// saved weights and robustness radii both refer to raw inputs) and the registered architecture.
// Include only from .cpp files that train or run it: it pulls in <torch/torch.h>.
#include <torch/torch.h>

#include "ops/classifier.h"
#include "ops/models/network.h"

namespace flowlab::ops {

struct Classifier::Net : torch::nn::Module {
  Net(std::shared_ptr<Network> body, const Standardization& s, const std::vector<int64_t>& shape) {
    mean = register_buffer("mean", torch::full({1}, s.mean));
    stdev = register_buffer("stdev", torch::full({1}, s.std));
    masked = s.input_mask != "all";
    if (masked && shape.size() != 3)
      throw std::invalid_argument("a checkerboard input mask needs images [C, H, W]");
    mask = register_buffer(
        "mask", masked ? checkerboard_mask(s.input_mask, shape[1], shape[2]) : torch::ones({1}));
    layers = register_module("layers", std::move(body));
  }
  torch::Tensor forward(const torch::Tensor& x) { return layers->forward(standardize(x)); }
  /// The input layer alone: (mask * x - mean) / std; token ids pass unchanged.
  torch::Tensor standardize(const torch::Tensor& x) const {
    if (!x.is_floating_point()) return x;
    // A full-image model skips the all-ones mask: one pass less over every input.
    return ((masked ? x * mask : x) - mean) / stdev;
  }

  torch::Tensor mean, stdev, mask;
  bool masked = false;
  std::shared_ptr<Network> layers;
};

}  // namespace flowlab::ops
