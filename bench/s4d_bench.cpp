// Training and inference throughput of flowlab's s4d classifier (sequences of pixels, as in
// sequential Fashion-MNIST) through LibTorch's C++ API. bench/s4d_bench.py runs a minimal S4D of
// the same shapes in Debian's python3-torch (the same LibTorch 1.13.1); bench/run_s4d_bench.sh
// prints both side by side with their ratio.
//   usage: s4d_bench [train|infer] [d_model] [state] [layers] [batch] [length] [steps] [threads]
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
  auto arg = [&](int i, int64_t def) { return argc > i ? std::stoll(argv[i]) : def; };
  const std::string mode = argc > 1 ? argv[1] : "train";
  const int64_t d_model = arg(2, 64), state = arg(3, 64), layers = arg(4, 4), batch = arg(5, 50),
                length = arg(6, 784), steps = arg(7, 20), threads = arg(8, 2);
  at::set_num_threads(static_cast<int>(threads));
  torch::manual_seed(0);
  flowlab::Registry registry;
  flowlab::ops::register_models(registry);
  flowlab::ops::ModelRecord record;
  record.family = "classifier", record.arch = "s4d";
  record.params = flowlab::Params({{"d_model", d_model},
                                   {"state", state},
                                   {"layers", layers},
                                   {"init", std::string("lin")},
                                   {"discretization", std::string("zoh")},
                                   {"bidirectional", false},
                                   {"dt_min", 0.001},
                                   {"dt_max", 0.1},
                                   {"dropout", 0.0},
                                   {"prenorm", false},
                                   {"ssm_lr", 0.001}});
  record.input.shape = {length, 1}, record.input.outputs = 10;
  flowlab::ops::Classifier model(record, {0.286, 0.353, "all"}, registry);
  auto x = torch::rand({batch, length, 1});
  auto y = torch::randint(0, 10, {batch}, torch::kInt64);
  torch::optim::AdamW opt(model.net().parameters(), torch::optim::AdamWOptions(1e-3));
  auto train_step = [&] {
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(model.net().forward(x), y);
    loss.backward();
    opt.step();
  };
  auto infer_step = [&] {
    torch::NoGradGuard no_grad;
    model.net().forward(x);
  };
  if (mode == "train")
    model.net().train();
  else
    model.net().eval();
  auto step = [&] { mode == "train" ? train_step() : infer_step(); };
  for (int i = 0; i < 3; ++i) step();  // warm-up: allocator and OpenMP team
  auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < steps; ++i) step();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%.1f\n", steps * batch / s);  // sequences per second
  return 0;
}
