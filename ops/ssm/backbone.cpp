#include "ops/ssm/backbone.h"

#include "ops/ssm/transfer.h"

namespace flowlab::ops::ssm {

torch::Tensor mean_transfer_magnitude(const S4dLayerImpl& layer, const torch::Tensor& omegas) {
  torch::NoGradGuard no_grad;
  const auto c128 = torch::kComplexDouble;
  auto a = layer.a().to(c128), b = layer.b().to(c128), c = layer.c().to(c128);
  auto total = torch::zeros_like(omegas);
  for (int64_t h = 0; h < a.size(0); ++h) {
    // A real system: the stored half and its conjugates.
    auto g = transfer_diagonal(torch::cat({a[h], a[h].conj()}), torch::cat({b[h], b[h].conj()}),
                               torch::cat({c[h], c[h].conj()}), omegas);
    total += g.abs();
  }
  return total / static_cast<double>(a.size(0));
}

}  // namespace flowlab::ops::ssm
