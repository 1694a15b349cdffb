#pragma once
// The training loss of 1-N scoring (the NFE reference code's): binary cross-entropy of every
// entity's score against the query's one true tail, summed over entities, averaged over queries.
#include <ATen/core/Tensor.h>

namespace flowlab::ops::kge {

/// mean_b sum_e softplus((1 - 2 [e = t_b]) s_be) for scores [B, E] and tails [B] (int64), with
/// its gradient (sigmoid(s) - [e = t]) / B computed in one pass over the scores.
at::Tensor one_to_n_cross_entropy(const at::Tensor& scores, const at::Tensor& tails);

}  // namespace flowlab::ops::kge
