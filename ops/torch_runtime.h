#pragma once
// LibTorch process settings, kept behind a torch-free header so the CLI need not include torch.
#include <string>

namespace flowlab::ops {

/// "cuda" when asked for it or when `auto` and a GPU is usable, else "cpu". Throws RunError for
/// `cuda` on a build or machine without CUDA.
std::string resolve_device(const std::string& requested);

/// Sets LibTorch's intra-op threads for the calling thread's parallel regions (OpenMP keeps the
/// count per thread, so each node sets its own share of the budget).
void set_torch_threads(int threads);

/// "LibTorch 1.13.1, OpenMP, CUDA: no" for run records and --version.
std::string torch_build_summary();

}  // namespace flowlab::ops

#include <mutex>

namespace flowlab::ops {
/// Guards LibTorch's global RNG: nodes that seed it and then draw from it (weight
/// initialization) hold this lock, so concurrent nodes cannot interleave their draws.
std::mutex& global_rng_mutex();
}  // namespace flowlab::ops
