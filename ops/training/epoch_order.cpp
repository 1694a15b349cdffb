#include "ops/training/epoch_order.h"

#include <torch/torch.h>

namespace flowlab::ops::training {

EpochOrder::EpochOrder(int64_t examples, uint64_t seed)
    : examples_(examples), generator_(at::detail::createCPUGenerator(seed)) {}

const at::Tensor& EpochOrder::permutation(int64_t epoch, c10::Device device) {
  if (epoch_ != epoch) {
    state_at_epoch_start_ = generator_.get_state();
    permutation_ = torch::randperm(examples_, generator_, torch::kInt64).to(device);
    epoch_ = epoch;
  }
  return permutation_;
}

at::Tensor EpochOrder::checkpoint_state(int64_t steps_done, int64_t steps_per_epoch) const {
  const bool at_epoch_start = epoch_ < 0 || steps_done % steps_per_epoch == 0;
  return at_epoch_start ? generator_.get_state() : state_at_epoch_start_;
}

void EpochOrder::restore(const at::Tensor& state) {
  generator_.set_state(state);
  epoch_ = -1;
}

}  // namespace flowlab::ops::training
