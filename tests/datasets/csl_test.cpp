// The CSL benchmark and the graph facts SPEN's tests stand on: the generator gives 150 4-regular
// circulants in random node orders, their ego-networks have the sizes computed independently in
// research notes §5.4 (which also checks that relabelling kept each graph intact), 1-WL gives all
// 150 one colour histogram, and the folds are stratified.
#include "datasets/csl.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include <boost/test/unit_test.hpp>

#include "common/error.h"
#include "common/file_io.h"
#include "datasets/graph_data.h"
#include "datasets/graph_dataset.h"
#include "tests/support/temp_dir.h"

using namespace flowlab::datasets;

namespace {

Graph path(int32_t n) {
  Graph g;
  g.nodes = n;
  g.node_labels.assign(static_cast<size_t>(n), 0);
  for (int32_t i = 0; i + 1 < n; ++i) g.edges.emplace_back(i, i + 1);
  return g;
}

// Nodes and induced edges of node v's ego-network.
std::pair<size_t, size_t> ego_size(const Graph& g, const std::vector<int32_t>& members) {
  const std::set<int32_t> in(members.begin(), members.end());
  size_t edges = 0;
  for (const auto& [a, b] : g.edges) edges += in.count(a) && in.count(b);
  return {members.size(), edges};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(graph_data)

BOOST_AUTO_TEST_CASE(ego_networks_of_a_path_are_its_windows) {
  const auto ego1 = ego_networks(path(5), 1), ego2 = ego_networks(path(5), 2);
  BOOST_TEST(ego1[0] == (std::vector<int32_t>{0, 1}));
  BOOST_TEST(ego1[2] == (std::vector<int32_t>{1, 2, 3}));
  BOOST_TEST(ego2[0] == (std::vector<int32_t>{0, 1, 2}));
  BOOST_TEST(ego2[2] == (std::vector<int32_t>{0, 1, 2, 3, 4}));
  BOOST_TEST(ego_networks(path(5), 0)[3] == (std::vector<int32_t>{3}));
}

BOOST_AUTO_TEST_CASE(wl_cannot_tell_a_hexagon_from_two_triangles_but_tells_a_path_from_a_star) {
  Graph hexagon = path(6), triangles;
  hexagon.edges.emplace_back(0, 5);
  triangles.nodes = 6;
  triangles.node_labels.assign(6, 0);
  triangles.edges = {{0, 1}, {1, 2}, {0, 2}, {3, 4}, {4, 5}, {3, 5}};
  Graph star;
  star.nodes = 4;
  star.node_labels.assign(4, 0);
  star.edges = {{0, 1}, {0, 2}, {0, 3}};
  const auto h = wl_histograms({hexagon, triangles, path(4), star});
  BOOST_TEST(h[0] == h[1]);  // 1-WL's classic blind spot: both 2-regular
  BOOST_TEST(!(h[2] == h[3]));
  // Node labels count: the same hexagon with one node marked is told apart.
  Graph marked = hexagon;
  marked.node_labels[0] = 1;
  const auto m = wl_histograms({hexagon, marked});
  BOOST_TEST(!(m[0] == m[1]));
}

BOOST_AUTO_TEST_CASE(graphs_are_written_and_read_back_and_a_bad_line_names_its_place) {
  flowlab::testing::TempDir dir;
  auto graphs = csl::generate(5);
  graphs.resize(3);
  graphs[1].node_labels[4] = 2;
  write_graphs(dir.path() / "g.txt", graphs);
  const auto back = read_graphs(dir.path() / "g.txt");
  BOOST_REQUIRE_EQUAL(back.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    BOOST_TEST(back[i].edges == graphs[i].edges);
    BOOST_TEST(back[i].node_labels == graphs[i].node_labels);
    BOOST_TEST(back[i].label == graphs[i].label);
  }
  flowlab::write_text_file(dir.path() / "bad.txt", "graph 0 3\nedge 0 1\n\nedge 1 3\n");
  try {
    read_graphs(dir.path() / "bad.txt");
    BOOST_FAIL("no error");
  } catch (const flowlab::RunError& e) {
    const std::string m = e.what();
    BOOST_TEST(m.find("bad.txt:4: edge 1 3 names a node beyond the graph's 3") != std::string::npos,
               m);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(csl_benchmark)

BOOST_AUTO_TEST_CASE(the_benchmark_is_150_four_regular_circulants_in_random_orders) {
  const auto graphs = csl::generate(0);
  BOOST_REQUIRE_EQUAL(graphs.size(), 150u);
  std::map<int32_t, int> per_class;
  int in_cyclic_order = 0;
  for (size_t i = 0; i < graphs.size(); ++i) {
    const auto& g = graphs[i];
    ++per_class[g.label];
    BOOST_TEST(g.nodes == 41);
    BOOST_TEST(g.edges.size() == 82u);
    for (const auto& neighbours : g.adjacency()) BOOST_TEST(neighbours.size() == 4u);
    in_cyclic_order += g.edges == csl::circulant(41, csl::skip_lengths()[g.label]).edges;
  }
  BOOST_TEST(per_class.size() == 10u);
  for (const auto& [label, count] : per_class) BOOST_TEST(count == 15);
  BOOST_TEST(in_cyclic_order == 0);
  BOOST_TEST(csl::generate(0)[7].edges == graphs[7].edges);  // seeded
  BOOST_TEST(!(csl::generate(1)[7].edges == graphs[7].edges));
}

BOOST_AUTO_TEST_CASE(ego_networks_have_the_independently_computed_sizes) {
  // research notes §5.4 (induced ego-nets of C(41, R), centre included): 1 hop: R = 2 gives 5
  // nodes / 7 edges, every other R the star (5 / 4). 2 hops: R = 2 9/15, R = 3 11/16,
  // R = 4 13/19, R = 13 13/21, the rest 13/16. Circulants are vertex-transitive, so every node
  // of every (relabelled) graph must show its class's numbers.
  const std::map<int32_t, std::pair<size_t, size_t>> two_hops = {
      {2, {9, 15}}, {3, {11, 16}}, {4, {13, 19}}, {13, {13, 21}}};
  for (const auto& g : csl::generate(3)) {
    const int32_t r = csl::skip_lengths()[g.label];
    const auto one = ego_networks(g, 1), two = ego_networks(g, 2);
    for (int32_t v = 0; v < g.nodes; ++v) {
      BOOST_TEST((ego_size(g, one[v]) == (r == 2 ? std::make_pair<size_t, size_t>(5, 7)
                                                 : std::make_pair<size_t, size_t>(5, 4))),
                 "R " << r);
      const auto want = two_hops.count(r) ? two_hops.at(r) : std::make_pair<size_t, size_t>(13, 16);
      BOOST_TEST((ego_size(g, two[v]) == want), "R " << r);
    }
  }
}

BOOST_AUTO_TEST_CASE(one_wl_gives_every_csl_graph_the_same_colour_histogram) {
  const auto h = wl_histograms(csl::generate(0));
  for (const auto& histogram : h) BOOST_TEST((histogram == h[0]));
  BOOST_TEST(h[0].size() == 1u);  // regular graphs: one colour for all 41 nodes
}

BOOST_AUTO_TEST_CASE(folds_are_stratified_and_seeded) {
  const auto graphs = csl::generate(0);
  const auto folds = flowlab::datasets::stratified_folds(graphs, 5, 0);
  std::map<std::pair<int32_t, int32_t>, int> count;  // (fold, class) -> graphs
  for (size_t i = 0; i < graphs.size(); ++i) ++count[{folds[i], graphs[i].label}];
  BOOST_TEST(count.size() == 50u);
  for (const auto& [key, n] : count) BOOST_TEST(n == 3);
  BOOST_TEST(flowlab::datasets::stratified_folds(graphs, 5, 0) == folds);
  BOOST_TEST(!(flowlab::datasets::stratified_folds(graphs, 5, 1) == folds));
}

BOOST_AUTO_TEST_SUITE_END()
