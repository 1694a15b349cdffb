#pragma once
// Graphs for graph classification (torch-free): undirected simple graphs with integer node
// labels and a class label, and the two graph facts the SPEN family's tests stand on: k-hop
// ego-networks and 1-WL colour refinement.
#include <cstdint>
#include <utility>
#include <vector>

namespace flowlab::datasets {

struct Graph {
  int32_t nodes = 0;
  std::vector<std::pair<int32_t, int32_t>> edges;  // undirected, each once, first < second
  std::vector<int32_t> node_labels;                // one per node (all 0 when unlabelled)
  int32_t label = 0;                               // the graph's class

  /// Neighbours of every node, sorted.
  std::vector<std::vector<int32_t>> adjacency() const;
  /// The graph with node i renamed perm[i] (edges re-sorted, labels moved with their nodes).
  Graph relabelled(const std::vector<int32_t>& perm) const;
};

/// The nodes within `hops` of each node (itself included), sorted: node v's k-hop ego-network.
std::vector<std::vector<int32_t>> ego_networks(const Graph& graph, int hops);

/// 1-WL colour refinement run jointly on `graphs` (one colour dictionary, so colours are
/// comparable across graphs) until the partition stops refining: each graph's histogram of
/// final colours as sorted (colour, count) pairs. Graphs with different histograms are not
/// isomorphic; equal histograms mean 1-WL (and so any message-passing network) cannot tell
/// them apart.
std::vector<std::vector<std::pair<int64_t, int64_t>>> wl_histograms(
    const std::vector<Graph>& graphs);

/// The cross-validation fold (0 .. folds-1) of each graph, stratified: every class's graphs are
/// shuffled (from `seed`) and dealt round-robin, so each fold holds 1 / folds of every class
/// (within one).
std::vector<int32_t> stratified_folds(const std::vector<Graph>& graphs, int32_t folds,
                                      uint64_t seed);

}  // namespace flowlab::datasets
