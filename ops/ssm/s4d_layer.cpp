#include "ops/ssm/s4d_layer.h"

#include <cmath>

#include "common/error.h"
#include "ops/ssm/hippo.h"
#include "ops/ssm/transfer.h"

namespace flowlab::ops::ssm {

S4dLayerImpl::S4dLayerImpl(const S4dOptions& o) : options(o) {
  const int64_t h = o.channels, half = o.state / 2;
  // dt log-uniform in [dt_min, dt_max], one per channel.
  log_dt = register_parameter(
      "log_dt", torch::rand({h}) * (std::log(o.dt_max) - std::log(o.dt_min)) + std::log(o.dt_min));
  DiagonalInit init;
  if (o.init == "ptd") {
    PtdOptions ptd = o.ptd;
    ptd.size = half;
    init = ptd_init(perturb_then_diagonalize(ptd));
  } else {
    init = diagonal_init(o.init, o.state);
  }
  auto a = init.a.to(torch::kComplexFloat).unsqueeze(0).expand({h, half});
  // A's real part is kept negative by construction: A_re = -exp(log_a_real).
  log_a_real = register_parameter("log_a_real", torch::log(-torch::real(a)).contiguous());
  a_imag = register_parameter("a_imag", torch::imag(a).contiguous());
  b_ri = register_parameter(
      "b", torch::view_as_real(init.b.to(torch::kComplexFloat).unsqueeze(0).expand({h, half}))
               .contiguous());
  // C ~ complex normal: real and imaginary parts N(0, 1/2) each.
  c_ri = register_parameter("c", torch::randn({h, half, 2}) * std::sqrt(0.5));
  if (o.bidirectional)
    c_backward_ri = register_parameter("c_backward", torch::randn({h, half, 2}) * std::sqrt(0.5));
  d = register_parameter("d", torch::randn({h}));
  dropout = register_module("dropout", torch::nn::Dropout(o.dropout));
  output = register_module("output", torch::nn::Conv1d(torch::nn::Conv1dOptions(h, 2 * h, 1)));
}

torch::Tensor S4dLayerImpl::a() const { return torch::complex(-torch::exp(log_a_real), a_imag); }
torch::Tensor S4dLayerImpl::b() const { return torch::view_as_complex(b_ri); }
torch::Tensor S4dLayerImpl::c() const { return torch::view_as_complex(c_ri); }
torch::Tensor S4dLayerImpl::c_backward() const { return torch::view_as_complex(c_backward_ri); }
torch::Tensor S4dLayerImpl::dt() const { return torch::exp(log_dt); }
Discrete S4dLayerImpl::discrete() const {
  return discretize(a(), b(), dt(), options.discretization);
}
torch::Tensor S4dLayerImpl::kernel(int64_t length) const {
  return ssm_kernel(discrete(), c(), length);
}

std::vector<torch::Tensor> S4dLayerImpl::ssm_parameters() const {
  return {log_dt, log_a_real, a_imag, b_ri};
}

torch::Tensor S4dLayerImpl::finish(const torch::Tensor& y, const torch::Tensor& u) {
  auto z = y + u * d.unsqueeze(-1);
  z = dropout(torch::gelu(z));
  return torch::glu(output(z), /*dim=*/1);
}

torch::Tensor S4dLayerImpl::forward(const torch::Tensor& u) {
  const int64_t length = u.size(-1), fft_length = fast_fft_length(2 * length);
  if (!options.bidirectional) return finish(causal_fft_conv(u, kernel(length), fft_length), u);
  const Discrete discretized = discrete();  // one discretization for both kernels
  return finish(bidirectional_fft_conv(u, ssm_kernel(discretized, c(), length),
                                       ssm_kernel(discretized, c_backward(), length), fft_length),
                u);
}

torch::Tensor S4dLayerImpl::forward_recurrent(const torch::Tensor& u) {
  if (options.bidirectional)
    throw RunError("a bidirectional S4D layer has no recurrent mode (it reads the future)");
  return finish(ssm_recurrence(discrete(), c(), u), u);
}

torch::Tensor S4dLayerImpl::mean_transfer_magnitude(const torch::Tensor& omegas) const {
  torch::NoGradGuard no_grad;
  const auto c128 = torch::kComplexDouble;
  auto a_ = a().to(c128), b_ = b().to(c128), c_ = c().to(c128);
  auto total = torch::zeros_like(omegas);
  for (int64_t h = 0; h < a_.size(0); ++h)
    total += real_system_magnitude(a_[h], b_[h], c_[h], omegas);
  return total / static_cast<double>(a_.size(0));
}

}  // namespace flowlab::ops::ssm
