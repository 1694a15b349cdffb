#pragma once
// One-hidden-layer models of the DSD task (datasets/dsd.h), after Lahoti et al. (ICLR 2024),
// and their full-batch training. Input x: [n, k, d] (k patches of dimension d); output f(x): [n];
// prediction sign(f(x)). The output layer is a fixed sum over k hidden units:
//   CNN  f(x) = sum_j phi_b(<w,   x_j>)   one filter w in R^d shared by all patches (d weights)
//   LCN  f(x) = sum_j phi_b(<w_j, x_j>)   a filter per patch: a convolution without weight
//                                          sharing (k d weights)
//   FCN  f(x) = sum_j phi_b(<w_j, x>)     k hidden units, each seeing the whole kd input (k^2 d)
// phi_b(z) = ReLU(z - b) - ReLU(-z - b): odd, zero on [-b, b], so pure-noise patches below the
// threshold contribute nothing. The paper's exact activation is not available to us; this is the
// research notes' reconstruction (models.md 1.2, tagged [M]).
//
// Weights are one [units, fan_in] tensor: CNN [1, d], LCN [k, d], FCN [k, k d].
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include "graph/artifact.h"
#include "ops/models/model.h"

namespace flowlab::ops {

/// The soft-threshold phi_b(z) = ReLU(z - b) - ReLU(-z - b) = sign(z) max(|z| - b, 0), elementwise.
at::Tensor soft_threshold(const at::Tensor& z, double b);

struct DsdModelConfig {
  std::string arch = "cnn";  // cnn | lcn | fcn
  int64_t k = 1, d = 1;      // patches, patch dimension
  double threshold = 0.0;    // b, in input units

  /// Hidden units that own weights: 1 (cnn, shared by all patches) or k.
  int64_t units() const;
  /// Inputs a unit's filter sees: d (cnn, lcn) or k d (fcn).
  int64_t fan_in() const;
};

/// Throws RunError unless arch is cnn, lcn or fcn and k, d >= 1.
void validate(const DsdModelConfig& config);

/// Pre-activations [n, k]: <w, x_j>, <w_j, x_j> or <w_j, x> (see the file comment).
at::Tensor dsd_pre_activations(const DsdModelConfig& config, const at::Tensor& weights,
                               const at::Tensor& x);

/// f(x) [n], differentiable in the weights (the trainer's forward pass).
at::Tensor dsd_forward(const DsdModelConfig& config, const at::Tensor& weights,
                       const at::Tensor& x);

/// Isotropic Gaussian initialization: every weight i.i.d. N(0, init_scale^2 / fan_in), so each
/// filter has norm about init_scale and its distribution is invariant under any rotation of its
/// input space (O(d) per filter, O(kd) for an FCN unit): the property the paper's lower bounds
/// need of the training algorithm. float32, on the CPU.
at::Tensor dsd_initial_weights(const DsdModelConfig& config, double init_scale, at::Generator& gen);

/// Scales every filter (row of the weights) to unit norm, in place.
void project_to_unit_filters(at::Tensor& weights);

struct DsdTrainOptions {
  std::string optimizer = "gd";  // gd: full-batch gradient descent (with momentum); adam
  double lr = 1.0;
  double momentum = 0.0;          // gd only
  int64_t steps = 100;            // full-batch steps
  std::string loss = "logistic";  // logistic: log(1 + exp(-y f)); squared: (f - y)^2 / 2
  /// Keep every filter on the unit sphere (the init too) after each step: the paper's projected
  /// GD. The threshold then has a fixed meaning: a noise patch's pre-activation is N(0, sigma^2).
  bool project = true;
  /// Called after step `step` (1-based) with the loss and outputs f of that step's forward pass
  /// (the weights before the update). May throw to stop training (cancellation).
  std::function<void(int64_t step, double loss, const at::Tensor& f)> on_step;
};

/// Full-batch training one step at a time (what train.dsd runs through the shared loop). step()
/// takes one step and returns the loss of its forward pass; outputs() are that pass's f (the
/// weights before the update). save()/load() carry the weights and the optimizer's state.
class DsdGradientDescent {
 public:
  DsdGradientDescent(DsdModelConfig config, const at::Tensor& init, at::Tensor x, at::Tensor y,
                     DsdTrainOptions options);
  ~DsdGradientDescent();
  /// One step; when the loss is not finite the weights are left alone and it is returned as is.
  double step();
  const at::Tensor& outputs() const { return f_; }
  at::Tensor weights() const;
  void save(const std::filesystem::path& dir) const;  // weights.pt, optimizer.pt
  void load(const std::filesystem::path& dir);

 private:
  struct State;
  DsdModelConfig config_;
  DsdTrainOptions options_;
  at::Tensor x_, y_, w_, f_;
  std::unique_ptr<State> state_;
};

/// Trains from `init` ([units, fan_in]) on x [n, k, d], y [n] in {-1, +1} with full-batch steps
/// and returns the final weights. Deterministic. With optimizer gd it commutes with rotations:
/// rotating every patch of x and every filter of `init` by U (U per patch for the LCN, one U in
/// O(kd) for the FCN) gives the rotated weights. Throws RunError if the loss is not finite.
at::Tensor train_dsd_weights(const DsdModelConfig& config, const at::Tensor& init,
                             const at::Tensor& x, const at::Tensor& y,
                             const DsdTrainOptions& options);

/// The registry entry of DSD architecture `arch` (cnn, lcn, fcn) of family "dsd": its param is the
/// activation's threshold in units of the task's sigma (ModelInput::scale).
ModelDef dsd_model_def(const std::string& arch, const std::string& summary);

/// The `dsd_model` artifact: a trained CNN, LCN or FCN for the DSD task.
class DsdModel : public Artifact {
 public:
  /// `record`: a "dsd" architecture with its params and input ([k, d], scale sigma); `weights`:
  /// [units, fan_in] float32 (copied to the CPU).
  DsdModel(ModelRecord record, at::Tensor weights);
  /// A model with its threshold given in input units (scale 1): for tests and benchmarks.
  DsdModel(DsdModelConfig config, at::Tensor weights);

  static constexpr const char* kType = "dsd_model";
  std::string type() const override { return kType; }
  void save(const std::filesystem::path& dir) const override;
  static ArtifactPtr load(const std::filesystem::path& dir, const Registry& registry);

  const ModelRecord& record() const { return record_; }
  const DsdModelConfig& config() const { return config_; }
  const at::Tensor& weights() const { return weights_; }
  /// f(x) [n] for x [n, k, d] (computed on the CPU, without gradients).
  at::Tensor forward(const at::Tensor& x) const;

 private:
  ModelRecord record_;
  DsdModelConfig config_;
  at::Tensor weights_;
};

/// The DSD config a record describes (threshold = params.threshold * input.scale).
DsdModelConfig dsd_config(const ModelRecord& record);

}  // namespace flowlab::ops
