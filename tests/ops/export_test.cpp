// flowlab export (ops/models/export.h): model.pt, loaded back by TorchScript alone, computes what
// flowlab computes on batches of any size (a classifier from raw inputs, its standardization and
// mask inside), keeps the weights as named parameters equal to flowlab's (not constants), and a
// knowledge-graph model's exported scores equal the per-triple definitions. A forward that the
// tracer would freeze to one batch size is refused, and so is a graph network.
#include "ops/models/export.h"

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <boost/test/unit_test.hpp>
#include <torch/script.h>
#include <torch/torch.h>

#include "common/error.h"
#include "experiments/cli/builtin.h"
#include "ops/classifier.h"
#include "ops/classifier_net.h"
#include "ops/dsd_models.h"
#include "ops/kge/kge_network.h"
#include "ops/models/export_loaders.h"
#include "ops/models/model.h"
#include "ops/models/saved_model.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using flowlab::ops::ModelRecord;

const flowlab::Registry& export_registry() {
  static const flowlab::Registry r = flowlab::cli::make_builtin_registry();
  return r;
}

// A fresh path under one temporary folder, removed when the test program ends.
fs::path export_scratch(const std::string& name) {
  static const flowlab::testing::TempDir scratch;
  const fs::path dir = scratch / name;
  fs::remove_all(dir);
  return dir;
}

// `arch` of `family` with its documented defaults, some overridden.
ModelRecord export_record(const flowlab::Registry& registry, const std::string& family,
                          const std::string& arch,
                          std::map<std::string, flowlab::ParamValue> overrides = {}) {
  ModelRecord record;
  record.family = family;
  record.arch = arch;
  std::map<std::string, flowlab::ParamValue> values;
  for (const auto& spec : registry.find_group(family)->find(arch)->params)
    if (spec.default_value) values[spec.name] = *spec.default_value;
  for (auto& [k, v] : overrides) values[k] = v;
  record.params = flowlab::Params(values);
  return record;
}

const flowlab::ops::ExportProvenance kProvenance{"12", "0123abcd", "train", "train.classifier"};

