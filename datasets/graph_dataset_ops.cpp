// dataset.csl, dataset.synthetic_graphs and dataset.graph_files. dataset.csl: the Circular Skip
// Links benchmark (datasets/csl.h) with one of its stratified cross-validation folds as the test
// split, so cross-validation is a sweep axis (`fold=range(0,5)`): test = fold f, valid = fold f+1
// (mod folds), train = the rest (3:1:1 with 5 folds, the Benchmarking-GNNs protocol).
// dataset.synthetic_graphs: the tasks of datasets/synthetic_graphs.h, split the same way.
// dataset.graph_files: users' graphs in the text format
// of datasets/graph_dataset.h (classes and node labels are the integers used there).
#include <fmt/format.h>

#include "common/error.h"
#include "datasets/csl.h"
#include "datasets/graph_dataset.h"
#include "datasets/register.h"
#include "datasets/split_files.h"
#include "datasets/synthetic_graphs.h"

namespace flowlab::datasets {
namespace {

// The generated graphs split by stratified folds: test = fold f, valid = fold f+1, train = the
// rest; logs the split sizes and how many graphs 1-WL can tell apart.
std::shared_ptr<GraphDataset> split_by_fold(OpContext& ctx, const std::vector<Graph>& graphs,
                                            std::vector<std::string> class_names) {
  const Params& p = ctx.params();
  const auto folds = static_cast<int32_t>(p.get_int("folds"));
  const auto fold = static_cast<int32_t>(p.get_int("fold"));
  if (fold >= folds)
    throw RunError(fmt::format("fold {} does not exist: folds are 0 .. {}", fold, folds - 1));
  const auto fold_of = stratified_folds(graphs, folds, static_cast<uint64_t>(p.get_int("seed")));
  auto d = std::make_shared<GraphDataset>();
  d->class_names = std::move(class_names);
  for (size_t i = 0; i < graphs.size(); ++i) {
    if (fold_of[i] == fold)
      d->test.push_back(graphs[i]);
    else if (fold_of[i] == (fold + 1) % folds)
      d->valid.push_back(graphs[i]);
    else
      d->train.push_back(graphs[i]);
  }
  ctx.log_metric("train_graphs", static_cast<double>(d->train.size()));
  ctx.log_metric("valid_graphs", static_cast<double>(d->valid.size()));
  ctx.log_metric("test_graphs", static_cast<double>(d->test.size()));
  // What 1-WL (and so any message-passing network) can tell apart (CSL: one histogram for all).
  auto histograms = wl_histograms(graphs);
  std::sort(histograms.begin(), histograms.end());
  histograms.erase(std::unique(histograms.begin(), histograms.end()), histograms.end());
  ctx.log_metric("wl_distinct_histograms", static_cast<double>(histograms.size()));
  return d;
}

std::vector<ParamSpec> fold_params(int32_t max_folds, const std::string& seed_doc) {
  return {
      int_param("fold", 0, "the cross-validation fold held out for testing (a sweep axis)", 0.0,
                99.0),
      int_param("folds", 5,
                "stratified folds (test = fold, valid = the next fold, train = the rest)", 3.0,
                max_folds),
      inherited(int_param("seed", 0, seed_doc + " (default: the spec's seed)", 0.0)),
  };
}

ArtifactPtr run_csl(OpContext& ctx) {
  std::vector<std::string> names;
  for (int32_t r : csl::skip_lengths()) names.push_back(fmt::format("R={}", r));
  return split_by_fold(ctx, csl::generate(static_cast<uint64_t>(ctx.params().get_int("seed"))),
                       std::move(names));
}

ArtifactPtr run_synthetic_graphs(OpContext& ctx) {
  const Params& p = ctx.params();
  const std::string task = p.get_string("task");
  const auto graphs = synthetic::generate(task, static_cast<int32_t>(p.get_int("graphs_per_class")),
                                          static_cast<int32_t>(p.get_int("min_nodes")),
                                          static_cast<int32_t>(p.get_int("max_nodes")),
                                          static_cast<uint64_t>(p.get_int("seed")));
  return split_by_fold(ctx, graphs,
                       task == "cycles" ? std::vector<std::string>{"one cycle", "two cycles"}
                                        : std::vector<std::string>{"3-regular", "irregular"});
}

ArtifactPtr run_graph_files(OpContext& ctx) {
  const Params& p = ctx.params();
  const std::filesystem::path dir = p.get_string("path");
  auto d = std::make_shared<GraphDataset>();
  d->train = read_graphs(dir / p.get_string("train"));
  d->valid = read_graphs(dir / p.get_string("valid"));
  d->test = read_graphs(dir / p.get_string("test"));
  if (d->train.empty()) throw RunError((dir / p.get_string("train")).string() + " holds no graphs");
  int32_t classes = 0, node_labels = 0;
  for (const auto* split : {&d->train, &d->valid, &d->test})
    for (const auto& g : *split) {
      classes = std::max(classes, g.label + 1);
      for (int32_t l : g.node_labels) node_labels = std::max(node_labels, l + 1);
    }
  for (int32_t c = 0; c < classes; ++c) d->class_names.push_back(std::to_string(c));
  d->node_label_count = std::max(node_labels, 1);
  ctx.log_metric("train_graphs", static_cast<double>(d->train.size()));
  ctx.log_metric("valid_graphs", static_cast<double>(d->valid.size()));
  ctx.log_metric("test_graphs", static_cast<double>(d->test.size()));
  ctx.log_metric("classes", static_cast<double>(classes));
  return d;
}

}  // namespace

void register_graph_datasets(Registry& r) {
  r.add_type({GraphDataset::kType,
              "labelled graphs (nodes, undirected edges, node labels, a class each): train / "
              "valid / test splits and class names",
              loader(&GraphDataset::load)});
  OpDef op;
  op.name = "dataset.csl";
  op.summary =
      "Circular Skip Links: 150 circulants C(41, R), 10 classes of skip length, random node "
      "orders; one stratified cross-validation fold as the test split";
  op.version = 1;
  op.params = fold_params(15, "seed of the node orders and the folds");
  op.output_type = GraphDataset::kType;
  op.headline_metrics = {"train_graphs", "valid_graphs", "test_graphs", "wl_distinct_histograms"};
  op.run = run_csl;
  r.add(std::move(op));

  OpDef synthetic;
  synthetic.name = "dataset.synthetic_graphs";
  synthetic.summary =
      "small graph tasks with a known answer: one cycle vs two (1-WL-equivalent), 3-regular vs "
      "irregular; stratified folds";
  synthetic.version = 1;
  synthetic.params = {
      string_param("task", "cycles",
                   "cycles: C_n vs C_a + C_(n-a), a in 3..5 (GIN cannot separate them, SPEN k=2 "
                   "can); regular: 3-regular vs irregular with as many edges",
                   {"cycles", "regular"}),
      int_param("graphs_per_class", 100, "graphs of each of the two classes", 5.0, 1'000'000.0),
      int_param("min_nodes", 12, "fewest nodes of a graph", 6.0, 100'000.0),
      int_param("max_nodes", 20, "most nodes of a graph", 6.0, 100'000.0),
  };
  for (auto& spec : fold_params(1000, "seed of the graphs, node orders and folds"))
    synthetic.params.push_back(std::move(spec));
  synthetic.output_type = GraphDataset::kType;
  synthetic.headline_metrics = {"train_graphs", "valid_graphs", "test_graphs",
                                "wl_distinct_histograms"};
  synthetic.run = run_synthetic_graphs;
  r.add(std::move(synthetic));

  OpDef files;
  files.name = "dataset.graph_files";
  files.summary = "labelled graphs from your own files (datasets/graph_dataset.h's text format)";
  files.version = 1;
  files.params = split_file_params("graphs");
  files.output_type = GraphDataset::kType;
  files.headline_metrics = {"train_graphs", "valid_graphs", "test_graphs", "classes"};
  files.run = run_graph_files;
  r.add(std::move(files));
}

}  // namespace flowlab::datasets
