#include "ops/ssm/hippo.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <torch/torch.h>

#include "common/error.h"

namespace flowlab::ops::ssm {
namespace {
const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);
const auto kC128 = torch::TensorOptions().dtype(torch::kComplexDouble);
}  // namespace

at::Tensor hippo_legs_a(int64_t n) {
  auto a = torch::zeros({n, n}, kF64);
  auto acc = a.accessor<double, 2>();
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < i; ++k) acc[i][k] = -std::sqrt(2.0 * i + 1) * std::sqrt(2.0 * k + 1);
    acc[i][i] = -(i + 1.0);
  }
  return a;
}

at::Tensor hippo_legs_b(int64_t n) { return torch::arange(n, kF64).mul(2).add(1).sqrt(); }

at::Tensor hippo_legs_p(int64_t n) { return torch::arange(n, kF64).add(0.5).sqrt(); }

at::Tensor hippo_legs_normal(int64_t n) {
  auto p = hippo_legs_p(n);
  return hippo_legs_a(n) + torch::outer(p, p);
}

const std::vector<std::string>& diagonal_init_names() {
  static const std::vector<std::string> names = {"lin", "inv", "legs", "real", "random"};
  return names;
}

DiagonalInit diagonal_init(const std::string& name, int64_t state) {
  if (state < 2 || state % 2 != 0)
    throw RunError(fmt::format("the state size N must be even and >= 2, got {}", state));
  const int64_t half = state / 2;
  const auto n = torch::arange(half, kF64);
  const double pi = M_PI;
  auto complex = [](const at::Tensor& re, const at::Tensor& im) { return torch::complex(re, im); };
  auto ones_b = torch::ones({half}, kC128);
  if (name == "lin")  // A_n = -1/2 + i pi n
    return {complex(torch::full({half}, -0.5, kF64), n * pi), ones_b};
  if (name == "inv")  // A_n = -1/2 + i (N/pi) (N/(2n+1) - 1)
    return {
        complex(torch::full({half}, -0.5, kF64),
                (static_cast<double>(state) / pi) * (static_cast<double>(state) / (2 * n + 1) - 1)),
        ones_b};
  if (name == "real")  // A_n = -(n+1)
    return {complex(-(n + 1), torch::zeros({half}, kF64)), ones_b};
  if (name == "random")
    return {complex(torch::full({half}, -0.5, kF64), torch::randn({half}, kF64).exp()), ones_b};
  if (name == "legs") {
    // A_N = -I/2 + S with S skew-symmetric: -i S is Hermitian, so its eigenvalues w are real and
    // its eigenvectors V unitary, and A_N = V diag(-1/2 + i w) V^H. Keep the N/2 eigenvalues with
    // negative imaginary part (one of each conjugate pair), as the reference code does.
    auto s = hippo_legs_normal(state) + 0.5 * torch::eye(state, kF64);
    auto minus_i_s = torch::complex(torch::zeros_like(s), -s);
    auto [w, v] = torch::linalg::eigh(minus_i_s, "L");
    auto order = torch::argsort(w);  // ascending: the first N/2 are negative
    auto keep = order.slice(0, 0, half);
    auto w_keep = w.index_select(0, keep);
    auto v_keep = v.index_select(1, keep);
    auto a = complex(torch::full({half}, -0.5, kF64), w_keep);
    auto b =
        torch::matmul(v_keep.conj().transpose(0, 1), hippo_legs_b(state).to(torch::kComplexDouble));
    b = complex(torch::real(b), torch::imag(b).clamp(-2.0, 2.0));
    return {a, b};
  }
  throw RunError(
      fmt::format("unknown diagonal initialization '{}' (lin, inv, legs, real, random)", name));
}

double condition_number(const at::Tensor& v) {
  auto s = at::linalg_svdvals(v.to(v.is_complex() ? torch::kComplexDouble : torch::kFloat64));
  const double max = s.max().item<double>(), min = s.min().item<double>();
  return min > 0 ? max / min : std::numeric_limits<double>::infinity();
}

}  // namespace flowlab::ops::ssm
