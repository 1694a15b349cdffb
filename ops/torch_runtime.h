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

/// Keeps freed large blocks in the process's heap instead of returning them to the OS. Tensors of
/// a forward pass (activations of a batch of 1,000 images are 6-50 MB each) are freed and
/// allocated again every batch; glibc hands blocks above its mmap threshold straight back to the
/// kernel, so each batch page-faults its activations in anew. Raising glibc's mmap and trim
/// thresholds to 1 GiB lets freed blocks be reused (measured, LeNet-style CNN forward on 1,000
/// images, 2 threads: 120 ms -> 63 ms). The cost: the heap keeps its peak size until exit.
/// Call first thing in main(). Does nothing when the user tuned malloc already (GLIBC_TUNABLES
/// naming glibc.malloc, or MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ set) or off glibc.
/// Returns whether it changed anything.
bool keep_freed_memory_for_reuse();

/// "LibTorch 1.13.1, OpenMP, CUDA: no" for run records and --version.
std::string torch_build_summary();

}  // namespace flowlab::ops

#include <mutex>

namespace flowlab::ops {
/// Guards LibTorch's global RNG: nodes that seed it and then draw from it (weight
/// initialization) hold this lock, so concurrent nodes cannot interleave their draws.
std::mutex& global_rng_mutex();
}  // namespace flowlab::ops
