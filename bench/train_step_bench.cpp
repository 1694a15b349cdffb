// Training-step throughput of flowlab's classifier (the quickstart CNN or the MLP) through
// LibTorch's C++ API. bench/train_step_bench.py runs the same model, batch and thread count in
// Debian's python3-torch (the same LibTorch 1.13.1 build); bench/run_train_bench.sh prints both
// side by side with their ratio.
//   usage: train_step_bench [cnn|mlp] [width] [batch] [steps] [threads] [phases]
// With `phases`, also prints where a step's time goes: milliseconds per step in zero_grad +
// forward + loss, backward, and the optimizer step (the profile issue 18 asks for).
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
  if (argc > 6 && std::string(argv[6]) == "phases") {
    using clock = std::chrono::steady_clock;
    double forward_s = 0, backward_s = 0, step_s = 0;
    for (int i = 0; i < steps; ++i) {
      auto t0 = clock::now();
      opt.zero_grad();
      auto loss = torch::nn::functional::cross_entropy(model.forward(x), y);
      auto t1 = clock::now();
      loss.backward();
      auto t2 = clock::now();
      opt.step();
      auto t3 = clock::now();
      forward_s += std::chrono::duration<double>(t1 - t0).count();
      backward_s += std::chrono::duration<double>(t2 - t1).count();
      step_s += std::chrono::duration<double>(t3 - t2).count();
    }
    std::printf("forward %.3f ms, backward %.3f ms, optimizer %.3f ms per step\n",
                1e3 * forward_s / steps, 1e3 * backward_s / steps, 1e3 * step_s / steps);
    return 0;
  }
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) step();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%.1f\n", steps * batch / s);  // samples per second
  return 0;
}
