#pragma once
// Filtered ranking for link prediction, as the NFE reference code does it: for a query (h, r)
// with true tail t, every other known true tail of (h, r) (train, valid and test) is removed,
// and the rank is 1 + the number of remaining entities scoring at least as high as t (ties count
// against the model).
#include <cstdint>
#include <functional>
#include <vector>

#include <ATen/core/Tensor.h>

#include "datasets/knowledge_graph.h"

namespace flowlab::ops::kge {

struct KgeNetwork;

/// Ranks of `targets` in each row of `scores` [B, E], with the known tails of row i
/// (`known[i]`, which may include the target) filtered out. A non-finite target score is an
/// error (a diverged model must not rank first).
std::vector<int64_t> ranks_from_scores(const at::Tensor& scores,
                                       const std::vector<int32_t>& targets,
                                       const std::vector<const std::vector<int32_t>*>& known);

/// The filtered rank of each query's tail, scoring `batch` queries at a time without gradients.
/// `progress(done)` is called after each batch.
std::vector<int64_t> filtered_ranks(KgeNetwork& network,
                                    const std::vector<datasets::Triple>& queries,
                                    const datasets::KnownTails& known, int64_t batch,
                                    const std::function<void(size_t)>& progress = {});

/// MRR, MR and Hits@1/3/10 of a set of ranks.
struct RankSummary {
  double mrr = 0, mr = 0, hits1 = 0, hits3 = 0, hits10 = 0;
  int64_t count = 0;
};
RankSummary summarize(const std::vector<int64_t>& ranks);
RankSummary summarize(const std::vector<int64_t>& ranks, const std::vector<size_t>& subset);

/// What random scoring would get, exactly: with n candidates left after filtering (the target
/// among them) the rank is uniform on 1..n, so E[1/rank] = H_n / n, E[rank] = (n + 1) / 2 and
/// P(rank <= k) = min(k, n) / n; averaged over the queries.
RankSummary random_scoring(const std::vector<datasets::Triple>& queries,
                           const datasets::KnownTails& known, int64_t num_entities);

}  // namespace flowlab::ops::kge
