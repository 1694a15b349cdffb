// certify.lvm: LVM-RS (Delattre et al., ICLR 2024) in its two-stage form, next to Cohen's CERTIFY
// computed from the very same noisy logits.
//
// Per image the base classifier sees n0 selection copies and n fresh estimation copies, once.
// The selection copies choose the simplex map, the temperature and the class (lvm.h); the
// estimation copies bound that single choice. The public reference code instead returns the best
// radius over ~400 candidates evaluated on one sample, which is not alpha-controlled; this op does
// not offer that mode. Cohen's certificate (hardmax votes, Clopper-Pearson at alpha) is computed
// from the same logits, so the comparison costs no extra forward pass and has no sampling noise
// between the two methods.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <torch/torch.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/file_io.h"
#include "datasets/classification_data.h"
#include "ops/certify/common.h"
#include "ops/certify/lvm.h"
#include "ops/certify/smoothing.h"
#include "ops/certify/stats.h"
#include "ops/classifier.h"
#include "ops/register.h"
#include "ops/torch_runtime.h"

namespace flowlab::ops::certify {
namespace {

// The default temperature grid: 20 values log-spaced from 0.01 to 50 (0.01 * 5000^(i/19)).
const std::vector<double> kLvmTemperatures = {
    0.01,   0.01566, 0.02451, 0.03837, 0.06008, 0.09406, 0.1473, 0.2306, 0.361, 0.5651,
    0.8848, 1.385,   2.169,   3.395,   5.316,   8.322,   13.03,  20.4,   31.94, 50};

// The maps named by the (validated) `maps` list, each once.
std::vector<SimplexMap> lvm_maps(const std::vector<std::string>& names) {
  std::vector<SimplexMap> maps;
  for (const auto& name : names) {
    auto m = parse_simplex_map(name);
    if (std::find(maps.begin(), maps.end(), m) != maps.end())
      throw RunError("params.maps: '" + name + "' is listed twice");
    maps.push_back(m);
  }
  return maps;
}

ArtifactPtr run_certify_lvm(OpContext& ctx) {
  const Params& p = ctx.params();
  auto model = ctx.input<ClassifierModel>("model");
  auto data = ctx.input<datasets::ClassificationData>("data");
  if (data->num_classes() < 2) throw RunError("certification needs at least two classes");
  const bool test = p.get_string("split") == "test";
  auto setup = read_certification_setup(p, test ? data->test_x : data->val_x,
                                        test ? data->test_y : data->val_y);
  check_model_fits(*model, data->num_classes(), *setup.images);
  const auto maps = lvm_maps(p.get_string_list("maps"));
  // The sampler builds standardized noisy batches for the model (as certify.smoothing does).
  LogitsFn f = standardized_logits(*model, setup.smoothing);
  LvmOptions o;
  o.sigma = setup.smoothing.sigma;
  o.n0 = setup.smoothing.n0;
  o.n = setup.smoothing.n;
  o.alpha = setup.smoothing.alpha;
  o.batch_size = setup.smoothing.batch_size;
  o.input = setup.smoothing.input;
  o.candidates = lvm_candidates(maps, p.get_float_list("temperatures"));
  int64_t samples = 0;
  // Fixed mode: one (map, t) for every test image, chosen on held-out validation images, so the
  // certificates are all about one smoothed classifier (lvm.h, calibrate_lvm_candidate).
  const bool fixed = p.get_string("selection") == "fixed";
  if (fixed) {
    if (!test)
      throw RunError(
          "selection: fixed calibrates on the validation split, so it certifies the test split "
          "(set split: test)");
    const int64_t m = std::min<int64_t>(p.get_int("calibration_images"), data->val_x.size(0));
    if (m == 0)
      throw RunError(
          "selection: fixed needs validation images to calibrate on; this dataset has none");
    std::vector<at::Tensor> logits;
    for (int64_t i = 0; i < m; ++i) {
      ctx.check_cancelled();
      auto gen = image_generator(setup.seed ^ 0x6c62272e07bb0142ULL, i);  // not the test streams
      logits.push_back(sample_logits(f, data->val_x[i], o.n0, o.sigma, o.batch_size, gen, o.input));
    }
    const auto calibration = calibrate_lvm_candidate(logits, o.candidates, o.n, o.sigma, o.alpha);
    o.candidates = {calibration.candidate};
    samples += m * o.n0;
    ctx.log_metric("calibration.images", double(m));
    ctx.log_metric("calibration.mean_predicted_radius", calibration.mean_predicted_radius);
    ctx.log_metric("fixed.map", double(static_cast<int>(calibration.candidate.map)));
    if (std::isfinite(calibration.candidate.temperature))
      ctx.log_metric("fixed.temperature", calibration.candidate.temperature);
  }

  auto lvm = std::make_shared<Certification>();
  lvm->method = "lvm";
  lvm->sigma = o.sigma;
  Certification cohen;  // for the cohen.* metrics; its per-image values go into the selection CSV
  cohen.method = "cohen";
  cohen.sigma = o.sigma;
  std::map<SimplexMap, int64_t> selected;
  const auto selection_csv = ctx.output_dir() / "lvm_selection.csv";
  std::ostringstream sel_out;
  sel_out << "index,label,map,temperature,class,predicted_radius,prediction,radius,p_lower,p_upper,"
             "votes,cohen_prediction,cohen_radius,cohen_count,cohen_p_lower\n";
  const auto start = std::chrono::steady_clock::now();
  for (size_t j = 0; j < setup.indices.size(); ++j) {
    ctx.check_cancelled();
    const int64_t idx = setup.indices[j];
    // certify.smoothing's per-image generator: with equal params, the cohen.* certificates here
    // are exactly those of certify.smoothing.
    auto gen = image_generator(setup.seed, idx);
    auto t0 = std::chrono::steady_clock::now();
    LvmImageResult r = certify_lvm_image(f, (*setup.images)[idx], o, gen);
    const double secs = seconds_since(t0);
    const int64_t label = (*setup.labels)[idx].item<int64_t>();

    CertifiedImage row;
    row.index = idx;
    row.label = label;
    row.seconds = secs;
    row.prediction = r.lvm.prediction;
    row.radius = r.lvm.radius;
    row.correct = r.lvm.prediction == label;
    row.count = r.lvm.votes;  // hardmax votes for A: soft maps have no vote count of their own
    row.p_lower = r.lvm.p_lower;
    lvm->images.push_back(row);
    row.prediction = r.cohen.prediction;
    row.radius = r.cohen.radius;
    row.correct = r.cohen.prediction == label;
    row.count = r.cohen.count;
    row.p_lower = r.cohen.p_lower;
    cohen.images.push_back(row);

    const auto& s = r.lvm.selection;
    ++selected[s.candidate.map];
    sel_out << fmt::format(
        "{},{},{},{},{},{:.17g},{},{:.17g},{:.17g},{:.17g},{},{},{:.17g},{},{:.17g}\n", idx, label,
        to_string(s.candidate.map), s.candidate.temperature, s.cls, s.predicted_radius,
        r.lvm.prediction, r.lvm.radius, r.lvm.p_lower, r.lvm.p_upper, r.lvm.votes,
        r.cohen.prediction, r.cohen.radius, r.cohen.count, r.cohen.p_lower);
    samples += o.n0 + o.n;  // one forward row per noise draw, shared by both certificates
    ctx.progress(double(j + 1) / setup.indices.size(),
                 certification_progress(j + 1, setup.indices.size(), lvm->certified_accuracy(0),
                                        samples, seconds_since(start)) +
                     fmt::format("  (cohen {:.3f})", cohen.certified_accuracy(0)));
  }
  write_text_file(selection_csv, sel_out.str());
  const double seconds = seconds_since(start);
  log_certification_metrics(ctx, *lvm, setup.radii);
  log_certification_metrics(ctx, cohen, setup.radii, "cohen.");
  ctx.log_metric("cohen.max_radius", max_certifiable_radius(o.sigma, o.n, o.alpha));
  // LVM is capped too, lower than Cohen (alpha / K per class).
  ctx.log_metric("max_radius", lvm_max_radius(maps, o.n, data->num_classes(), o.alpha, o.sigma));
  for (auto m : maps)
    ctx.log_metric("selected." + to_string(m), double(selected[m]) / setup.indices.size());
  ctx.log_metric("samples_per_s", samples / seconds);
  ctx.log_metric("seconds_per_image", seconds / setup.indices.size());
  write_certification_file(ctx, *lvm);
  ctx.add_file(selection_csv, "lvm_selection");
  return lvm;
}

}  // namespace

void register_certify_lvm(Registry& r) {
  OpDef op;
  op.name = "certify.lvm";
  op.summary =
      "LVM randomized smoothing (Delattre et al. 2024), two-stage: simplex map and temperature "
      "chosen on n0 samples, certified on n fresh ones (the reference code's max over candidates "
      "on one sample is not alpha-controlled); Cohen's CERTIFY from the same samples alongside. "
      "Per input: each image's certificate is about the smoothed classifier its own selection "
      "chose, so two certificates (even for points inside one ball) can be about different "
      "classifiers and contradict each other; none certifies one deployed classifier as Cohen's "
      "do (selection: per_input, the paper's); selection: fixed chooses one map and temperature "
      "on calibration_images validation images and certifies every test image with it: "
      "certificates of one smoothed classifier";
  // 2: the max_radius metric (LVM's own cap), selection: fixed; 3: logits through the prepared
  // inference path (ops/models/inference_plan.h; equal up to floating-point reassociation)
  op.version = 3;
  op.threads = 2;
  op.headline_metrics = {"certified_accuracy@0.5", "certified_accuracy@1", "acr", "abstain_rate"};
  op.params = certification_params();
  op.params.push_back(
      non_empty(string_list_param("maps", {"hardmax", "softmax", "sparsemax"},
                                  "simplex maps to choose from, each once (hardmax = Cohen's vote)",
                                  {"hardmax", "softmax", "sparsemax"})));
  op.params.push_back(string_param(
      "selection", "per_input",
      "per_input: map, temperature and class chosen per image (the paper's; certificates of "
      "different classifiers); fixed: one map and temperature chosen on validation images, then "
      "only the class per image (certificates of one classifier)",
      {"per_input", "fixed"}));
  op.params.push_back(int_param("calibration_images", 100,
                                "fixed: validation images the map and temperature are chosen on",
                                1.0));
  op.params.push_back(non_empty(float_list_param(
      "temperatures", kLvmTemperatures,
      "temperatures t of the soft maps S(t z) (default: 20 log-spaced from 0.01 to 50)", 0.0,
      std::nullopt, /*min_exclusive=*/true)));
  op.inputs = {
      {"model", ClassifierModel::kInterface, "the base classifier (trained with noise at sigma)"},
      {"data", datasets::ClassificationData::kType, "the dataset holding the split"}};
  op.output_type = Certification::kType;
  op.run = run_certify_lvm;
  r.add(std::move(op));
}

}  // namespace flowlab::ops::certify
