#pragma once
// What SPEN's layers see of one graph, computed once per graph without torch: the subgraphs each
// layer runs on (node v's k-hop ego-network, or the whole graph for a global 2-IGN), and the set
// of node pairs those subgraphs cover. A layer's 2-tensor lives on that pair set only: every
// entry any subgraph reads or writes is one of its pairs (research notes §5.2: after the first
// merge the reference's edge set is exactly this set), so a graph costs Σ_v m_v² entries per
// channel instead of n².
#include <cstdint>
#include <vector>

#include "datasets/graph_data.h"

namespace flowlab::ops::spen {

struct Subgraphs {
  int32_t nodes = 0;
  /// Each subgraph's nodes (sorted); subgraph v is node v's ego-network, or the single
  /// subgraph of all nodes.
  std::vector<std::vector<int32_t>> members;
  /// The covered pairs (a, b), ordered by a * nodes + b; both (a, b) and (b, a) are present.
  std::vector<std::pair<int32_t, int32_t>> pairs;
  /// Subgraph s's m x m entries as pair ids, row-major: entry (i, j) is the pair
  /// (members[s][i], members[s][j]).
  std::vector<std::vector<int32_t>> entry_pairs;
  /// How many subgraphs cover each pair / each node: the merge divides by them (the mean).
  std::vector<int32_t> pair_cover, node_cover;
  /// D^{-1/2} A D^{-1/2} at each pair (0 off the edges; the graph has no self-loops).
  std::vector<float> normalized_adjacency;
  /// Each node's own pair (v, v).
  std::vector<int32_t> diagonal_pair;

  /// Σ over subgraphs of m²: the entries per channel one layer computes on.
  int64_t entries() const;
};

/// hops >= 1: node v's ego-network within `hops` (itself included) for every v; hops == 0: one
/// subgraph holding every node (a global 2-IGN).
Subgraphs subgraphs_of(const datasets::Graph& graph, int hops);

}  // namespace flowlab::ops::spen
