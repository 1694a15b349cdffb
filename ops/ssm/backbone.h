#pragma once
// What the Fourier-mode robustness test needs of a sequence model built from diagonal SSM layers:
// a forward pass that adds a perturbation to the input of every SSM layer (the PTD paper's test
// perturbs each layer, not only the data), and the layers themselves (their continuous A, B, C and
// steps, for the transfer function). Include only from .cpp files: it pulls in <torch/torch.h>.
#include <functional>
#include <vector>

#include <torch/torch.h>

#include "ops/ssm/s4d_layer.h"

namespace flowlab::ops::ssm {

/// What to add to SSM layer `layer`'s input u [B, H, L], given that layer's steps dt [H].
using LayerInputNoise =
    std::function<torch::Tensor(size_t layer, const torch::Tensor& u, const torch::Tensor& dt)>;

struct SsmBackbone {
  virtual ~SsmBackbone() = default;
  /// Standardized inputs [B, L, features] -> logits, with `noise` added before every SSM layer.
  virtual torch::Tensor forward_with_layer_noise(const torch::Tensor& x,
                                                 const LayerInputNoise& noise) = 0;
  virtual std::vector<S4dLayer> ssm_layers() const = 0;
};

/// |G_h(i w)| of a layer's H diagonal systems (both members of each conjugate pair), averaged over
/// the channels, at frequencies w [K] (float64): the layer's continuous transfer function.
torch::Tensor mean_transfer_magnitude(const S4dLayerImpl& layer, const torch::Tensor& omegas);

}  // namespace flowlab::ops::ssm
