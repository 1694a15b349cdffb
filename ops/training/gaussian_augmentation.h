#pragma once
// Gaussian data augmentation for smoothed classifiers (Cohen et al. 2019): a training batch of
// [0, 1] pixels plus N(0, sigma^2) noise per pixel, in pixel space (the model standardizes after,
// as it does for the noisy inputs certification feeds it), drawn from the trainer's own
// generator so that a resumed training draws the same noise.
#include <ATen/ATen.h>

namespace flowlab::ops::training {

/// x + sigma * N(0, 1) of x's shape, the normals drawn on the CPU from `gen` (so the noise is
/// the same whatever device trains), moved to x's device.
inline at::Tensor add_gaussian_noise(const at::Tensor& x, double sigma, at::Generator& gen) {
  auto noise = at::randn(x.sizes(), gen, at::TensorOptions().dtype(at::kFloat));
  return x + noise.to(x.device()).mul_(sigma);
}

}  // namespace flowlab::ops::training
