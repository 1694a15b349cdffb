#pragma once
// Knowledge-graph embedding models: the architectures of family "kge" (NFE's scoring functions,
// TransE, DistMult), registered like every other architecture (ops/models/model.h). Include only
// from .cpp files: it pulls in <torch/torch.h>.
//
// Every model scores a query (head, relation) against every entity at once (1-N scoring), by
// expanding its distance into one matrix product (the NFE reference code expands it into several,
// plus elementwise passes over the [B, E] scores), and scores single triples straight from the
// definition; tests hold the two to each other.
#include <optional>

#include "ops/models/network.h"

namespace flowlab::ops::kge {

/// An elementwise affine flow f(x) = a * x + b on R^d: a relation of NFE (and of TransE, a = 1).
/// These flows form a group under composition, which is what lets relations express logical
/// rules: symmetry (f o f = id), inversion, composition.
struct AffineFlow {
  torch::Tensor a, b;  // [d] each
  torch::Tensor apply(const torch::Tensor& x) const { return a * x + b; }
  /// `next` after this one: x -> next.a * (a * x + b) + next.b.
  AffineFlow then(const AffineFlow& next) const { return {next.a * a, next.a * b + next.b}; }
  AffineFlow inverse() const { return {1.0 / a, -b / a}; }
  /// How far f o f is from the identity: sqrt(mean over dims of (a^2 - 1)^2 + ((a + 1) b)^2),
  /// 0 exactly for a symmetric relation (a = -1, or a = 1 with b = 0).
  double involution_residual() const;
};

/// Every model's score splits as score(q, e) = bias_q + bias_e + <u_q, v_e> for a query q =
/// (head, relation) and a tail entity e. The query side and the entity side are computed once per
/// batch, and the scores of a batch against all entities are then one matrix product
/// [u, bias_q, 1] [v, 1, bias_e]^T, with no pass over the [B, E] scores besides writing them.
struct QueryFactors {
  torch::Tensor u, bias;  // [B, k], [B]
};
struct EntityFactors {
  torch::Tensor v, bias;  // [E, k], [E]
};

struct KgeNetwork : Network {
  /// x: [B, 2] int64 rows (head, relation; relations >= R are the inverses) -> [B, entities].
  torch::Tensor forward(const torch::Tensor& x) override {
    return score_all(x.select(1, 0), x.select(1, 1));
  }
  /// Scores of every entity as the tail of each query: [B] heads, [B] relations -> [B, E]; or
  /// of the entities `tails` only ([B, T]) when given.
  torch::Tensor score_all(const torch::Tensor& heads, const torch::Tensor& relations,
                          const torch::Tensor& tails = {}) {
    const QueryFactors q = query_factors(heads, relations);
    EntityFactors e = entity_factors();
    if (tails.defined()) e = {e.v.index_select(0, tails), e.bias.index_select(0, tails)};
    // ones_like, not ones({B, 1}): an exported (traced) model then takes any batch size.
    const auto ones_q = torch::ones_like(q.bias).unsqueeze(1);
    const auto ones_e = torch::ones({e.v.size(0), 1}, e.v.options());
    return torch::cat({q.u, q.bias.unsqueeze(1), ones_q}, 1)
        .matmul(torch::cat({e.v, ones_e, e.bias.unsqueeze(1)}, 1).t());
  }
  virtual QueryFactors query_factors(const torch::Tensor& heads,
                                     const torch::Tensor& relations) = 0;
  virtual EntityFactors entity_factors() = 0;
  /// The score of each triple (heads[i], relations[i], tails[i]) from the definition: [B].
  virtual torch::Tensor score(const torch::Tensor& heads, const torch::Tensor& relations,
                              const torch::Tensor& tails) = 0;
  /// The relation as an affine flow of entity means, for models that have one.
  virtual std::optional<AffineFlow> relation_flow(int64_t relation) { return std::nullopt; }
  /// Overwrites a relation's flow (tests compose relations through it).
  virtual void set_relation_flow(int64_t relation, const AffineFlow& flow) {}
  /// The entity and relation tables (what Adam updates and checkpoints save).
  virtual torch::Tensor entity_table() = 0;
  virtual torch::Tensor relation_table() = 0;
};

}  // namespace flowlab::ops::kge
