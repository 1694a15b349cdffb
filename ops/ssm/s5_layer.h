#pragma once
// The S5 layer (Smith, Warrington, Linderman 2023) with the PTD initialization (Yu et al. 2024):
// one multi-input multi-output diagonal SSM over all H channels with P complex states,
//   x_k = Abar x_{k-1} + Bbar u_k,   y_k = 2 Re(C x_k) + D u_k,
// Abar = exp(dt Lambda), Bbar = (Abar - 1)/Lambda B (ZOH, a step per state), computed by a
// parallel (Hillis-Steele) scan in log2(L) steps instead of a loop over L; then GELU, dropout and
// a 1x1 convolution with a GLU, as the S4D block. Lambda, V from perturb-then-diagonalize of
// HiPPO-LegS of size P; B = V^-1 B0 and C = C0 V for Gaussian B0 [P, H], C0 [H, P].
// Include only from .cpp files.
#include <torch/torch.h>

#include "ops/ssm/ptd.h"

namespace flowlab::ops::ssm {

struct S5Options {
  int64_t channels = 64;  // H
  int64_t state = 32;     // P
  PtdOptions ptd;         // its size is set to P
  double dt_min = 0.001, dt_max = 0.1;
  double dropout = 0.0;
};

/// x_k = a x_{k-1} + v_k along the last axis of v [B, P, L] (complex), a = exp(log_a) [P],
/// x_{-1} = 0, by a log-depth (Hillis-Steele) scan: after the step with offset d each x_t holds
/// its last 2d terms.
torch::Tensor diagonal_scan(const torch::Tensor& log_a, const torch::Tensor& v);

struct S5LayerImpl : torch::nn::Module {
  explicit S5LayerImpl(const S5Options& options);

  torch::Tensor forward(const torch::Tensor& u);            // u [B, H, L], by the scan
  torch::Tensor forward_recurrent(const torch::Tensor& u);  // the same, step by step

  torch::Tensor lambda() const;                       // [P] complex, real part < 0
  torch::Tensor b() const;                            // [P, H] complex
  torch::Tensor c() const;                            // [H, P] complex
  torch::Tensor dt() const;                           // [P]
  std::vector<torch::Tensor> ssm_parameters() const;  // log_dt, Lambda, B
  /// Mean over channels h of |G_hh(i w)|: the diagonal of the MIMO transfer function.
  torch::Tensor mean_transfer_magnitude(const torch::Tensor& omegas) const;

  S5Options options;
  torch::Tensor log_dt, log_lambda_real, lambda_imag, b_ri, c_ri, d;
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Conv1d output{nullptr};

 private:
  torch::Tensor finish(const torch::Tensor& y, const torch::Tensor& u);
};
TORCH_MODULE(S5Layer);

}  // namespace flowlab::ops::ssm
