#pragma once
// What the Fourier-mode robustness test needs of a sequence model built from diagonal SSM layers:
// a forward pass that adds a perturbation to the input of every SSM layer (the PTD paper's test
// perturbs each layer, not only the data), and the first layer's continuous-time transfer
// function, to find the frequency it is most sensitive to. Include only from .cpp files: it pulls
// in <torch/torch.h>.
#include <functional>
#include <vector>

#include <torch/torch.h>

namespace flowlab::ops::ssm {

/// What to add to SSM layer `layer`'s input u [B, H, L], given the step dt [H] each channel is
/// sampled with (an S5 layer, whose steps belong to its states, gives their mean to every channel).
using LayerInputNoise =
    std::function<torch::Tensor(size_t layer, const torch::Tensor& u, const torch::Tensor& dt)>;

struct SsmBackbone {
  virtual ~SsmBackbone() = default;
  /// Standardized inputs [B, L, features] -> logits, with `noise` added before every SSM layer.
  virtual torch::Tensor forward_with_layer_noise(const torch::Tensor& x,
                                                 const LayerInputNoise& noise) = 0;
  virtual size_t num_ssm_layers() const = 0;
  /// H: the channels every SSM layer's input has.
  virtual int64_t ssm_channels() const = 0;
  /// Mean over channels of |G_hh(i w)| of the first SSM layer at frequencies w [K] (float64).
  virtual torch::Tensor first_layer_transfer_magnitude(const torch::Tensor& omegas) const = 0;
};

}  // namespace flowlab::ops::ssm
