// Federated rounds per second: flowlab's fl.federated op itself (run through the registry on an
// in-memory dataset) on Fashion-MNIST's shapes with random pixels and labels: 100 clients of 600
// images, 10 per round, one local epoch of SGD (batch 32, lr 0.1) on a logistic regression
// (7,850 coordinates), each update through the mechanism, the server's decode and step, and one
// test evaluation (10,000 images) at the end. bench/fl_round_bench.py does the same in Debian's
// python3-torch; bench/run_fl_bench.sh prints both side by side.
//   usage: fl_round_bench [none|rqm|pbm|gaussian] [rounds] [threads]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <torch/torch.h>

#include "datasets/classification_data.h"
#include "graph/op.h"
#include "ops/register.h"
#include "ops/torch_runtime.h"

namespace {

struct Quiet : flowlab::RunObserver {
  void metric(const std::string&, const std::string&, int64_t, double) override {}
  void progress(const std::string&, double, const std::string&) override {}
  void artifact_file(const std::string&, const std::filesystem::path&,
                     const std::string&) override {}
};

}  // namespace

int main(int argc, char** argv) {
  flowlab::ops::keep_freed_memory_for_reuse();  // as the flowlab command does
  const std::string mechanism = argc > 1 ? argv[1] : "rqm";
  const int64_t rounds = argc > 2 ? std::stoll(argv[2]) : 10;
  const int threads = argc > 3 ? std::stoi(argv[3]) : 1;
  flowlab::ops::set_torch_threads(threads);

  flowlab::Registry registry;
  flowlab::ops::register_ops(registry);
  auto data = std::make_shared<flowlab::datasets::ClassificationData>();
  torch::manual_seed(0);
  data->train_x = torch::rand({60000, 1, 28, 28});
  data->train_y = torch::randint(0, 10, {60000}, torch::kInt64);
  data->test_x = torch::rand({10000, 1, 28, 28});
  data->test_y = torch::randint(0, 10, {10000}, torch::kInt64);
  for (int c = 0; c < 10; ++c) data->class_names.push_back(std::to_string(c));

  const flowlab::OpDef* op = registry.find("fl.federated");
  std::map<std::string, flowlab::ParamValue> values;
  for (const auto& spec : op->params) values[spec.name] = *spec.default_value;
  for (const auto& spec : registry.find_group("mechanism")->find(mechanism)->params)
    values[spec.name] = *spec.default_value;
  values["mechanism"] = mechanism;
  values["rounds"] = rounds;
  values["log_every"] = rounds;  // one evaluation, at the end
  values["checkpoint_seconds"] = 0.0;
  values["clip"] = 0.01;
  values["margin"] = 1.859;  // what target_epsilon = 1000 gives RQM over 30 rounds
  values["theta"] = 0.0052;  // and PBM
  values["sigma"] = 0.248;   // and the Gaussian
  flowlab::Params params(values);
  Quiet observer;
  std::atomic<bool> stop{false};
  auto run = [&] {
    const auto dir = std::filesystem::temp_directory_path() / "flowlab-fl-bench";
    std::filesystem::create_directories(dir);
    flowlab::OpContext ctx("fl", params, {{"data", data}}, threads, dir, observer, stop, nullptr,
                           &registry);
    op->run(ctx);
    std::filesystem::remove_all(dir);
  };
  run();  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  run();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%.2f\n", rounds / s);
  return 0;
}
