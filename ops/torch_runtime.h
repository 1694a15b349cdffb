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
/// allocated again every batch; glibc serves blocks above its mmap threshold (adaptive, at most
/// 32 MiB by default) with mmap and unmaps them on free, and trims the heap top beyond its trim
/// threshold, so each batch page-faults its activations in anew. Raising both thresholds to 1 GiB
/// lets freed blocks be reused: measured, a LeNet-style CNN forward on 1,000 images, 2 threads,
/// 120 ms -> 63 ms; certify.smoothing in a real run 8k -> 14.5k noisy samples/s. On worker
/// threads (where nodes run) glibc's per-thread arenas grow in 64 MiB heaps, so blocks above
/// that are still mmapped. The cost: each arena keeps the free space at its top instead of
/// returning it, so the resident size stays near the peak of each arena until exit.
/// Call first thing in main(), before any thread starts. Does nothing when the user set either
/// threshold already (GLIBC_TUNABLES naming glibc.malloc.mmap_threshold or trim_threshold, or
/// MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_) or off glibc. Returns whether it applied
/// either threshold.
bool keep_freed_memory_for_reuse();

/// Makes LibTorch's OpenMP threads sleep when they run out of work instead of spinning. libgomp's
/// default (OMP_WAIT_POLICY unset) spins for a while after every parallel region; with two nodes
/// side by side (each its own thread team) or two flowlab processes, the spinning teams take the
/// cores the working ones need. Seen on 2 cores, 2 threads per process (not a controlled bench):
/// an S4D training beside a sweep process ran at 33 samples/s spinning; with PASSIVE two such
/// trainings side by side ran at 161-202 samples/s each. libgomp reads the policy when it
/// loads, before main(), so this re-executes the program once (/proc/self/exe, the same argv) with
/// OMP_WAIT_POLICY=PASSIVE; it does nothing when the user set OMP_WAIT_POLICY (either way), and
/// returns when it cannot re-execute. Call first thing in main().
void use_passive_openmp_waits(char** argv);

/// "LibTorch 1.13.1, OpenMP, CUDA: no" for run records and --version.
std::string torch_build_summary();

}  // namespace flowlab::ops

#include <mutex>

namespace flowlab::ops {
/// Guards LibTorch's global RNG: nodes that seed it and then draw from it (weight
/// initialization) hold this lock, so concurrent nodes cannot interleave their draws.
std::mutex& global_rng_mutex();
}  // namespace flowlab::ops
