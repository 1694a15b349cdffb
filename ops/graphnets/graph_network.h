#pragma once
// Graph classifiers: the architectures of family "graph" (SPEN, the global 2-IGN, GIN),
// registered like every other architecture (ops/models/model.h). Graphs have no fixed shape, so
// a graph network first encodes each graph once (without torch: its subgraphs, pair tables or
// edge lists, whatever its layers index) and then classifies batches of encoded graphs, which it
// joins into one block-diagonal batch itself. Include only from .cpp files: it pulls in
// <torch/torch.h>.
#include <memory>
#include <vector>

#include "common/error.h"
#include "datasets/graph_data.h"
#include "ops/graphnets/segment_sum.h"
#include "ops/models/network.h"

namespace flowlab::ops::graphnets {

/// One graph as an architecture's layers need it; made once, reused every epoch.
struct EncodedGraph {
  virtual ~EncodedGraph() = default;
  int32_t label = 0;  // the graph's class
};

struct GraphNetwork : Network {
  torch::Tensor forward(const torch::Tensor&) override {
    throw RunError("a graph network classifies graphs, not tensors");
  }
  virtual std::shared_ptr<const EncodedGraph> encode(const datasets::Graph& graph) const = 0;
  /// Class logits [B, classes] of a batch of graphs encoded by this network.
  virtual torch::Tensor forward_graphs(const std::vector<const EncodedGraph*>& batch) = 0;
  /// Entries per channel of one layer's activations on the graph (Σ_v m_v² for SPEN, n² for a
  /// global 2-IGN, nodes for GIN): what its memory grows with.
  virtual int64_t layer_entries(const EncodedGraph& graph) const = 0;
  /// The generator dropout draws from in training (the global one when none is set).
  void set_dropout_generator(at::Generator generator) { dropout_generator_ = std::move(generator); }

 protected:
  at::Generator dropout_generator_;
};

/// The device a module's parameters live on (where batches are built).
inline torch::Device device_of(torch::nn::Module& module) {
  const auto params = module.parameters();
  return params.empty() ? torch::Device(torch::kCPU) : params.front().device();
}

/// GraphNorm (Cai et al. 2021), as SPEN's layers use it: per graph, x - alpha * mean, divided by
/// the standard deviation of that, then scaled and shifted (alpha, gamma, beta learned per
/// channel).
struct GraphNormImpl : torch::nn::Module {
  explicit GraphNormImpl(int64_t channels)
      : alpha(register_parameter("alpha", torch::ones({channels}))),
        gamma(register_parameter("gamma", torch::ones({channels}))),
        beta(register_parameter("beta", torch::zeros({channels}))) {}
  /// x: [items, C]; graph: which graph each item belongs to.
  torch::Tensor forward(const torch::Tensor& x, const SegmentIndex& graph) {
    const auto centred = x - alpha * gather_rows(segment_mean(x, graph), graph);
    const auto var = gather_rows(segment_mean(centred * centred, graph), graph);
    return gamma * centred / torch::sqrt(var + 1e-5) + beta;
  }
  torch::Tensor alpha, gamma, beta;
};
TORCH_MODULE(GraphNorm);

/// The MLP head: Linear, ReLU and dropout per hidden width, then Linear to the classes. Dropout
/// draws from the generator it is given, so that a training owns its randomness (and resumes
/// exactly) whatever other nodes do with the global RNG.
struct MlpHeadImpl : torch::nn::Module {
  MlpHeadImpl(int64_t inputs, const std::vector<int64_t>& hidden, double dropout, int64_t classes);
  torch::Tensor forward(torch::Tensor x, const at::Generator& generator);
  std::vector<torch::nn::Linear> layers;
  double dropout;
};
TORCH_MODULE(MlpHead);

}  // namespace flowlab::ops::graphnets
