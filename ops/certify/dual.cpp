#include "ops/certify/dual.h"

#include <cmath>
#include <mutex>

#include <torch/torch.h>

#include "ops/certify/stats.h"

namespace flowlab::ops::certify {

namespace {

// Votes of each branch on `num` noisy copies: [2, K].
at::Tensor branch_counts(const LogitsFn& f_l, const LogitsFn& f_r, const at::Tensor& x, int64_t num,
                         int64_t k, const SmoothingOptions& o, at::Generator& gen) {
  torch::NoGradGuard no_grad;  // measured faster than InferenceMode for convolutions here
  auto counts = torch::zeros({2, k}, torch::kInt64);
  std::mutex counts_mutex;
  for_each_noisy_batch(x, num, o.sigma, o.batch_size, gen, [&](int64_t, const at::Tensor& batch) {
    auto on_device = batch.to(x.device());
    auto left = torch::bincount(f_l(on_device).argmax(1).to(torch::kCPU), {}, k);
    auto right = torch::bincount(f_r(on_device).argmax(1).to(torch::kCPU), {}, k);
    std::lock_guard<std::mutex> lock(counts_mutex);  // integer sums: any order, same counts
    counts[0] += left;
    counts[1] += right;
  });
  return counts;
}

}  // namespace

DualCertificate dual_certify(const LogitsFn& f_l, const LogitsFn& f_r, const at::Tensor& x,
                             int64_t num_classes, const SmoothingOptions& o, at::Generator& gen) {
  auto selection = branch_counts(f_l, f_r, x, o.n0, num_classes, o, gen);
  int64_t top = selection.sum(0).argmax().item<int64_t>();  // the most summed votes
  auto estimation = branch_counts(f_l, f_r, x, o.n, num_classes, o, gen);
  DualCertificate c;
  c.count_l = estimation[0][top].item<int64_t>();
  c.count_r = estimation[1][top].item<int64_t>();
  c.p_lower_l = clopper_pearson_lower(c.count_l, o.n, o.alpha / 2);
  c.p_lower_r = clopper_pearson_lower(c.count_r, o.n, o.alpha / 2);
  c.radius_l = o.sigma * normal_quantile(c.p_lower_l);
  c.radius_r = o.sigma * normal_quantile(c.p_lower_r);
  double radius = (c.radius_l + c.radius_r) / std::sqrt(2.0);
  if (!(radius > 0)) return c;  // abstain (also when a bound is 0: Phi^{-1}(0) = -inf)
  c.prediction = top;
  c.radius = radius;
  return c;
}

}  // namespace flowlab::ops::certify
