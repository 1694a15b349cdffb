#pragma once
// What the certification ops share: their params, which images they certify, how they report.
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "graph/op.h"
#include "ops/certify/certification.h"
#include "ops/certify/smoothing.h"
#include "ops/classifier.h"

namespace flowlab::ops::certify {

/// sigma, n0, n, alpha, batch_size, split, every, max_images, radii, seed.
std::vector<ParamSpec> certification_params();

struct CertificationSetup {
  SmoothingOptions smoothing;
  std::vector<int64_t> indices;  // images of the split to certify
  std::vector<double> radii;     // where certified accuracy is reported
  uint64_t seed = 0;
  const at::Tensor* images = nullptr;  // the split's images [N, C, H, W] and labels [N]
  const at::Tensor* labels = nullptr;
};

/// Reads the common params; throws RunError when no image is selected or radii are malformed.
CertificationSetup read_certification_setup(const Params& params, const at::Tensor& split_images,
                                            const at::Tensor& split_labels);

/// Throws RunError when the model was not built for this data (classes, channels, image size).
void check_model_fits(const ClassifierModel& model, int64_t num_classes, const at::Tensor& images);

/// One generator per image, seeded by its index: results do not depend on order or batching.
at::Generator image_generator(uint64_t seed, int64_t index);

/// A logits function for smoothing `model` and the matching o.input: the model's fixed input layer
/// (mask, mean, std) is folded into the sampler, which then builds each standardized noisy batch
/// in one pass. The certificate is unchanged: the noise has the same law, only the arithmetic is
/// rearranged.
LogitsFn standardized_logits(const ClassifierModel& model, SmoothingOptions& o);

/// certified_accuracy@R for each radius, acr, abstain_rate, images; keys get `prefix`.
void log_certification_metrics(OpContext& ctx, const Certification& result,
                               const std::vector<double>& radii, const std::string& prefix = "");

/// Writes the per-image CSV into the node's output directory and registers it.
void write_certification_file(OpContext& ctx, const Certification& result,
                              const std::string& name = "certification.csv");

/// "image 3/500  certified acc 0.812  21034 samples/s  ETA 1:02".
std::string certification_progress(size_t done, size_t total, double accuracy, double samples,
                                   double seconds);

}  // namespace flowlab::ops::certify
