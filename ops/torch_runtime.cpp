#include "ops/torch_runtime.h"

#include <cstdlib>
#include <cstring>

#include <torch/torch.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <fmt/format.h>

#include "graph/error.h"

namespace flowlab::ops {

std::string resolve_device(const std::string& requested) {
  bool cuda = torch::cuda::is_available();
  if (requested == "cuda" && !cuda)
    throw RunError("device: cuda was requested but this LibTorch build or machine has no usable GPU");
  if (requested == "cuda" || (requested == "auto" && cuda)) return "cuda";
  return "cpu";
}

void set_torch_threads(int threads) { at::set_num_threads(std::max(1, threads)); }

bool keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if ((tunables && std::strstr(tunables, "glibc.malloc.")) || std::getenv("MALLOC_MMAP_THRESHOLD_") ||
      std::getenv("MALLOC_TRIM_THRESHOLD_"))
    return false;
  constexpr int kOneGiB = 1 << 30;
  return mallopt(M_MMAP_THRESHOLD, kOneGiB) == 1 && mallopt(M_TRIM_THRESHOLD, kOneGiB) == 1;
#else
  return false;
#endif
}

std::string torch_build_summary() {
  return fmt::format("LibTorch {}, CUDA {}", TORCH_VERSION,
                     torch::cuda::is_available() ? "available" : "not available");
}

}  // namespace flowlab::ops

namespace flowlab::ops {
std::mutex& global_rng_mutex() {
  static std::mutex m;
  return m;
}
}  // namespace flowlab::ops
