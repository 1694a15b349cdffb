#pragma once
// Reader for the IDX format of (Fashion-)MNIST, gzip-compressed or not (zlib reads both).
#include <filesystem>

#include <ATen/core/Tensor.h>

namespace flowlab::datasets {

/// Reads an IDX3 image file into a uint8 tensor [N, rows, cols]. Throws RunError naming the file
/// and what was expected when it is missing, truncated or not an IDX image file.
at::Tensor read_idx_images(const std::filesystem::path& file);
/// Reads an IDX1 label file into an int64 tensor [N].
at::Tensor read_idx_labels(const std::filesystem::path& file);

}  // namespace flowlab::datasets
