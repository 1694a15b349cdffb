#include "ops/ssm/transfer.h"

#include <torch/torch.h>

namespace flowlab::ops::ssm {

at::Tensor transfer_dense(const at::Tensor& a, const at::Tensor& b, const at::Tensor& c,
                          const at::Tensor& omegas) {
  const auto c128 = torch::kComplexDouble;
  const int64_t n = a.size(0);
  auto s = torch::complex(torch::zeros_like(omegas), omegas).to(c128);  // i w  [K]
  auto eye = torch::eye(n, torch::TensorOptions().dtype(c128));
  auto system = s.view({-1, 1, 1}) * eye - a.to(c128);  // [K, n, n]
  auto rhs = b.to(c128).view({1, n, 1}).expand({omegas.size(0), n, 1});
  auto x = at::linalg_solve(system, rhs).squeeze(-1);  // [K, n]
  return torch::matmul(x, c.to(c128));
}

at::Tensor transfer_diagonal(const at::Tensor& eigenvalues, const at::Tensor& b,
                             const at::Tensor& c, const at::Tensor& omegas) {
  const auto c128 = torch::kComplexDouble;
  auto s = torch::complex(torch::zeros_like(omegas), omegas).to(c128).unsqueeze(1);  // [K, 1]
  auto residues = (c.to(c128) * b.to(c128)).unsqueeze(0);                            // [1, m]
  return (residues / (s - eigenvalues.to(c128).unsqueeze(0))).sum(1);
}

at::Tensor real_system_magnitude(const at::Tensor& eigenvalues, const at::Tensor& b,
                                 const at::Tensor& c, const at::Tensor& omegas) {
  return transfer_diagonal(torch::cat({eigenvalues, eigenvalues.conj()}), torch::cat({b, b.conj()}),
                           torch::cat({c, c.conj()}), omegas)
      .abs();
}

}  // namespace flowlab::ops::ssm
