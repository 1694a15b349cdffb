#include "ops/certify/smoothing.h"

#include <torch/torch.h>

#include "ops/certify/stats.h"

namespace flowlab::ops::certify {

void for_each_noisy_batch(const at::Tensor& x, int64_t num, double sigma, int64_t batch_size,
                          at::Generator& gen, const std::function<void(const at::Tensor&)>& visit,
                          const InputStandardization& input) {
  // One buffer for all batches, filled in place: noise drawn and the image added in place, so a
  // batch costs one pass of random numbers and no allocations (the Python reference allocates a
  // repeated image, the noise, the scaled noise and their sum for every batch). All noise comes
  // from the image's one generator, in order: every sample is an independent draw, as the
  // Clopper-Pearson bound requires (per-chunk generators with derived seeds could repeat a stream).
  std::vector<int64_t> shape{std::min(batch_size, num)};
  for (auto s : x.sizes()) shape.push_back(s);
  auto image = x.to(torch::kCPU, torch::kFloat32).unsqueeze(0);
  const bool masked = input.mask.defined();
  // The mask broadcasts over channels ([1, 1, H, W] against [1, C, H, W]).
  auto mask = masked ? input.mask.to(torch::kCPU, torch::kFloat32).expand_as(image).contiguous()
                     : at::Tensor();
  if (masked) image = image * mask;
  image = (image - input.shift) / input.scale;
  const double noise_std = sigma / input.scale;
  auto buffer = torch::empty(shape, torch::kFloat32);
  for (int64_t done = 0; done < num; done += batch_size) {
    int64_t b = std::min(batch_size, num - done);  // the last batch is cut to exactly num
    auto batch = buffer.narrow(0, 0, b);
    batch.normal_(0.0, noise_std, gen);
    if (masked) batch.mul_(mask);
    batch.add_(image);
    visit(batch);
  }
}

at::Tensor sample_counts(const LogitsFn& f, const at::Tensor& x, int64_t num, double sigma,
                         int64_t num_classes, int64_t batch_size, at::Generator& gen,
                         const InputStandardization& input) {
  torch::NoGradGuard no_grad;  // measured faster than InferenceMode for convolutions here
  auto counts = torch::zeros({num_classes}, torch::kInt64);
  for_each_noisy_batch(
      x, num, sigma, batch_size, gen,
      [&](const at::Tensor& batch) {
        auto predictions = f(batch.to(x.device())).argmax(1).to(torch::kCPU);
        counts += torch::bincount(predictions, /*weights=*/{}, num_classes);
      },
      input);
  return counts;
}

at::Tensor sample_logits(const LogitsFn& f, const at::Tensor& x, int64_t num, double sigma,
                         int64_t batch_size, at::Generator& gen,
                         const InputStandardization& input) {
  torch::NoGradGuard no_grad;  // measured faster than InferenceMode for convolutions here
  std::vector<at::Tensor> parts;
  for_each_noisy_batch(
      x, num, sigma, batch_size, gen,
      [&](const at::Tensor& batch) {
        parts.push_back(f(batch.to(x.device())).to(torch::kCPU, torch::kFloat32));
      },
      input);
  return torch::cat(parts, 0);
}

Certificate certify(const LogitsFn& f, const at::Tensor& x, int64_t num_classes,
                    const SmoothingOptions& o, at::Generator& gen) {
  // Selection and estimation use separate draws: reusing the selection samples would bias the
  // bound upward.
  auto selection = sample_counts(f, x, o.n0, o.sigma, num_classes, o.batch_size, gen, o.input);
  int64_t top = selection.argmax().item<int64_t>();
  auto estimation = sample_counts(f, x, o.n, o.sigma, num_classes, o.batch_size, gen, o.input);
  Certificate c;
  c.count = estimation[top].item<int64_t>();
  c.p_lower = clopper_pearson_lower(c.count, o.n, o.alpha);
  if (c.p_lower < 0.5) return c;  // abstain
  c.prediction = top;
  c.radius = o.sigma * normal_quantile(c.p_lower);
  return c;
}

int64_t predict(const LogitsFn& f, const at::Tensor& x, int64_t num_classes,
                const SmoothingOptions& o, at::Generator& gen) {
  auto counts = sample_counts(f, x, o.n, o.sigma, num_classes, o.batch_size, gen, o.input);
  auto [values, indices] = counts.topk(std::min<int64_t>(2, num_classes));
  int64_t n1 = values[0].item<int64_t>();
  int64_t n2 = num_classes > 1 ? values[1].item<int64_t>() : 0;
  if (binomial_test_half(n1, n1 + n2) > o.alpha) return kAbstain;
  return indices[0].item<int64_t>();
}

}  // namespace flowlab::ops::certify
