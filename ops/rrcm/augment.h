#pragma once
// The two "strong" views rRCM's instance discrimination compares (MoCo v3's augmentations without
// the colour operations, which grayscale images do not have): a random resized crop (area scale
// and aspect ratio drawn per image, resampled bilinearly to the full size) and a horizontal flip
// with probability 1/2.
#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

namespace flowlab::ops::rrcm {

struct CropOptions {
  double min_area = 0.6, max_area = 1.0;            // fraction of the image the crop covers
  double min_ratio = 3.0 / 4, max_ratio = 4.0 / 3;  // crop width / height
};

/// A random resized crop and flip of each image of x [N, C, H, W]; the draws come from `gen` (on
/// the CPU, so the views are the same whatever device trains).
at::Tensor random_resized_crop_flip(const at::Tensor& x, at::Generator& gen,
                                    const CropOptions& options = {});

/// The affine maps of those crops: theta [N, 2, 3] for affine_grid (output coordinates in
/// [-1, 1] -> input coordinates), from uniforms u [N, 5] in [0, 1) (area, log-ratio, x and y
/// centre, flip). Exposed for tests.
at::Tensor crop_thetas(const at::Tensor& u, const CropOptions& options);

}  // namespace flowlab::ops::rrcm
