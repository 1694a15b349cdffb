// DSD trainings per second: flowlab's train_dsd_weights (the loop behind train.dsd: 200 full-batch
// projected GD steps, lr 1, momentum 0.9, logistic loss, threshold 0.45) on random data of the
// given shape. bench/dsd_train_bench.py runs the same steps in Debian's python3-torch (the same
// LibTorch 1.13.1); bench/run_dsd_bench.sh prints both side by side.
//   usage: dsd_train_bench [cnn|lcn|fcn] [k] [d] [n] [trainings] [threads]
#include <chrono>
#include <cstdio>
#include <string>

#include <torch/torch.h>

#include "ops/dsd_models.h"
#include "ops/torch_runtime.h"

int main(int argc, char** argv) {
  flowlab::ops::keep_freed_memory_for_reuse();  // as the flowlab command does
  flowlab::ops::DsdModelConfig c;
  c.arch = argc > 1 ? argv[1] : "cnn";
  c.k = argc > 2 ? std::stoll(argv[2]) : 8;
  c.d = argc > 3 ? std::stoll(argv[3]) : 8;
  const int64_t n = argc > 4 ? std::stoll(argv[4]) : 256;
  const int trainings = argc > 5 ? std::stoi(argv[5]) : 20;
  at::set_num_threads(argc > 6 ? std::stoi(argv[6]) : 1);
  c.threshold = 0.45;
  torch::manual_seed(0);
  auto x = torch::randn({n, c.k, c.d}) * 0.5;
  auto y = torch::randint(0, 2, {n}).to(torch::kFloat32) * 2 - 1;
  flowlab::ops::DsdTrainOptions o;
  o.lr = 1.0, o.momentum = 0.9, o.steps = 200;
  double sink = 0;
  // Like train.dsd: every step's loss is read back (NaN check, logging).
  o.on_step = [&](int64_t, double loss, const at::Tensor&) { sink += loss; };
  auto gen = at::detail::createCPUGenerator(1);
  auto run = [&] {
    flowlab::ops::train_dsd_weights(c, flowlab::ops::dsd_initial_weights(c, 1.0, gen), x, y, o);
  };
  run();  // warm-up
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < trainings; ++i) run();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%.2f\n", trainings / s + 0 * sink);
  return 0;
}
