#pragma once
// Saving and loading any registered architecture: model.json (its record) plus weights.pt (the
// module's parameters and buffers). Include only from .cpp files (pulls in torch).
#include <filesystem>
#include <memory>

#include "ops/models/model.h"
#include "ops/models/network.h"

namespace flowlab::ops {

/// Writes the record and the module's state (copied to the CPU first, so a model trained on a GPU
/// loads anywhere).
void save_network(const std::filesystem::path& dir, const ModelRecord& record,
                  torch::nn::Module& module);

/// Loads weights.pt (written by save_network) into `module`, which must have the same structure.
void load_weights(const std::filesystem::path& dir, torch::nn::Module& module);

/// record.build() while holding the global-RNG lock: building draws initial weights, which must
/// not interleave with a trainer that has just seeded the global RNG (see ops/torch_runtime.h).
std::shared_ptr<Network> build_locked(const ModelRecord& record, const Registry& registry);

}  // namespace flowlab::ops