double max_gap(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

// Trained-looking weights: every parameter moved off its initialization (biases off zero).
void perturb(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) p.add_(torch::randn_like(p) * 0.05);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(model_export)

BOOST_AUTO_TEST_CASE(classifiers_export_their_logits_from_raw_inputs_with_named_weights) {
  const auto& registry = export_registry();
  struct Case {
    std::string arch, mask;
    std::vector<int64_t> shape;
    std::map<std::string, flowlab::ParamValue> params;
  };
  const std::vector<Case> cases = {
      {"cnn", "all", {1, 28, 28}, {{"width", int64_t{8}}}},
      {"mlp", "odd", {1, 28, 28}, {{"width", int64_t{32}}}},  // a checkerboard half
      {"s4d", "all", {64, 1}, {{"d_model", int64_t{8}}, {"state", int64_t{8}}}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.arch) {
      ModelRecord record = export_record(registry, "classifier", c.arch, c.params);
      record.input.shape = c.shape;
      record.input.outputs = 10;
      record.input.scale = 0.35;
      torch::manual_seed(11);
      flowlab::ops::Classifier model(record, {0.29, 0.35, c.mask}, registry);
      perturb(model.net());
      model.net().eval();
      const fs::path saved = export_scratch(c.arch + "_saved"), out = export_scratch(c.arch);
      fs::create_directories(saved);
      model.save(saved);

      const auto summary = flowlab::ops::export_saved_model(saved, out, registry, kProvenance);
      for (const auto& f : summary.files) BOOST_TEST(fs::is_regular_file(out / f), f);
      int64_t scalars = 0;
      for (const auto& p : model.net().parameters()) scalars += p.numel();
      BOOST_TEST(summary.parameters == scalars);

      torch::jit::Module loaded = torch::jit::load((out / "model.pt").string());
      loaded.eval();
      torch::NoGradGuard no_grad;
      for (int64_t batch : {1, 7}) {  // traced with 2
        std::vector<int64_t> sizes{batch};
        sizes.insert(sizes.end(), c.shape.begin(), c.shape.end());
        const auto x = torch::rand(sizes);  // raw inputs in [0, 1], as pixels are
        const auto flowlab_logits = model.forward(x);
        const auto exported = loaded.forward({x}).toTensor();
        BOOST_TEST(exported.sizes() == flowlab_logits.sizes());
        BOOST_TEST(max_gap(exported, flowlab_logits) <= 1e-5, "batch " << batch);
      }

      // The weights are the module's named parameters, with flowlab's names and values...
      std::map<std::string, torch::Tensor> exported_params;
      for (const auto& p : loaded.named_parameters()) exported_params[p.name] = p.value;
      const auto own = model.net().named_parameters();
      BOOST_TEST(exported_params.size() == own.size());
      for (const auto& p : own) {
        BOOST_TEST_REQUIRE(exported_params.count(p.key()) == 1, p.key());
        BOOST_TEST(torch::equal(exported_params[p.key()], p.value()), p.key());
      }
      // ...and the forward reads them: zeroing the exported ones changes its logits.
      const auto x = torch::rand([&] {
        std::vector<int64_t> s{3};
        s.insert(s.end(), c.shape.begin(), c.shape.end());
        return s;
      }());
      const auto before = loaded.forward({x}).toTensor().clone();
      for (auto p : loaded.parameters()) p.zero_();
      BOOST_TEST(max_gap(loaded.forward({x}).toTensor(), before) > 1e-3);

      // example.pt: an input and flowlab's logits for it, for the loaders' self-check.
      torch::jit::Module example = torch::jit::load((out / "example.pt").string());
      const auto inputs = example.attr("inputs").toTensor();
      BOOST_TEST(inputs.size(0) == 4);
      BOOST_TEST(max_gap(example.attr("outputs").toTensor(), model.forward(inputs)) <= 1e-6);
    }
  }
}

BOOST_AUTO_TEST_CASE(knowledge_graph_scores_equal_the_per_triple_definitions) {
  const auto& registry = export_registry();
  for (const std::string arch : {"nfe1", "distmult"}) {
    BOOST_TEST_CONTEXT(arch) {
      ModelRecord record = export_record(registry, "kge", arch, {{"dim", int64_t{6}}});
      record.input.entities = 30, record.input.relations = 8;
      torch::manual_seed(4);
      auto net = std::dynamic_pointer_cast<flowlab::ops::kge::KgeNetwork>(record.build(registry));
      {
        torch::NoGradGuard no_grad;
        net->entity_table().normal_(0, 0.7);
        net->relation_table().normal_(0, 0.7);
      }
      const fs::path saved = export_scratch(arch + "_saved"), out = export_scratch(arch);
      fs::create_directories(saved);
      flowlab::ops::save_network(saved, record, *net);
      flowlab::ops::export_saved_model(saved, out, registry, kProvenance);

      torch::jit::Module loaded = torch::jit::load((out / "model.pt").string());
      torch::NoGradGuard no_grad;
      const auto heads = torch::tensor({0, 5, 29}, torch::kLong);
      const auto relations = torch::tensor({0, 7, 3}, torch::kLong);
      const auto scores = loaded.forward({torch::stack({heads, relations}, 1)}).toTensor();
      BOOST_TEST(scores.sizes() == torch::IntArrayRef({3, 30}));
      for (int64_t tail = 0; tail < 30; ++tail) {
        const auto tails = torch::full({3}, tail, torch::kLong);
        const auto defined = net->score(heads, relations, tails);
        BOOST_TEST(max_gap(scores.select(1, tail), defined) <=
                       1e-4 * (1 + defined.abs().max().item<double>()),
                   "tail " << tail);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_dsd_model_exports_its_scores) {
  const auto& registry = export_registry();
  flowlab::ops::DsdModelConfig config;
  config.arch = "lcn", config.k = 4, config.d = 8, config.threshold = 0.45;
  torch::manual_seed(2);
  const flowlab::ops::DsdModel model(config, torch::randn({4, 8}));
  const fs::path saved = export_scratch("dsd_saved"), out = export_scratch("dsd");
  fs::create_directories(saved);
  model.save(saved);
  flowlab::ops::export_saved_model(saved, out, registry, kProvenance);
  torch::jit::Module loaded = torch::jit::load((out / "model.pt").string());
  const auto x = torch::randn({9, 4, 8}) * 0.5;
  torch::NoGradGuard no_grad;
  BOOST_TEST(max_gap(loaded.forward({x}).toTensor(), model.forward(x)) <= 1e-6);
}

BOOST_AUTO_TEST_CASE(graph_networks_and_frozen_batch_sizes_are_refused) {
  // A graph network classifies encoded graphs: a clear refusal, nothing written.
  const auto& registry = export_registry();
  ModelRecord graph = export_record(registry, "graph", "gin");
  graph.input.shape = {1};
  graph.input.outputs = 10;
  const fs::path saved = export_scratch("gin_saved"), out = export_scratch("gin");
  fs::create_directories(saved);
  graph.save(saved);
  BOOST_CHECK_EXCEPTION(flowlab::ops::export_saved_model(saved, out, registry, kProvenance),
                        flowlab::ConfigError, [](const flowlab::ConfigError& e) {
                          return std::string(e.what()).find("graph networks") != std::string::npos;
                        });
  BOOST_TEST(!fs::exists(out));

  // A forward that reads its batch size as a number: the tracer records that number as a
  // constant, so the exported model would only take batches of the traced size. Export checks
  // other sizes and refuses it, rather than writing a model that breaks on the user's data.
  struct FrozenBatch : flowlab::ops::Network {
    FrozenBatch() { weight = register_parameter("weight", torch::randn({784, 10})); }
    torch::Tensor forward(const torch::Tensor& x) override {
      return x.reshape({x.size(0), 784}).matmul(weight);
    }
    torch::Tensor weight;
  };
  flowlab::Registry registry_with_frozen = flowlab::cli::make_builtin_registry();
  flowlab::ops::ModelDef def;
  def.family = "classifier";
  def.name = "frozen_batch";
  def.summary = "a linear map written with x.size(0)";
  def.build = [](const flowlab::Params&, const flowlab::ops::ModelInput&) {
    return std::make_shared<FrozenBatch>();
  };
  flowlab::ops::add_model(registry_with_frozen, def);
  ModelRecord record = export_record(registry_with_frozen, "classifier", "frozen_batch");
  record.input.shape = {1, 28, 28};
  record.input.outputs = 10;
  flowlab::ops::Classifier frozen(record, {0.29, 0.35, "all"}, registry_with_frozen);
  const fs::path frozen_saved = export_scratch("frozen_saved"),
                 frozen_out = export_scratch("frozen");
  fs::create_directories(frozen_saved);
  frozen.save(frozen_saved);
  BOOST_CHECK_EXCEPTION(
      flowlab::ops::export_saved_model(frozen_saved, frozen_out, registry_with_frozen, kProvenance),
      flowlab::RunError, [](const flowlab::RunError& e) {
        return std::string(e.what()).find("on a batch of 1 (traced with 2)") != std::string::npos;
      });
  BOOST_TEST(!fs::exists(frozen_out / "model.pt"));
}

BOOST_AUTO_TEST_CASE(stored_text_cannot_break_out_of_the_generated_loaders) {
  // Names and params come from a database, which can hold anything: a node name that would close
  // the Python docstring and run code, a backslash, a placeholder of the template itself.
  flowlab::ops::LoaderFacts facts;
  facts.title = "t";
  facts.node = R"(""+str(__import__("os").system("id"))+r"")";
  facts.op = "@RUN@ \\ \n";
  facts.params = "a=\"\"\"b\"\"\"\nc=1";
  facts.run_id = "12";
  // Triple quotes of a loader written for plain values: the docstrings' own.
  const auto triple_quotes = [](const std::string& text) {
    size_t n = 0;
    for (size_t at = text.find(R"(""")"); at != std::string::npos; at = text.find(R"(""")", at + 3))
      ++n;
    return n;
  };
  flowlab::ops::LoaderFacts plain;
  plain.title = "t", plain.node = "train", plain.op = "train.classifier", plain.run_id = "12";
  const size_t docstring_quotes = triple_quotes(flowlab::ops::loader_files(plain).front().second);
  BOOST_TEST(docstring_quotes >= 2u);
  for (const auto& [name, text] : flowlab::ops::loader_files(facts)) {
    if (name == "CMakeLists.txt") continue;  // no placeholders
    BOOST_TEST_CONTEXT(name) {
      // The op written as it is (its "@RUN@" not expanded), its backslash made harmless.
      BOOST_TEST(text.find("@RUN@ / ") != std::string::npos);
      BOOST_TEST(text.find("system(\"id\")") == std::string::npos);  // quotes made single
    }
    if (name == "load_model.py") BOOST_TEST(triple_quotes(text) == docstring_quotes);
  }
}

BOOST_AUTO_TEST_SUITE_END()
