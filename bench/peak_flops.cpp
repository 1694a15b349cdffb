// The machine's measured fp32 peak, for the benches' "fraction of peak" column: an sgemm
// (C = A B, 2048 x 2048 x 2048, LibTorch's BLAS: OpenBLAS here) at the given thread count, best
// of several repeats, in GFLOP/s (2 n^3 flops per product). Run in the same script as the bench
// it scales, so both see the same machine state.
//   usage: peak_flops [threads] [n]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include <torch/torch.h>

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::stoi(argv[1]) : 2;
  const int64_t n = argc > 2 ? std::stoll(argv[2]) : 2048;
  at::set_num_threads(threads);
  torch::manual_seed(0);
  auto a = torch::rand({n, n}), b = torch::rand({n, n}), c = torch::empty({n, n});
  torch::mm_out(c, a, b);  // warm-up: threads started, pages touched
  double best = 0;
  for (int repeat = 0; repeat < 5; ++repeat) {
    const int products = 4;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < products; ++i) torch::mm_out(c, a, b);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, products * 2.0 * n * n * n / s / 1e9);
  }
  std::printf("%.1f\n", best);
  return 0;
}
