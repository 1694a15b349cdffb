#pragma once
// The consistency regularizer of Jeong & Shin (NeurIPS 2020) that rRCM's fine-tuning adds to the
// cross-entropy (research notes certify.md §4.3): for m noisy copies of each image with softmax
// outputs p_1 .. p_m and their mean p̄,
//   lambda * mean over images of (1/m) sum_i KL(p̄ || p_i)  +  eta * mean over images of H(p̄).
// The first term pulls the copies' predictions together, the second keeps their mean confident.
#include <ATen/core/Tensor.h>

namespace flowlab::ops::rrcm {

/// logits [m, B, K]: copy i of image b. Gradients flow through every p_i and through p̄ (as the
/// reference implementation does).
at::Tensor consistency_regularizer(const at::Tensor& logits, double lambda, double eta);

}  // namespace flowlab::ops::rrcm
