// Certification throughput (noisy samples per second) of flowlab's CERTIFY loop, for the same
// model, batch size and thread count as bench/certify_bench.py (Cohen et al.'s loop in Debian's
// python3-torch, the same LibTorch 1.13.1). bench/run_certify_bench.sh runs both side by side.
//   usage: certify_bench [cnn|mlp|rrcm] [images] [n] [batch] [threads]
#include <chrono>
#include <cstdio>
#include <string>

#include <torch/torch.h>

#include "ops/certify/common.h"
#include "ops/certify/smoothing.h"
#include "ops/classifier.h"
#include "ops/classifier_net.h"
#include "ops/models/model.h"
#include "ops/torch_runtime.h"

int main(int argc, char** argv) {
  flowlab::ops::keep_freed_memory_for_reuse();  // as the flowlab command does
  std::string arch = argc > 1 ? argv[1] : "mlp";
  int images = argc > 2 ? std::stoi(argv[2]) : 10;
  int64_t n = argc > 3 ? std::stoll(argv[3]) : 10000;
  int64_t batch = argc > 4 ? std::stoll(argv[4]) : 1000;
  int threads = argc > 5 ? std::stoi(argv[5]) : 2;
  at::set_num_threads(threads);
  torch::manual_seed(0);
  flowlab::Registry registry;
  flowlab::ops::register_models(registry);
  flowlab::ops::ModelRecord record;
  record.family = "classifier", record.arch = arch;
  if (arch == "rrcm")  // configs/model/rrcm.yaml, classifying at sigma = 0.25
    record.params = flowlab::Params({{"width", int64_t{16}},
                                     {"dim", int64_t{128}},
                                     {"projection_dim", int64_t{64}},
                                     {"condition_sigma", 0.25},
                                     {"grid_points", int64_t{40}},
                                     {"t_min", 0.002},
                                     {"t_max", 10.0},
                                     {"rho", 7.0},
                                     {"level_frequencies", int64_t{16}}});
  else
    record.params = flowlab::Params({{"width", int64_t{arch == "cnn" ? 16 : 256}}});
  record.input.shape = {1, 28, 28}, record.input.outputs = 10, record.input.scale = 0.353;
  flowlab::ops::Classifier model(record, {0.286, 0.353, "all"}, registry);
  model.net().eval();
  flowlab::ops::certify::SmoothingOptions o;
  o.sigma = 0.25, o.n0 = 100, o.n = n, o.batch_size = batch;
  auto f = flowlab::ops::certify::standardized_logits(model, o);  // what certify.smoothing uses
  auto x = torch::rand({images, 1, 28, 28});
  auto gen = at::detail::createCPUGenerator(0);
  flowlab::ops::certify::certify(f, x[0], 10, o, gen);  // warm-up
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < images; ++i) flowlab::ops::certify::certify(f, x[i], 10, o, gen);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%.1f\n", images * (o.n0 + o.n) / s);
  return 0;
}
