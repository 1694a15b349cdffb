#include "ops/spen/subgraphs.h"

#include <cmath>
#include <numeric>

namespace flowlab::ops::spen {

int64_t Subgraphs::entries() const {
  int64_t total = 0;
  for (const auto& m : members) total += static_cast<int64_t>(m.size()) * m.size();
  return total;
}

Subgraphs subgraphs_of(const datasets::Graph& graph, int hops) {
  Subgraphs s;
  const int32_t n = graph.nodes;
  s.nodes = n;
  if (hops >= 1) {
    s.members = datasets::ego_networks(graph, hops);
  } else {
    s.members.emplace_back(n);
    std::iota(s.members[0].begin(), s.members[0].end(), 0);
  }
  // Mark covered pairs on an n x n grid, then number them in row-major order.
  std::vector<int32_t> pair_id(static_cast<size_t>(n) * n, -1);
  for (const auto& m : s.members)
    for (int32_t a : m)
      for (int32_t b : m) pair_id[static_cast<size_t>(a) * n + b] = 0;
  for (int32_t a = 0; a < n; ++a)
    for (int32_t b = 0; b < n; ++b) {
      auto& id = pair_id[static_cast<size_t>(a) * n + b];
      if (id < 0) continue;
      id = static_cast<int32_t>(s.pairs.size());
      s.pairs.emplace_back(a, b);
    }
  s.pair_cover.assign(s.pairs.size(), 0);
  s.node_cover.assign(n, 0);
  for (const auto& m : s.members) {
    std::vector<int32_t> entries;
    entries.reserve(m.size() * m.size());
    for (int32_t a : m) {
      ++s.node_cover[a];
      for (int32_t b : m) entries.push_back(pair_id[static_cast<size_t>(a) * n + b]);
    }
    for (int32_t p : entries) ++s.pair_cover[p];
    s.entry_pairs.push_back(std::move(entries));
  }
  s.diagonal_pair.resize(n);
  for (int32_t v = 0; v < n; ++v) s.diagonal_pair[v] = pair_id[static_cast<size_t>(v) * n + v];
  std::vector<int32_t> degree(n, 0);
  for (const auto& [a, b] : graph.edges) ++degree[a], ++degree[b];
  s.normalized_adjacency.assign(s.pairs.size(), 0.0f);
  for (const auto& [a, b] : graph.edges) {
    const float w = 1.0f / std::sqrt(static_cast<float>(degree[a]) * degree[b]);
    for (const auto& [i, j] : {std::pair{a, b}, std::pair{b, a}}) {
      const int32_t p = pair_id[static_cast<size_t>(i) * n + j];
      if (p >= 0) s.normalized_adjacency[p] = w;
    }
  }
  return s;
}

}  // namespace flowlab::ops::spen
