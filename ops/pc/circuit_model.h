#pragma once
// The `pc.circuit` artifact: a trained probabilistic circuit over an image's pixels (its
// structure name, the image shape and the model with its parameters), what the codec ops and
// `flowlab compress` load. `independent` and `hclt` are hidden Chow-Liu trees (ops/pc/hclt.h),
// `chow_liu` a tree over the pixels themselves (ops/pc/chow_liu_tree.h). Saved as circuit.json
// (shape, tree, coding order, sizes) and params.bin (the parameters, little-endian). Torch-free.
#include <filesystem>
#include <string>

#include "graph/artifact.h"
#include "ops/pc/chow_liu_tree.h"
#include "ops/pc/hclt.h"

namespace flowlab::ops::pc {

struct CircuitModel : Artifact {
  std::string structure;  // "independent", "chow_liu", "hclt"
  int32_t height = 0, width = 0;
  Hclt hclt;         // independent, hclt
  ChowLiuTree tree;  // chow_liu

  /// The model the codec codes with, whichever the structure.
  const PixelModel& model() const;

  static constexpr const char* kType = "pc.circuit";
  std::string type() const override { return kType; }
  void save(const std::filesystem::path& dir) const override;
  /// Throws RunError naming the file when it is missing, malformed or inconsistent.
  static ArtifactPtr load(const std::filesystem::path& dir);
};

/// Registers the pc.circuit type and train.pc (ops/pc/train_pc.cpp).
void register_train_pc(Registry& registry);
/// Registers codec.pc_rans (ops/pc/codec_pc_rans.cpp).
void register_codec_pc_rans(Registry& registry);

}  // namespace flowlab::ops::pc
