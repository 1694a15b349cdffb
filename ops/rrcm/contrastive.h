#pragma once
// The pieces of rRCM pre-training that are pure mathematics (research notes: certify.md §4):
// the Karras / EDM noise grid the encoder is conditioned on, and the InfoNCE loss both of its
// pre-training losses use (instance discrimination between two augmentations at the clean end,
// and consistency between adjacent points of one noise trajectory). Groundwork of issue 17: the
// encoder, the trainer and the experiment are not built yet.
#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace flowlab::ops::rrcm {

/// t_k = (t_max^(1/rho) + k / (K - 1) (t_min^(1/rho) - t_max^(1/rho)))^rho for k = 0 .. K - 1:
/// from t_max down to t_min, denser near t_min (EDM's defaults: 0.002, 80, rho 7). K >= 2.
std::vector<double> karras_grid(int64_t points, double t_min = 0.002, double t_max = 80.0,
                                double rho = 7.0);

/// The index of the grid point nearest to t (the first on ties): the noise level the encoder is
/// conditioned on when it classifies inputs with noise t.
int64_t nearest_grid_index(const std::vector<double>& grid, double t);

/// InfoNCE of queries q [B, D] against keys k [B, D]: each row L2-normalized, logits
/// q_i . k_j / temperature, cross-entropy with the positive k_i for q_i, averaged over the B
/// queries. Gradients flow into both q and k (detach k for a stop-gradient target).
at::Tensor info_nce(const at::Tensor& queries, const at::Tensor& keys, double temperature);

}  // namespace flowlab::ops::rrcm
