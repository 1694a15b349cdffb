#pragma once
// The order of the examples in each epoch of mini-batch training: a fresh permutation per epoch
// from a generator of its own (so shuffling does not depend on other nodes' use of the global
// RNG), checkpointed so that a resumed training draws exactly the permutations an uninterrupted
// one drew.
#include <cstdint>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

namespace flowlab::ops::training {

class EpochOrder {
 public:
  EpochOrder(int64_t examples, uint64_t seed);
  /// The permutation of epoch `epoch` (1-based) on `device`: drawn when that epoch first asks.
  const at::Tensor& permutation(int64_t epoch, c10::Device device);
  /// What a checkpoint taken after `steps_done` steps must keep: the generator as it was when the
  /// current epoch's permutation was drawn, or as it is now when the checkpoint falls on an
  /// epoch's end (the next epoch draws from the current state).
  at::Tensor checkpoint_state(int64_t steps_done, int64_t steps_per_epoch) const;
  /// Restores a checkpoint's state; the next permutation() redraws its epoch's permutation.
  void restore(const at::Tensor& state);

 private:
  int64_t examples_;
  at::Generator generator_;
  at::Tensor state_at_epoch_start_, permutation_;
  int64_t epoch_ = -1;  // the epoch permutation_ belongs to; -1: none drawn since start/restore
};

}  // namespace flowlab::ops::training
