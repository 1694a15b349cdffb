#include "datasets/synthetic_graphs.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <set>

#include "common/error.h"

namespace flowlab::datasets::synthetic {
namespace {

using Rng = std::mt19937_64;

int32_t uniform(Rng& rng, int32_t lo, int32_t hi) {  // inclusive, without std:: distributions
  return lo + static_cast<int32_t>(rng() % static_cast<uint64_t>(hi - lo + 1));
}

Graph from_edges(int32_t n, std::set<std::pair<int32_t, int32_t>> edges, int32_t label, Rng& rng) {
  Graph g;
  g.nodes = n;
  g.edges.assign(edges.begin(), edges.end());
  g.node_labels.assign(n, 0);
  g.label = label;
  std::vector<int32_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  for (size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng() % i]);
  return g.relabelled(perm);
}

void add_edge(std::set<std::pair<int32_t, int32_t>>& edges, int32_t a, int32_t b) {
  edges.emplace(std::min(a, b), std::max(a, b));
}

void add_cycle(std::set<std::pair<int32_t, int32_t>>& edges, int32_t first, int32_t length) {
  for (int32_t i = 0; i < length; ++i) add_edge(edges, first + i, first + (i + 1) % length);
}

// A uniform 3-regular graph by the pairing model, redrawn until simple.
std::set<std::pair<int32_t, int32_t>> random_cubic(int32_t n, Rng& rng) {
  while (true) {
    std::vector<int32_t> points;
    for (int32_t v = 0; v < n; ++v) points.insert(points.end(), 3, v);
    for (size_t i = points.size(); i > 1; --i) std::swap(points[i - 1], points[rng() % i]);
    std::set<std::pair<int32_t, int32_t>> edges;
    bool simple = true;
    for (size_t i = 0; i < points.size() && simple; i += 2) {
      const int32_t a = points[i], b = points[i + 1];
      simple = a != b && edges.emplace(std::min(a, b), std::max(a, b)).second;
    }
    if (simple) return edges;
  }
}

// A random simple graph with n nodes and m edges that is not regular.
std::set<std::pair<int32_t, int32_t>> random_irregular(int32_t n, size_t m, Rng& rng) {
  while (true) {
    std::set<std::pair<int32_t, int32_t>> edges;
    while (edges.size() < m) {
      const int32_t a = uniform(rng, 0, n - 1), b = uniform(rng, 0, n - 1);
      if (a != b) add_edge(edges, a, b);
    }
    std::vector<int32_t> degree(n, 0);
    for (const auto& [a, b] : edges) ++degree[a], ++degree[b];
    if (std::adjacent_find(degree.begin(), degree.end(), std::not_equal_to<>()) != degree.end())
      return edges;
  }
}

}  // namespace

std::vector<Graph> generate(const std::string& task, int32_t per_class, int32_t min_nodes,
                            int32_t max_nodes, uint64_t seed) {
  if (min_nodes > max_nodes)
    throw RunError("min_nodes " + std::to_string(min_nodes) + " is above max_nodes " +
                   std::to_string(max_nodes));
  Rng rng(seed);
  std::vector<Graph> graphs;
  if (task == "cycles") {
    if (min_nodes < 11)
      throw RunError("the cycles task needs min_nodes >= 11 (cycles of 3-5 and >= 6 nodes)");
    for (int32_t label : {0, 1})
      for (int32_t i = 0; i < per_class; ++i) {
        const int32_t n = uniform(rng, min_nodes, max_nodes);
        std::set<std::pair<int32_t, int32_t>> edges;
        if (label == 0) {
          add_cycle(edges, 0, n);
        } else {
          const int32_t a = uniform(rng, 3, 5);
          add_cycle(edges, 0, a);
          add_cycle(edges, a, n - a);
        }
        graphs.push_back(from_edges(n, std::move(edges), label, rng));
      }
  } else if (task == "regular") {
    if ((min_nodes + 1) / 2 > max_nodes / 2)
      throw RunError("the regular task needs an even node count in [min_nodes, max_nodes]");
    for (int32_t label : {0, 1})
      for (int32_t i = 0; i < per_class; ++i) {
        const int32_t n = 2 * uniform(rng, (min_nodes + 1) / 2, max_nodes / 2);
        auto edges = label == 0 ? random_cubic(n, rng) : random_irregular(n, 3 * n / 2, rng);
        graphs.push_back(from_edges(n, std::move(edges), label, rng));
      }
  } else {
    throw RunError("unknown synthetic task '" + task + "': expected cycles or regular");
  }
  return graphs;
}

}  // namespace flowlab::datasets::synthetic
