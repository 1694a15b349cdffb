#pragma once
// Small synthetic graph-classification tasks with a known answer for what each network family
// can separate (torch-free):
//  - cycles: class 0 a single cycle C_n, class 1 two disjoint cycles C_a + C_{n-a} with a in
//    {3, 4, 5}. Both are 2-regular, so 1-WL (and GIN) cannot tell them apart; a 2-hop
//    ego-network holds a whole cycle of length <= 5, so SPEN with k = 2 can, and with k = 1
//    only when a = 3 (a triangle is a 1-hop ego-network with an edge among the neighbours).
//  - regular: class 0 a random 3-regular graph, class 1 a random graph with the same nodes and
//    edges that is not regular: degrees differ, so 1-WL separates them (a sanity task).
// Node counts are drawn uniformly from [min_nodes, max_nodes] (even for `regular`), node orders
// are random, and every draw comes from `seed`.
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/graph_data.h"

namespace flowlab::datasets::synthetic {

/// `per_class` graphs of each class of `task` ("cycles" or "regular"), class by class.
std::vector<Graph> generate(const std::string& task, int32_t per_class, int32_t min_nodes,
                            int32_t max_nodes, uint64_t seed);

}  // namespace flowlab::datasets::synthetic
