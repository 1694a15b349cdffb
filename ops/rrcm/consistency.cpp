#include "ops/rrcm/consistency.h"

#include <stdexcept>

#include <torch/torch.h>

namespace flowlab::ops::rrcm {

at::Tensor consistency_regularizer(const at::Tensor& logits, double lambda, double eta) {
  if (logits.dim() != 3) throw std::invalid_argument("consistency_regularizer needs [m, B, K]");
  const auto log_p = torch::log_softmax(logits, 2);  // [m, B, K]
  const auto mean_p = log_p.exp().mean(0);           // p̄ [B, K]
  const auto log_mean = mean_p.clamp_min(1e-20).log();
  // KL(p̄ || p_i) = sum_k p̄_k (log p̄_k - log p_ik), averaged over copies and images.
  const auto kl = (mean_p.unsqueeze(0) * (log_mean.unsqueeze(0) - log_p)).sum(2).mean();
  const auto entropy = -(mean_p * log_mean).sum(1).mean();
  return lambda * kl + eta * entropy;
}

}  // namespace flowlab::ops::rrcm
