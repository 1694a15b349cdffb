#pragma once
// The clients of a federated run: their shards, and one client's round (local SGD from the global
// weights on its shard, then its update privatized by the mechanism). A client's round depends
// only on (seed, round, client) and the global weights, never on which process runs it or in
// which order, so in-process and multi-process runs give the same messages.
#include <memory>
#include <vector>

#include <ATen/core/Tensor.h>

#include "ops/fl/federated_job.h"

namespace flowlab::datasets {
struct ClassificationData;
}

namespace flowlab::ops {
class Classifier;
}

namespace flowlab::ops::fl {

/// A model's parameters as one float32 vector, in the module's parameter order, and back.
at::Tensor flat_parameters(const Classifier& model);
void set_flat_parameters(const Classifier& model, const at::Tensor& flat);

class ClientPool {
 public:
  /// `scratch` is a model of the run's architecture used for local training (its weights are
  /// overwritten every round).
  ClientPool(FederatedJob job, std::shared_ptr<const datasets::ClassificationData> data,
             std::shared_ptr<Classifier> scratch);

  int64_t dimension() const { return dimension_; }
  const std::vector<std::vector<int64_t>>& shards() const { return shards_; }
  /// The round's participants (partition.h's sample_clients).
  std::vector<int64_t> sample(int64_t round) const;

  /// Client `client`'s round: local_epochs of SGD from `global` on its shard, then the update
  /// (local - global) encoded into message[0..dimension()). Returns the mean local loss (0 for
  /// an empty shard, whose update is zero).
  double client_round(int64_t round, int64_t client, const at::Tensor& global, double* message);

 private:
  FederatedJob job_;
  std::shared_ptr<const datasets::ClassificationData> data_;
  std::shared_ptr<Classifier> model_;
  std::vector<std::vector<int64_t>> shards_;
  int64_t dimension_ = 0;
};

}  // namespace flowlab::ops::fl
