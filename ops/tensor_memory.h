#pragma once
// Peak CPU tensor memory of a piece of work, measured: while a TensorMemoryMeter lives, every CPU
// tensor allocation and free on this thread (and on LibTorch's intra-op threads working for it,
// which inherit the thread's debug info) is reported to it through LibTorch's memory-profiling
// hook, the one torch.profiler(profile_memory=True) uses. Counts tensor storage only: oneDNN's
// scratch buffers and the allocator's slack are not included. Free of <torch/torch.h>.
#include <cstdint>
#include <memory>

namespace flowlab::ops {

class TensorMemoryMeter {
 public:
  TensorMemoryMeter();
  ~TensorMemoryMeter();
  TensorMemoryMeter(const TensorMemoryMeter&) = delete;
  TensorMemoryMeter& operator=(const TensorMemoryMeter&) = delete;
  /// Bytes allocated since the meter started and not yet freed.
  int64_t current_bytes() const;
  /// The most that current_bytes() has been.
  int64_t peak_bytes() const;

 private:
  struct Reporter;
  struct Guard;
  std::shared_ptr<Reporter> reporter_;
  std::unique_ptr<Guard> guard_;
};

}  // namespace flowlab::ops
