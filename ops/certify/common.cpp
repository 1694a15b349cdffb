#include "ops/certify/common.h"

#include <sstream>

#include <fmt/format.h>
#include <torch/torch.h>

#include "common/clock.h"
#include "common/error.h"

namespace flowlab::ops::certify {

std::vector<ParamSpec> certification_params() {
  return {
      float_param("sigma", 0.25, "noise standard deviation, in [0,1] pixel units", 0.0, 10.0, true),
      int_param("n0", 100, "selection samples per image", 1.0),
      int_param("n", 10000, "estimation samples per image (fresh, never the selection ones)", 1.0),
      float_param("alpha", 0.001, "failure probability of each certificate", 0.0, 0.5, true),
      int_param("batch_size", 1000, "noisy copies per forward pass", 1.0),
      string_param("split", "test", "which split to certify", {"test", "val"}),
      int_param("every", 1, "certify every k-th image of the split", 1.0),
      int_param("max_images", 0, "stop after this many images (0 = all selected)", 0.0),
      non_empty(float_list_param("radii", {0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2},
                                 "radii at which certified accuracy is reported", 0.0)),
      inherited(int_param("seed", 0, "seed of the noise (default: the spec's seed)", 0.0)),
  };
}

CertificationSetup read_certification_setup(const Params& p, const at::Tensor& images,
                                            const at::Tensor& labels) {
  CertificationSetup s;
  s.smoothing.sigma = p.get_float("sigma");
  s.smoothing.n0 = p.get_int("n0");
  s.smoothing.n = p.get_int("n");
  s.smoothing.alpha = p.get_float("alpha");
  s.smoothing.batch_size = p.get_int("batch_size");
  s.seed = static_cast<uint64_t>(p.get_int("seed"));
  s.radii = p.get_float_list("radii");
  const int64_t every = p.get_int("every"), max_images = p.get_int("max_images");
  for (int64_t i = 0;
       i < images.size(0) && (max_images == 0 || int64_t(s.indices.size()) < max_images);
       i += every)
    s.indices.push_back(i);
  if (s.indices.empty())
    throw RunError("no images selected (check params.every and params.max_images)");
  s.images = &images;
  s.labels = &labels;
  return s;
}

LogitsFn standardized_logits(const ClassifierModel& model, SmoothingOptions& o) {
  const Standardization& s = model.standardization();
  const auto& shape = model.input_shape();
  o.input.shift = s.mean;
  o.input.scale = s.std;
  o.input.mask = s.input_mask == "all" ? at::Tensor()
                                       : checkerboard_mask(s.input_mask, shape.at(1), shape.at(2));
  torch::Device device(model.device());
  return [&model, device](const at::Tensor& batch) {
    return model.infer_standardized(batch.to(device));
  };
}

void check_model_fits(const ClassifierModel& model, int64_t num_classes, const at::Tensor& images) {
  const auto& shape = model.input_shape();
  if (model.num_classes() != num_classes || images.sizes().slice(1).vec() != shape)
    throw RunError(
        fmt::format("the model expects {} classes of inputs [{}], but the dataset has {} "
                    "classes of inputs [{}]",
                    model.num_classes(), fmt::join(shape, ", "), num_classes,
                    fmt::join(images.sizes().slice(1), ", ")));
}

at::Generator image_generator(uint64_t seed, int64_t index) {
  return at::detail::createCPUGenerator(seed * 1000003ULL + static_cast<uint64_t>(index));
}

void log_certification_metrics(OpContext& ctx, const Certification& result,
                               const std::vector<double>& radii, const std::string& prefix) {
  for (double r : radii)
    ctx.log_metric(fmt::format("{}certified_accuracy@{}", prefix, r), result.certified_accuracy(r));
  ctx.log_metric(prefix + "acr", result.average_certified_radius());
  ctx.log_metric(prefix + "abstain_rate", result.abstain_rate());
  if (prefix.empty()) ctx.log_metric("images", static_cast<double>(result.images.size()));
}

void write_certification_file(OpContext& ctx, const Certification& result,
                              const std::string& name) {
  result.write_csv(ctx.output_dir() / name);
  ctx.add_file(ctx.output_dir() / name, "certification");
}

std::string certification_progress(size_t done, size_t total, double accuracy, double samples,
                                   double seconds) {
  return fmt::format("image {}/{}  certified acc {:.3f}  {:.0f} samples/s  ETA {}", done, total,
                     accuracy, samples / std::max(seconds, 1e-9),
                     format_duration(seconds / done * (total - done)));
}

}  // namespace flowlab::ops::certify
