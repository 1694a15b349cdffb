#pragma once
// The Circular Skip Links benchmark (Murphy et al. 2019, as decoded from the reference pickle in
// research notes §5.5): 150 circulant graphs C(41, R), edges {i, i+1} and {i, i+R} (mod 41), for
// the 10 skip lengths R in {2, 3, 4, 5, 6, 9, 11, 12, 13, 16}, 15 graphs per class, each with its
// nodes in a random order. All are 4-regular, so 1-WL gives them one colour histogram.
#include <cstdint>
#include <vector>

#include "datasets/graph_data.h"

namespace flowlab::datasets::csl {

inline constexpr int32_t kNodes = 41;
inline constexpr int32_t kPerClass = 15;
/// The skip length of each class, class 0 first.
const std::vector<int32_t>& skip_lengths();

/// C(n, skip) in cyclic node order.
Graph circulant(int32_t nodes, int32_t skip);

/// The 150 graphs, class by class, each relabelled by a permutation drawn from `seed`.
std::vector<Graph> generate(uint64_t seed);

}  // namespace flowlab::datasets::csl
