#include "ops/graphnets/spen_network.h"

#include <map>

#include <fmt/format.h>

#include "ops/spen/equivariant_maps.h"

namespace flowlab::ops::graphnets {
namespace {

torch::Tensor weight(torch::nn::Module& m, const std::string& name, int64_t sets, int64_t elements,
                     int64_t in, int64_t out) {
  // The reference's initialization: N(0, 2 / (C_in + C_out)).
  const double sd = std::sqrt(2.0 / static_cast<double>(in + out));
  return m.register_parameter(name, torch::randn({sets, elements, in, out}) * sd);
}
torch::Tensor bias(torch::nn::Module& m, const std::string& name, int64_t sets, int64_t out) {
  return m.register_parameter(name, torch::zeros({sets, out}));
}

// Subgraphs of one size across a batch: their entries as pair ids, nodes as node ids, graphs.
struct SizeGroup {
  std::vector<int64_t> entry_pairs, nodes, graph;
  int64_t count = 0;
};

}  // namespace

EquivariantLayerImpl::EquivariantLayerImpl(int64_t in_2, int64_t in_1, int64_t out, int64_t sets,
                                           bool invariant)
    : in_1(in_1) {
  if (invariant) {
    w20 = weight(*this, "w20", sets, 2, in_2, out), b20 = bias(*this, "b20", sets, out);
    if (in_1 > 0)
      w10 = weight(*this, "w10", sets, 1, in_1, out), b10 = bias(*this, "b10", sets, out);
    return;
  }
  w22 = weight(*this, "w22", sets, 15, in_2, out);
  b22 = register_parameter("b22", torch::zeros({sets, 2, out}));  // all entries, the diagonal
  w21 = weight(*this, "w21", sets, 5, in_2, out), b21 = bias(*this, "b21", sets, out);
  if (in_1 > 0) {
    w12 = weight(*this, "w12", sets, 5, in_1, out), b12 = bias(*this, "b12", sets, out);
    w11 = weight(*this, "w11", sets, 2, in_1, out), b11 = bias(*this, "b11", sets, out);
  }
}

std::pair<torch::Tensor, torch::Tensor> EquivariantLayerImpl::forward(int64_t set,
                                                                      const torch::Tensor& x2,
                                                                      const torch::Tensor& x1) {
  auto t2 = spen::map_2_to_2(x2, w22[set], b22[set][0], b22[set][1]);
  auto t1 = spen::map_2_to_1(x2, w21[set], b21[set]);
  if (in_1 == 0) return {t2, t1};
  return {torch::cat({t2, spen::map_1_to_2(x1, w12[set], b12[set])}, -1),
          torch::cat({t1, spen::map_1_to_1(x1, w11[set], b11[set])}, -1)};
}

torch::Tensor EquivariantLayerImpl::invariant(int64_t set, const torch::Tensor& x2,
                                              const torch::Tensor& x1) {
  auto t0 = spen::map_2_to_0(x2, w20[set], b20[set]);
  if (in_1 == 0) return t0;
  return torch::cat({t0, spen::map_1_to_0(x1, w10[set], b10[set])}, -1);
}

SpenNetwork::SpenNetwork(SpenOptions o) : options_(std::move(o)) {
  const auto& w = options_.widths;
  if (w.size() < 2)
    throw RunError("widths needs at least two entries: the equivariant layers' and the readout's");
  const int64_t sets = options_.size_weights;
  int64_t in_2 = 1 + options_.node_labels, in_1 = 0;
  for (size_t l = 0; l + 1 < w.size(); ++l) {
    layers_.push_back(register_module(fmt::format("layer{}", l),
                                      EquivariantLayer(in_2, in_1, w[l], sets, false)));
    const int64_t out = in_1 == 0 ? w[l] : 2 * w[l];
    norms_2_.push_back(register_module(fmt::format("norm{}_2", l), GraphNorm(out)));
    norms_1_.push_back(register_module(fmt::format("norm{}_1", l), GraphNorm(out)));
    in_2 = in_1 = out;
  }
  layers_.push_back(register_module("readout", EquivariantLayer(in_2, in_1, w.back(), sets, true)));
  head_ = register_module("head",
                          MlpHead(2 * w.back(), options_.head, options_.dropout, options_.classes));
}

std::shared_ptr<const EncodedGraph> SpenNetwork::encode(const datasets::Graph& graph) const {
  auto g = std::make_shared<SpenGraph>();
  g->label = graph.label;
  g->subgraphs = spen::subgraphs_of(graph, options_.hops);
  g->node_labels = graph.node_labels;
  if (g->node_labels.empty()) g->node_labels.assign(graph.nodes, 0);
  for (int32_t l : g->node_labels)
    if (l < 0 || l >= options_.node_labels)
      throw RunError(fmt::format("a node label {} is outside the {} labels the model was built for",
                                 l, options_.node_labels));
  return g;
}

int64_t SpenNetwork::layer_entries(const EncodedGraph& graph) const {
  return static_cast<const SpenGraph&>(graph).subgraphs.entries();
}

torch::Tensor SpenNetwork::forward_graphs(const std::vector<const EncodedGraph*>& batch) {
  const torch::Device device = device_of(*this);
  const auto batch_size = static_cast<int64_t>(batch.size());
  // Join the batch: node and pair ids offset graph by graph (block-diagonal), subgraphs grouped
  // by size, since a size selects the weights and a group is one dense [N, m, m, C] tensor.
  int64_t nodes = 0, pairs = 0;
  std::vector<int64_t> pair_graph, node_graph;
  std::vector<float> pair_cover, node_cover, input;
  const int64_t in_channels = 1 + options_.node_labels;
  std::map<int64_t, SizeGroup> groups;
  for (int64_t b = 0; b < batch_size; ++b) {
    const auto& g = static_cast<const SpenGraph&>(*batch[b]);
    const auto& s = g.subgraphs;
    const auto base_input = input.size();
    input.resize(base_input + s.pairs.size() * in_channels, 0.0f);
    for (size_t p = 0; p < s.pairs.size(); ++p) {
      input[base_input + p * in_channels] = s.normalized_adjacency[p];
      pair_graph.push_back(b), pair_cover.push_back(static_cast<float>(s.pair_cover[p]));
    }
    for (int32_t v = 0; v < s.nodes; ++v) {
      input[base_input + s.diagonal_pair[v] * in_channels + 1 + g.node_labels[v]] = 1.0f;
      node_graph.push_back(b), node_cover.push_back(static_cast<float>(s.node_cover[v]));
    }
    for (size_t k = 0; k < s.members.size(); ++k) {
      auto& group = groups[static_cast<int64_t>(s.members[k].size())];
      for (int32_t p : s.entry_pairs[k]) group.entry_pairs.push_back(pairs + p);
      for (int32_t v : s.members[k]) group.nodes.push_back(nodes + v);
      group.graph.push_back(b);
      ++group.count;
    }
    nodes += s.nodes, pairs += static_cast<int64_t>(s.pairs.size());
  }
  // Every group's entries (and members, and graphs) one after another: one gather and one merge
  // per layer serve all sizes, each group a contiguous slice.
  struct Group {
    int64_t m, set, count, entry_offset, node_offset;
  };
  std::vector<Group> dense;
  std::vector<int64_t> entry_pairs, entry_nodes, subgraph_graph;
  for (const auto& [m, g] : groups) {
    dense.push_back({m, std::min(m, options_.size_weights) - 1, g.count,
                     static_cast<int64_t>(entry_pairs.size()),
                     static_cast<int64_t>(entry_nodes.size())});
    entry_pairs.insert(entry_pairs.end(), g.entry_pairs.begin(), g.entry_pairs.end());
    entry_nodes.insert(entry_nodes.end(), g.nodes.begin(), g.nodes.end());
    subgraph_graph.insert(subgraph_graph.end(), g.graph.begin(), g.graph.end());
  }
  const SegmentIndex by_pair(entry_pairs, pairs, device), by_node(entry_nodes, nodes, device);
  const SegmentIndex pair_in_graph(pair_graph, batch_size, device);
  const SegmentIndex node_in_graph(node_graph, batch_size, device);
  const SegmentIndex subgraph_in_graph(subgraph_graph, batch_size, device);
  const auto pair_cover_t = torch::tensor(pair_cover).unsqueeze(1).to(device);
  const auto node_cover_t = torch::tensor(node_cover).unsqueeze(1).to(device);
  auto entries_of = [](const torch::Tensor& all, const Group& g) {  // [N, m, m, C]
    return all.narrow(0, g.entry_offset, g.count * g.m * g.m).view({g.count, g.m, g.m, -1});
  };
  auto members_of = [](const torch::Tensor& all, const Group& g) {  // [N, m, C]
    return all.defined() ? all.narrow(0, g.node_offset, g.count * g.m).view({g.count, g.m, -1})
                         : all;
  };

  torch::Tensor t2 = torch::tensor(input).view({pairs, in_channels}).to(device), t1;
  for (size_t l = 0; l + 1 < layers_.size(); ++l) {
    const auto x2 = gather_rows(t2, by_pair);
    const auto x1 = t1.defined() ? gather_rows(t1, by_node) : t1;
    std::vector<torch::Tensor> out2, out1;
    for (const auto& g : dense) {
      auto [o2, o1] = layers_[l]->forward(g.set, entries_of(x2, g), members_of(x1, g));
      out2.push_back(o2.reshape({-1, o2.size(-1)}));
      out1.push_back(o1.reshape({-1, o1.size(-1)}));
    }
    // Merge back: each pair's (node's) mean over the subgraphs that hold it; then ELU, GraphNorm.
    t2 = norms_2_[l]->forward(torch::elu(segment_sum(torch::cat(out2), by_pair) / pair_cover_t),
                              pair_in_graph);
    t1 = norms_1_[l]->forward(torch::elu(segment_sum(torch::cat(out1), by_node) / node_cover_t),
                              node_in_graph);
  }
  // Invariant readout per subgraph, ELU, mean over each graph's subgraphs, then the MLP head.
  const auto x2 = gather_rows(t2, by_pair), x1 = gather_rows(t1, by_node);
  std::vector<torch::Tensor> readouts;
  for (const auto& g : dense)
    readouts.push_back(
        torch::elu(layers_.back()->invariant(g.set, entries_of(x2, g), members_of(x1, g))));
  return head_->forward(segment_mean(torch::cat(readouts), subgraph_in_graph), dropout_generator_);
}

}  // namespace flowlab::ops::graphnets
