// SPEN speed and memory. Speed: flowlab's train.graph_classifier on CSL (all 150 graphs as the
// training set) against the same network and loop in Debian's python3-torch
// (bench/spen_bench.py); bench/run_spen_bench.sh prints both side by side. Memory: the peak CPU
// tensor memory of one forward and backward pass of SPEN (k = 1, 2) and of the global 2-IGN on the
// same batch, measured (ops/tensor_memory.h), beside what Σ_v m_v² predicts.
//   spen_bench export FILE                      writes CSL's 150 graphs (what both sides read)
//   spen_bench train FILE HOPS EPOCHS THREADS   prints training graphs per second
//   spen_bench memory TASK ARCH                 TASK: csl | cubic:N (10 random 3-regular graphs
//                                               of N nodes); ARCH: spen1 | spen2 | ign; prints
//                                               entries per graph, measured MiB, predicted MiB
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>

#include <torch/torch.h>

#include "datasets/csl.h"
#include "datasets/graph_dataset.h"
#include "datasets/synthetic_graphs.h"
#include "graph/op.h"
#include "ops/graphnets/graph_models.h"
#include "ops/graphnets/graph_network.h"
#include "ops/register.h"
#include "ops/tensor_memory.h"
#include "ops/torch_runtime.h"

namespace fs = std::filesystem;
using flowlab::datasets::Graph;

namespace {

struct Observer : flowlab::RunObserver {
  double train_seconds = 0;
  void metric(const std::string&, const std::string& key, int64_t, double value) override {
    if (key == "train_time_s") train_seconds = value;
  }
  void progress(const std::string&, double, const std::string&) override {}
  void artifact_file(const std::string&, const fs::path&, const std::string&) override {}
};

// The architecture's defaults, then the bench's widths (both sides: [32, 32, 32], head [64]).
std::map<std::string, flowlab::ParamValue> model_values(const flowlab::Registry& registry,
                                                        const std::string& arch) {
  std::map<std::string, flowlab::ParamValue> values;
  for (const auto& spec : registry.find_group("graph")->find(arch)->params)
    values[spec.name] = *spec.default_value;
  values["widths"] = flowlab::ParamList{{int64_t{32}, int64_t{32}, int64_t{32}}};
  values["head"] = flowlab::ParamList{{int64_t{64}}};
  values["dropout"] = 0.0;
  return values;
}

int train(const fs::path& file, int64_t hops, int64_t epochs, int threads) {
  flowlab::ops::set_torch_threads(threads);
  flowlab::Registry registry;
  flowlab::ops::register_ops(registry);
  auto data = std::make_shared<flowlab::datasets::GraphDataset>();
  data->train = flowlab::datasets::read_graphs(file);
  for (int c = 0; c < 10; ++c) data->class_names.push_back(std::to_string(c));
  const flowlab::OpDef* op = registry.find("train.graph_classifier");
  auto values = model_values(registry, "spen");
  for (const auto& spec : op->params)
    if (spec.default_value && !values.count(spec.name)) values[spec.name] = *spec.default_value;
  values["model"] = std::string("spen");
  values["hops"] = hops;
  values["epochs"] = epochs;
  values["batch_size"] = int64_t{10};
  values["lr"] = 0.003;
  values["device"] = std::string("cpu");
  values["checkpoint_seconds"] = 0.0;
  values["log_every"] = int64_t{1000000};
  const flowlab::Params params(values);  // OpContext keeps a reference
  Observer observer;
  std::atomic<bool> stop{false};
  const auto work = fs::temp_directory_path() / "flowlab-spen-bench";
  fs::create_directories(work);
  flowlab::OpContext ctx("train", params, {{"data", data}}, threads, work, observer, stop, nullptr,
                         &registry);
  op->run(ctx);
  fs::remove_all(work);
  std::printf("%.3f\n", static_cast<double>(data->train.size() * epochs) / observer.train_seconds);
  return 0;
}

int memory(const std::string& task, const std::string& arch) {
  flowlab::ops::set_torch_threads(1);
  flowlab::Registry registry;
  flowlab::ops::register_ops(registry);
  std::vector<Graph> graphs;
  if (task == "csl") {
    const auto all = flowlab::datasets::csl::generate(0);
    for (size_t i = 0; i < all.size(); i += 15) graphs.push_back(all[i]);  // one per class
  } else if (task.rfind("cubic:", 0) == 0) {
    const int n = std::stoi(task.substr(6));
    graphs = flowlab::datasets::synthetic::generate("regular", 10, n, n, 0);
    graphs.resize(10);  // the 3-regular class
  } else {
    std::fprintf(stderr, "unknown task %s\n", task.c_str());
    return 2;
  }
  flowlab::ops::ModelRecord record;
  record.family = "graph";
  record.arch = arch == "ign" ? "ign" : "spen";
  auto values = model_values(registry, record.arch);
  if (arch != "ign") values["hops"] = int64_t{arch == "spen2" ? 2 : 1};
  record.params = flowlab::Params(values);
  record.input.shape = {1};
  record.input.outputs = 10;
  torch::manual_seed(0);
  auto net =
      std::dynamic_pointer_cast<flowlab::ops::graphnets::GraphNetwork>(record.build(registry));
  std::vector<std::shared_ptr<const flowlab::ops::graphnets::EncodedGraph>> encoded;
  std::vector<const flowlab::ops::graphnets::EncodedGraph*> batch;
  int64_t entries = 0;
  for (auto& g : graphs) {
    g.label = 0;
    encoded.push_back(net->encode(g));
    batch.push_back(encoded.back().get());
    entries += net->layer_entries(*encoded.back());
  }
  const auto labels = torch::zeros({static_cast<int64_t>(batch.size())}, torch::kInt64);
  int64_t peak = 0;
  {
    flowlab::ops::TensorMemoryMeter meter;
    const auto loss = torch::nn::functional::cross_entropy(net->forward_graphs(batch), labels);
    loss.backward();
    peak = meter.peak_bytes();
  }
  // Prediction: one [Σ m², C] float tensor per stored activation; a layer keeps about
  // (gather + 2->2 output + its concatenation + merge + ELU + GraphNorm) ~ 8 of them at C = 64.
  const double per_tensor = static_cast<double>(entries) * 64 * 4 / (1 << 20);
  std::printf("%.1f %.2f %.2f\n", static_cast<double>(entries) / graphs.size(),
              static_cast<double>(peak) / (1 << 20), per_tensor);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  flowlab::ops::keep_freed_memory_for_reuse();  // as the flowlab command does
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "export" && argc == 3) {
    flowlab::datasets::write_graphs(argv[2], flowlab::datasets::csl::generate(0));
    std::printf("150 CSL graphs\n");
    return 0;
  }
  if (mode == "train" && argc == 6)
    return train(argv[2], std::stoll(argv[3]), std::stoll(argv[4]), std::stoi(argv[5]));
  if (mode == "memory" && argc == 4) return memory(argv[2], argv[3]);
  std::fprintf(stderr,
               "usage: spen_bench export FILE | train FILE HOPS EPOCHS THREADS | memory "
               "csl|cubic:N spen1|spen2|ign\n");
  return 2;
}
