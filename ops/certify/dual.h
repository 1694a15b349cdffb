#pragma once
// Dual randomized smoothing (Xia et al., ICLR 2024): the image is split into two halves by a
// checkerboard of pixel indices, each half is smoothed with its own base classifier at the same
// sigma, and the prediction is the class with the most summed votes.
//
// Radius. With R_i = sigma * Phi^{-1}(p_lower_i) for the two branches, the certificate is
//   R = (R_l + R_r) / sqrt(2),
// which is sound and tight: a perturbation splits into parts on each half with
// |d_l|^2 + |d_r|^2 = |d|^2, the predicted class keeps more than half of the averaged
// probability while |d_l| + |d_r| < R_l + R_r, and max(|d_l| + |d_r|) = sqrt(2)|d|.
// Each branch bound is taken at alpha / 2 so both hold together with probability 1 - alpha, and a
// negative branch term is kept (clamping it to 0 would overstate R). One public implementation
// returns sqrt(R_l^2 + R_r^2), which exceeds the true radius whenever R_l != R_r; not this one.
#include "ops/certify/smoothing.h"

namespace flowlab::ops::certify {

struct DualCertificate {
  int64_t prediction = kAbstain;
  double radius = 0.0;
  int64_t count_l = 0, count_r = 0;  // the selected class's votes in each branch (n samples)
  double p_lower_l = 0, p_lower_r = 0;
  double radius_l = 0, radius_r = 0;  // sigma * Phi^{-1}(p_lower_i); may be negative or -inf
};

/// f_l and f_r each receive the full noisy image and look only at their own half (flowlab's
/// half models mask their input), so one full-image noise draw gives both halves independent
/// noise.
DualCertificate dual_certify(const LogitsFn& f_l, const LogitsFn& f_r, const at::Tensor& x,
                             int64_t num_classes, const SmoothingOptions& options,
                             at::Generator& gen);

}  // namespace flowlab::ops::certify
