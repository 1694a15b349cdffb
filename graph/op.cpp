#include "graph/op.h"

#include <stdexcept>

#include "common/error.h"

namespace flowlab {

const ParamSpec* OpDef::find_param(const std::string& n) const {
  for (const auto& p : params)
    if (p.name == n) return &p;
  return nullptr;
}

const PortSpec* OpDef::find_input(const std::string& n) const {
  for (const auto& p : inputs)
    if (p.name == n) return &p;
  return nullptr;
}

OpContext::OpContext(std::string node, const Params& params,
                     std::map<std::string, ArtifactPtr> inputs, int threads,
                     std::filesystem::path output_dir, RunObserver& observer,
                     const std::atomic<bool>& stop, Checkpointer* checkpointer)
    : node_(std::move(node)),
      params_(params),
      inputs_(std::move(inputs)),
      threads_(threads),
      output_dir_(std::move(output_dir)),
      observer_(observer),
      stop_(stop),
      checkpointer_(checkpointer) {}

void OpContext::save_checkpoint(const std::function<void(const std::filesystem::path&)>& write) {
  if (checkpointer_) checkpointer_->save(write);
}

std::optional<std::filesystem::path> OpContext::restore_checkpoint() {
  return checkpointer_ ? checkpointer_->restore() : std::nullopt;
}

ArtifactPtr OpContext::raw_input(const std::string& port) const {
  auto it = inputs_.find(port);
  if (it == inputs_.end() || !it->second)
    throw std::logic_error("node '" + node_ + "' has no input '" + port + "'");
  return it->second;
}

void OpContext::log_metric(const std::string& key, double value, int64_t step) {
  observer_.metric(node_, key, step, value);
}

void OpContext::progress(double fraction, const std::string& message) {
  observer_.progress(node_, fraction, message);
}

void OpContext::add_file(const std::filesystem::path& path, const std::string& kind) {
  observer_.artifact_file(node_, path, kind);
}

void OpContext::check_cancelled() const {
  if (stop_.load()) throw Cancelled();
}

void Registry::add(OpDef op) {
  std::string name = op.name;
  if (!ops_.emplace(name, std::move(op)).second)
    throw std::logic_error("op '" + name + "' registered twice");
}

void Registry::add_type(ArtifactType type) {
  std::string name = type.name;
  types_[name] = std::move(type);
}

const OpDef* Registry::find(const std::string& name) const {
  auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : &it->second;
}

const ArtifactType* Registry::find_type(const std::string& name) const {
  auto it = types_.find(name);
  return it == types_.end() ? nullptr : &it->second;
}

std::vector<std::string> Registry::names() const {
  std::vector<std::string> out;
  for (const auto& kv : ops_) out.push_back(kv.first);
  return out;
}

}  // namespace flowlab
