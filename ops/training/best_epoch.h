#pragma once
// Keeping the best validation epoch: a trainer offers its score after every epoch, the weights
// of the best one are copied aside (in memory and in each checkpoint, so a resumed training keeps
// the same best), and at the end they are put back into the network: what train.kge and
// train.graph_classifier return. Include only from .cpp files (pulls in <torch/torch.h>).
#include <cstdint>
#include <filesystem>
#include <vector>

#include <torch/torch.h>

namespace flowlab::ops::training {

class BestEpoch {
 public:
  /// Keeps copies of `weights` when `score` beats the best so far (ties keep the earlier epoch).
  void offer(double score, int64_t epoch, const std::vector<torch::Tensor>& weights);
  /// No validation to choose by: the last epoch's weights (already in the network) are the result.
  void take_last(int64_t epoch) { epoch_ = epoch; }
  /// Copies the kept weights back into `weights` (the same tensors offered); nothing if none kept.
  void restore(const std::vector<torch::Tensor>& weights) const;

  bool scored() const { return !kept_.empty(); }
  double score() const { return score_; }
  int64_t epoch() const { return epoch_; }

  /// best.pt and best.json in a checkpoint directory; load() puts the tensors on `device`.
  void save(const std::filesystem::path& dir) const;
  void load(const std::filesystem::path& dir, torch::Device device);

 private:
  std::vector<torch::Tensor> kept_;
  double score_ = 0;
  int64_t epoch_ = 0;
};

}  // namespace flowlab::ops::training
