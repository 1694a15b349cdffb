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
// a codec needs, P(X_v = . | x_u for u before v in `order`), both naively (a full pass over the
// tree per variable) and incrementally (only the path between the variable and its root).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace flowlab::ops::pc {

struct Hclt {
  int32_t variables = 0, values = 0, states = 0;
  std::vector<int32_t> parent;  // -1 for a root
  std::vector<int32_t> order;   // every variable after its parent (the coding order)
  std::vector<double> prior;    // [variables][states]: p(z_v) for roots (unused otherwise)
  std::vector<double>
      transition;                // [variables][states][states]: p(z_v = b | z_parent = a) at [a][b]
  std::vector<double> emission;  // [variables][states][values]: p(x_v | z_v)

  /// A circuit on the tree `parent` with parameters drawn from `seed` (each distribution a
  /// normalized uniform(0.5, 1.5) vector, as pyjuice initializes).
  static Hclt random(const std::vector<int32_t>& parent, int32_t states, int32_t values,
                     uint64_t seed);

  /// log p(x) (nats) of one sample x[variables].
  double log_likelihood(const uint8_t* x) const;
  /// log p(x_S): the variables with observed[v] false are marginalized (their inputs are 1).
  double log_marginal(const uint8_t* x, const std::vector<bool>& observed) const;

  std::vector<std::vector<int32_t>> children() const;
  size_t edges() const;  // product-sum edges of the compiled circuit (about variables * M^2)
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
/// pseudocount). step 1 with pseudocount 0 is a full EM step, which never lowers the likelihood
/// of the samples counted.
void em_update(Hclt& c, const EmCounts& counts, double step, double pseudocount);

/// The conditionals of a codec: P(X_v = . | x_u for u before v in c.order), v in order.
class PrefixConditionals {
 public:
  /// incremental: update only the messages on the path between a variable and its root; else
  /// recompute every message for each variable (the naive reference).
  PrefixConditionals(const Hclt& c, bool incremental);
  /// The distribution of the next variable in order (normalized, `values` entries).
  const std::vector<double>& next();
  /// Records the next variable's value and moves on.
  void observe(uint8_t value);
  int32_t position() const { return position_; }

 private:
  void update_message(int32_t v);
  const Hclt& c_;
  bool incremental_;
  std::vector<std::vector<int32_t>> children_;
  std::vector<double> evidence_;  // [variables][states]: p(x_v | z) if observed, else 1
  std::vector<double> message_;   // [variables][states]: to the parent, over the parent's states
  std::vector<double> pmf_, down_, scratch_;
  int32_t position_ = 0;
};

}  // namespace flowlab::ops::pc
