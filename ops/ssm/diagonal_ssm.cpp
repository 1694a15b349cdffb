#include "ops/ssm/diagonal_ssm.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include "common/error.h"

namespace flowlab::ops::ssm {

Discretization parse_discretization(const std::string& name) {
  if (name == "zoh") return Discretization::kZoh;
  if (name == "bilinear") return Discretization::kBilinear;
  throw RunError(fmt::format("unknown discretization '{}' (zoh or bilinear)", name));
}

Discrete discretize(const at::Tensor& a, const at::Tensor& b, const at::Tensor& dt,
                    Discretization method) {
  const auto dt_a = a * dt.unsqueeze(-1);  // [H, N/2]
  if (method == Discretization::kZoh) {
    auto a_bar = torch::exp(dt_a);
    return {a_bar, (a_bar - 1) / a * b, dt_a};
  }
  auto denominator = 1 - dt_a / 2;
  auto a_bar = (1 + dt_a / 2) / denominator;
  return {a_bar, b * dt.unsqueeze(-1) / denominator, torch::log(a_bar)};
}

at::Tensor ssm_kernel(const Discrete& d, const at::Tensor& c, int64_t length) {
  auto real_dtype = torch::real(c).scalar_type();
  auto steps = torch::arange(length, torch::TensorOptions().dtype(real_dtype).device(c.device()));
  // Vandermonde: Abar^l = exp(l log Abar) [H, N/2, L]; then contract the state dimension.
  auto log_a_bar = d.log_a_bar.defined() ? d.log_a_bar : torch::log(d.a_bar);
  auto powers = torch::exp(log_a_bar.unsqueeze(-1) * steps);
  auto k = torch::einsum("hn,hnl->hl", {c * d.b_bar, powers});
  return 2 * torch::real(k);
}

at::Tensor causal_fft_conv(const at::Tensor& u, const at::Tensor& k, int64_t fft_length) {
  const int64_t length = u.size(-1);
  auto u_f = torch::fft::rfft(u, fft_length);
  auto k_f = torch::fft::rfft(k, fft_length);
  return torch::fft::irfft(u_f * k_f, fft_length).narrow(-1, 0, length);
}

at::Tensor bidirectional_fft_conv(const at::Tensor& u, const at::Tensor& k_fwd,
                                  const at::Tensor& k_bwd, int64_t fft_length) {
  const int64_t length = u.size(-1);
  if (fft_length < 2 * length)
    throw RunError(fmt::format("bidirectional convolution: {} FFT points for length {} (need {})",
                               fft_length, length, 2 * length));
  // k[n - 1 - j] = k_bwd[j]: index (t - s) mod n of a future input s > t reads k_bwd[s - t - 1].
  auto gap = torch::zeros({k_fwd.size(0), fft_length - 2 * length}, k_fwd.options());
  auto k = torch::cat({k_fwd, gap, k_bwd.flip(-1)}, -1);
  auto y = torch::fft::irfft(torch::fft::rfft(u, fft_length) * torch::fft::rfft(k), fft_length);
  return y.narrow(-1, 0, length);
}

int64_t fast_fft_length(int64_t n) {
  for (int64_t m = std::max<int64_t>(n, 1);; ++m) {
    int64_t rest = m;
    for (int64_t p : {2, 3, 5})
      while (rest % p == 0) rest /= p;
    if (rest == 1) return m;
  }
}

at::Tensor ssm_step(const Discrete& d, const at::Tensor& c, at::Tensor& state,
                    const at::Tensor& u_t) {
  state = d.a_bar * state + d.b_bar * u_t.unsqueeze(-1);
  return 2 * torch::real((c * state).sum(-1));
}

at::Tensor ssm_recurrence(const Discrete& d, const at::Tensor& c, const at::Tensor& u) {
  const int64_t batch = u.size(0), channels = u.size(1), length = u.size(2);
  auto state = torch::zeros({batch, channels, d.a_bar.size(-1)}, d.a_bar.options());
  std::vector<at::Tensor> ys;
  ys.reserve(length);
  for (int64_t t = 0; t < length; ++t) ys.push_back(ssm_step(d, c, state, u.select(2, t)));
  return torch::stack(ys, 2);
}

}  // namespace flowlab::ops::ssm
