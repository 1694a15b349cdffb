#pragma once
// The `kge.model` artifact: a trained knowledge-graph embedding (a registered architecture of
// family "kge", its params, the entity and relation counts it was built for, and its weights).
// The header stays free of <torch/torch.h>; kge_network.h has the network itself.
#include <filesystem>
#include <memory>

#include "graph/artifact.h"
#include "ops/models/model.h"

namespace flowlab::ops::kge {

struct KgeNetwork;

struct KgeModel : Artifact {
  ModelRecord record;
  std::shared_ptr<KgeNetwork> network;
  int64_t base_relations = 0;  // relations of the graph (the network also has their inverses)
  int64_t best_epoch = 0;      // the epoch whose weights these are (best validation MRR)

  static constexpr const char* kType = "kge.model";
  std::string type() const override { return kType; }
  void save(const std::filesystem::path& dir) const override;
  static ArtifactPtr load(const std::filesystem::path& dir, const Registry& registry);
};

/// Registers the architectures (kge/nfe1 ... kge/distmult): called by ops/models/register.cpp.
void register_nfe(Registry& registry);
void register_transe(Registry& registry);
void register_distmult(Registry& registry);

/// Registers the kge.model type, train.kge and eval.link_prediction (ops/kge/register.cpp).
void register_kge(Registry& registry);
void register_train_kge(Registry& registry);
void register_link_prediction(Registry& registry);

}  // namespace flowlab::ops::kge
