#include "ops/models/saved_model.h"

#include "ops/torch_runtime.h"

namespace flowlab::ops {

void save_network(const std::filesystem::path& dir, const ModelRecord& record,
                  torch::nn::Module& module) {
  record.save(dir);
  torch::serialize::OutputArchive archive;
  auto params = module.parameters();
  if (params.empty() || params.front().device().is_cpu()) {
    module.save(archive);
  } else {
    // Serialize CPU copies of every tensor: archive names match the module's own.
    torch::NoGradGuard no_grad;
    for (const auto& item : module.named_parameters())
      archive.write(item.key(), item.value().to(torch::kCPU));
    for (const auto& item : module.named_buffers())
      archive.write(item.key(), item.value().to(torch::kCPU), /*is_buffer=*/true);
  }
  archive.save_to((dir / "weights.pt").string());
}

void load_weights(const std::filesystem::path& dir, torch::nn::Module& module) {
  torch::serialize::InputArchive archive;
  archive.load_from((dir / "weights.pt").string());
  module.load(archive);
}

std::shared_ptr<Network> build_locked(const ModelRecord& record, const Registry& registry) {
  std::lock_guard<std::mutex> lock(global_rng_mutex());
  return record.build(registry);
}

}  // namespace flowlab::ops
