// Knowledge-graph embedding speed: flowlab's train.kge and eval.link_prediction ops, run through
// the registry on a WordNet graph, against the same model and loop in Debian's python3-torch
// (bench/kge_bench.py); bench/run_kge_bench.sh prints both side by side.
//   kge_bench export DIR [min_degree]            writes the WordNet graph (what both sides read)
//   kge_bench train DIR MODEL DIM EPOCHS THREADS  prints seconds per epoch (1-N BCE + validation)
//   kge_bench eval DIR MODEL DIM THREADS          prints seconds to rank every test triple both
//                                                 ways, filtered (an untrained model: same work)
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <torch/torch.h>

#include "datasets/knowledge_graph.h"
#include "datasets/wordnet.h"
#include "graph/op.h"
#include "ops/kge/kge_model.h"
#include "ops/kge/kge_network.h"
#include "ops/register.h"
#include "ops/torch_runtime.h"

namespace fs = std::filesystem;
using flowlab::datasets::KnowledgeGraph;

namespace {

struct Quiet : flowlab::RunObserver {
  void metric(const std::string&, const std::string&, int64_t, double) override {}
  void progress(const std::string&, double, const std::string&) override {}
  void artifact_file(const std::string&, const fs::path&, const std::string&) override {}
};

flowlab::Params defaults(const flowlab::Registry& registry, const flowlab::OpDef& op,
                         const std::string& model, int64_t dim) {
  std::map<std::string, flowlab::ParamValue> values;
  for (const auto& spec : op.params)
    if (spec.default_value) values[spec.name] = *spec.default_value;
  if (!model.empty()) {
    for (const auto& spec : registry.find_group("kge")->find(model)->params)
      values[spec.name] = *spec.default_value;
    values["model"] = model;
    values["dim"] = dim;
  }
  values["device"] = std::string("cpu");
  values["checkpoint_seconds"] = 0.0;
  return flowlab::Params(values);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  flowlab::ops::keep_freed_memory_for_reuse();  // as the flowlab command does
  const std::string mode = argc > 1 ? argv[1] : "";
  const fs::path dir = argc > 2 ? argv[2] : "";
  if (mode == "export") {
    namespace wn = flowlab::datasets::wordnet;
    wn::GraphOptions o;
    o.min_degree = argc > 3 ? std::stoll(argv[3]) : 15;
    const auto graph =
        wn::build_graph(wn::read_synsets("/usr/share/wordnet", {'n', 'v', 'a', 'r'}), o);
    fs::create_directories(dir);
    graph.save(dir);
    std::printf("%lld entities, %zu/%zu/%zu triples\n",
                static_cast<long long>(graph.num_entities()), graph.train.size(),
                graph.valid.size(), graph.test.size());
    return 0;
  }
  if (argc < 6) {
    std::fprintf(stderr,
                 "usage: kge_bench export DIR [min_degree] | train DIR MODEL DIM EPOCHS "
                 "THREADS | eval DIR MODEL DIM THREADS\n");
    return 2;
  }
  const std::string model = argv[3];
  const int64_t dim = std::stoll(argv[4]);
  const int threads = std::stoi(argv[argc - 1]);
  flowlab::ops::set_torch_threads(threads);
  flowlab::Registry registry;
  flowlab::ops::register_ops(registry);
  const auto graph = std::dynamic_pointer_cast<const KnowledgeGraph>(KnowledgeGraph::load(dir));
  Quiet observer;
  std::atomic<bool> stop{false};
  const auto work = fs::temp_directory_path() / "flowlab-kge-bench";
  fs::create_directories(work);

  if (mode == "train") {
    const int64_t epochs = std::stoll(argv[5]);
    const flowlab::OpDef* op = registry.find("train.kge");
    auto params = defaults(registry, *op, model, dim);
    std::map<std::string, flowlab::ParamValue> values = params.values();
    values["epochs"] = epochs;
    values["lr"] = 0.03;
    values["lr_decay"] = 0.95;
    const flowlab::Params train_params(values);  // OpContext keeps a reference
    flowlab::OpContext ctx("train", train_params, {{"graph", graph}}, threads, work, observer, stop,
                           nullptr, &registry);
    const auto t0 = std::chrono::steady_clock::now();
    op->run(ctx);
    std::printf("%.4f\n", seconds_since(t0) / static_cast<double>(epochs));
  } else if (mode == "eval") {
    // An untrained model of the same shapes: ranking costs the same whatever the weights.
    auto m = std::make_shared<flowlab::ops::kge::KgeModel>();
    m->record.family = "kge";
    m->record.arch = model;
    m->record.params = flowlab::ops::model_params(
        registry, "kge", model, defaults(registry, *registry.find("train.kge"), model, dim));
    m->record.input.entities = graph->num_entities();
    m->record.input.relations = 2 * graph->num_relations();
    m->base_relations = graph->num_relations();
    torch::manual_seed(0);
    m->network =
        std::dynamic_pointer_cast<flowlab::ops::kge::KgeNetwork>(m->record.build(registry));
    m->network->eval();
    const flowlab::OpDef* op = registry.find("eval.link_prediction");
    const flowlab::Params eval_params = defaults(registry, *op, "", 0);
    flowlab::OpContext ctx("eval", eval_params, {{"model", m}, {"graph", graph}}, threads, work,
                           observer, stop, nullptr, &registry);
    op->run(ctx);  // warm-up
    const auto t0 = std::chrono::steady_clock::now();
    op->run(ctx);
    std::printf("%.4f\n", seconds_since(t0));
  }
  fs::remove_all(work);
  return 0;
}
