// graph/spen and graph/ign: subgraph permutation-equivariant networks (Mitton & Murray-Smith) and
// the global 2-IGN (Maron et al.) they are measured against: the same equivariant layers, on
// every node's k-hop ego-network with size-shared weights, or on the whole graph at once.
#include "ops/graphnets/graph_models.h"
#include "ops/graphnets/spen_network.h"
#include "ops/models/model.h"

namespace flowlab::ops::graphnets {
namespace {

std::vector<ParamSpec> layer_params(int64_t size_weights) {
  return {
      int_list_param("widths", {32, 32, 32},
                     "channels of each equivariant layer, the last entry being the invariant "
                     "readout's (the reference: [64, 64, 64, 64, 64])",
                     1.0, 4096.0),
      int_param("size_weights", size_weights,
                "weight sets by subgraph size: sizes below it have their own, larger sizes share "
                "the last",
                1.0, 4096.0),
      int_list_param("head", {256, 128}, "hidden widths of the MLP head", 1.0, 65536.0),
      float_param("dropout", 0.5, "dropout in the MLP head", 0.0, 0.99),
  };
}

SpenOptions options_from(const Params& p, const ModelInput& in, int hops) {
  SpenOptions o;
  o.hops = hops;
  o.widths = p.get_int_list("widths");
  o.size_weights = p.get_int("size_weights");
  o.head = p.get_int_list("head");
  o.dropout = p.get_float("dropout");
  o.node_labels = in.shape.empty() ? 1 : in.shape[0];
  o.classes = in.outputs;
  return o;
}

}  // namespace

void register_spen(Registry& r) {
  ModelDef m;
  m.family = "graph";
  m.name = "spen";
  m.summary =
      "subgraph permutation-equivariant network: 2-IGN layers on every k-hop ego-network, "
      "weights shared by subgraph size, merged back by averaging";
  m.params = layer_params(16);
  m.params.insert(m.params.begin(), int_param("hops", 1, "ego-network radius k", 1.0, 8.0));
  m.build = [](const Params& p, const ModelInput& in) -> std::shared_ptr<Network> {
    return std::make_shared<SpenNetwork>(options_from(p, in, static_cast<int>(p.get_int("hops"))));
  };
  add_model(r, std::move(m));
}

void register_ign(Registry& r) {
  ModelDef m;
  m.family = "graph";
  m.name = "ign";
  m.summary = "global 2-IGN: the same equivariant layers on the whole n x n graph at once";
  m.params = layer_params(1);
  m.build = [](const Params& p, const ModelInput& in) -> std::shared_ptr<Network> {
    return std::make_shared<SpenNetwork>(options_from(p, in, /*hops=*/0));
  };
  add_model(r, std::move(m));
}

}  // namespace flowlab::ops::graphnets
