#include "ops/ssm/s5_layer.h"

#include <cmath>

#include "ops/ssm/transfer.h"

namespace flowlab::ops::ssm {

torch::Tensor diagonal_scan(const torch::Tensor& log_a, const torch::Tensor& v) {
  const int64_t length = v.size(-1);
  auto x = v;
  for (int64_t d = 1; d < length; d *= 2) {
    // x_t += a^d x_{t-d} for t >= d, from the previous step's values (out of place).
    auto a_d = torch::exp(log_a * static_cast<double>(d)).unsqueeze(-1);  // [P, 1]
    auto shifted = torch::constant_pad_nd(x.narrow(-1, 0, length - d) * a_d, {d, 0});
    x = x + shifted;
  }
  return x;
}

S5LayerImpl::S5LayerImpl(const S5Options& o) : options(o) {
  const int64_t h = o.channels, p = o.state;
  log_dt = register_parameter(
      "log_dt", torch::rand({p}) * (std::log(o.dt_max) - std::log(o.dt_min)) + std::log(o.dt_min));
  PtdOptions ptd = o.ptd;
  ptd.size = p;
  const Perturbation e = perturb_then_diagonalize(ptd);
  const DiagonalInit init = ptd_init(e);
  auto lambda = init.a.to(torch::kComplexFloat);
  log_lambda_real = register_parameter("log_lambda_real", torch::log(-torch::real(lambda)));
  lambda_imag = register_parameter("lambda_imag", torch::imag(lambda).contiguous());
  // B0 ~ N(0, 1/H) (LeCun normal), C0 ~ N(0, 1/P), carried into the eigenbasis of A_LegS - E.
  auto v = e.eigenvectors.to(torch::kComplexDouble);
  auto b0 = (torch::randn({p, h}, torch::kFloat64) / std::sqrt(static_cast<double>(h)))
                .to(torch::kComplexDouble);
  auto c0 = (torch::randn({h, p}, torch::kFloat64) / std::sqrt(static_cast<double>(p)))
                .to(torch::kComplexDouble);
  b_ri = register_parameter(
      "b", torch::view_as_real(at::linalg_solve(v, b0).to(torch::kComplexFloat)).contiguous());
  c_ri = register_parameter(
      "c", torch::view_as_real(torch::matmul(c0, v).to(torch::kComplexFloat)).contiguous());
  d = register_parameter("d", torch::randn({h}));
  dropout = register_module("dropout", torch::nn::Dropout(o.dropout));
  output = register_module("output", torch::nn::Conv1d(torch::nn::Conv1dOptions(h, 2 * h, 1)));
}

torch::Tensor S5LayerImpl::lambda() const {
  return torch::complex(-torch::exp(log_lambda_real), lambda_imag);
}
torch::Tensor S5LayerImpl::b() const { return torch::view_as_complex(b_ri); }
torch::Tensor S5LayerImpl::c() const { return torch::view_as_complex(c_ri); }
torch::Tensor S5LayerImpl::dt() const { return torch::exp(log_dt); }
std::vector<torch::Tensor> S5LayerImpl::ssm_parameters() const {
  return {log_dt, log_lambda_real, lambda_imag, b_ri};
}

torch::Tensor S5LayerImpl::finish(const torch::Tensor& y, const torch::Tensor& u) {
  auto z = y + u * d.unsqueeze(-1);
  z = dropout(torch::gelu(z));
  return torch::glu(output(z), /*dim=*/1);
}

torch::Tensor S5LayerImpl::forward(const torch::Tensor& u) {
  auto dt_lambda = lambda() * dt();  // [P]
  auto a_bar = torch::exp(dt_lambda);
  auto b_bar = ((a_bar - 1) / lambda()).unsqueeze(-1) * b();  // [P, H]
  auto v = torch::einsum("ph,bhl->bpl", {b_bar, u.to(b_bar.scalar_type())});
  auto x = diagonal_scan(dt_lambda, v);
  auto y = 2 * torch::real(torch::einsum("hp,bpl->bhl", {c(), x}));
  return finish(y, u);
}

torch::Tensor S5LayerImpl::forward_recurrent(const torch::Tensor& u) {
  auto a_bar = torch::exp(lambda() * dt());
  auto b_bar = ((a_bar - 1) / lambda()).unsqueeze(-1) * b();
  auto state = torch::zeros({u.size(0), options.state}, a_bar.options());
  std::vector<torch::Tensor> ys;
  for (int64_t t = 0; t < u.size(2); ++t) {
    state = a_bar * state + torch::matmul(u.select(2, t).to(b_bar.scalar_type()), b_bar.t());
    ys.push_back(2 * torch::real(torch::matmul(state, c().t())));
  }
  return finish(torch::stack(ys, 2), u);
}

torch::Tensor S5LayerImpl::mean_transfer_magnitude(const torch::Tensor& omegas) const {
  torch::NoGradGuard no_grad;
  const auto c128 = torch::kComplexDouble;
  auto lam = lambda().to(c128), b = this->b().to(c128), c = this->c().to(c128);
  auto total = torch::zeros_like(omegas);
  // G_hh: input h to output h.
  for (int64_t h = 0; h < options.channels; ++h)
    total += real_system_magnitude(lam, b.select(1, h), c.select(0, h), omegas);
  return total / static_cast<double>(options.channels);
}

}  // namespace flowlab::ops::ssm
