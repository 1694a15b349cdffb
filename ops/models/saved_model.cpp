#include "ops/models/saved_model.h"

#include "common/file_io.h"
#include "ops/torch_runtime.h"

namespace flowlab::ops {

namespace {

// What torch::nn::Module::save writes (parameters, buffers, a nested archive per child), with
// every tensor copied to the CPU first, so a model trained on a GPU loads anywhere.
void write_module(const torch::nn::Module& module, torch::serialize::OutputArchive& archive) {
  for (const auto& p : module.named_parameters(/*recurse=*/false))
    archive.write(p.key(), p.value().detach().to(torch::kCPU));
  for (const auto& b : module.named_buffers(/*recurse=*/false))
    archive.write(b.key(), b.value().to(torch::kCPU), /*is_buffer=*/true);
  for (const auto& c : module.named_children()) {
    torch::serialize::OutputArchive child(archive.compilation_unit());
    write_module(*c.value(), child);
    archive.write(c.key(), child);
  }
}

}  // namespace

void save_network(const std::filesystem::path& dir, const ModelRecord& record,
                  torch::nn::Module& module) {
  record.save(dir);
  torch::serialize::OutputArchive archive;
  write_module(module, archive);
  write_file_with(dir / "weights.pt", [&](const ByteSink& s) { archive.save_to(s); });
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
