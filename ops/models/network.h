#pragma once
// The module every registered architecture builds. Include only from .cpp files: it pulls in
// <torch/torch.h>.
#include <torch/torch.h>

namespace flowlab::ops {

struct Network : torch::nn::Module {
  /// A batch [N, ...input shape] -> outputs [N, outputs] (or [N] for a score).
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
};

}  // namespace flowlab::ops
