#include "ops/kge/ranking.h"

#include <cmath>

#include <fmt/format.h>
#include <torch/torch.h>

#include "common/error.h"
#include "ops/kge/kge_network.h"

namespace flowlab::ops::kge {

namespace {

// ranks_from_scores on scores it may overwrite (the filter writes -inf into them).
std::vector<int64_t> rank_in_place(at::Tensor scores, const std::vector<int32_t>& targets,
                                   const std::vector<const std::vector<int32_t>*>& known) {
  const int64_t rows = scores.size(0), entities = scores.size(1);
  auto target_index =
      torch::tensor(std::vector<int64_t>(targets.begin(), targets.end()), torch::kInt64)
          .to(scores.device());
  auto target_score = scores.gather(1, target_index.unsqueeze(1));  // [B, 1]
  if (!torch::isfinite(target_score).all().item<bool>())
    throw RunError("a query's true tail has a non-finite score (the model diverged)");
  std::vector<int64_t> flat;
  for (int64_t i = 0; i < rows; ++i)
    for (int32_t t : *known[i]) flat.push_back(i * entities + t);
  for (int64_t i = 0; i < rows; ++i) flat.push_back(i * entities + targets[i]);
  scores.view(-1).index_fill_(0, torch::tensor(flat, torch::kInt64).to(scores.device()),
                              -std::numeric_limits<float>::infinity());
  const auto above = scores.ge(target_score).sum(1).to(torch::kCPU);
  std::vector<int64_t> ranks(static_cast<size_t>(rows));
  auto a = above.accessor<int64_t, 1>();
  for (int64_t i = 0; i < rows; ++i) ranks[i] = 1 + a[i];
  return ranks;
}

}  // namespace

std::vector<int64_t> ranks_from_scores(const at::Tensor& scores,
                                       const std::vector<int32_t>& targets,
                                       const std::vector<const std::vector<int32_t>*>& known) {
  return rank_in_place(scores.detach().clone(), targets, known);
}

std::vector<int64_t> filtered_ranks(KgeNetwork& network,
                                    const std::vector<datasets::Triple>& queries,
                                    const datasets::KnownTails& known, int64_t batch,
                                    const std::function<void(size_t)>& progress) {
  torch::NoGradGuard no_grad;
  const auto device = network.entity_table().device();
  std::vector<int64_t> ranks;
  ranks.reserve(queries.size());
  for (size_t start = 0; start < queries.size(); start += static_cast<size_t>(batch)) {
    const size_t end = std::min(queries.size(), start + static_cast<size_t>(batch));
    std::vector<int64_t> h, r;
    std::vector<int32_t> t;
    std::vector<const std::vector<int32_t>*> k;
    for (size_t i = start; i < end; ++i) {
      h.push_back(queries[i].head), r.push_back(queries[i].relation), t.push_back(queries[i].tail);
      k.push_back(&known.of(queries[i].head, queries[i].relation));
    }
    const auto scores = network.score_all(torch::tensor(h, torch::kInt64).to(device),
                                          torch::tensor(r, torch::kInt64).to(device));
    for (int64_t rank : rank_in_place(scores, t, k)) ranks.push_back(rank);  // fresh scores
    if (progress) progress(end);
  }
  return ranks;
}

namespace {

void accumulate(RankSummary& s, double rank) {
  s.mrr += 1.0 / rank, s.mr += rank;
  s.hits1 += rank <= 1, s.hits3 += rank <= 3, s.hits10 += rank <= 10;
  ++s.count;
}

RankSummary averaged(RankSummary s) {
  if (s.count == 0) return s;
  const auto n = static_cast<double>(s.count);
  s.mrr /= n, s.mr /= n, s.hits1 /= n, s.hits3 /= n, s.hits10 /= n;
  return s;
}

}  // namespace

RankSummary summarize(const std::vector<int64_t>& ranks) {
  RankSummary s;
  for (int64_t r : ranks) accumulate(s, static_cast<double>(r));
  return averaged(s);
}

RankSummary summarize(const std::vector<int64_t>& ranks, const std::vector<size_t>& subset) {
  RankSummary s;
  for (size_t i : subset) accumulate(s, static_cast<double>(ranks.at(i)));
  return averaged(s);
}

RankSummary random_scoring(const std::vector<datasets::Triple>& queries,
                           const datasets::KnownTails& known, int64_t num_entities) {
  std::vector<double> harmonic(static_cast<size_t>(num_entities) + 1, 0.0);  // H_n
  for (size_t n = 1; n < harmonic.size(); ++n)
    harmonic[n] = harmonic[n - 1] + 1.0 / static_cast<double>(n);
  RankSummary s;
  for (const auto& q : queries) {
    const auto& k = known.of(q.head, q.relation);
    const bool target_known = std::binary_search(k.begin(), k.end(), q.tail);
    const auto n =
        static_cast<double>(num_entities - static_cast<int64_t>(k.size()) + (target_known ? 1 : 0));
    s.mrr += harmonic[static_cast<size_t>(n)] / n, s.mr += (n + 1) / 2;
    s.hits1 += std::min(1.0, n) / n, s.hits3 += std::min(3.0, n) / n,
        s.hits10 += std::min(10.0, n) / n;
    ++s.count;
  }
  return averaged(s);
}

}  // namespace flowlab::ops::kge
