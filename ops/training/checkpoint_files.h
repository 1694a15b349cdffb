#pragma once
// The files a trainer's checkpoint is made of, written atomically (common/file_io.h) and read
// back: a module's parameters and buffers, an optimizer's state, single tensors (generator
// states, shuffling state). Shared by every trainer's save()/load(). Include only from .cpp
// files: it pulls in <torch/torch.h>.
#include <filesystem>
#include <vector>

#include <torch/torch.h>

#include "common/file_io.h"

namespace flowlab::ops::training {

inline void save_module(const std::filesystem::path& file, const torch::nn::Module& module) {
  torch::serialize::OutputArchive archive;
  module.save(archive);
  write_file_with(file, [&](const ByteSink& s) { archive.save_to(s); });
}
inline void load_module(const std::filesystem::path& file, torch::nn::Module& module) {
  torch::serialize::InputArchive archive;
  archive.load_from(file.string());
  module.load(archive);
}

inline void save_optimizer(const std::filesystem::path& file,
                           const torch::optim::Optimizer& optimizer) {
  write_file_with(file, [&](const ByteSink& s) { torch::save(optimizer, s); });
}
inline void load_optimizer(const std::filesystem::path& file, torch::optim::Optimizer& optimizer) {
  torch::load(optimizer, file.string());
}

inline void save_tensors(const std::filesystem::path& file,
                         const std::vector<torch::Tensor>& tensors) {
  write_file_with(file, [&](const ByteSink& s) { torch::save(tensors, s); });
}
inline std::vector<torch::Tensor> load_tensors(const std::filesystem::path& file) {
  std::vector<torch::Tensor> tensors;
  torch::load(tensors, file.string());
  return tensors;
}
inline void save_tensor(const std::filesystem::path& file, const torch::Tensor& tensor) {
  write_file_with(file, [&](const ByteSink& s) { torch::save(tensor, s); });
}
inline torch::Tensor load_tensor(const std::filesystem::path& file) {
  torch::Tensor tensor;
  torch::load(tensor, file.string());
  return tensor;
}

}  // namespace flowlab::ops::training
