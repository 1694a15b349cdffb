#pragma once
// Classifiers as artifacts. `ClassifierModel` is the `classifier` interface: what evaluation and
// every certify op need of any classifier (logits for a batch of raw inputs, the number of
// classes, the input shape and how inputs are standardized), so a new architecture, or an encoder
// with a head, is evaluated and certified by unchanged code. `Classifier` is the concrete
// `classifier.network` artifact: a registered architecture (ops/models/) behind a fixed input
// layer that masks and standardizes, so weights and robustness radii refer to raw inputs.
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "graph/artifact.h"
#include "ops/models/inference_plan.h"
#include "ops/models/model.h"

namespace flowlab::datasets {
struct ClassificationData;
}

namespace flowlab::ops {

/// The fixed input layer: (mask * x - mean) / std, with the dataset's statistics.
struct Standardization {
  double mean = 0.0, std = 1.0;
  /// Which pixels the network sees (dual randomized smoothing trains one network per half):
  /// "all", or a checkerboard half: "odd" = pixels (i, j) with i + j odd, "even" = the others.
  std::string input_mask = "all";
};

/// The checkerboard mask [1, 1, H, W] (float 0/1) of `half` ("all", "odd" or "even").
at::Tensor checkerboard_mask(const std::string& half, int64_t height, int64_t width);

class ClassifierModel : public Artifact {
 public:
  static constexpr const char* kInterface = "classifier";
  virtual int64_t num_classes() const = 0;
  /// One example's shape, e.g. [C, H, W].
  virtual const std::vector<int64_t>& input_shape() const = 0;
  virtual const Standardization& standardization() const = 0;
  /// Raw inputs [N, ...input_shape] -> logits [N, classes], in inference mode. Thread-safe.
  virtual at::Tensor forward(const at::Tensor& x) const = 0;
  /// The same after the input layer: takes (mask * x - mean) / std directly, so certification can
  /// build standardized noisy batches in one pass.
  virtual at::Tensor forward_standardized(const at::Tensor& x) const = 0;
  /// "cpu" or "cuda:0": where inputs must be sent.
  virtual std::string device() const = 0;
  /// forward() and forward_standardized() for a model that no longer trains (evaluation,
  /// certification): the same logits up to floating-point reassociation, through a path an
  /// implementation may prepare on first use (Classifier: ops/models/inference_plan.h).
  virtual at::Tensor infer(const at::Tensor& x) const { return forward(x); }
  virtual at::Tensor infer_standardized(const at::Tensor& x) const {
    return forward_standardized(x);
  }
};

class Classifier : public ClassifierModel {
 public:
  /// Builds a freshly initialized network of `record`'s architecture (draws from the global torch
  /// RNG: seed it and hold global_rng_mutex()).
  Classifier(ModelRecord record, Standardization standardization, const Registry& registry);
  ~Classifier() override;

  static constexpr const char* kType = "classifier.network";
  std::string type() const override { return kType; }
  void save(const std::filesystem::path& dir) const override;
  static ArtifactPtr load(const std::filesystem::path& dir, const Registry& registry);

  const ModelRecord& record() const { return record_; }
  int64_t num_classes() const override { return record_.input.outputs; }
  const std::vector<int64_t>& input_shape() const override { return record_.input.shape; }
  const Standardization& standardization() const override { return standardization_; }
  at::Tensor forward(const at::Tensor& x) const override;
  at::Tensor forward_standardized(const at::Tensor& x) const override;
  std::string device() const override;
  /// Prepares the inference path on the first call, from the weights as they are then: call
  /// these only once training is over (trainers validate through forward()).
  at::Tensor infer(const at::Tensor& x) const override;
  at::Tensor infer_standardized(const at::Tensor& x) const override;

  /// The torch::nn::Module (for optimizers and train/eval switches); ops/classifier_net.h.
  struct Net;
  Net& net() const { return *net_; }
  void to_device(const std::string& device);

 private:
  ModelRecord record_;
  Standardization standardization_;
  std::shared_ptr<Net> net_;
  const InferenceFn& inference() const;  // empty: no prepared path, the eager forward serves
  mutable std::mutex inference_mutex_;
  mutable bool inference_prepared_ = false;
  mutable InferenceFn inference_;
};

/// The classifier architecture a trainer node's `model` param selects (with its params from the
/// node's), built for `data`'s example shape, classes and vocabulary.
ModelRecord classifier_record(const Registry& registry, const Params& params,
                              const datasets::ClassificationData& data);

/// Accuracy and mean cross-entropy of `model` over a split (x, y), in batches of 1000 without
/// gradients; the network is left in training mode (what trainers call it from).
std::pair<double, double> evaluate_split(const Classifier& model, const at::Tensor& x,
                                         const at::Tensor& y);

}  // namespace flowlab::ops
