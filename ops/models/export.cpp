#include "ops/models/export.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/csrc/jit/frontend/tracer.h>
#include <torch/script.h>

#include "common/error.h"
#include "common/file_io.h"
#include "common/text.h"
#include "ops/classifier.h"
#include "ops/classifier_net.h"
#include "ops/models/export_loaders.h"
#include "ops/models/saved_model.h"

namespace flowlab::ops {

namespace fs = std::filesystem;

namespace {

// The traced model must give flowlab's outputs to within this, relative to their size (both run
// the same kernels; the margin covers a different but equivalent kernel choice).
constexpr double kRelativeTolerance = 1e-4;
constexpr int64_t kTraceBatch = 2, kExampleBatch = 4;
constexpr int64_t kCheckBatches[] = {1, 5};  // differ from kTraceBatch: a frozen batch size fails

// What is traced: a module (its parameters and buffers become the TorchScript module's) and the
// function of a batch that flowlab itself computes with it.
struct Traceable {
  torch::nn::Module* module = nullptr;
  std::function<torch::Tensor(const torch::Tensor&)> forward;
  std::shared_ptr<void> keep_alive;  // owns what module points into
  std::string input, output;         // in words, for the README and the summary
  // A batch of n inputs like the data the model was trained on.
  std::function<torch::Tensor(int64_t n, at::Generator&)> inputs;
};

std::string shape_text(const std::string& batch, const std::vector<int64_t>& shape) {
  std::string s = "[" + batch;
  for (int64_t d : shape) s += ", " + std::to_string(d);
  return s + "]";
}

std::vector<int64_t> batch_shape(int64_t n, const std::vector<int64_t>& shape) {
  std::vector<int64_t> sizes{n};
  sizes.insert(sizes.end(), shape.begin(), shape.end());
  return sizes;
}

Traceable classifier_traceable(const fs::path& dir, const Registry& registry,
                               const ModelRecord& record) {
  auto artifact = std::dynamic_pointer_cast<Classifier>(
      std::const_pointer_cast<Artifact>(Classifier::load(dir, registry)));
  Classifier::Net* net = &artifact->net();
  net->eval();
  Traceable t;
  t.module = net;
  t.keep_alive = artifact;
  t.forward = [net](const torch::Tensor& x) { return net->forward(x); };
  const auto shape = record.input.shape;
  const int64_t classes = record.input.outputs;
  t.output =
      fmt::format("[N, {}] float32 logits (one per class; softmax for probabilities)", classes);
  if (record.input.vocab_size > 0) {
    const int64_t vocab = record.input.vocab_size;
    t.input = fmt::format("{} int64 token ids in [0, {})", shape_text("N", shape), vocab);
    t.inputs = [shape, vocab](int64_t n, at::Generator& g) {
      return torch::randint(0, vocab, batch_shape(n, shape), g, torch::kLong);
    };
  } else {
    const Standardization s = artifact->standardization();
    t.input = fmt::format(
        "{} float32 raw inputs as in the dataset (the model standardizes them itself: "
        "(x{} - {:g}) / {:g})",
        shape_text("N", shape), s.input_mask == "all" ? "" : " * mask[" + s.input_mask + "]",
        s.mean, s.std);
    t.inputs = [shape, s](int64_t n, at::Generator& g) {
      return torch::randn(batch_shape(n, shape), g) * s.std + s.mean;
    };
  }
  return t;
}

Traceable network_traceable(const fs::path& dir, const Registry& registry,
                            const ModelRecord& record) {
  std::shared_ptr<Network> net = build_locked(record, registry);
  load_weights(dir, *net);
  net->eval();
  Traceable t;
  t.module = net.get();
  t.keep_alive = net;
  t.forward = [raw = net.get()](const torch::Tensor& x) { return raw->forward(x); };
  const ModelInput in = record.input;
  if (record.family == "kge") {
    t.input = fmt::format(
        "[N, 2] int64 (head entity in [0, {}), relation in [0, {}); relations >= {} are the "
        "inverses)",
        in.entities, in.relations, in.relations / 2);
    t.output = fmt::format("[N, {}] float32 scores of every entity as the tail", in.entities);
    t.inputs = [in](int64_t n, at::Generator& g) {
      return torch::stack({torch::randint(0, in.entities, {n}, g, torch::kLong),
                           torch::randint(0, in.relations, {n}, g, torch::kLong)},
                          1);
    };
  } else {
    t.input = shape_text("N", in.shape) + " float32";
    t.output = in.outputs == 1 ? "[N] float32 scores" : fmt::format("[N, {}] float32", in.outputs);
    t.inputs = [in](int64_t n, at::Generator& g) {
      return torch::randn(batch_shape(n, in.shape), g) * in.scale;
    };
  }
  return t;
}

// A TorchScript module holding the same tensors as `module` (parameters, buffers, children, by
// the same names): the tracer then records reads of them as attribute accesses, so they stay
// named parameters in the saved model instead of anonymous constants.
torch::jit::Module mirror(torch::nn::Module& module,
                          const std::shared_ptr<torch::jit::CompilationUnit>& unit,
                          const std::string& class_name) {
  torch::jit::Module m(c10::QualifiedName("__torch__.flowlab." + class_name), unit,
                       /*shouldMangle=*/true);
  for (const auto& p : module.named_parameters(/*recurse=*/false))
    m.register_parameter(p.key(), p.value(), /*is_buffer=*/false);
  for (const auto& b : module.named_buffers(/*recurse=*/false))
    m.register_buffer(b.key(), b.value());
  for (const auto& c : module.named_children())
    m.register_module(c.key(), mirror(*c.value(), unit, class_name + "_" + c.key()));
  return m;
}

torch::jit::Module trace(Traceable& t, const torch::Tensor& example, const std::string& name) {
  auto unit = std::make_shared<torch::jit::CompilationUnit>();
  torch::jit::Module traced = mirror(*t.module, unit, name);
  auto state = torch::jit::tracer::trace(
                   {example},
                   [&](torch::jit::Stack in) -> torch::jit::Stack {
                     return {t.forward(in.at(0).toTensor())};
                   },
                   [](const torch::autograd::Variable&) { return std::string(); },
                   /*strict=*/true, /*force_outplace=*/false, &traced)
                   .first;
  auto method = traced._ivalue()->compilation_unit()->create_function("forward", state->graph);
  traced.type()->addMethod(method);
  traced.eval();
  return traced;
}

// The gist of a TorchScript interpreter error: its "RuntimeError: ..." line (the message starts
// with the failing operation's source), else its first line.
std::string interpreter_error(const std::string& what) {
  const auto at = what.rfind("RuntimeError: ");
  return at == std::string::npos ? first_line(what) : first_line(what.substr(at));
}

std::string serialized(const torch::jit::Module& m) {
  std::ostringstream bytes;
  try {
    m.save(bytes);
  } catch (const std::exception& e) {  // LibTorch's messages carry a backtrace: the first line
    throw RunError(fmt::format("cannot serialize the traced model: {}", first_line(e.what())));
  }
  return bytes.str();
}

double tolerance_for(const torch::Tensor& expected) {
  return kRelativeTolerance * (1.0 + expected.abs().max().item<double>());
}

// Loads the saved module back and holds it to flowlab's forward on batches of other sizes.
double check_trace(const std::string& bytes, Traceable& t, at::Generator& g,
                   const std::string& what) {
  std::istringstream in(bytes);
  torch::jit::Module loaded;
  try {
    loaded = torch::jit::load(in);
  } catch (const std::exception& e) {
    throw RunError(fmt::format("the traced {} does not load back: {}", what, first_line(e.what())));
  }
  loaded.eval();
  double worst = 0;
  for (int64_t n : kCheckBatches) {
    const torch::Tensor x = t.inputs(n, g);
    torch::NoGradGuard no_grad;
    const torch::Tensor expected = t.forward(x);
    torch::Tensor got;
    try {
      got = loaded.forward({x}).toTensor();
    } catch (const std::exception& e) {
      throw RunError(fmt::format(
          "the traced {} fails on a batch of {} (traced with {}): its forward fixes a size "
          "the tracer cannot follow, so it cannot be exported this way ({})",
          what, n, kTraceBatch, interpreter_error(e.what())));
    }
    if (got.sizes() != expected.sizes())
      throw RunError(fmt::format("the traced {} gives shape [{}] on a batch of {}, flowlab [{}]",
                                 what, fmt::join(got.sizes(), ", "), n,
                                 fmt::join(expected.sizes(), ", ")));
    const double difference = (got - expected).abs().max().item<double>();
    if (!(difference <= tolerance_for(expected)))
      throw RunError(fmt::format(
          "the traced {} differs from flowlab's forward by {:.3g} on a batch of {} (tolerance "
          "{:.3g}): not exported",
          what, difference, n, tolerance_for(expected)));
    worst = std::max(worst, difference);
  }
  return worst;
}

// example.pt: a TorchScript module with two buffers, the input batch and flowlab's output for it.
std::string example_module(const torch::Tensor& input, const torch::Tensor& output) {
  torch::jit::Module m("__torch__.flowlab.Example");
  m.register_buffer("inputs", input);
  m.register_buffer("outputs", output);
  return serialized(m);
}

std::string params_text(const Params& params) {
  std::vector<std::string> parts;
  for (const auto& [name, value] : params.values())
    parts.push_back(name + "=" + display_text(value));
  return parts.empty() ? "(none)" : fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

std::vector<std::string> exportable_families() { return {"classifier", "dsd", "kge"}; }

bool holds_saved_model(const fs::path& dir) { return fs::is_regular_file(dir / "model.json"); }

ExportSummary export_saved_model(const fs::path& model_dir, const fs::path& to,
                                 const Registry& registry, const ExportProvenance& provenance) {
  const ModelRecord record = ModelRecord::load(model_dir, registry);
  const auto families = exportable_families();
  if (std::find(families.begin(), families.end(), record.family) == families.end())
    throw ConfigError(
        SourceLocation{"command line"}, "RUN",
        fmt::format("a {}/{} model cannot be exported: {}", record.family, record.arch,
                    record.family == "graph"
                        ? "graph networks classify graphs that flowlab encodes "
                          "(subgraph tables), not tensors"
                        : "export supports " + fmt::format("{}", fmt::join(families, ", "))));
  Traceable t = record.family == "classifier" ? classifier_traceable(model_dir, registry, record)
                                              : network_traceable(model_dir, registry, record);
  const std::string what = record.family + "/" + record.arch;
  at::Generator g = at::detail::createCPUGenerator(20261201);

  torch::jit::Module traced;
  try {
    traced = trace(t, t.inputs(kTraceBatch, g), record.arch);
  } catch (const RunError&) {
    throw;
  } catch (const std::exception& e) {
    throw RunError(fmt::format("tracing {} failed: {}", what, first_line(e.what())));
  }
  const std::string model_bytes = serialized(traced);
  ExportSummary summary;
  summary.family = record.family;
  summary.arch = record.arch;
  summary.input = t.input;
  summary.output = t.output;
  summary.check_difference = check_trace(model_bytes, t, g, what);
  for (const auto& p : t.module->parameters()) summary.parameters += p.numel();

  const torch::Tensor example = t.inputs(kExampleBatch, g);
  torch::Tensor expected;
  {
    torch::NoGradGuard no_grad;
    expected = t.forward(example).detach();
  }

  fs::create_directories(to);
  LoaderFacts facts;
  facts.title =
      fmt::format("{}/{} from flowlab run {}", record.family, record.arch, provenance.run_id);
  facts.run_id = provenance.run_id;
  facts.run_uuid = provenance.run_uuid;
  facts.node = provenance.node;
  facts.op = provenance.op;
  facts.architecture = what;
  facts.params = params_text(record.params);
  facts.input = t.input;
  facts.output = t.output;
  facts.parameters = summary.parameters;
  facts.relative_tolerance = kRelativeTolerance;
  facts.example_input =
      shape_text(std::to_string(kExampleBatch),
                 record.family == "kge" ? std::vector<int64_t>{2} : record.input.shape);
  write_text_file(to / "model.pt", model_bytes);
  write_text_file(to / "example.pt", example_module(example, expected));
  fs::copy_file(model_dir / "model.json", to / "model.json", fs::copy_options::overwrite_existing);
  for (const auto& [name, text] : loader_files(facts)) write_text_file(to / name, text);
  summary.files = {"model.pt", "example.pt", "model.json"};
  for (const auto& [name, text] : loader_files(facts)) summary.files.push_back(name);
  return summary;
}

}  // namespace flowlab::ops
