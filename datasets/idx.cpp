#include "datasets/idx.h"

#include <memory>

#include <torch/torch.h>

#include "datasets/idx_format.h"

namespace flowlab::datasets {
namespace fs = std::filesystem;

namespace {

// The bytes as a uint8 tensor of the given shape, without a copy: the tensor owns the vector.
at::Tensor idx_tensor(IdxData data) {
  std::vector<int64_t> sizes(data.dims.begin(), data.dims.end());
  auto* values = new std::vector<uint8_t>(std::move(data.values));
  return torch::from_blob(
      values->data(), sizes, [values](void*) { delete values; }, torch::kUInt8);
}

}  // namespace

at::Tensor read_idx_images(const fs::path& file) {
  return idx_tensor(read_idx_file(file, IdxKind::kImages));
}

at::Tensor read_idx_labels(const fs::path& file) {
  return idx_tensor(read_idx_file(file, IdxKind::kLabels)).to(torch::kInt64);
}

}  // namespace flowlab::datasets
