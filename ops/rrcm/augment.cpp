#include "ops/rrcm/augment.h"

#include <cmath>

#include <torch/torch.h>

namespace flowlab::ops::rrcm {

at::Tensor crop_thetas(const at::Tensor& u, const CropOptions& o) {
  auto area = o.min_area + (o.max_area - o.min_area) * u.select(1, 0);
  // Log-uniform aspect ratio, as torchvision's RandomResizedCrop.
  auto ratio =
      (std::log(o.min_ratio) + (std::log(o.max_ratio) - std::log(o.min_ratio)) * u.select(1, 1))
          .exp();
  // Crop width and height as fractions of the image's, at most the whole image.
  auto a = (area * ratio).sqrt().clamp_max(1.0), b = (area / ratio).sqrt().clamp_max(1.0);
  // The crop's centre anywhere that keeps it inside the image.
  auto cx = (2 * u.select(1, 2) - 1) * (1 - a), cy = (2 * u.select(1, 3) - 1) * (1 - b);
  auto flip = torch::where(u.select(1, 4) < 0.5, torch::full_like(a, -1.0), torch::ones_like(a));
  auto zero = torch::zeros_like(a);
  return torch::stack({torch::stack({a * flip, zero, cx}, 1), torch::stack({zero, b, cy}, 1)}, 1);
}

at::Tensor random_resized_crop_flip(const at::Tensor& x, at::Generator& gen,
                                    const CropOptions& options) {
  auto u = at::rand({x.size(0), 5}, gen, at::TensorOptions().dtype(at::kDouble));
  auto theta = crop_thetas(u, options).to(x.options());
  namespace F = torch::nn::functional;
  auto grid = F::affine_grid(theta, x.sizes(), /*align_corners=*/false);
  return F::grid_sample(x, grid,
                        F::GridSampleFuncOptions()
                            .mode(torch::kBilinear)
                            .padding_mode(torch::kZeros)
                            .align_corners(false));
}

}  // namespace flowlab::ops::rrcm
