// dataset.csl: the Circular Skip Links benchmark (datasets/csl.h) with one of its stratified
// cross-validation folds as the test split, so cross-validation is a sweep axis
// (`fold=range(0,5)`): test = fold f, valid = fold f+1 (mod folds), train = the rest (3:1:1 with 5
// folds, the Benchmarking-GNNs protocol).
#include <fmt/format.h>

#include "common/error.h"
#include "datasets/csl.h"
#include "datasets/graph_dataset.h"
#include "datasets/register.h"

namespace flowlab::datasets {
namespace {

ArtifactPtr run_csl(OpContext& ctx) {
  const Params& p = ctx.params();
  const auto folds = static_cast<int32_t>(p.get_int("folds"));
  const auto fold = static_cast<int32_t>(p.get_int("fold"));
  if (fold >= folds)
    throw RunError(fmt::format("fold {} does not exist: folds are 0 .. {}", fold, folds - 1));
  const auto seed = static_cast<uint64_t>(p.get_int("seed"));
  const auto graphs = csl::generate(seed);
  const auto fold_of = csl::stratified_folds(graphs, folds, seed);
  auto d = std::make_shared<GraphDataset>();
  for (int32_t r : csl::skip_lengths()) d->class_names.push_back(fmt::format("R={}", r));
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
  // What 1-WL (and so any message-passing network) can tell apart: one histogram for all 150.
  auto histograms = wl_histograms(graphs);
  std::sort(histograms.begin(), histograms.end());
  histograms.erase(std::unique(histograms.begin(), histograms.end()), histograms.end());
  ctx.log_metric("wl_distinct_histograms", static_cast<double>(histograms.size()));
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
  op.params = {
      int_param("fold", 0, "the cross-validation fold held out for testing (a sweep axis)", 0.0,
                99.0),
      int_param("folds", 5, "stratified folds (each holds 15 / folds graphs of every class)", 3.0,
                15.0),
      inherited(int_param("seed", 0,
                          "seed of the node orders and the folds (default: the spec's "
                          "seed)",
                          0.0)),
  };
  op.output_type = GraphDataset::kType;
  op.headline_metrics = {"train_graphs", "valid_graphs", "test_graphs", "wl_distinct_histograms"};
  op.run = run_csl;
  r.add(std::move(op));
}

}  // namespace flowlab::datasets
