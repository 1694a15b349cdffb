#include "ops/rrcm/contrastive.h"

#include <cmath>
#include <stdexcept>

#include <torch/torch.h>

namespace flowlab::ops::rrcm {

std::vector<double> karras_grid(int64_t points, double t_min, double t_max, double rho) {
  if (points < 2 || !(t_min > 0) || !(t_max > t_min) || !(rho > 0))
    throw std::invalid_argument("karras_grid needs K >= 2 and 0 < t_min < t_max, rho > 0");
  const double hi = std::pow(t_max, 1 / rho), lo = std::pow(t_min, 1 / rho);
  std::vector<double> t(points);
  for (int64_t k = 0; k < points; ++k)
    t[k] = std::pow(hi + double(k) / double(points - 1) * (lo - hi), rho);
  t.front() = t_max, t.back() = t_min;  // exactly, whatever pow's rounding
  return t;
}

int64_t nearest_grid_index(const std::vector<double>& grid, double t) {
  if (grid.empty()) throw std::invalid_argument("nearest_grid_index: an empty grid");
  int64_t best = 0;
  for (int64_t k = 1; k < int64_t(grid.size()); ++k)
    if (std::abs(grid[k] - t) < std::abs(grid[best] - t)) best = k;
  return best;
}

at::Tensor info_nce(const at::Tensor& queries, const at::Tensor& keys, double temperature) {
  if (queries.dim() != 2 || queries.sizes() != keys.sizes() || !(temperature > 0))
    throw std::invalid_argument(
        "info_nce needs queries and keys of one shape [B, D] and a "
        "positive temperature");
  namespace F = torch::nn::functional;
  const auto q = F::normalize(queries, F::NormalizeFuncOptions().dim(1));
  const auto k = F::normalize(keys, F::NormalizeFuncOptions().dim(1));
  const auto logits = q.matmul(k.t()) / temperature;
  const auto positives = torch::arange(
      queries.size(0), torch::TensorOptions().dtype(torch::kLong).device(queries.device()));
  return F::cross_entropy(logits, positives);
}

}  // namespace flowlab::ops::rrcm
