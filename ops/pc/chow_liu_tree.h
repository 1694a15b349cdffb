#pragma once
// The plain Chow-Liu tree over the pixels themselves, without latent states (research notes
// §6.4 (b)), the reference between independent pixels and the hidden Chow-Liu tree:
//   p(x) = Π_roots p(x_r) Π_v p(x_v | x_parent(v)).
// As a circuit it is smooth, decomposable and deterministic: the sum over a pixel's values under
// each value of its parent. It is fitted in closed form, in one counting pass (maximum likelihood
// is the pair frequencies; EM has nothing to estimate). A pair table has 256 x 256 entries per
// edge against tens of thousands of images, so most parent values are seen a few times and each
// conditional is smoothed toward the pixel's own marginal:
//   p(x_v = b | x_p = a) = (n_ab + α p_v(b)) / (n_a + α),   p_v(b) = (n_b + 1) / (N + values),
// the posterior mean under a Dirichlet prior of weight α centred on p_v (α -> 0 is the maximum
// likelihood). Roots take p_v. The pair counts are kept sparse (only the pairs seen), rows sorted
// by value.
//
// Coding in a topological order (parents first), every ancestor of a pixel is known when it is
// coded and the local Markov property gives P(X_v | x_<v) = p(X_v | x_parent(v)): the codec's
// conditional is one row, and there is nothing to recompute, incrementally or not (the tests
// check the rows against the ratios of brute-force marginals of the joint). Torch-free.
#include <cstdint>
#include <memory>
#include <vector>

#include "ops/pc/pixel_model.h"

namespace flowlab::ops::pc {

struct ChowLiuTree : PixelModel {
  int32_t variables = 0, values = 0;
  double smoothing = 1;                // α
  int64_t samples = 0;                 // N: images counted
  std::vector<int32_t> parent, order;  // order: depth_first_order(parent)
  std::vector<double> marginal;        // [variables][values]: p_v, Laplace-smoothed
  std::vector<uint32_t> parent_count;  // [variables][values]: n_a, times the parent had value a
  std::vector<uint64_t> row_start;     // [variables * values + 1]: row (v, a)'s first pair
  std::vector<uint8_t> pair_value;     // b of each stored pair, increasing within a row
  std::vector<uint32_t> pair_count;    // n_ab of each stored pair

  /// Counts `n` images (row-major, variables per row, values below `values`) on the tree `parent`.
  static ChowLiuTree fit(const std::vector<int32_t>& parent, const uint8_t* data, int64_t n,
                         int32_t values, double smoothing);

  /// p(x_v = . | x_parent = a) into out[values]; a root's marginal (a ignored).
  void conditional_row(int32_t v, int32_t a, double* out) const;
  /// Throws std::invalid_argument naming what is inconsistent (sizes, order, rows, counts).
  void check() const;

  int32_t pixel_count() const override { return variables; }
  int32_t value_count() const override { return values; }
  const std::vector<int32_t>& coding_order() const override { return order; }
  double log_likelihood(const uint8_t* x) const override;
  std::unique_ptr<Conditionals> conditionals(bool incremental) const override;
  uint64_t fingerprint() const override;
};

}  // namespace flowlab::ops::pc
