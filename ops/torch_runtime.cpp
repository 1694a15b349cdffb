#include "ops/torch_runtime.h"

#include <cstdlib>
#include <cstring>

#include <torch/torch.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <unistd.h>

#include <fmt/format.h>

#include "common/error.h"

namespace flowlab::ops {

std::string resolve_device(const std::string& requested) {
  bool cuda = torch::cuda::is_available();
  if (requested == "cuda" && !cuda)
    throw RunError(
        "device: cuda was requested but this LibTorch build or machine has no usable GPU");
  if (requested == "cuda" || (requested == "auto" && cuda)) return "cuda";
  return "cpu";
}

void set_torch_threads(int threads) {
  // A thread's first parallel region initializes its OpenMP team from the process-wide count,
  // which is whatever thread set it last. Asking for the count first runs that initialization
  // now, so the count set next is the one this thread keeps.
  at::get_num_threads();
  at::set_num_threads(std::max(1, threads));
}

bool keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  const bool tuned = tunables && (std::strstr(tunables, "glibc.malloc.mmap_threshold") ||
                                  std::strstr(tunables, "glibc.malloc.trim_threshold"));
  if (tuned || std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_"))
    return false;
  // Older glibc caps the mmap threshold at 32 MiB (mallopt refuses more): fall back to the cap.
  constexpr int kOneGiB = 1 << 30, kOldCap = 32 << 20;
  const bool mmap_set =
      mallopt(M_MMAP_THRESHOLD, kOneGiB) == 1 || mallopt(M_MMAP_THRESHOLD, kOldCap) == 1;
  const bool trim_set = mallopt(M_TRIM_THRESHOLD, kOneGiB) == 1;
  return mmap_set || trim_set;
#else
  return false;
#endif
}

void use_passive_openmp_waits(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  if (setenv("OMP_WAIT_POLICY", "PASSIVE", /*overwrite=*/0) != 0) return;
  execv("/proc/self/exe", argv);  // returns only on failure: go on with the policy as loaded
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
