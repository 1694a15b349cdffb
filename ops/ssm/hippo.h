#pragma once
// HiPPO-LegS and the diagonal initializations of S4D (Gu, Gupta, Goel, Ré 2022, "On the
// parameterization and initialization of diagonal state space models"), in float64.
// Conventions (as the state-spaces/s4 reference code):
//   A_nk = -sqrt(2n+1) sqrt(2k+1) for n > k, -(n+1) for n = k, 0 above;  B_n = sqrt(2n+1);
//   A = A_N - P P^T with P_n = sqrt(n + 1/2), and A_N = -I/2 + S with S skew-symmetric.
// A diagonal SSM of state size N stores N/2 eigenvalues (one of each conjugate pair) and reads its
// output as 2 Re(...), so every initialization below has N/2 entries.
#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace flowlab::ops::ssm {

/// HiPPO-LegS A [N, N] and B [N] (float64).
at::Tensor hippo_legs_a(int64_t n);
at::Tensor hippo_legs_b(int64_t n);
/// The low-rank term's P [N]: P_n = sqrt(n + 1/2).
at::Tensor hippo_legs_p(int64_t n);
/// The normal part A_N = A + P P^T [N, N].
at::Tensor hippo_legs_normal(int64_t n);

/// A diagonal SSM's initial state matrix and input vector: N/2 complex values each (complex128).
struct DiagonalInit {
  at::Tensor a;  // eigenvalues, real part < 0
  at::Tensor b;  // input projection in the eigenbasis
};

/// The initializations by name: "lin" (S4D-Lin), "inv" (S4D-Inv), "legs" (S4D-LegS: eigenvalues
/// of HiPPO-LegS's normal part, B = V^H B_LegS with its imaginary part clipped to +-2, as the
/// reference code), "real" (S4D-Real) and "random" (imaginary parts exp(N(0,1)), drawn from the
/// global torch RNG). `state` is N, even.
DiagonalInit diagonal_init(const std::string& name, int64_t state);
const std::vector<std::string>& diagonal_init_names();

/// kappa_2(V) = sigma_max / sigma_min of a square matrix (inf when singular in float64).
double condition_number(const at::Tensor& v);

}  // namespace flowlab::ops::ssm
