// SPEN's layers and the graph classifiers, checked against what defines them: the factored maps
// a layer computes equal the stacked basis contracted with the same weights; merging subgraphs
// back by averaging returns a tensor every subgraph left unchanged; a whole network's logits do
// not change when a graph's nodes are relabelled (nor when it shares a batch); and GIN, being
// 1-WL, gives all 150 CSL graphs the same logits while SPEN does not.
#include <numeric>
#include <random>

#include <boost/test/unit_test.hpp>
#include <torch/torch.h>

#include "datasets/csl.h"
#include "datasets/graph_data.h"
#include "ops/graphnets/segment_sum.h"
#include "ops/graphnets/spen_network.h"
#include "ops/models/model.h"
#include "ops/spen/basis.h"
#include "ops/spen/equivariant_maps.h"
#include "ops/spen/subgraphs.h"

namespace spen = flowlab::ops::spen;
namespace gn = flowlab::ops::graphnets;
using flowlab::datasets::Graph;

namespace {

double largest_gap(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

// The definition: Σ_b basis_b(x) W_b, in the basis functions' channels-first layout.
torch::Tensor contract_2(const torch::Tensor& stacked, const torch::Tensor& w) {
  return torch::einsum("ncbij,bcd->nijd", {stacked, w});  // -> channels last
}
torch::Tensor contract_1(const torch::Tensor& stacked, const torch::Tensor& w) {
  return torch::einsum("ncbi,bcd->nid", {stacked, w});
}
torch::Tensor contract_0(const torch::Tensor& stacked, const torch::Tensor& w) {
  return torch::einsum("ncb,bcd->nd", {stacked, w});
}

Graph random_graph(int32_t n, double p, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  Graph g;
  g.nodes = n;
  for (int32_t a = 0; a < n; ++a)
    for (int32_t b = a + 1; b < n; ++b)
      if (u(rng) < p) g.edges.emplace_back(a, b);
  for (int32_t v = 0; v < n; ++v) g.node_labels.push_back(static_cast<int32_t>(rng() % 3));
  return g;
}

std::vector<int32_t> random_permutation(int32_t n, uint64_t seed) {
  std::vector<int32_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  std::mt19937_64 rng(seed);
  for (size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng() % i]);
  return perm;
}

std::shared_ptr<gn::GraphNetwork> build_graph_net(
    const std::string& arch, const flowlab::Registry& registry,
    std::map<std::string, flowlab::ParamValue> overrides, int64_t node_labels, int64_t classes) {
  flowlab::ops::ModelRecord record;
  record.family = "graph";
  record.arch = arch;
  std::map<std::string, flowlab::ParamValue> values;
  for (const auto& spec : registry.find_group("graph")->find(arch)->params)
    values[spec.name] = *spec.default_value;
  for (auto& [k, v] : overrides) values[k] = v;
  record.params = flowlab::Params(values);
  record.input.shape = {node_labels};
  record.input.outputs = classes;
  torch::manual_seed(3);
  auto net = std::dynamic_pointer_cast<gn::GraphNetwork>(record.build(registry));
  net->eval();
  return net;
}

flowlab::Registry graph_net_registry() {
  flowlab::Registry r;
  flowlab::ops::register_models(r);
  return r;
}

torch::Tensor logits_of(gn::GraphNetwork& net, const std::vector<Graph>& graphs) {
  std::vector<std::shared_ptr<const gn::EncodedGraph>> encoded;
  std::vector<const gn::EncodedGraph*> batch;
  for (const auto& g : graphs)
    encoded.push_back(net.encode(g)), batch.push_back(encoded.back().get());
  torch::NoGradGuard no_grad;
  return net.forward_graphs(batch);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(spen_layers)

BOOST_AUTO_TEST_CASE(each_factored_map_equals_the_stacked_basis_contracted_with_its_weights) {
  torch::manual_seed(0);
  const auto opts = torch::kFloat64;
  for (int64_t m : {1, 2, 5}) {
    const int64_t n = 3, c = 4, d = 2;
    const auto x = torch::randn({n, m, m, c}, opts);  // channels last, as layers hold it
    const auto v = torch::randn({n, m, c}, opts);
    const auto xf = x.permute({0, 3, 1, 2}), vf = v.permute({0, 2, 1});  // channels first
    const auto w15 = torch::randn({15, c, d}, opts), w5 = torch::randn({5, c, d}, opts);
    const auto w2 = torch::randn({2, c, d}, opts), w1 = torch::randn({1, c, d}, opts);
    const auto ba = torch::randn({d}, opts), bd = torch::randn({d}, opts);
    const auto eye = torch::eye(m, opts).unsqueeze(0).unsqueeze(-1);
    BOOST_TEST(largest_gap(spen::map_2_to_2(x, w15, ba, bd),
                           contract_2(spen::basis_2_to_2(xf), w15) + ba + eye * bd) < 1e-10);
    BOOST_TEST(largest_gap(spen::map_2_to_1(x, w5, ba),
                           contract_1(spen::basis_2_to_1(xf), w5) + ba) < 1e-10);
    BOOST_TEST(largest_gap(spen::map_1_to_2(v, w5, ba),
                           contract_2(spen::basis_1_to_2(vf), w5) + ba) < 1e-10);
    BOOST_TEST(largest_gap(spen::map_1_to_1(v, w2, ba),
                           contract_1(spen::basis_1_to_1(vf), w2) + ba) < 1e-10);
    BOOST_TEST(largest_gap(spen::map_2_to_0(x, w2, ba),
                           contract_0(spen::basis_2_to_0(xf), w2) + ba) < 1e-10);
    BOOST_TEST(largest_gap(spen::map_1_to_0(v, w1, ba),
                           contract_0(spen::basis_1_to_0(vf), w1) + ba) < 1e-10);
  }
  // The comparison can fail: swapping two weights of the 2->2 basis (rows along rows vs along
  // columns) is caught.
  const auto x = torch::randn({1, 4, 4, 2}, opts);
  auto w = torch::randn({15, 2, 3}, opts), swapped = w.clone();
  swapped[7].copy_(w[8]), swapped[8].copy_(w[7]);
  const auto zero = torch::zeros({3}, opts);
  BOOST_TEST(largest_gap(spen::map_2_to_2(x, swapped, zero, zero),
                         contract_2(spen::basis_2_to_2(x.permute({0, 3, 1, 2})), w)) > 1e-3);
}

BOOST_AUTO_TEST_CASE(ego_networks_of_a_path_and_the_pairs_they_cover) {
  Graph path;
  path.nodes = 5;
  for (int32_t v = 0; v + 1 < 5; ++v) path.edges.emplace_back(v, v + 1);
  const auto s = spen::subgraphs_of(path, 1);
  BOOST_REQUIRE_EQUAL(s.members.size(), 5u);
  BOOST_TEST(s.members[0] == (std::vector<int32_t>{0, 1}));
  BOOST_TEST(s.members[2] == (std::vector<int32_t>{1, 2, 3}));
  BOOST_TEST(s.members[4] == (std::vector<int32_t>{3, 4}));
  BOOST_TEST(s.entries() == 4 + 9 + 9 + 9 + 4);
  // Covered pairs: |i - j| <= 2 (a 3-node window holds its ends), 5 + 2*4 + 2*3 of them.
  BOOST_TEST(s.pairs.size() == 19u);
  for (const auto& [a, b] : s.pairs) BOOST_TEST(std::abs(a - b) <= 2);
  // Cover counts: node 2 sits in 3 ego-networks, node 0 in 2; pair (0, 2) only in node 1's.
  BOOST_TEST(s.node_cover == (std::vector<int32_t>{2, 3, 3, 3, 2}));
  const auto pair02 = std::find(s.pairs.begin(), s.pairs.end(), std::pair<int32_t, int32_t>{0, 2});
  BOOST_TEST(s.pair_cover[pair02 - s.pairs.begin()] == 1);
  // D^{-1/2} A D^{-1/2}: the edge (0, 1) joins degrees 1 and 2.
  const auto pair01 = std::find(s.pairs.begin(), s.pairs.end(), std::pair<int32_t, int32_t>{0, 1});
  BOOST_TEST(std::abs(s.normalized_adjacency[pair01 - s.pairs.begin()] - 1 / std::sqrt(2.0f)) <
             1e-6);
  BOOST_TEST(s.normalized_adjacency[pair02 - s.pairs.begin()] == 0.0f);
  // The global 2-IGN: one subgraph of all 5 nodes covering all 25 pairs.
  const auto g = spen::subgraphs_of(path, 0);
  BOOST_TEST(g.members.size() == 1u);
  BOOST_TEST(g.pairs.size() == 25u);
  BOOST_TEST(g.entries() == 25);
}

BOOST_AUTO_TEST_CASE(merging_unchanged_subgraphs_back_by_averaging_returns_the_tensor) {
  const auto graph = random_graph(12, 0.25, 7);
  const auto s = spen::subgraphs_of(graph, 2);
  const auto t = torch::randn({static_cast<int64_t>(s.pairs.size()), 3}, torch::kFloat64);
  auto sum = torch::zeros_like(t);
  for (const auto& entries : s.entry_pairs) {
    const auto ids = torch::tensor(std::vector<int64_t>(entries.begin(), entries.end()));
    sum.index_add_(0, ids, t.index_select(0, ids));  // each subgraph's identity update
  }
  const auto cover = torch::tensor(std::vector<double>(s.pair_cover.begin(), s.pair_cover.end()));
  BOOST_TEST(largest_gap(sum / cover.unsqueeze(1), t) < 1e-12);
  for (int32_t c : s.pair_cover) BOOST_TEST(c >= 1);
}

BOOST_AUTO_TEST_CASE(logits_do_not_change_when_a_graph_is_relabelled_or_batched) {
  const auto registry = graph_net_registry();
  const auto graph = random_graph(14, 0.2, 11);
  const auto moved = graph.relabelled(random_permutation(graph.nodes, 5));
  const auto other = random_graph(9, 0.3, 12);
  for (const auto& [arch, params] :
       std::vector<std::pair<std::string, std::map<std::string, flowlab::ParamValue>>>{
           {"spen", {{"hops", int64_t{1}}}},
           {"spen", {{"hops", int64_t{2}}}},
           {"ign", {}},
           {"gin", {}}}) {
    auto net = build_graph_net(arch, registry, params, 3, 4);
    const auto alone = logits_of(*net, {graph});
    const auto relabelled = logits_of(*net, {moved});
    BOOST_TEST(largest_gap(alone, relabelled) < 1e-5, arch);
    const auto batched = logits_of(*net, {other, moved});
    BOOST_TEST(largest_gap(batched[1], alone[0]) < 1e-5, arch);
    BOOST_TEST(largest_gap(batched[0], logits_of(*net, {other})[0]) < 1e-5, arch);
    // The check can fail: a different graph gets different logits.
    BOOST_TEST(largest_gap(logits_of(*net, {other}), alone) > 1e-4, arch);
  }
}

BOOST_AUTO_TEST_CASE(gin_gives_every_csl_graph_one_answer_and_spen_separates_skip_two) {
  const auto registry = graph_net_registry();
  const auto graphs = flowlab::datasets::csl::generate(0);
  auto gin = build_graph_net("gin", registry, {}, 1, 10);
  const auto g = logits_of(*gin, graphs);
  BOOST_TEST(largest_gap(g, g[0].unsqueeze(0).expand_as(g)) < 1e-4);
  // SPEN with k = 1: only R = 2 has ego-networks with edges among the neighbours (notes §5.4);
  // for R >= 3 every ego-network is the star K_{1,4}. A readout straight on the ego-networks
  // would stop there, but merging back counts how many ego-networks hold each pair (the common
  // neighbours of its ends plus the ends' own), and that count depends on R: the next layer
  // sees it, so R = 3 and R = 4 differ too.
  auto spen1 = build_graph_net("spen", registry, {{"hops", int64_t{1}}}, 1, 10);
  const auto s1 = logits_of(*spen1, graphs);  // class c's graphs are rows 15c .. 15c + 14
  BOOST_TEST(largest_gap(s1[0], s1[15]) > 1e-4);
  BOOST_TEST(largest_gap(s1[15], s1[30]) > 1e-4);
  BOOST_TEST(largest_gap(s1[0], s1[14]) < 1e-4);  // same class, another node order
  BOOST_TEST(largest_gap(s1[30], s1[44]) < 1e-4);
  // The merge is what adds it: a network with no equivariant layer before the readout (widths
  // holds the readout's only) is not allowed, so check the ego-networks themselves are equal.
  const auto e3 = spen::subgraphs_of(graphs[15], 1), e4 = spen::subgraphs_of(graphs[30], 1);
  BOOST_TEST(e3.entries() == e4.entries());
  auto covers = [](const spen::Subgraphs& s) {
    auto c = s.pair_cover;
    std::sort(c.begin(), c.end());
    return c;
  };
  BOOST_TEST(covers(e3) != covers(e4));
  // k = 2: the ego-networks of R = 2, 3, 4 and 13 differ in size or edges.
  auto spen2 = build_graph_net("spen", registry, {{"hops", int64_t{2}}}, 1, 10);
  const auto s2 = logits_of(*spen2, graphs);
  for (int a : {0, 1, 2, 8})
    for (int b : {0, 1, 2, 8, 3})
      if (a != b) BOOST_TEST(largest_gap(s2[15 * a], s2[15 * b]) > 1e-4, a << " vs " << b);
  // Σ_v m_v² per graph: 41 ego-networks of 5 nodes (k = 1) against 41² for the global layer.
  BOOST_TEST(spen1->layer_entries(*spen1->encode(graphs[0])) == 41 * 25);
  auto ign = build_graph_net("ign", registry, {}, 1, 10);
  BOOST_TEST(ign->layer_entries(*ign->encode(graphs[0])) == 41 * 41);
}

BOOST_AUTO_TEST_CASE(segment_sums_and_gathers_equal_index_add_and_index_select_with_gradients) {
  torch::manual_seed(1);
  std::vector<int64_t> target;
  for (int i = 0; i < 40; ++i) target.push_back((i * 7) % 9);  // 9 segments, one left empty below
  target[3] = 2;
  for (auto& t : target)
    if (t == 5) t = 6;
  const gn::SegmentIndex index(target, 9, torch::kCPU);
  const auto ids = torch::tensor(target);
  const auto x = torch::randn({40, 3}, torch::kFloat64).requires_grad_();
  const auto t = torch::randn({9, 3}, torch::kFloat64).requires_grad_();
  const auto expected = torch::zeros({9, 3}, torch::kFloat64).index_add(0, ids, x);
  BOOST_TEST(largest_gap(gn::segment_sum(x, index), expected) < 1e-12);
  BOOST_TEST(largest_gap(gn::gather_rows(t, index), t.index_select(0, ids)) < 1e-12);
  BOOST_TEST(largest_gap(gn::segment_mean(x, index)[5], torch::zeros({3}, torch::kFloat64)) == 0);
  // Gradients: a random linear functional through each, against the same through index ops.
  const auto w = torch::randn({9, 3}, torch::kFloat64), v = torch::randn({40, 3}, torch::kFloat64);
  const auto gx = torch::autograd::grad({(gn::segment_sum(x, index) * w).sum()}, {x})[0];
  const auto gx_ref = torch::autograd::grad({(expected * w).sum()}, {x})[0];
  BOOST_TEST(largest_gap(gx, gx_ref) < 1e-12);
  const auto gt = torch::autograd::grad({(gn::gather_rows(t, index) * v).sum()}, {t})[0];
  const auto gt_ref = torch::autograd::grad({(t.index_select(0, ids) * v).sum()}, {t})[0];
  BOOST_TEST(largest_gap(gt, gt_ref) < 1e-12);
}

BOOST_AUTO_TEST_SUITE_END()
