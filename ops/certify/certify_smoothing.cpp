// certify.smoothing: Cohen et al.'s CERTIFY (and, optionally, PREDICT) for every k-th image of a
// split, with certified accuracy on a radius grid, average certified radius and abstention rate.
#include <chrono>
#include <sstream>

#include <torch/torch.h>

#include <fmt/format.h>

#include "datasets/classification_data.h"
#include "graph/error.h"
#include "ops/certify/certification.h"
#include "ops/certify/smoothing.h"
#include "ops/certify/stats.h"
#include "ops/classifier.h"
#include "ops/classifier_net.h"
#include "ops/format.h"
#include "ops/register.h"
#include "ops/torch_runtime.h"

namespace flowlab::ops::certify {
namespace {

using datasets::ClassificationData;

std::vector<double> parse_radii(const std::string& text) {
  std::vector<double> radii;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      double r = std::stod(item, &used);
      if (used != item.size() || r < 0) throw std::invalid_argument(item);
      radii.push_back(r);
    } catch (const std::exception&) {
      throw RunError("params.radii: expected comma-separated radii >= 0 such as 0,0.25,0.5, got \"" + text + "\"");
    }
  }
  return radii;
}

// Metric keys carry the radius: certified_accuracy@0.25.
std::string at_radius(const std::string& key, double r) { return fmt::format("{}@{}", key, r); }

ArtifactPtr run_certify_smoothing(OpContext& ctx) {
  const Params& p = ctx.params();
  set_torch_threads(ctx.threads());
  auto model = ctx.input<Classifier>("model");
  auto data = ctx.input<ClassificationData>("data");
  const bool test = p.get_string("split") == "test";
  const auto& xs = test ? data->test_x : data->val_x;
  const auto& ys = test ? data->test_y : data->val_y;
  const int64_t every = p.get_int("every"), max_images = p.get_int("max_images");
  std::vector<int64_t> indices;
  for (int64_t i = 0; i < xs.size(0) && (max_images == 0 || int64_t(indices.size()) < max_images); i += every)
    indices.push_back(i);
  if (indices.empty()) throw RunError("no images selected (check params.every and params.max_images)");

  SmoothingOptions o;
  o.sigma = p.get_float("sigma");
  o.n0 = p.get_int("n0");
  o.n = p.get_int("n");
  o.alpha = p.get_float("alpha");
  o.batch_size = p.get_int("batch_size");
  const int64_t predict_n = p.get_int("predict_n");
  const uint64_t seed = static_cast<uint64_t>(p.get_int("seed"));
  auto radii = parse_radii(p.get_string("radii"));

  torch::Device device(model->device());
  model->net().eval();
  LogitsFn f = [&](const at::Tensor& batch) { return model->forward(batch.to(device)); };
  const int64_t k = data->num_classes();

  auto result = std::make_shared<Certification>();
  result->method = "cohen";
  result->sigma = o.sigma;
  int64_t predict_correct = 0, predict_abstain = 0, samples = 0;
  const auto start = std::chrono::steady_clock::now();
  for (size_t j = 0; j < indices.size(); ++j) {
    ctx.check_cancelled();
    int64_t idx = indices[j];
    // One generator per image, seeded by its index: results do not depend on batch order.
    auto gen = at::detail::createCPUGenerator(seed * 1000003ULL + static_cast<uint64_t>(idx));
    auto t0 = std::chrono::steady_clock::now();
    Certificate c = certify(f, xs[idx], k, o, gen);
    CertifiedImage row;
    row.index = idx;
    row.label = ys[idx].item<int64_t>();
    row.prediction = c.prediction;
    row.radius = c.radius;
    row.correct = c.prediction == row.label;
    row.count = c.count;
    row.p_lower = c.p_lower;
    row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    result->images.push_back(row);
    samples += o.n0 + o.n;
    if (predict_n > 0) {
      SmoothingOptions po = o;
      po.n = predict_n;
      int64_t guess = predict(f, xs[idx], k, po, gen);
      predict_abstain += guess == kAbstain;
      predict_correct += guess == row.label;
      samples += predict_n;
    }
    double spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ctx.progress(double(j + 1) / indices.size(),
                 fmt::format("image {}/{}  certified acc {:.3f}  {:.0f} samples/s  ETA {}", j + 1,
                             indices.size(), result->certified_accuracy(0), samples / spent,
                             format_duration(spent / (j + 1) * (indices.size() - j - 1))));
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (double r : radii) ctx.log_metric(at_radius("certified_accuracy", r), result->certified_accuracy(r));
  ctx.log_metric("acr", result->average_certified_radius());
  ctx.log_metric("abstain_rate", result->abstain_rate());
  ctx.log_metric("images", static_cast<double>(indices.size()));
  ctx.log_metric("samples_per_s", samples / seconds);
  ctx.log_metric("seconds_per_image", seconds / indices.size());
  ctx.log_metric("max_radius", max_certifiable_radius(o.sigma, o.n, o.alpha));
  if (predict_n > 0) {
    ctx.log_metric("predict_accuracy", double(predict_correct) / indices.size());
    ctx.log_metric("predict_abstain_rate", double(predict_abstain) / indices.size());
  }
  result->write_csv(ctx.output_dir() / "certification.csv");
  ctx.add_file(ctx.output_dir() / "certification.csv", "certification");
  return result;
}

}  // namespace

void register_certify_smoothing(Registry& r) {
  OpDef op;
  op.name = "certify.smoothing";
  op.summary = "randomized smoothing (Cohen et al. 2019): CERTIFY radii and PREDICT on a split";
  op.version = 1;
  op.params = {
      float_param("sigma", 0.25, "noise standard deviation, in [0,1] pixel units", 0.0, 10.0, true),
      int_param("n0", 100, "selection samples per image", 1.0),
      int_param("n", 10000, "estimation samples per image (fresh, never the selection ones)", 1.0),
      float_param("alpha", 0.001, "failure probability of each certificate", 0.0, 0.5, true),
      int_param("batch_size", 1000, "noisy copies per forward pass", 1.0),
      string_param("split", "test", "which split to certify", {"test", "val"}),
      int_param("every", 1, "certify every k-th image of the split", 1.0),
      int_param("max_images", 0, "stop after this many images (0 = all selected)", 0.0),
      int_param("predict_n", 0, "also run PREDICT with this many samples (0 = skip)", 0.0),
      string_param("radii", "0,0.25,0.5,0.75,1,1.25,1.5,1.75,2",
                   "radii at which certified accuracy is reported"),
      inherited(int_param("seed", 0, "seed of the noise (default: the spec's seed)", 0.0)),
  };
  op.inputs = {{"model", Classifier::kType, "the base classifier (trained with noise at sigma)"},
               {"data", datasets::ClassificationData::kType, "the dataset holding the split"}};
  op.output_type = Certification::kType;
  op.run = run_certify_smoothing;
  r.add(std::move(op));
}

}  // namespace flowlab::ops::certify
