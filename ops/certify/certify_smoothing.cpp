// certify.smoothing: Cohen et al.'s CERTIFY (and, optionally, PREDICT) for every k-th image of a
// split, with certified accuracy on a radius grid, average certified radius and abstention rate.
#include <chrono>

#include <torch/torch.h>

#include "common/clock.h"
#include "datasets/classification_data.h"
#include "ops/certify/common.h"
#include "ops/certify/stats.h"
#include "ops/classifier.h"
#include "ops/register.h"
#include "ops/torch_runtime.h"

namespace flowlab::ops::certify {
namespace {

ArtifactPtr run_certify_smoothing(OpContext& ctx) {
  const Params& p = ctx.params();
  auto model = ctx.input<ClassifierModel>("model");
  auto data = ctx.input<datasets::ClassificationData>("data");
  const bool test = p.get_string("split") == "test";
  auto setup = read_certification_setup(p, test ? data->test_x : data->val_x,
                                        test ? data->test_y : data->val_y);
  check_model_fits(*model, data->num_classes(), *setup.images);
  LogitsFn f = standardized_logits(*model, setup.smoothing);
  const SmoothingOptions& o = setup.smoothing;
  const int64_t predict_n = p.get_int("predict_n");
  const int64_t k = data->num_classes();

  auto result = std::make_shared<Certification>();
  result->method = "cohen";
  result->sigma = o.sigma;
  int64_t predict_correct = 0, predict_abstain = 0, samples = 0;
  const auto start = std::chrono::steady_clock::now();
  for (size_t j = 0; j < setup.indices.size(); ++j) {
    ctx.check_cancelled();
    const int64_t idx = setup.indices[j];
    auto gen = image_generator(setup.seed, idx);
    auto t0 = std::chrono::steady_clock::now();
    Certificate c = certify(f, (*setup.images)[idx], k, o, gen);
    CertifiedImage row;
    row.index = idx;
    row.label = (*setup.labels)[idx].item<int64_t>();
    row.prediction = c.prediction;
    row.radius = c.radius;
    row.correct = c.prediction == row.label;
    row.count = c.count;
    row.p_lower = c.p_lower;
    row.seconds = seconds_since(t0);
    result->images.push_back(row);
    samples += o.n0 + o.n;
    if (predict_n > 0) {
      SmoothingOptions po = o;
      po.n = predict_n;
      int64_t guess = predict(f, (*setup.images)[idx], k, po, gen);
      predict_abstain += guess == kAbstain;
      predict_correct += guess == row.label;
      samples += predict_n;
    }
    ctx.progress(double(j + 1) / setup.indices.size(),
                 certification_progress(j + 1, setup.indices.size(), result->certified_accuracy(0),
                                        samples, seconds_since(start)));
  }
  double seconds = seconds_since(start);
  log_certification_metrics(ctx, *result, setup.radii);
  ctx.log_metric("samples_per_s", samples / seconds);
  ctx.log_metric("seconds_per_image", seconds / setup.indices.size());
  ctx.log_metric("max_radius", max_certifiable_radius(o.sigma, o.n, o.alpha));
  if (predict_n > 0) {
    ctx.log_metric("predict_accuracy", double(predict_correct) / setup.indices.size());
    ctx.log_metric("predict_abstain_rate", double(predict_abstain) / setup.indices.size());
  }
  write_certification_file(ctx, *result);
  return result;
}

}  // namespace

void register_certify_smoothing(Registry& r) {
  OpDef op;
  op.name = "certify.smoothing";
  op.summary = "randomized smoothing (Cohen et al. 2019): CERTIFY radii and PREDICT on a split";
  op.version = 2;  // 2: logits through the prepared inference path (ops/models/inference_plan.h)
  op.threads = 2;
  op.headline_metrics = {"certified_accuracy@0.5", "certified_accuracy@1", "acr", "abstain_rate"};
  op.params = certification_params();
  op.params.push_back(
      int_param("predict_n", 0, "also run PREDICT with this many samples (0 = skip)", 0.0));
  op.inputs = {
      {"model", ClassifierModel::kInterface, "the base classifier (trained with noise at sigma)"},
      {"data", datasets::ClassificationData::kInterface,
       "the dataset holding the split (images or sequences)"}};
  op.output_type = Certification::kType;
  op.run = run_certify_smoothing;
  r.add(std::move(op));
}

}  // namespace flowlab::ops::certify
