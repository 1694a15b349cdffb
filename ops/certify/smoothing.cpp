#include "ops/certify/smoothing.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "ops/certify/stats.h"

namespace flowlab::ops::certify {

void for_each_noisy_batch(const at::Tensor& x, int64_t num, double sigma, int64_t batch_size,
                          at::Generator& gen, const std::function<void(const at::Tensor&)>& visit,
                          const InputStandardization& input) {
  // One buffer for all batches, filled in place: noise drawn and the image added chunk by chunk
  // while the chunk is in cache, chunks in parallel on the node's threads. (The Python reference
  // allocates a repeated image, the noise, the scaled noise and their sum for every batch, and
  // draws its noise on one thread.) Chunks have a fixed size and each its own generator seeded
  // from `gen`, so the noise depends on the seed only, never on the thread count.
  constexpr int64_t kChunkRows = 50;
  std::vector<int64_t> shape{std::min(batch_size, num)};
  for (auto s : x.sizes()) shape.push_back(s);
  auto image = x.to(torch::kCPU, torch::kFloat32).unsqueeze(0);
  const bool masked = input.mask.defined();
  if (masked) image = image * input.mask.to(torch::kCPU).view_as(image);
  image = (image - input.shift) / input.scale;
  const double noise_std = sigma / input.scale;
  auto mask = masked ? input.mask.to(torch::kCPU).view_as(image) : at::Tensor();
  auto buffer = torch::empty(shape, torch::kFloat32);
  for (int64_t done = 0; done < num; done += batch_size) {
    int64_t b = std::min(batch_size, num - done);  // the last batch is cut to exactly num
    uint64_t batch_seed;
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      batch_seed = gen.get<at::CPUGeneratorImpl>()->random64();
    }
    auto batch = buffer.narrow(0, 0, b);
    const int64_t chunks = (b + kChunkRows - 1) / kChunkRows;
    at::parallel_for(0, chunks, 1, [&](int64_t first, int64_t last) {
      for (int64_t c = first; c < last; ++c) {
        auto chunk_gen = at::detail::createCPUGenerator(batch_seed + 0x9e3779b97f4a7c15ULL * (c + 1));
        auto rows = batch.narrow(0, c * kChunkRows, std::min(kChunkRows, b - c * kChunkRows));
        rows.normal_(0.0, noise_std, chunk_gen);
        if (masked) rows.mul_(mask);
        rows.add_(image);
      }
    });
    visit(batch);
  }
}

at::Tensor sample_counts(const LogitsFn& f, const at::Tensor& x, int64_t num, double sigma,
                         int64_t num_classes, int64_t batch_size, at::Generator& gen,
                         const InputStandardization& input) {
  torch::NoGradGuard no_grad;  // measured faster than InferenceMode for convolutions here
  auto counts = torch::zeros({num_classes}, torch::kInt64);
  for_each_noisy_batch(x, num, sigma, batch_size, gen, [&](const at::Tensor& batch) {
    auto predictions = f(batch.to(x.device())).argmax(1).to(torch::kCPU);
    counts += torch::bincount(predictions, /*weights=*/{}, num_classes);
  }, input);
  return counts;
}

at::Tensor sample_logits(const LogitsFn& f, const at::Tensor& x, int64_t num, double sigma,
                         int64_t batch_size, at::Generator& gen, const InputStandardization& input) {
  torch::NoGradGuard no_grad;  // measured faster than InferenceMode for convolutions here
  std::vector<at::Tensor> parts;
  for_each_noisy_batch(x, num, sigma, batch_size, gen, [&](const at::Tensor& batch) {
    parts.push_back(f(batch.to(x.device())).to(torch::kCPU, torch::kFloat32));
  }, input);
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
