#pragma once
// The module every registered architecture builds. Include only from .cpp files: it pulls in
// <torch/torch.h>.
#include <torch/torch.h>

#include "ops/models/inference_plan.h"

namespace flowlab::ops {

/// Parameters that train with settings of their own: a state-space model's A, B and step size
/// take a smaller learning rate and no weight decay (S4, S4D). Trainers put every parameter not
/// listed in some group into their default group.
struct ParameterGroup {
  std::string name;
  std::vector<torch::Tensor> parameters;
  double max_lr = 0;  // the group's learning rate is min(max_lr, the trainer's lr)
  double weight_decay = 0;
};

struct Network : torch::nn::Module {
  /// A batch [N, ...input shape] -> outputs [N, outputs] (or [N] for a score).
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  /// Groups needing their own optimizer settings; none by default.
  virtual std::vector<ParameterGroup> parameter_groups() { return {}; }
  /// Numbers about how the network was initialized (a perturbation's condition number), logged
  /// by the trainer as init/<name>.
  virtual std::vector<std::pair<std::string, double>> init_metrics() { return {}; }
  /// forward() prepared for inference from the weights as they are now
  /// (ops/models/inference_plan.h); none by default: the eager forward serves.
  virtual InferenceFn prepare_inference() { return {}; }
};

}  // namespace flowlab::ops
