#include "datasets/graph_data.h"

#include <algorithm>
#include <map>
#include <queue>
#include <random>
#include <stdexcept>

namespace flowlab::datasets {

std::vector<std::vector<int32_t>> Graph::adjacency() const {
  std::vector<std::vector<int32_t>> adj(static_cast<size_t>(nodes));
  for (const auto& [a, b] : edges) adj[a].push_back(b), adj[b].push_back(a);
  for (auto& list : adj) std::sort(list.begin(), list.end());
  return adj;
}

Graph Graph::relabelled(const std::vector<int32_t>& perm) const {
  if (static_cast<int32_t>(perm.size()) != nodes)
    throw std::invalid_argument("relabelled: the permutation has the wrong size");
  Graph g = *this;
  for (auto& [a, b] : g.edges) {
    a = perm[a], b = perm[b];
    if (a > b) std::swap(a, b);
  }
  std::sort(g.edges.begin(), g.edges.end());
  for (int32_t v = 0; v < nodes; ++v) g.node_labels[perm[v]] = node_labels[v];
  return g;
}

std::vector<std::vector<int32_t>> ego_networks(const Graph& graph, int hops) {
  const auto adj = graph.adjacency();
  std::vector<std::vector<int32_t>> out(static_cast<size_t>(graph.nodes));
  for (int32_t v = 0; v < graph.nodes; ++v) {
    std::vector<int> depth(static_cast<size_t>(graph.nodes), -1);
    std::queue<int32_t> frontier;
    depth[v] = 0;
    frontier.push(v);
    while (!frontier.empty()) {  // breadth-first, stopping at `hops`
      const int32_t u = frontier.front();
      frontier.pop();
      out[v].push_back(u);
      if (depth[u] == hops) continue;
      for (int32_t w : adj[u])
        if (depth[w] < 0) depth[w] = depth[u] + 1, frontier.push(w);
    }
    std::sort(out[v].begin(), out[v].end());
  }
  return out;
}

std::vector<std::vector<std::pair<int64_t, int64_t>>> wl_histograms(
    const std::vector<Graph>& graphs) {
  std::vector<std::vector<std::vector<int32_t>>> adj;
  std::vector<std::vector<int64_t>> colour;
  size_t classes = 0;
  {
    std::map<int64_t, int64_t> initial;  // node label -> colour
    for (const auto& g : graphs) {
      adj.push_back(g.adjacency());
      std::vector<int64_t> c;
      for (int32_t l : g.node_labels) c.push_back(initial.emplace(l, initial.size()).first->second);
      colour.push_back(std::move(c));
    }
    classes = initial.size();
  }
  for (;;) {  // refine: a node's new colour is (its colour, the multiset of its neighbours')
    std::map<std::pair<int64_t, std::vector<int64_t>>, int64_t> signature;
    std::vector<std::vector<int64_t>> next(colour.size());
    for (size_t g = 0; g < graphs.size(); ++g)
      for (int32_t v = 0; v < graphs[g].nodes; ++v) {
        std::vector<int64_t> around;
        for (int32_t w : adj[g][v]) around.push_back(colour[g][w]);
        std::sort(around.begin(), around.end());
        const auto key = std::make_pair(colour[g][v], std::move(around));
        next[g].push_back(signature.emplace(key, signature.size()).first->second);
      }
    colour = std::move(next);
    if (signature.size() == classes) break;  // no colour class split: stable
    classes = signature.size();
  }
  std::vector<std::vector<std::pair<int64_t, int64_t>>> out;
  for (const auto& c : colour) {
    std::map<int64_t, int64_t> counts;
    for (int64_t x : c) ++counts[x];
    out.emplace_back(counts.begin(), counts.end());
  }
  return out;
}

std::vector<int32_t> stratified_folds(const std::vector<Graph>& graphs, int32_t folds,
                                      uint64_t seed) {
  if (folds < 2) throw std::invalid_argument("stratified_folds: at least 2 folds");
  std::mt19937_64 rng(seed ^ 0x5f0d5eedULL);
  std::map<int32_t, std::vector<size_t>> by_class;
  for (size_t i = 0; i < graphs.size(); ++i) by_class[graphs[i].label].push_back(i);
  std::vector<int32_t> fold(graphs.size(), 0);
  for (auto& [label, members] : by_class) {
    for (size_t i = members.size(); i > 1; --i) std::swap(members[i - 1], members[rng() % i]);
    for (size_t k = 0; k < members.size(); ++k) fold[members[k]] = static_cast<int32_t>(k % folds);
  }
  return fold;
}

}  // namespace flowlab::datasets
