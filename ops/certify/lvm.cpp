#include "ops/certify/lvm.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <torch/torch.h>

#include "ops/certify/stats.h"

namespace flowlab::ops::certify {

namespace {

// Logits as a contiguous [N, K] float64 CPU tensor: the maps and the statistics run in double so
// that the bounds are not limited by float32 rounding.
at::Tensor as_double_rows(const at::Tensor& logits) {
  if (logits.dim() != 2) throw std::invalid_argument("simplex maps need logits of shape [N, K]");
  return logits.to(torch::kCPU, torch::kFloat64).contiguous();
}

std::vector<double> to_vector(const at::Tensor& t) {
  auto c = t.to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// Index of the largest value, the lowest index on ties.
int64_t first_argmax(const std::vector<double>& v) {
  int64_t best = 0;
  for (size_t c = 1; c < v.size(); ++c)
    if (v[c] > v[static_cast<size_t>(best)]) best = static_cast<int64_t>(c);
  return best;
}

// Votes per class: column sums of the one-hot rows.
std::vector<int64_t> vote_counts(const at::Tensor& logits) {
  auto sums = to_vector(hardmax(logits).sum(0));
  std::vector<int64_t> counts(sums.size());
  for (size_t c = 0; c < sums.size(); ++c) counts[c] = std::llround(sums[c]);
  return counts;
}

}  // namespace

std::string to_string(SimplexMap map) {
  switch (map) {
    case SimplexMap::hardmax:
      return "hardmax";
    case SimplexMap::softmax:
      return "softmax";
    case SimplexMap::sparsemax:
      return "sparsemax";
  }
  return "?";
}

SimplexMap parse_simplex_map(const std::string& name) {
  for (auto m : {SimplexMap::hardmax, SimplexMap::softmax, SimplexMap::sparsemax})
    if (to_string(m) == name) return m;
  throw std::invalid_argument("unknown simplex map \"" + name +
                              "\" (expected hardmax, softmax or sparsemax)");
}

at::Tensor hardmax(const at::Tensor& logits) {
  auto z = as_double_rows(logits);
  auto out = torch::zeros_like(z);
  auto zi = z.accessor<double, 2>();
  auto oi = out.accessor<double, 2>();
  // An explicit loop pins the tie rule (lowest index), which Cohen's selection also uses.
  for (int64_t r = 0; r < z.size(0); ++r) {
    int64_t best = 0;
    for (int64_t c = 1; c < z.size(1); ++c)
      if (zi[r][c] > zi[r][best]) best = c;
    oi[r][best] = 1.0;
  }
  return out;
}

at::Tensor softmax(const at::Tensor& logits, double temperature) {
  return torch::softmax(as_double_rows(logits) * temperature, 1);
}

at::Tensor sparsemax(const at::Tensor& logits, double temperature) {
  auto u = as_double_rows(logits) * temperature;
  const int64_t k = u.size(1);
  auto sorted = std::get<0>(u.sort(1, /*descending=*/true));
  auto cumulative = sorted.cumsum(1);
  auto ranks = torch::arange(1, k + 1, torch::kFloat64);
  // The support {k : 1 + k u_(k) > sum_{j<=k} u_(j)} is a prefix of the sorted row, so its size
  // is k*. At least 1: for huge u_(1), 1 + u_(1) == u_(1) in double.
  auto k_star = ((1.0 + ranks * sorted) > cumulative).sum(1, /*keepdim=*/true).clamp_min(1);
  auto tau = (cumulative.gather(1, k_star - 1) - 1.0) / k_star.to(torch::kFloat64);
  return (u - tau).clamp_min(0.0);
}

at::Tensor apply_simplex_map(SimplexMap map, const at::Tensor& logits, double temperature) {
  switch (map) {
    case SimplexMap::hardmax:
      return hardmax(logits);
    case SimplexMap::softmax:
      return softmax(logits, temperature);
    case SimplexMap::sparsemax:
      return sparsemax(logits, temperature);
  }
  throw std::logic_error("unknown simplex map");
}

ClassMoments class_moments(const at::Tensor& mapped) {
  auto z = as_double_rows(mapped);
  ClassMoments m;
  m.n = z.size(0);
  auto mean = z.mean(0);
  m.mean = to_vector(mean);
  if (m.n >= 2)  // two passes: no cancellation for the near-constant columns soft maps produce
    m.variance = to_vector((z - mean).square().sum(0) / double(m.n - 1));
  else
    m.variance.assign(m.mean.size(), 0.0);
  return m;
}

ClassBounds class_bounds(SimplexMap map, const ClassMoments& m, int64_t n, double alpha) {
  const size_t k = m.mean.size();
  const double delta = alpha / double(k);
  ClassBounds b;
  b.lower.resize(k), b.upper.resize(k);
  for (size_t c = 0; c < k; ++c) {
    if (map == SimplexMap::hardmax) {
      // Votes are Bernoulli: the exact binomial bound is tighter than Bernstein.
      int64_t votes = std::clamp<int64_t>(std::llround(m.mean[c] * double(n)), 0, n);
      b.lower[c] = clopper_pearson_lower(votes, n, delta);
      b.upper[c] = clopper_pearson_upper(votes, n, delta);
    } else {
      double shift = empirical_bernstein_shift(std::max(0.0, m.variance[c]), n, delta);
      b.lower[c] = m.mean[c] - shift;
      b.upper[c] = m.mean[c] + shift;
    }
    b.lower[c] = std::clamp(b.lower[c], 0.0, 1.0);
    b.upper[c] = std::clamp(b.upper[c], 0.0, 1.0);
  }
  return b;
}

double lvm_radius(const ClassBounds& b, int64_t a, double sigma) {
  const size_t k = b.lower.size();
  if (k < 2 || b.upper.size() != k || a < 0 || size_t(a) >= k)
    throw std::invalid_argument("lvm_radius needs K >= 2 classes and a class index in range");
  double p_b = 0;
  for (size_t c = 0; c < k; ++c)
    if (c != size_t(a)) p_b = std::max(p_b, b.upper[c]);  // never A's own upper bound
  double r = 0.5 * sigma * (normal_quantile(b.lower[size_t(a)]) - normal_quantile(p_b));
  // inf - inf only when both bounds sit at the same end of [0, 1]: no margin, no certificate.
  return std::isnan(r) ? -std::numeric_limits<double>::infinity() : r;
}

double lvm_max_radius(const std::vector<SimplexMap>& maps, int64_t n, int64_t k, double alpha,
                      double sigma) {
  ClassMoments certain;
  certain.n = n;
  certain.mean.assign(size_t(k), 0.0);
  certain.mean[0] = 1.0;
  certain.variance.assign(size_t(k), 0.0);
  double best = -std::numeric_limits<double>::infinity();
  for (auto map : maps)
    best = std::max(best, lvm_radius(class_bounds(map, certain, n, alpha), 0, sigma));
  return best;
}

std::vector<LvmCandidate> lvm_candidates(const std::vector<SimplexMap>& maps,
                                         const std::vector<double>& temperatures) {
  std::vector<LvmCandidate> out;
  for (auto map : maps) {
    if (map == SimplexMap::hardmax) {
      out.push_back({map, std::numeric_limits<double>::infinity()});
      continue;
    }
    for (double t : temperatures) out.push_back({map, t});
  }
  return out;
}

LvmSelection select_lvm_candidate(const at::Tensor& selection_logits,
                                  const std::vector<LvmCandidate>& candidates, int64_t n,
                                  double sigma, double alpha) {
  if (candidates.empty()) throw std::invalid_argument("LVM selection needs at least one candidate");
  auto z = as_double_rows(selection_logits);
  LvmSelection best;
  bool first = true;
  for (const auto& cand : candidates) {
    // Predictor for Algorithm 2's selection step: pretend the n estimation samples will have the
    // mean and variance seen on the n0 selection samples, and compute the radius the bounds
    // would then give with n samples. It rewards low variance (Bernstein) and a large mapped
    // margin, the two sides of the Lipschitz-variance-margin tradeoff, and it never looks at the
    // estimation samples, so the later bounds stay valid at level alpha.
    auto moments = class_moments(apply_simplex_map(cand.map, z, cand.temperature));
    int64_t cls = first_argmax(moments.mean);
    double r = lvm_radius(class_bounds(cand.map, moments, n, alpha), cls, sigma);
    if (first || r > best.predicted_radius) best = {cand, cls, r};
    first = false;
  }
  return best;
}

LvmCalibration calibrate_lvm_candidate(const std::vector<at::Tensor>& selection_logits,
                                       const std::vector<LvmCandidate>& candidates, int64_t n,
                                       double sigma, double alpha) {
  if (candidates.empty() || selection_logits.empty())
    throw std::invalid_argument("LVM calibration needs candidates and calibration images");
  std::vector<double> total(candidates.size(), 0.0);
  for (const auto& logits : selection_logits)
    for (size_t i = 0; i < candidates.size(); ++i)  // each candidate alone: its own class A
      total[i] += std::max(
          0.0, select_lvm_candidate(logits, {candidates[i]}, n, sigma, alpha).predicted_radius);
  const size_t best = size_t(std::max_element(total.begin(), total.end()) - total.begin());
  return {candidates[best], total[best] / double(selection_logits.size())};
}

LvmCertificate certify_lvm(const at::Tensor& selection_logits, const at::Tensor& estimation_logits,
                           const std::vector<LvmCandidate>& candidates, double sigma,
                           double alpha) {
  if (selection_logits.dim() != 2 || estimation_logits.dim() != 2 ||
      selection_logits.size(1) != estimation_logits.size(1) || selection_logits.size(1) < 2)
    throw std::invalid_argument("LVM certification needs [n0, K] and [n, K] logits with K >= 2");
  LvmCertificate c;
  c.selection =
      select_lvm_candidate(selection_logits, candidates, estimation_logits.size(0), sigma, alpha);
  const auto& chosen = c.selection.candidate;
  const int64_t a = c.selection.cls;
  // Estimation: the one chosen (map, t, A), bounded on the fresh samples only.
  auto moments =
      class_moments(apply_simplex_map(chosen.map, estimation_logits, chosen.temperature));
  auto bounds = class_bounds(chosen.map, moments, moments.n, alpha);
  c.p_lower = bounds.lower[size_t(a)];
  c.p_upper = 0;
  for (size_t k = 0; k < bounds.upper.size(); ++k)
    if (k != size_t(a)) c.p_upper = std::max(c.p_upper, bounds.upper[k]);
  c.votes = vote_counts(estimation_logits)[size_t(a)];
  double r = lvm_radius(bounds, a, sigma);
  if (r > 0) c.prediction = a, c.radius = r;
  return c;
}

Certificate cohen_certificate(const at::Tensor& selection_logits,
                              const at::Tensor& estimation_logits, double sigma, double alpha) {
  auto selection = vote_counts(selection_logits);
  auto estimation = vote_counts(estimation_logits);
  int64_t top =
      std::max_element(selection.begin(), selection.end()) - selection.begin();  // first max
  Certificate c;
  c.count = estimation[size_t(top)];
  c.p_lower = clopper_pearson_lower(c.count, estimation_logits.size(0), alpha);
  if (c.p_lower < 0.5) return c;  // abstain, as certify() does
  c.prediction = top;
  c.radius = sigma * normal_quantile(c.p_lower);
  return c;
}

LvmImageResult certify_lvm_image(const LogitsFn& f, const at::Tensor& x, const LvmOptions& o,
                                 at::Generator& gen) {
  // Logits are sampled once: selection first, then fresh estimation draws from the same
  // generator (the order certify() uses), so the Cohen certificate below is exactly certify()'s.
  auto selection = sample_logits(f, x, o.n0, o.sigma, o.batch_size, gen, o.input);
  auto estimation = sample_logits(f, x, o.n, o.sigma, o.batch_size, gen, o.input);
  LvmImageResult r;
  r.lvm = certify_lvm(selection, estimation, o.candidates, o.sigma, o.alpha);
  r.cohen = cohen_certificate(selection, estimation, o.sigma, o.alpha);
  return r;
}

}  // namespace flowlab::ops::certify
