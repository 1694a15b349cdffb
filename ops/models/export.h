#pragma once
// Exporting a saved model for use outside flowlab (`flowlab export`). The network is traced into
// TorchScript with its parameters kept as named attributes, so model.pt carries both the weights
// and the forward (readable as `model.code` in Python): `torch.jit.load` in Python and
// `torch::jit::load` in C++ rebuild the architecture with no flowlab code. A classifier's fixed
// input layer (mask and standardization) is part of the traced forward, so the exported model
// takes raw inputs, as flowlab's evaluators do.
//
// The trace is checked before anything is written: the exported module, loaded back, must give
// flowlab's own outputs on a fresh batch of another size (a forward whose shape handling was
// frozen into constants by the tracer fails this, and export says so).
#include <filesystem>
#include <string>
#include <vector>

#include "graph/op.h"

namespace flowlab::ops {

/// Where the model came from, written into the export's README and loaders.
struct ExportProvenance {
  std::string run_id, run_uuid, node, op;
};

struct ExportSummary {
  std::string family, arch;
  std::string input, output;       // in words: "[N, 1, 28, 28] float32 raw pixels"
  std::vector<std::string> files;  // written, relative to the export directory
  int64_t parameters = 0;          // scalars in the network's parameters
  double check_difference = 0;     // max |traced - flowlab| on the check batch
};

/// The names of the model families export supports ("classifier", "dsd", "kge"; graph networks
/// classify encoded graphs, not tensors, and cannot be traced).
std::vector<std::string> exportable_families();

/// Whether `dir` (a node's output in the cache) holds a saved model (model.json).
bool holds_saved_model(const std::filesystem::path& dir);

/// Writes into `to` (created; files already there are replaced): model.pt (TorchScript),
/// example.pt (an input and flowlab's output for it, for the loaders' self-check), model.json,
/// load_model.py, load_model.cpp with its CMakeLists.txt, and README.md. Throws ConfigError for a
/// family that cannot be exported and RunError when the traced model does not reproduce
/// flowlab's outputs.
ExportSummary export_saved_model(const std::filesystem::path& model_dir,
                                 const std::filesystem::path& to, const Registry& registry,
                                 const ExportProvenance& provenance);

}  // namespace flowlab::ops
