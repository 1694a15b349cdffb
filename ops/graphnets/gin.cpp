// graph/gin: the graph isomorphism network (Xu et al. 2019), a message-passing network exactly as
// expressive as 1-WL colour refinement: graphs 1-WL cannot tell apart (all of CSL) get the same
// logits, which is the baseline SPEN is measured against.
#include <fmt/format.h>

#include "ops/graphnets/graph_models.h"
#include "ops/graphnets/graph_network.h"
#include "ops/models/model.h"

namespace flowlab::ops::graphnets {
namespace {

struct GinGraph : EncodedGraph {
  int32_t nodes = 0;
  std::vector<int64_t> source, target;  // every edge in both directions
  std::vector<int32_t> node_labels;
};

class GinNetwork : public GraphNetwork {
 public:
  GinNetwork(const std::vector<int64_t>& widths, const std::vector<int64_t>& head, double dropout,
             int64_t node_labels, int64_t classes)
      : node_labels_(node_labels) {
    int64_t in = node_labels, readout = node_labels;
    for (size_t l = 0; l < widths.size(); ++l) {
      const int64_t w = widths[l];
      mlps_.push_back(register_module(
          fmt::format("layer{}", l),
          torch::nn::Sequential(torch::nn::Linear(in, w), torch::nn::Functional(torch::relu),
                                torch::nn::Linear(w, w), torch::nn::Functional(torch::relu))));
      eps_.push_back(register_parameter(fmt::format("eps{}", l), torch::zeros({1})));
      in = w, readout += w;
    }
    head_ = register_module("head", MlpHead(readout, head, dropout, classes));
  }

  std::shared_ptr<const EncodedGraph> encode(const datasets::Graph& graph) const override {
    auto g = std::make_shared<GinGraph>();
    g->label = graph.label;
    g->nodes = graph.nodes;
    for (const auto& [a, b] : graph.edges) {
      g->source.push_back(a), g->target.push_back(b);
      g->source.push_back(b), g->target.push_back(a);
    }
    g->node_labels = graph.node_labels;
    if (g->node_labels.empty()) g->node_labels.assign(graph.nodes, 0);
    for (int32_t l : g->node_labels)
      if (l < 0 || l >= node_labels_)
        throw RunError(fmt::format(
            "a node label {} is outside the {} labels the model was built for", l, node_labels_));
    return g;
  }

  int64_t layer_entries(const EncodedGraph& graph) const override {
    return static_cast<const GinGraph&>(graph).nodes;
  }

  torch::Tensor forward_graphs(const std::vector<const EncodedGraph*>& batch) override {
    const torch::Device device = device_of(*this);
    std::vector<int64_t> source, target, node_graph, labels;
    int64_t nodes = 0;
    for (size_t b = 0; b < batch.size(); ++b) {
      const auto& g = static_cast<const GinGraph&>(*batch[b]);
      for (size_t e = 0; e < g.source.size(); ++e)
        source.push_back(nodes + g.source[e]), target.push_back(nodes + g.target[e]);
      for (int32_t v = 0; v < g.nodes; ++v)
        node_graph.push_back(static_cast<int64_t>(b)), labels.push_back(g.node_labels[v]);
      nodes += g.nodes;
    }
    const auto batch_size = static_cast<int64_t>(batch.size());
    // Messages flow along `source` rows into their `target` nodes; nodes pool into their graphs.
    const SegmentIndex from(source, nodes, device), into(target, nodes, device);
    const SegmentIndex in_graph(node_graph, batch_size, device);
    auto h = torch::one_hot(torch::tensor(labels).to(device), node_labels_).to(torch::kFloat32);
    auto sum_pool = [&](const torch::Tensor& x) { return segment_sum(x, in_graph); };
    std::vector<torch::Tensor> readouts = {sum_pool(h)};
    for (size_t l = 0; l < mlps_.size(); ++l) {
      // (1 + eps) h_v + the sum of the neighbours' h, then the layer's MLP.
      const auto messages = segment_sum(gather_rows(h, from), into);
      h = mlps_[l]->forward((1 + eps_[l]) * h + messages);
      readouts.push_back(sum_pool(h));
    }
    return head_->forward(torch::cat(readouts, 1), dropout_generator_);
  }

 private:
  int64_t node_labels_;
  std::vector<torch::nn::Sequential> mlps_;
  std::vector<torch::Tensor> eps_;
  MlpHead head_{nullptr};
};

}  // namespace

void register_gin(Registry& r) {
  ModelDef m;
  m.family = "graph";
  m.name = "gin";
  m.summary = "graph isomorphism network: 1-WL message passing, sum readout of every layer";
  m.params = {
      int_list_param("widths", {32, 32, 32}, "channels of each GIN layer", 1.0, 4096.0),
      int_list_param("head", {256, 128}, "hidden widths of the MLP head", 1.0, 65536.0),
      float_param("dropout", 0.5, "dropout in the MLP head", 0.0, 0.99),
  };
  m.build = [](const Params& p, const ModelInput& in) -> std::shared_ptr<Network> {
    return std::make_shared<GinNetwork>(p.get_int_list("widths"), p.get_int_list("head"),
                                        p.get_float("dropout"), in.shape.empty() ? 1 : in.shape[0],
                                        in.outputs);
  };
  add_model(r, std::move(m));
}

}  // namespace flowlab::ops::graphnets
