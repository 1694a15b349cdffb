#pragma once
// Perturb-then-diagonalize (Yu, Nigmetov, Morozov, Mahoney, Erichson 2024, "Robustifying
// state-space models for long sequences via approximate diagonalization"). HiPPO-LegS is
// non-normal and its eigenvectors are catastrophically ill-conditioned, so it cannot be
// diagonalized as it is; S4D drops its low-rank part instead. PTD perturbs the whole matrix by a
// small E chosen to make the eigenvectors well conditioned, minimising kappa(V)^2 + lambda ||E||_F
// (V the eigenvectors of M + E, M = -A_LegS of size N/2) by Adam, as the authors' code does, and
// initializes a diagonal SSM from the eigen-decomposition of A_LegS - E.
#include <cstdint>

#include <ATen/core/Tensor.h>

#include "ops/ssm/hippo.h"

namespace flowlab::ops::ssm {

struct PtdOptions {
  int64_t size = 32;    // N/2: the size of the perturbed LegS matrix
  double lambda = 0.2;  // weight of ||E||_F against kappa(V)^2
  int64_t iterations = 3000;
  double lr = 0.1;
  uint64_t seed = 0;  // of E's starting point: real and imaginary parts Uniform[0, 0.1)
};

struct Perturbation {
  at::Tensor e;               // [n, n] complex128
  at::Tensor eigenvalues;     // of A_LegS - E, [n] complex128
  at::Tensor eigenvectors;    // V, [n, n] complex128
  double kappa = 0;           // kappa_2(V)
  double relative_norm = 0;   // ||E||_F / ||A_LegS||_F
  double backward_error = 0;  // ||(A - E) - V diag(eig) V^-1||_F / ||A||_F
};

/// Optimizes E (deterministic for given options; results are memoized per process).
Perturbation perturb_then_diagonalize(const PtdOptions& options);

/// The diagonal SSM initialized from a perturbation: eigenvalues with their real parts forced
/// negative, A = -|Re| + i Im, and B = V^-1 B_LegS.
DiagonalInit ptd_init(const Perturbation& p);

/// kappa(V), ||E|| / ||A|| and the backward error of diagonalizing A_LegS - E with E = `e`.
Perturbation diagonalize_perturbed(const at::Tensor& e);

}  // namespace flowlab::ops::ssm
