#pragma once
// The bases of permutation-equivariant linear maps between 2-tensors (m x m, edge features) and
// 1-tensors (m, node features) of Maron et al.'s invariant graph networks, the layers SPEN runs on
// every ego-network (research notes §5.2). Each function applies every basis element to a batch
// and stacks the results along a new dimension 2, so a layer is a learned mix of them. Sums are
// means (divided by m or m^2, the reference's 'inf' normalization), so weights transfer across
// subgraph sizes. Counts: 2->2 15 (Bell(4)), 2->1 5, 1->2 5, 1->1 2, 2->0 2, 1->0 1.
#include <ATen/core/Tensor.h>

namespace flowlab::ops::spen {

/// [B, C, m, m] -> [B, C, 15, m, m]
at::Tensor basis_2_to_2(const at::Tensor& t);
/// [B, C, m, m] -> [B, C, 5, m]
at::Tensor basis_2_to_1(const at::Tensor& t);
/// [B, C, m] -> [B, C, 5, m, m]
at::Tensor basis_1_to_2(const at::Tensor& v);
/// [B, C, m] -> [B, C, 2, m]
at::Tensor basis_1_to_1(const at::Tensor& v);
/// [B, C, m, m] -> [B, C, 2] (invariant)
at::Tensor basis_2_to_0(const at::Tensor& t);
/// [B, C, m] -> [B, C, 1] (invariant)
at::Tensor basis_1_to_0(const at::Tensor& v);

}  // namespace flowlab::ops::spen
