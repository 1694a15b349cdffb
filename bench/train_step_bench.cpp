// Training-step throughput of flowlab's classifier (the quickstart CNN or the MLP) through
// LibTorch's C++ API. bench/train_step_bench.py runs the same model, batch and thread count in
// Debian's python3-torch (the same LibTorch 1.13.1 build); bench/run_train_bench.sh prints both
// side by side with their ratio.
//   usage: train_step_bench [cnn|mlp] [width] [batch] [steps] [threads]
#include <chrono>
#include <cstdio>
#include <string>

#include <torch/torch.h>

#include "ops/classifier.h"
#include "ops/classifier_net.h"
#include "ops/models/model.h"
#include "ops/torch_runtime.h"

int main(int argc, char** argv) {
  flowlab::ops::keep_freed_memory_for_reuse();  // as the flowlab command does
  std::string arch = argc > 1 ? argv[1] : "cnn";
  int64_t width = argc > 2 ? std::stoll(argv[2]) : (arch == "cnn" ? 16 : 256);
  int64_t batch = argc > 3 ? std::stoll(argv[3]) : 128;
  int steps = argc > 4 ? std::stoi(argv[4]) : 200;
  int threads = argc > 5 ? std::stoi(argv[5]) : 2;
  at::set_num_threads(threads);
  torch::manual_seed(0);
  flowlab::Registry registry;
  flowlab::ops::register_models(registry);
  flowlab::ops::ModelRecord record;
  record.family = "classifier", record.arch = arch;
  record.params = flowlab::Params({{"width", int64_t{width}}});
  record.input.shape = {1, 28, 28}, record.input.outputs = 10;
  flowlab::ops::Classifier model(record, {0.286, 0.353, "all"}, registry);
  model.net().train();
  torch::optim::Adam opt(model.net().parameters(), torch::optim::AdamOptions(1e-3));
  auto x = torch::rand({batch, 1, 28, 28});
  auto y = torch::randint(0, 10, {batch}, torch::kInt64);
  auto step = [&] {
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(model.forward(x), y);
    loss.backward();
    opt.step();
    return loss.item<double>();
  };
  for (int i = 0; i < 20; ++i) step();  // warm-up: allocator and OpenMP team
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) step();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%.1f\n", steps * batch / s);  // samples per second
  return 0;
}
