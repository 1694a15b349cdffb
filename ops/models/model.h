#pragma once
// The model registry: architectures are registered by name, one per file in ops/models/, like
// ops. Each belongs to a family (the param group that trainers select it from: "classifier" for
// networks giving class logits, "dsd" for the one-hidden-layer DSD models), documents its params
// (validated with file:line errors and hashed like op params, since they join the trainer node's
// params) and builds its network from them and the data it will see. A saved model records its
// family, architecture, params and input, so loading it needs no code per architecture.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "graph/op.h"

namespace flowlab::ops {

struct Network;  // ops/models/network.h: a torch::nn::Module with a virtual forward

/// What an architecture is built for.
struct ModelInput {
  std::vector<int64_t> shape;  // one example: [C, H, W] for images, [k, d] for DSD patches
  int64_t outputs = 1;         // classes (logits) or 1 (a score)
  /// The data's natural scale (the DSD task's noise sigma), for params stated in units of it.
  double scale = 1.0;
  /// Token sequences: inputs are [L] int64 ids in [0, vocab_size); 0 for real-valued features.
  int64_t vocab_size = 0;
  /// Knowledge-graph embeddings: the entities and the relations (inverses included) embedded.
  int64_t entities = 0, relations = 0;
};

using ModelBuilder =
    std::function<std::shared_ptr<Network>(const Params& params, const ModelInput& input)>;

struct ModelDef {
  std::string family;   // the param group: "classifier", "dsd"
  std::string name;     // "cnn"
  std::string summary;  // one line for `flowlab models`
  std::vector<ParamSpec> params;
  ModelBuilder build;  // draws initial weights from the global torch RNG (seed it first)
};

/// Registers an architecture: its schema joins param group `family`, its builder rides along.
void add_model(Registry& registry, ModelDef model);

/// The one-line summary of each family, shown by `flowlab models`.
std::string family_summary(const std::string& family);

/// The params of `family`/`arch` picked out of a node's params (which also hold the trainer's).
Params model_params(const Registry& registry, const std::string& family, const std::string& arch,
                    const Params& node_params);

/// A registered architecture with the params and input it was built for: enough to rebuild it.
struct ModelRecord {
  std::string family, arch;
  Params params;  // the architecture's own params only
  ModelInput input;

  /// Builds a fresh network (initial weights from the global torch RNG). Throws RunError when the
  /// architecture is not registered in this build.
  std::shared_ptr<Network> build(const Registry& registry) const;
  /// model.json: family, arch, params (typed by the architecture's schema), input.
  void save(const std::filesystem::path& dir) const;
  static ModelRecord load(const std::filesystem::path& dir, const Registry& registry);
};

/// Every architecture of this build (cnn, mlp; the DSD cnn, lcn, fcn).
void register_models(Registry& registry);

}  // namespace flowlab::ops
