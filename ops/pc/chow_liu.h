#pragma once
// The Chow-Liu tree (Chow & Liu 1968), the skeleton of a hidden Chow-Liu tree circuit (research
// notes §6.1): pairwise mutual information between the variables, estimated from samples, and
// the spanning tree of largest total mutual information, rooted at a centre so the tree is as
// shallow as it can be (the circuit's depth, and so the codec's incremental work per pixel).
// Torch-free.
#include <cstdint>
#include <vector>

namespace flowlab::ops::pc {

/// Mutual information (nats) of every pair of `d` categorical variables, from `n` samples stored
/// row-major in `data` (values in [0, values)), each value first mapped to one of `bins` equal
/// bins (values / bins per bin: 256 pixel values in 16 bins of 16), with `pseudocount` added to
/// every joint cell. Returns [d * d], symmetric, 0 on the diagonal.
std::vector<double> mutual_information(const uint8_t* data, int64_t n, int32_t d, int32_t values,
                                       int32_t bins, double pseudocount);

/// The maximum-weight spanning tree of the complete graph on `d` nodes (Prim's algorithm; ties go
/// to the lower index), given `weight` [d * d]; then rooted at a centre: the node whose farthest
/// node is nearest. Returns each node's parent (-1 for the root).
std::vector<int32_t> max_spanning_tree(const std::vector<double>& weight, int32_t d);

/// The nodes of a forest given by parents in depth-first preorder (each node, then its subtrees
/// one after another, children by increasing index): each node comes after its parent, and a
/// subtree is finished before its next sibling starts, which is what lets the codec's conditionals
/// be computed in one pass over the circuit (ops/pc/hclt.h). Throws when the parents contain a
/// cycle.
std::vector<int32_t> depth_first_order(const std::vector<int32_t>& parent);

}  // namespace flowlab::ops::pc
