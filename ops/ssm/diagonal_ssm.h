#pragma once
// The diagonal state-space layer's mathematics, as plain functions of tensors so that tests can
// check each against the unrolled recurrence. H independent single-input single-output SSMs
//   x'(t) = A x(t) + B u(t),   y(t) = C x(t) + D u(t),
// with A diagonal: N/2 complex eigenvalues per channel stored (one of each conjugate pair), the
// output read as 2 Re(C x) so the system is real. Discretized with step dt (per channel) by
//   ZOH:      Abar = exp(dt A),               Bbar = (exp(dt A) - 1) / A * B
//   bilinear: Abar = (1 + dt A/2)/(1 - dt A/2), Bbar = dt B / (1 - dt A/2)
// the layer is the causal convolution y = K * u + D u with kernel
//   K[h, l] = 2 Re sum_n C[h,n] Bbar[h,n] Abar[h,n]^l     (a Vandermonde product),
// computed by FFT with zero padding to 2L, or step by step (recurrent mode, for inference).
#include <string>

#include <ATen/core/Tensor.h>

namespace flowlab::ops::ssm {

enum class Discretization { kZoh, kBilinear };
Discretization parse_discretization(const std::string& name);  // "zoh" or "bilinear"

/// Abar and Bbar [H, N/2] (complex) from A, B [H, N/2] (complex) and dt [H] (real).
struct Discrete {
  at::Tensor a_bar, b_bar;
  /// log Abar, for the kernel's powers: dt A itself under ZOH (no exp-then-log round trip).
  at::Tensor log_a_bar;
};
Discrete discretize(const at::Tensor& a, const at::Tensor& b, const at::Tensor& dt,
                    Discretization method);

/// K [H, L] (real): 2 Re sum_n C Bbar Abar^l, with powers taken as exp(l log Abar) (log Abar
/// from `d`, or computed when `d` has none).
at::Tensor ssm_kernel(const Discrete& d, const at::Tensor& c, int64_t length);

/// y = causal convolution of u [B, H, L] with k [H, L] along L: y_t = sum_{s<=t} k_{t-s} u_s,
/// by FFT over `fft_length` points. `fft_length` must be >= 2L - 1 for a linear (not circular)
/// convolution; the layer uses fast_fft_length(2L) (the tests also call it with L to show why).
at::Tensor causal_fft_conv(const at::Tensor& u, const at::Tensor& k, int64_t fft_length);

/// The bidirectional version (the S4 reference's `bidirectional`, used for LRA tasks): y_t =
/// sum_{s<=t} k_fwd_{t-s} u_s + sum_{s>t} k_bwd_{s-t-1} u_s, one FFT product with the backward
/// kernel reversed at the end of the `fft_length` (>= 2L) buffer.
at::Tensor bidirectional_fft_conv(const at::Tensor& u, const at::Tensor& k_fwd,
                                  const at::Tensor& k_bwd, int64_t fft_length);

/// The smallest 5-smooth number (2^a 3^b 5^c) >= n, scipy's next_fast_len rule: any length
/// >= 2L - 1 gives the same linear convolution, and pocketfft is fastest on such sizes (for
/// L = 784: 1600 points instead of 1568 = 2^5 7^2 made the forward and inverse FFT 1.26x faster).
int64_t fast_fft_length(int64_t n);

/// The same layer run as a recurrence over u [B, H, L]: state <- Abar state + Bbar u_t,
/// y_t = 2 Re(C state) (+ D u_t, added by the caller). The state starts at zero.
at::Tensor ssm_recurrence(const Discrete& d, const at::Tensor& c, const at::Tensor& u);

/// One recurrent step: `state` [B, H, N/2] (complex) is advanced in place by u_t [B, H]; returns
/// y_t [B, H] = 2 Re(C state) (without the D skip).
at::Tensor ssm_step(const Discrete& d, const at::Tensor& c, at::Tensor& state,
                    const at::Tensor& u_t);

}  // namespace flowlab::ops::ssm
