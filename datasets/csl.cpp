#include "datasets/csl.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>

namespace flowlab::datasets::csl {
namespace {

// Fisher-Yates with our own draws: std::shuffle's sequence differs between standard libraries.
template <class T>
void shuffle(std::vector<T>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng() % i]);
}

}  // namespace

const std::vector<int32_t>& skip_lengths() {
  static const std::vector<int32_t> r = {2, 3, 4, 5, 6, 9, 11, 12, 13, 16};
  return r;
}

Graph circulant(int32_t nodes, int32_t skip) {
  Graph g;
  g.nodes = nodes;
  g.node_labels.assign(static_cast<size_t>(nodes), 0);
  for (int32_t i = 0; i < nodes; ++i)
    for (int32_t step : {1, skip}) {
      int32_t a = i, b = (i + step) % nodes;
      if (a > b) std::swap(a, b);
      g.edges.emplace_back(a, b);
    }
  std::sort(g.edges.begin(), g.edges.end());
  g.edges.erase(std::unique(g.edges.begin(), g.edges.end()), g.edges.end());
  return g;
}

std::vector<Graph> generate(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Graph> out;
  for (size_t c = 0; c < skip_lengths().size(); ++c) {
    const Graph base = circulant(kNodes, skip_lengths()[c]);
    for (int32_t k = 0; k < kPerClass; ++k) {
      std::vector<int32_t> perm(kNodes);
      std::iota(perm.begin(), perm.end(), 0);
      shuffle(perm, rng);
      Graph g = base.relabelled(perm);
      g.label = static_cast<int32_t>(c);
      out.push_back(std::move(g));
    }
  }
  return out;
}

}  // namespace flowlab::datasets::csl
