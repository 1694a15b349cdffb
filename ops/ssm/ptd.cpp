#include "ops/ssm/ptd.h"

#include <map>
#include <mutex>
#include <tuple>

#include <torch/torch.h>

namespace flowlab::ops::ssm {
namespace {

at::Tensor legs_c128(int64_t n) { return hippo_legs_a(n).to(torch::kComplexDouble); }

// ||x||_F through real views: differentiable for complex tensors on every LibTorch version.
at::Tensor frobenius(const at::Tensor& x) { return torch::view_as_real(x).pow(2).sum().sqrt(); }

at::Tensor kappa_of(const at::Tensor& v) {
  auto s = at::linalg_svdvals(v);
  return s.max() / s.min();
}

}  // namespace

Perturbation diagonalize_perturbed(const at::Tensor& e) {
  torch::NoGradGuard no_grad;
  const int64_t n = e.size(0);
  auto a = legs_c128(n);
  auto [w, v] = torch::linalg::eig(a - e);
  Perturbation p;
  p.e = e;
  p.eigenvalues = w;
  p.eigenvectors = v;
  p.kappa = kappa_of(v).item<double>();
  const double a_norm = frobenius(a).item<double>();
  p.relative_norm = frobenius(e).item<double>() / a_norm;
  auto rebuilt = torch::matmul(torch::matmul(v, torch::diag(w)), torch::linalg::inv(v));
  p.backward_error = frobenius(a - e - rebuilt).item<double>() / a_norm;
  return p;
}

Perturbation perturb_then_diagonalize(const PtdOptions& o) {
  static std::mutex mutex;
  static std::map<std::tuple<int64_t, double, int64_t, double, uint64_t>, Perturbation> memo;
  const auto key = std::make_tuple(o.size, o.lambda, o.iterations, o.lr, o.seed);
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = memo.find(key); it != memo.end()) return it->second;
  }
  // M = -A_LegS (positive lower triangular), as the authors' code works with it.
  auto m = -legs_c128(o.size);
  auto gen = at::detail::createCPUGenerator(o.seed);
  auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  // E as [n, n, 2] reals: Adam's moment estimates are then those of Python's Adam on a complex
  // parameter (which works on the real view too), not of a complex square.
  auto e_ri = torch::stack({at::rand({o.size, o.size}, gen, f64) * 0.1,
                            at::rand({o.size, o.size}, gen, f64) * 0.1},
                           -1)
                  .requires_grad_();
  torch::optim::Adam adam({e_ri}, torch::optim::AdamOptions(o.lr));
  for (int64_t it = 0; it < o.iterations; ++it) {
    auto e = torch::view_as_complex(e_ri);
    auto [w, v] = torch::linalg::eig(m + e);
    auto kappa = kappa_of(v);
    auto loss = kappa * kappa + o.lambda * frobenius(e);
    adam.zero_grad();
    loss.backward();
    adam.step();
  }
  // M + E = -(A_LegS - E): both have the same eigenvectors, so A_LegS - E is what is diagonalized.
  Perturbation p = diagonalize_perturbed(torch::view_as_complex(e_ri.detach()).clone());
  std::lock_guard<std::mutex> lock(mutex);
  memo.emplace(key, p);
  return p;
}

DiagonalInit ptd_init(const Perturbation& p) {
  auto w = p.eigenvalues;
  auto a = torch::complex(-torch::real(w).abs(), torch::imag(w));
  auto b = at::linalg_solve(p.eigenvectors, hippo_legs_b(w.size(0)).to(torch::kComplexDouble));
  return {a, b};
}

}  // namespace flowlab::ops::ssm
