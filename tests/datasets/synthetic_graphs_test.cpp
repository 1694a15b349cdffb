// The synthetic graph tasks are what they claim: cycles are 2-regular with one component (class
// 0) or two with the smaller of 3-5 nodes (class 1), and 1-WL gives both classes the same
// histogram at equal size while some 2-hop ego-network holds a whole short cycle only in class 1;
// regular graphs are 3-regular and their partners are not, with as many edges.
#include "datasets/synthetic_graphs.h"

#include <algorithm>
#include <functional>
#include <numeric>

#include <boost/test/unit_test.hpp>

#include "common/error.h"
#include "datasets/graph_data.h"

namespace ds = flowlab::datasets;

namespace {

std::vector<int32_t> degrees(const ds::Graph& g) {
  std::vector<int32_t> d(g.nodes, 0);
  for (const auto& [a, b] : g.edges) ++d[a], ++d[b];
  return d;
}

std::vector<int32_t> component_sizes(const ds::Graph& g) {
  std::vector<int32_t> parent(g.nodes);
  std::iota(parent.begin(), parent.end(), 0);
  std::function<int32_t(int32_t)> find = [&](int32_t v) {
    return parent[v] == v ? v : parent[v] = find(parent[v]);
  };
  for (const auto& [a, b] : g.edges) parent[find(a)] = find(b);
  std::vector<int32_t> size(g.nodes, 0);
  for (int32_t v = 0; v < g.nodes; ++v) ++size[find(v)];
  std::vector<int32_t> out;
  for (int32_t s : size)
    if (s > 0) out.push_back(s);
  std::sort(out.begin(), out.end());
  return out;
}

// Whether some node's 2-hop ego-network is a whole component (a cycle of <= 5 nodes).
bool some_ego_network_is_a_component(const ds::Graph& g) {
  const auto ego = ds::ego_networks(g, 2);
  const auto sizes = component_sizes(g);
  for (const auto& e : ego)
    if (std::find(sizes.begin(), sizes.end(), static_cast<int32_t>(e.size())) != sizes.end() &&
        e.size() <= 5)
      return true;
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(synthetic_graphs)

BOOST_AUTO_TEST_CASE(cycles_are_one_or_two_cycles_that_1wl_cannot_tell_apart) {
  const auto graphs = ds::synthetic::generate("cycles", 30, 12, 16, 4);
  BOOST_REQUIRE_EQUAL(graphs.size(), 60u);
  for (const auto& g : graphs) {
    BOOST_TEST(g.nodes >= 12);
    BOOST_TEST(g.nodes <= 16);
    for (int32_t d : degrees(g)) BOOST_TEST(d == 2);
    const auto parts = component_sizes(g);
    if (g.label == 0) {
      BOOST_TEST(parts.size() == 1u);
    } else {
      BOOST_REQUIRE_EQUAL(parts.size(), 2u);
      BOOST_TEST(parts[0] >= 3);
      BOOST_TEST(parts[0] <= 5);
    }
    BOOST_TEST(some_ego_network_is_a_component(g) == (g.label == 1));
  }
  // 1-WL: a cycle and two cycles of the same total size get the same histogram.
  for (const auto& a : graphs)
    for (const auto& b : graphs)
      if (a.label == 0 && b.label == 1 && a.nodes == b.nodes) {
        const auto h = ds::wl_histograms({a, b});
        BOOST_TEST((h[0] == h[1]));
      }
  // Deterministic in the seed, different across seeds.
  const auto again = ds::synthetic::generate("cycles", 30, 12, 16, 4);
  const auto other = ds::synthetic::generate("cycles", 30, 12, 16, 5);
  bool same = true, differ = false;
  for (size_t i = 0; i < graphs.size(); ++i) {
    same = same && graphs[i].edges == again[i].edges;
    differ = differ || graphs[i].edges != other[i].edges;
  }
  BOOST_TEST(same);
  BOOST_TEST(differ);
}

BOOST_AUTO_TEST_CASE(regular_graphs_are_cubic_and_their_partners_are_not) {
  const auto graphs = ds::synthetic::generate("regular", 20, 10, 16, 1);
  for (const auto& g : graphs) {
    BOOST_TEST(g.nodes % 2 == 0);
    BOOST_TEST(g.edges.size() == static_cast<size_t>(3 * g.nodes / 2));
    const auto d = degrees(g);
    const bool cubic = std::all_of(d.begin(), d.end(), [](int32_t x) { return x == 3; });
    BOOST_TEST(cubic == (g.label == 0));
    for (const auto& [a, b] : g.edges) BOOST_TEST(a < b);  // simple, each edge once
  }
  BOOST_CHECK_THROW(ds::synthetic::generate("regular", 2, 7, 7, 1), flowlab::RunError);
  BOOST_CHECK_THROW(ds::synthetic::generate("trees", 2, 12, 16, 1), flowlab::RunError);
}

BOOST_AUTO_TEST_SUITE_END()
