#pragma once
// SPEN's equivariant linear maps as a layer computes them: channels-last tensors ([N, m, m, C]
// for 2-tensors, [N, m, C] for 1-tensors) and weights over the basis of ops/spen/basis.h
// ([elements, C_in, C_out], elements in basis.h's order). Equal to Σ_b basis_b(x) W_b + biases,
// but computed in factored form: the basis elements that only place a vector or a scalar
// (diagonal, row or column means, totals) are mixed over channels on the m- or 1-sized vectors
// first and broadcast after, so only the identity and the transpose cost a channel product over
// all m² entries (2 of 15, instead of stacking 15 copies of the input and mixing them all).
// Tests hold each map to the stacked basis (ops/spen/basis.h) contracted with the same weights.
#include <ATen/core/Tensor.h>

namespace flowlab::ops::spen {

/// 2 -> 2: x [N, m, m, C], w [15, C, D], bias_all / bias_diag [D] -> [N, m, m, D]
/// (bias_all on every entry, bias_diag on the diagonal too).
at::Tensor map_2_to_2(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias_all,
                      const at::Tensor& bias_diag);
/// 2 -> 1: x [N, m, m, C], w [5, C, D], bias [D] -> [N, m, D]
at::Tensor map_2_to_1(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias);
/// 1 -> 2: v [N, m, C], w [5, C, D], bias [D] -> [N, m, m, D]
at::Tensor map_1_to_2(const at::Tensor& v, const at::Tensor& w, const at::Tensor& bias);
/// 1 -> 1: v [N, m, C], w [2, C, D], bias [D] -> [N, m, D]
at::Tensor map_1_to_1(const at::Tensor& v, const at::Tensor& w, const at::Tensor& bias);
/// 2 -> 0: x [N, m, m, C], w [2, C, D], bias [D] -> [N, D]
at::Tensor map_2_to_0(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias);
/// 1 -> 0: v [N, m, C], w [1, C, D], bias [D] -> [N, D]
at::Tensor map_1_to_0(const at::Tensor& v, const at::Tensor& w, const at::Tensor& bias);

}  // namespace flowlab::ops::spen
