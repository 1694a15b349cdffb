#pragma once
// The `graph.model` artifact: a trained graph classifier (a registered architecture of family
// "graph": spen, ign, gin), with its class names and weights. The header stays free of
// <torch/torch.h>; graph_network.h has the network itself.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "graph/artifact.h"
#include "ops/models/model.h"

namespace flowlab::ops::graphnets {

struct GraphNetwork;

struct GraphModel : Artifact {
  ModelRecord record;
  std::shared_ptr<GraphNetwork> network;
  std::vector<std::string> class_names;
  int64_t best_epoch = 0;  // the epoch whose weights these are (best validation accuracy)

  static constexpr const char* kType = "graph.model";
  std::string type() const override { return kType; }
  void save(const std::filesystem::path& dir) const override;
  static ArtifactPtr load(const std::filesystem::path& dir, const Registry& registry);
};

/// The architectures (graph/spen, graph/ign, graph/gin): called by ops/models/register.cpp.
void register_spen(Registry& registry);
void register_ign(Registry& registry);
void register_gin(Registry& registry);

/// The graph.model type, train.graph_classifier and eval.graph_classification.
void register_graph_classification(Registry& registry);
void register_train_graph_classifier(Registry& registry);
void register_eval_graph_classification(Registry& registry);

}  // namespace flowlab::ops::graphnets
