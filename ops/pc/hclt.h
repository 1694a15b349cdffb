#pragma once
// Hidden Chow-Liu tree circuits (research notes §6.1), torch-free: a latent variable Z_v with M
// states per observed variable X_v (a pixel, `values` categories), the latents joined by a tree
// (a Chow-Liu tree of the pixels), X_v depending on Z_v only:
//   p(x) = Σ_z Π_roots p(z_r) Π_edges p(z_v | z_parent(v)) Π_v p(x_v | z_v).
// Compiled into a circuit this is a smooth and decomposable PC (a product per tree node and
// state, a sum per edge over the child's states), so every marginal is one upward pass with the
// unobserved inputs set to 1; this file computes the circuit's values directly on the tree
// (the same numbers, without materializing units). Independent pixels are the forest of single
// nodes with M = 1.
//
// Also here: expected counts for EM (the circuit's parameter flows) and the prefix conditionals
// a codec needs, P(X_v = . | x_u for u before v in `order`), both naively (every message afresh
// per variable: D passes over the circuit per image) and incrementally (one pass per image, as
// the order is depth first: see PrefixConditionals).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ops/pc/pixel_model.h"

namespace flowlab::ops::pc {

struct Hclt : PixelModel {
  int32_t variables = 0, values = 0, states = 0;
  std::vector<int32_t> parent;  // -1 for a root
  std::vector<int32_t> order;   // depth_first_order(parent) (ops/pc/chow_liu.h): the coding order
  std::vector<double> prior;    // [variables][states]: p(z_v) for roots (unused otherwise)
  std::vector<double>
      transition;                // [variables][states][states]: p(z_v = b | z_parent = a) at [a][b]
  std::vector<double> emission;  // [variables][states][values]: p(x_v | z_v)

  /// A circuit on the tree `parent` with parameters drawn from `seed` (each distribution a
  /// normalized uniform(0.5, 1.5) vector, as pyjuice initializes).
  static Hclt random(const std::vector<int32_t>& parent, int32_t states, int32_t values,
                     uint64_t seed);
  /// A circuit on the tree `parent` whose latent state starts as the pixel quantized to `states`
  /// levels of equal mass (each value to the level of the middle of its cumulative frequency), as
  /// k-means starts a mixture: emissions the values of a level (90%) and the pixel's marginal
  /// (10%), transitions and root priors the counted level pairs plus one, every row scaled by
  /// uniform(0.95, 1.05) noise from `seed` so that equal rows can drift apart. From the `n`
  /// samples in `data` (row-major, values below `values`). EM starts near a Chow-Liu tree over
  /// quantized pixels instead of from noise: far fewer epochs to the same likelihood.
  static Hclt quantized(const std::vector<int32_t>& parent, int32_t states, int32_t values,
                        const uint8_t* data, int64_t n, uint64_t seed);

  /// log p(x) (nats) of one sample x[variables].
  double log_likelihood(const uint8_t* x) const override;
  /// log p(x_S): the variables with observed[v] false are marginalized (their inputs are 1).
  double log_marginal(const uint8_t* x, const std::vector<bool>& observed) const;

  std::vector<std::vector<int32_t>> children() const;
  size_t edges() const;  // product-sum edges of the compiled circuit (about variables * M^2)

  int32_t pixel_count() const override { return variables; }
  int32_t value_count() const override { return values; }
  const std::vector<int32_t>& coding_order() const override { return order; }
  std::unique_ptr<Conditionals> conditionals(bool incremental) const override;
  uint64_t fingerprint() const override;
};

/// Expected sufficient statistics of a batch (the circuit's flows), summed over samples.
struct EmCounts {
  explicit EmCounts(const Hclt& c);
  std::vector<double> prior, transition, emission;  // shaped as the circuit's parameters
  double log_likelihood = 0;                        // Σ log p(x) over the samples counted
  int64_t samples = 0;
  void add(const EmCounts& other);
};

/// Adds the expected counts of samples [begin, end) of `data` (row-major, variables per row).
void accumulate_counts(const Hclt& c, const uint8_t* data, int64_t begin, int64_t end,
                       EmCounts& counts);

/// One EM update: each distribution becomes (1 - step) * old + step * normalize(counts +
/// pseudocount / entries), the pseudocount spread over the distribution's entries as pyjuice
/// spreads it (a categorical over 256 values gets pseudocount / 256 per value). step 1 with
/// pseudocount 0 is a full EM step, which never lowers the likelihood of the samples counted.
void em_update(Hclt& c, const EmCounts& counts, double step, double pseudocount);

/// The conditionals of a codec: P(X_v = . | x_u for u before v in c.order), v in order.
///
/// Incremental (c.order depth first): when v is reached, everything observed outside v's subtree
/// is v's ancestors and the subtrees finished before v, and nothing inside it is, so
///   p(z_v, x_<v) = Σ_a down_p(a) acc_p(a) T_v[a][z_v],  p = parent(v),
/// where down_p (p's own, computed when p was reached) still holds because everything observed
/// since lies inside p's subtree, and acc_p is p's emission times the messages of p's finished
/// children; a child's message is computed once, when its subtree is finished. Each unit of the
/// circuit is evaluated a constant number of times per image: O(|circuit|) per image, against
/// O(D |circuit|) for the naive reference, which recomputes every message per variable.
class PrefixConditionals : public Conditionals {
 public:
  PrefixConditionals(const Hclt& c, bool incremental);
  const std::vector<double>& next() override;
  void observe(uint8_t value) override;
  int32_t position() const { return position_; }

 private:
  void message_to_parent(int32_t v, const double* up, double* message);
  void naive_down(int32_t v);
  void finish_subtrees_before(int32_t v);
  const Hclt& c_;
  bool incremental_;
  std::vector<std::vector<int32_t>> children_;
  std::vector<double> evidence_;  // [variables][states]: p(x_v | z) if observed, else 1
  std::vector<double> message_;   // [variables][states]: to the parent, over the parent's states
  std::vector<double> down_;      // [variables][states]: p(z_v, x observed outside v's subtree)
  std::vector<double> acc_;       // [variables][states]: evidence times finished children's msgs
  std::vector<int32_t> open_;     // the observed nodes whose subtrees are not finished, root first
  std::vector<double> pmf_, scratch_;
  int32_t position_ = 0, prepared_ = -1;  // prepared_: the position next() last computed
};

}  // namespace flowlab::ops::pc
