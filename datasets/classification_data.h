#pragma once
// Labelled datasets split into train / validation / test, of two kinds (artifact types):
//   dataset.image     images [N, C, H, W], float32 pixels in [0, 1]
//   dataset.sequence  sequences [N, L, C] of float32 features, or [N, L] int64 tokens
// Normalization statistics travel with the data and are applied by the model's first layer, so
// robustness radii stay in input units. A port that takes one kind refuses the other at
// validation, naming both types.
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "graph/artifact.h"

namespace flowlab::datasets {

struct ClassificationData : Artifact {
  at::Tensor train_x, train_y;  // [N, C, H, W] float32, [N] int64
  at::Tensor val_x, val_y;
  at::Tensor test_x, test_y;
  std::vector<std::string> class_names;
  double mean = 0.0, std = 1.0;  // per-pixel normalization the model applies (0 / 1: none)
  /// Pixels are k/255 for integer k (decoded from 8-bit images): the cache stores them as uint8,
  /// a quarter of the size, and restores the same floats exactly.
  bool eight_bit = false;

  enum class Kind { kImage, kSequence };
  Kind kind = Kind::kImage;
  /// Sequences of tokens: the vocabulary size (token ids in [0, vocab_size)); 0 for features.
  int64_t vocab_size = 0;

  static constexpr const char* kType = "dataset.image";
  static constexpr const char* kSequenceType = "dataset.sequence";
  /// The interface both kinds implement: ports that train or evaluate any classifier take it.
  static constexpr const char* kInterface = "labelled_data";
  std::string type() const override { return kind == Kind::kImage ? kType : kSequenceType; }
  void save(const std::filesystem::path& dir) const override;
  static ArtifactPtr load(const std::filesystem::path& dir);
  int64_t num_classes() const { return static_cast<int64_t>(class_names.size()); }
};

}  // namespace flowlab::datasets
