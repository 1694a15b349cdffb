#pragma once
// Exponential moving averages of a module's weights, the target network of MoCo-style
// contrastive training (rRCM's instance discrimination): after each step the target's parameters
// become rate * target + (1 - rate) * online, and its buffers (batch-norm statistics) the
// online's. Include only from .cpp files (pulls in <torch/torch.h>).
#include <torch/torch.h>

namespace flowlab::ops::training {

/// Copies every parameter and buffer of `from` into `to` (modules of one architecture).
inline void copy_state(const torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  auto src = from.parameters(), dst = to.parameters();
  for (size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
  auto bsrc = from.buffers(), bdst = to.buffers();
  for (size_t i = 0; i < bsrc.size(); ++i) bdst[i].copy_(bsrc[i]);
}

/// target = rate * target + (1 - rate) * online for parameters; buffers copied.
inline void ema_update(const torch::nn::Module& online, torch::nn::Module& target, double rate) {
  torch::NoGradGuard no_grad;
  auto src = online.parameters(), dst = target.parameters();
  for (size_t i = 0; i < src.size(); ++i) dst[i].mul_(rate).add_(src[i], 1.0 - rate);
  auto bsrc = online.buffers(), bdst = target.buffers();
  for (size_t i = 0; i < bsrc.size(); ++i) bdst[i].copy_(bsrc[i]);
}

}  // namespace flowlab::ops::training
