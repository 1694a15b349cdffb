#pragma once
// The `classifier` artifact: a trained image classifier (architecture + weights). The network's
// first layer standardizes pixels with the dataset's mean/std, so inputs are raw [0,1] pixels.
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>

#include "graph/artifact.h"

namespace flowlab::ops {

struct ClassifierConfig {
  std::string arch = "cnn";  // cnn | mlp
  int64_t width = 32;        // first conv's channels (cnn) or hidden units (mlp)
  int64_t channels = 1, height = 28, width_px = 28;
  int64_t classes = 10;
  double mean = 0.0, std = 1.0;
  /// Which pixels the network sees (dual randomized smoothing trains one network per half):
  /// "all", or a checkerboard half: "odd" = pixels (i, j) with i + j odd, "even" = the others.
  /// The mask is the network's first operation, so noise on hidden pixels has no effect.
  std::string input_mask = "all";
};

/// The checkerboard mask [1, 1, H, W] (float 0/1) of `half` ("all", "odd" or "even").
at::Tensor checkerboard_mask(const std::string& half, int64_t height, int64_t width);

class Classifier : public Artifact {
 public:
  /// Builds a freshly initialized network (uses the global torch RNG: seed it first).
  explicit Classifier(ClassifierConfig config);
  ~Classifier() override;

  static constexpr const char* kType = "classifier";
  std::string type() const override { return kType; }
  void save(const std::filesystem::path& dir) const override;
  static ArtifactPtr load(const std::filesystem::path& dir);

  const ClassifierConfig& config() const { return config_; }
  /// x: [N, C, H, W] float32 pixels in [0,1] → logits [N, classes]. Thread-safe in eval mode.
  at::Tensor forward(const at::Tensor& x) const;
  /// The network after its fixed input layer: takes (mask * x - mean) / std directly. Lets
  /// certification build standardized noisy batches in one pass (see InputStandardization).
  at::Tensor forward_standardized(const at::Tensor& x) const;
  /// The underlying torch::nn::Module (for optimizers and mode switches); opaque here.
  struct Net;
  Net& net() const { return *net_; }
  void to_device(const std::string& device);
  /// "cpu" or "cuda:0": where the weights live.
  std::string device() const;

 private:
  ClassifierConfig config_;
  std::shared_ptr<Net> net_;
};

}  // namespace flowlab::ops
