// Chow-Liu trees against what defines them: the spanning tree Prim returns has the largest total
// weight of all d^(d-2) labelled trees (enumerated through Prüfer sequences); mutual information
// is 0 for independent variables and the entropy for a copy; samples of a tree-structured
// distribution give back its tree; the root is a centre.
#include "ops/pc/chow_liu.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include <boost/test/unit_test.hpp>

namespace pc = flowlab::ops::pc;

namespace {

std::set<std::pair<int32_t, int32_t>> edges_of(const std::vector<int32_t>& parent) {
  std::set<std::pair<int32_t, int32_t>> e;
  for (int32_t v = 0; v < static_cast<int32_t>(parent.size()); ++v)
    if (parent[v] >= 0) e.emplace(std::min(v, parent[v]), std::max(v, parent[v]));
  return e;
}

double weight_of(const std::set<std::pair<int32_t, int32_t>>& edges, const std::vector<double>& w,
                 int32_t d) {
  double total = 0;
  for (const auto& [a, b] : edges) total += w[static_cast<size_t>(a) * d + b];
  return total;
}

// The tree of a Prüfer sequence (d - 2 entries).
std::set<std::pair<int32_t, int32_t>> pruefer_tree(const std::vector<int32_t>& seq, int32_t d) {
  std::vector<int32_t> degree(d, 1);
  for (int32_t s : seq) ++degree[s];
  std::set<std::pair<int32_t, int32_t>> e;
  for (int32_t s : seq)
    for (int32_t leaf = 0; leaf < d; ++leaf)
      if (degree[leaf] == 1) {
        e.emplace(std::min(leaf, s), std::max(leaf, s));
        --degree[leaf], --degree[s];
        break;
      }
  int32_t u = -1, v = -1;
  for (int32_t k = 0; k < d; ++k)
    if (degree[k] == 1) (u < 0 ? u : v) = k;
  e.emplace(u, v);
  return e;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(chow_liu)

BOOST_AUTO_TEST_CASE(prim_finds_the_heaviest_of_all_spanning_trees) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0, 1);
  const int32_t d = 6;
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<double> w(d * d, 0);
    for (int32_t a = 0; a < d; ++a)
      for (int32_t b = a + 1; b < d; ++b) w[a * d + b] = w[b * d + a] = u(rng);
    double best = -1;
    std::vector<int32_t> seq(d - 2, 0);
    for (int64_t code = 0; code < 1296; ++code) {  // 6^4 sequences: all 1,296 labelled trees
      int64_t c = code;
      for (auto& s : seq) s = static_cast<int32_t>(c % d), c /= d;
      best = std::max(best, weight_of(pruefer_tree(seq, d), w, d));
    }
    const auto tree = edges_of(pc::max_spanning_tree(w, d));
    BOOST_TEST(tree.size() == 5u);
    BOOST_TEST(std::abs(weight_of(tree, w, d) - best) < 1e-12);
  }
}

BOOST_AUTO_TEST_CASE(the_root_is_a_centre_and_the_order_puts_parents_first) {
  // A path 0-1-2-3-4 (heavy edges), everything else light: the centre is 2.
  const int32_t d = 5;
  std::vector<double> w(d * d, 0.01);
  for (int32_t v = 0; v + 1 < d; ++v) w[v * d + v + 1] = w[(v + 1) * d + v] = 1.0;
  const auto parent = pc::max_spanning_tree(w, d);
  BOOST_TEST(parent == (std::vector<int32_t>{1, 2, -1, 2, 3}));
  const auto order = pc::depth_first_order(parent);
  BOOST_TEST(order.front() == 2);
  // Depth first: the subtree of 1 (1, 0) is finished before 3 starts.
  BOOST_TEST(order == (std::vector<int32_t>{2, 1, 0, 3, 4}));
  BOOST_CHECK_THROW(pc::depth_first_order({1, 0, -1}), std::invalid_argument);  // a cycle
  std::vector<int32_t> position(d);
  for (int32_t k = 0; k < d; ++k) position[order[k]] = k;
  for (int32_t v = 0; v < d; ++v)
    if (parent[v] >= 0) BOOST_TEST(position[parent[v]] < position[v]);
}

BOOST_AUTO_TEST_CASE(mutual_information_of_independent_copied_and_tree_structured_variables) {
  std::mt19937_64 rng(5);
  const int64_t n = 20000;
  const int32_t d = 8;
  // A tree: 0 -> 1, 0 -> 2, 1 -> 3, 1 -> 4, 2 -> 5, 5 -> 6; 7 independent. Each child copies
  // its parent with probability 0.7, else draws uniformly from 4 values.
  const std::vector<int32_t> truth = {-1, 0, 0, 1, 1, 2, 5, -1};
  std::vector<uint8_t> data(n * d);
  for (int64_t s = 0; s < n; ++s)
    for (int32_t v : std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7}) {
      const bool copy = truth[v] >= 0 && rng() % 10 < 7;
      data[s * d + v] = copy ? data[s * d + truth[v]] : static_cast<uint8_t>(rng() % 4);
    }
  const auto mi = pc::mutual_information(data.data(), n, d, 4, 4, 0.0);
  BOOST_TEST(mi[0 * d + 7] < 0.002);  // independent: 0 up to sampling (~ 9 / (2n) nats)
  BOOST_TEST(mi[0 * d + 1] > 0.3);
  BOOST_TEST(mi[0 * d + 1] == mi[1 * d + 0]);
  // A copy of a variable: MI = its entropy (log 4 for uniform values).
  std::vector<uint8_t> twin(n * 2);
  for (int64_t s = 0; s < n; ++s) twin[2 * s] = twin[2 * s + 1] = data[s * d + 7];
  const auto self = pc::mutual_information(twin.data(), n, 2, 4, 4, 0.0);
  BOOST_TEST(std::abs(self[1] - std::log(4.0)) < 0.002);
  // The Chow-Liu tree over variables 0-6 is the generating tree.
  std::vector<uint8_t> seven(n * 7);
  for (int64_t s = 0; s < n; ++s)
    for (int32_t v = 0; v < 7; ++v) seven[s * 7 + v] = data[s * d + v];
  const auto tree = pc::max_spanning_tree(pc::mutual_information(seven.data(), n, 7, 4, 4, 0.0), 7);
  BOOST_TEST((edges_of(tree) == edges_of(std::vector<int32_t>(truth.begin(), truth.begin() + 7))));
  // Binning: 256 values in 16 bins see the same dependence as the bins themselves.
  std::vector<uint8_t> wide(n * 2);
  for (int64_t s = 0; s < n; ++s)
    wide[2 * s] = static_cast<uint8_t>(16 * data[s * d] + rng() % 16),
             wide[2 * s + 1] = static_cast<uint8_t>(16 * data[s * d + 1] + rng() % 16);
  const auto binned = pc::mutual_information(wide.data(), n, 2, 256, 16, 0.0);
  BOOST_TEST(std::abs(binned[1] - mi[0 * d + 1]) < 1e-9);
}

BOOST_AUTO_TEST_SUITE_END()
