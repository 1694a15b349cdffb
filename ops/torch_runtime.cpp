#include "ops/torch_runtime.h"

#include <torch/torch.h>

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
