// eval.classifier: accuracy, mean cross-entropy, per-class accuracy and the confusion matrix of
// a trained classifier on the dataset's test (or validation) split.

#include <fmt/format.h>
#include <torch/torch.h>

#include "common/error.h"
#include "datasets/classification_data.h"
#include "ops/classifier.h"
#include "ops/confusion_matrix.h"
#include "ops/metrics_table.h"
#include "ops/register.h"
#include "ops/torch_runtime.h"

namespace flowlab::ops {
namespace {

using datasets::ClassificationData;

ArtifactPtr run_eval_classifier(OpContext& ctx) {
  const Params& p = ctx.params();
  auto model = ctx.input<ClassifierModel>("model");
  auto data = ctx.input<ClassificationData>("data");
  bool test = p.get_string("split") == "test";
  const auto& x = test ? data->test_x : data->val_x;
  const auto& y = test ? data->test_y : data->val_y;
  if (x.size(0) == 0) throw RunError("the " + p.get_string("split") + " split is empty");
  if (model->num_classes() != data->num_classes())
    throw RunError(fmt::format("the model predicts {} classes but the dataset has {}",
                               model->num_classes(), data->num_classes()));

  // Evaluate where the model lives: it may be shared with other nodes, so it is not moved.
  torch::Device device(model->device());
  torch::NoGradGuard no_grad;
  const int64_t batch = p.get_int("batch_size");
  ConfusionMatrix confusion(data->class_names);
  double loss_sum = 0;
  for (int64_t start = 0; start < x.size(0); start += batch) {
    ctx.check_cancelled();
    auto xb = x.slice(0, start, start + batch).to(device);
    auto yb = y.slice(0, start, start + batch);
    auto logits = model->infer(xb).to(torch::kCPU);
    loss_sum +=
        torch::nn::functional::cross_entropy(
            logits, yb, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            .item<double>();
    auto pred = logits.argmax(1);
    auto truth = yb.accessor<int64_t, 1>();
    auto predicted = pred.accessor<int64_t, 1>();
    for (int64_t i = 0; i < yb.size(0); ++i) confusion.add(truth[i], predicted[i]);
    ctx.progress(std::min<double>(1.0, double(start + batch) / x.size(0)),
                 fmt::format("{} / {} images", std::min(start + batch, x.size(0)), x.size(0)));
  }
  return report_classification(ctx, confusion, loss_sum / static_cast<double>(x.size(0)));
}

}  // namespace

void register_eval_classifier(Registry& r) {
  OpDef op;
  op.name = "eval.classifier";
  op.summary = "accuracy, loss, per-class accuracy and confusion matrix of a classifier on a split";
  op.version = 2;  // 2: logits through the prepared inference path (ops/models/inference_plan.h)
  op.threads = 2;
  op.headline_metrics = {"accuracy", "loss"};
  op.params = {
      string_param("split", "test", "which split to evaluate", {"test", "val"}),
      int_param("batch_size", 1000,
                "images per forward pass (on the device the model was trained on)", 1.0),
  };
  op.inputs = {{"model", ClassifierModel::kInterface, "the trained classifier (any)"},
               {"data", datasets::ClassificationData::kInterface, "the dataset holding the split"}};
  op.output_type = MetricsTable::kType;
  op.run = run_eval_classifier;
  r.add(std::move(op));
}

}  // namespace flowlab::ops
