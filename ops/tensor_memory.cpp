#include "ops/tensor_memory.h"

#include <algorithm>
#include <atomic>

#include <c10/core/Allocator.h>
#include <c10/util/ThreadLocalDebugInfo.h>

namespace flowlab::ops {

struct TensorMemoryMeter::Reporter : c10::MemoryReportingInfoBase {
  std::atomic<int64_t> current{0}, peak{0};
  void reportMemoryUsage(void*, int64_t bytes, int64_t, int64_t, c10::Device device) override {
    if (device.type() != c10::DeviceType::CPU) return;
    const int64_t now = current.fetch_add(bytes) + bytes;
    int64_t seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
  }
  bool memoryProfilingEnabled() const override { return true; }
};

// Installs the reporter as this thread's profiler-state debug info for the meter's lifetime.
struct TensorMemoryMeter::Guard {
  explicit Guard(std::shared_ptr<Reporter> r)
      : guard(c10::DebugInfoKind::PROFILER_STATE, std::move(r)) {}
  c10::DebugInfoGuard guard;
};

TensorMemoryMeter::TensorMemoryMeter()
    : reporter_(std::make_shared<Reporter>()), guard_(std::make_unique<Guard>(reporter_)) {}

TensorMemoryMeter::~TensorMemoryMeter() = default;

int64_t TensorMemoryMeter::current_bytes() const { return reporter_->current.load(); }
int64_t TensorMemoryMeter::peak_bytes() const { return reporter_->peak.load(); }

}  // namespace flowlab::ops
