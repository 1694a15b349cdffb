#pragma once
// The S4D layer (Gu et al. 2022, the reference `S4D` module of state-spaces/s4): H independent
// diagonal SSMs of state size N applied along the sequence, a D skip, GELU, dropout, and a 1x1
// convolution to 2H channels with a GLU. Trains in convolution mode (FFT, zero-padded to >= 2L) and
// can run step by step (recurrent mode) with the same outputs. Include only from .cpp files.
#include <string>

#include <torch/torch.h>

#include "ops/ssm/diagonal_ssm.h"
#include "ops/ssm/ptd.h"

namespace flowlab::ops::ssm {

struct S4dOptions {
  int64_t channels = 64;     // H
  int64_t state = 64;        // N (N/2 stored conjugate pairs)
  std::string init = "lin";  // a diagonal_init name, or "ptd" (perturb-then-diagonalize)
  PtdOptions ptd;            // for "ptd" (its size is set to state / 2)
  Discretization discretization = Discretization::kZoh;
  double dt_min = 0.001, dt_max = 0.1;
  double dropout = 0.0;
  /// A second C reads the sequence backwards (one anti-causal kernel from the same A, B, dt),
  /// as the S4 reference's bidirectional layers for LRA; no recurrent mode then.
  bool bidirectional = false;
};

struct S4dLayerImpl : torch::nn::Module {
  explicit S4dLayerImpl(const S4dOptions& options);

  /// u [B, H, L] -> [B, H, L], by FFT convolution.
  torch::Tensor forward(const torch::Tensor& u);
  /// The same map run as a recurrence, one step at a time (inference; causal layers only).
  torch::Tensor forward_recurrent(const torch::Tensor& u);

  /// The SSM's continuous parameters and discretization, as the kernel sees them.
  torch::Tensor a() const;           // [H, N/2] complex: -exp(log_a_real) + i a_imag
  torch::Tensor b() const;           // [H, N/2] complex
  torch::Tensor c() const;           // [H, N/2] complex
  torch::Tensor c_backward() const;  // the anti-causal kernel's C (bidirectional layers)
  torch::Tensor dt() const;          // [H]
  Discrete discrete() const;
  /// K [H, L].
  torch::Tensor kernel(int64_t length) const;
  /// log_dt, log_a_real, a_imag and b: trained with their own learning rate, no weight decay.
  std::vector<torch::Tensor> ssm_parameters() const;
  /// |G_h(i w)| of the H real systems (both members of each conjugate pair), averaged over the
  /// channels, at frequencies w [K] (float64): the layer's continuous transfer function.
  torch::Tensor mean_transfer_magnitude(const torch::Tensor& omegas) const;

  S4dOptions options;
  torch::Tensor log_dt, log_a_real, a_imag, b_ri, c_ri, d;  // *_ri: complex as [..., 2] reals
  torch::Tensor c_backward_ri;                              // defined when bidirectional
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Conv1d output{nullptr};

 private:
  torch::Tensor finish(const torch::Tensor& y, const torch::Tensor& u);  // D skip, GELU, ..., GLU
};
TORCH_MODULE(S4dLayer);

}  // namespace flowlab::ops::ssm
