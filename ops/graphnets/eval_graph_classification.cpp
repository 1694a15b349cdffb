// eval.graph_classification: accuracy, mean cross-entropy, per-class accuracy and the confusion
// matrix of a trained graph classifier on one split (for cross-validation: one fold; the mean and
// spread over folds come from analyze.summary on the sweep).
#include <fmt/format.h>
#include <torch/torch.h>

#include "common/error.h"
#include "datasets/graph_dataset.h"
#include "ops/confusion_matrix.h"
#include "ops/graphnets/graph_models.h"
#include "ops/graphnets/graph_network.h"
#include "ops/metrics_table.h"
#include "ops/register.h"

namespace flowlab::ops::graphnets {
namespace {

ArtifactPtr run_eval_graph_classification(OpContext& ctx) {
  const Params& p = ctx.params();
  auto model = ctx.input<GraphModel>("model");
  auto data = ctx.input<datasets::GraphDataset>("data");
  const auto& graphs = p.get_string("split") == "test" ? data->test : data->valid;
  if (graphs.empty()) throw RunError("the " + p.get_string("split") + " split holds no graphs");
  if (model->class_names.size() != data->class_names.size())
    throw RunError(fmt::format("the model predicts {} classes but the dataset has {}",
                               model->class_names.size(), data->class_names.size()));
  GraphNetwork& net = *model->network;
  ConfusionMatrix confusion(data->class_names);
  double loss_sum = 0;
  const auto batch_size = static_cast<size_t>(p.get_int("batch_size"));
  torch::NoGradGuard no_grad;
  for (size_t start = 0; start < graphs.size(); start += batch_size) {
    ctx.check_cancelled();
    std::vector<std::shared_ptr<const EncodedGraph>> encoded;
    std::vector<const EncodedGraph*> batch;
    std::vector<int64_t> labels;
    for (size_t i = start; i < std::min(graphs.size(), start + batch_size); ++i) {
      encoded.push_back(net.encode(graphs[i]));
      batch.push_back(encoded.back().get()), labels.push_back(graphs[i].label);
    }
    const auto logits = net.forward_graphs(batch).to(torch::kCPU);
    const auto y = torch::tensor(labels);
    loss_sum +=
        torch::nn::functional::cross_entropy(
            logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            .item<double>();
    const auto predicted = logits.argmax(1);
    for (size_t i = 0; i < labels.size(); ++i)
      confusion.add(labels[i], predicted[static_cast<int64_t>(i)].item<int64_t>());
    const size_t done = std::min(graphs.size(), start + batch_size);
    ctx.progress(static_cast<double>(done) / static_cast<double>(graphs.size()),
                 fmt::format("{} / {} graphs", done, graphs.size()));
  }
  return report_classification(ctx, confusion, loss_sum / static_cast<double>(graphs.size()));
}

}  // namespace

void register_eval_graph_classification(Registry& r) {
  OpDef op;
  op.name = "eval.graph_classification";
  op.summary = "accuracy, loss, per-class accuracy and confusion matrix of a graph classifier";
  op.version = 1;
  op.threads = 2;
  op.headline_metrics = {"accuracy", "loss"};
  op.params = {
      string_param("split", "test", "which split to evaluate", {"test", "val"}),
      int_param("batch_size", 64, "graphs per forward pass", 1.0),
  };
  op.inputs = {{"model", GraphModel::kType, "the trained graph classifier"},
               {"data", datasets::GraphDataset::kType, "the graphs holding the split"}};
  op.output_type = MetricsTable::kType;
  op.run = run_eval_graph_classification;
  r.add(std::move(op));
}

}  // namespace flowlab::ops::graphnets
