#pragma once
// Transfer functions G(s) = C (sI - A)^-1 B of continuous-time SSMs on the imaginary axis s = i w:
// for a dense A by a linear solve per frequency, and for a diagonal system as the partial-fraction
// sum  sum_n c_n b_n / (i w - lambda_n). What distinguishes S4D-LegS (diagonalizing only the
// normal part of HiPPO-LegS) from PTD (diagonalizing the whole matrix, perturbed): the PTD paper's
// Theorems 2 and 3.
#include <ATen/core/Tensor.h>

namespace flowlab::ops::ssm {

/// G(i w) [K] (complex128) for A [n, n], B [n], C [n] and frequencies w [K] (float64).
at::Tensor transfer_dense(const at::Tensor& a, const at::Tensor& b, const at::Tensor& c,
                          const at::Tensor& omegas);

/// G(i w) [K] of the diagonal system (eigenvalues [m], B and C in the eigenbasis, [m] each).
at::Tensor transfer_diagonal(const at::Tensor& eigenvalues, const at::Tensor& b,
                             const at::Tensor& c, const at::Tensor& omegas);

/// |G(i w)| of the real system whose stored modes are (eigenvalues, b, c) [m] and whose other half
/// is their conjugates (the 2 Re read-out of the diagonal layers).
at::Tensor real_system_magnitude(const at::Tensor& eigenvalues, const at::Tensor& b,
                                 const at::Tensor& c, const at::Tensor& omegas);

}  // namespace flowlab::ops::ssm
