// certify.dual: dual randomized smoothing (Xia et al., ICLR 2024) with the sound radius
// (R_l + R_r) / sqrt(2) and alpha / 2 per branch; see ops/certify/dual.h for the derivation.
#include <chrono>
#include <cmath>
#include <sstream>

#include <fmt/format.h>
#include <torch/torch.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/file_io.h"
#include "datasets/classification_data.h"
#include "ops/certify/common.h"
#include "ops/certify/dual.h"
#include "ops/certify/stats.h"
#include "ops/classifier.h"
#include "ops/register.h"
#include "ops/torch_runtime.h"

namespace flowlab::ops::certify {
namespace {

ArtifactPtr run_certify_dual(OpContext& ctx) {
  const Params& p = ctx.params();
  auto left = ctx.input<ClassifierModel>("model_odd");
  auto right = ctx.input<ClassifierModel>("model_even");
  if (left->standardization().input_mask != "odd" || right->standardization().input_mask != "even")
    throw RunError(fmt::format(
        "dual smoothing needs one model per checkerboard half: model_odd was trained with pixels "
        "'{}' and model_even with '{}' (train them with pixels: checkerboard_odd / "
        "checkerboard_even)",
        left->standardization().input_mask, right->standardization().input_mask));
  auto data = ctx.input<datasets::ClassificationData>("data");
  const bool test = p.get_string("split") == "test";
  auto setup = read_certification_setup(p, test ? data->test_x : data->val_x,
                                        test ? data->test_y : data->val_y);
  check_model_fits(*left, data->num_classes(), *setup.images);
  check_model_fits(*right, data->num_classes(), *setup.images);
  const SmoothingOptions& o = setup.smoothing;
  torch::Device dl(left->device()), dr(right->device());
  LogitsFn f_l = [&](const at::Tensor& b) { return left->forward(b.to(dl)); };
  LogitsFn f_r = [&](const at::Tensor& b) { return right->forward(b.to(dr)); };

  auto result = std::make_shared<Certification>();
  result->method = "dual";
  result->sigma = o.sigma;
  int64_t samples = 0, both_positive = 0;
  // Each branch's votes and bound, so every radius can be recomputed from the file:
  // radius = (sigma Phi^-1(p_lower_l) + sigma Phi^-1(p_lower_r)) / sqrt(2), p_lower_i the
  // Clopper-Pearson lower bound of count_i / n at alpha / 2.
  const auto branches_csv = ctx.output_dir() / "dual_branches.csv";
  std::ostringstream branches;
  branches << fmt::format("# sigma={} n={} alpha={}\n", o.sigma, o.n, o.alpha)
           << "index,label,prediction,radius,count_l,count_r,p_lower_l,p_lower_r,radius_l,"
              "radius_r\n";
  const auto start = std::chrono::steady_clock::now();
  for (size_t j = 0; j < setup.indices.size(); ++j) {
    ctx.check_cancelled();
    const int64_t idx = setup.indices[j];
    auto gen = image_generator(setup.seed, idx);
    auto t0 = std::chrono::steady_clock::now();
    DualCertificate c = dual_certify(f_l, f_r, (*setup.images)[idx], data->num_classes(), o, gen);
    CertifiedImage row;
    row.index = idx;
    row.label = (*setup.labels)[idx].item<int64_t>();
    row.prediction = c.prediction;
    row.radius = c.radius;
    row.correct = c.prediction == row.label;
    row.count = c.count_l + c.count_r;
    row.p_lower = std::min(c.p_lower_l, c.p_lower_r);
    row.seconds = seconds_since(t0);
    result->images.push_back(row);
    branches << fmt::format("{},{},{},{:.17g},{},{},{:.17g},{:.17g},{:.17g},{:.17g}\n", idx,
                            row.label, c.prediction, c.radius, c.count_l, c.count_r, c.p_lower_l,
                            c.p_lower_r, c.radius_l, c.radius_r);
    both_positive += c.radius_l > 0 && c.radius_r > 0;
    samples += 2 * (o.n0 + o.n);  // two forward passes per noise draw
    ctx.progress(double(j + 1) / setup.indices.size(),
                 certification_progress(j + 1, setup.indices.size(), result->certified_accuracy(0),
                                        samples, seconds_since(start)));
  }
  double seconds = seconds_since(start);
  log_certification_metrics(ctx, *result, setup.radii);
  ctx.log_metric("samples_per_s", samples / seconds);
  ctx.log_metric("seconds_per_image", seconds / setup.indices.size());
  ctx.log_metric("both_branches_certify", double(both_positive) / setup.indices.size());
  // With both branches at their cap the radius is sqrt(2) * sigma * Phi^{-1}((alpha/2)^(1/n)).
  ctx.log_metric("max_radius", std::sqrt(2.0) * max_certifiable_radius(o.sigma, o.n, o.alpha / 2));
  write_certification_file(ctx, *result);
  write_text_file(branches_csv, branches.str());
  ctx.add_file(branches_csv, "dual_branches");
  return result;
}

}  // namespace

void register_certify_dual(Registry& r) {
  OpDef op;
  op.name = "certify.dual";
  op.summary =
      "dual randomized smoothing (Xia et al. 2024): two checkerboard halves, summed votes, "
      "sound radius (R_l + R_r)/sqrt(2)";
  // 2: dual_branches.csv (each branch's votes and bound); 3: logits through the prepared
  // inference path (ops/models/inference_plan.h; equal up to floating-point reassociation)
  op.version = 3;
  op.threads = 2;
  op.headline_metrics = {"certified_accuracy@0.5", "certified_accuracy@1", "acr", "abstain_rate"};
  op.params = certification_params();
  op.inputs = {
      {"model_odd", ClassifierModel::kInterface, "base classifier of the pixels with i + j odd"},
      {"model_even", ClassifierModel::kInterface, "base classifier of the other half"},
      {"data", datasets::ClassificationData::kType, "the dataset holding the split"}};
  op.output_type = Certification::kType;
  op.run = run_certify_dual;
  r.add(std::move(op));
}

}  // namespace flowlab::ops::certify
