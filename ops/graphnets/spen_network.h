#pragma once
// The SPEN network (research notes §5.2) and, with one subgraph per graph, the global 2-IGN it
// is measured against. Include only from .cpp files: it pulls in <torch/torch.h>.
#include <vector>

#include "ops/graphnets/graph_network.h"
#include "ops/spen/subgraphs.h"

namespace flowlab::ops::graphnets {

struct SpenOptions {
  int hops = 1;  // ego-network radius; 0: the whole graph is the one subgraph (2-IGN)
  /// One equivariant layer per entry but the last; the last is the invariant readout's width.
  std::vector<int64_t> widths = {32, 32, 32};
  /// Subgraphs of size m use weight set min(m, size_weights) - 1: sizes below size_weights have
  /// their own weights, larger ones share the last set.
  int64_t size_weights = 16;
  std::vector<int64_t> head = {256, 128};
  double dropout = 0.5;
  int64_t node_labels = 1;  // one-hot node labels on the input's diagonal
  int64_t classes = 2;
};

/// One graph's subgraphs and node labels.
struct SpenGraph : EncodedGraph {
  spen::Subgraphs subgraphs;
  std::vector<int32_t> node_labels;
};

/// One equivariant layer's weights, for every size set: (2[, 1]) -> (2, 1), or -> 0 (invariant).
struct EquivariantLayerImpl : torch::nn::Module {
  EquivariantLayerImpl(int64_t in_2, int64_t in_1, int64_t out, int64_t sets, bool invariant);
  /// Subgraphs of one size, with weight set `set`: x2 [N, m, m, in_2], x1 [N, m, in_1] (undefined
  /// when in_1 == 0) -> [N, m, m, C] and [N, m, C] (C = out without a 1-tensor input, else
  /// 2 * out: the 2->k and 1->k results side by side, as the reference concatenates them).
  std::pair<torch::Tensor, torch::Tensor> forward(int64_t set, const torch::Tensor& x2,
                                                  const torch::Tensor& x1);
  /// The invariant layer: -> [N, 2 * out] (2->0 and 1->0 side by side).
  torch::Tensor invariant(int64_t set, const torch::Tensor& x2, const torch::Tensor& x1);

  int64_t in_1;
  torch::Tensor w22, b22, w21, b21, w12, b12, w11, b11, w20, b20, w10, b10;
};
TORCH_MODULE(EquivariantLayer);

class SpenNetwork : public GraphNetwork {
 public:
  explicit SpenNetwork(SpenOptions options);
  std::shared_ptr<const EncodedGraph> encode(const datasets::Graph& graph) const override;
  torch::Tensor forward_graphs(const std::vector<const EncodedGraph*>& batch) override;
  int64_t layer_entries(const EncodedGraph& graph) const override;

 private:
  SpenOptions options_;
  std::vector<EquivariantLayer> layers_;  // the equivariant layers, then the invariant one
  std::vector<GraphNorm> norms_2_, norms_1_;
  MlpHead head_{nullptr};
};

}  // namespace flowlab::ops::graphnets
