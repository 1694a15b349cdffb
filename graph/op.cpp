#include "graph/op.h"

#include <algorithm>
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
                     const std::atomic<bool>& stop, Checkpointer* checkpointer,
                     const Registry* registry)
    : node_(std::move(node)),
      params_(params),
      inputs_(std::move(inputs)),
      threads_(threads),
      output_dir_(std::move(output_dir)),
      observer_(observer),
      stop_(stop),
      checkpointer_(checkpointer),
      registry_(registry) {}

const Registry& OpContext::registry() const {
  if (!registry_) throw std::logic_error("node '" + node_ + "' runs without a registry");
  return *registry_;
}

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
  // Overwriting would silently swap the loader that cached outputs of this type are read with.
  if (interfaces_.count(name) || !types_.emplace(name, std::move(type)).second)
    throw std::logic_error("artifact type '" + name + "' registered twice");
}

void Registry::add_interface(InterfaceType interface) {
  std::string name = interface.name;
  if (types_.count(name) || !interfaces_.emplace(name, std::move(interface)).second)
    throw std::logic_error("interface '" + name + "' registered twice");
}

void Registry::add_choice(const std::string& group, const std::string& group_summary,
                          ParamChoice choice) {
  ParamGroup& g = groups_[group];
  if (g.name.empty()) g.name = group, g.summary = group_summary;
  std::string name = choice.name;
  if (!g.choices.emplace(name, std::move(choice)).second)
    throw std::logic_error("'" + name + "' registered twice in param group '" + group + "'");
}

const ParamChoice* ParamGroup::find(const std::string& choice) const {
  auto it = choices.find(choice);
  return it == choices.end() ? nullptr : &it->second;
}

const InterfaceType* Registry::find_interface(const std::string& name) const {
  auto it = interfaces_.find(name);
  return it == interfaces_.end() ? nullptr : &it->second;
}

const ParamGroup* Registry::find_group(const std::string& name) const {
  auto it = groups_.find(name);
  return it == groups_.end() ? nullptr : &it->second;
}

bool Registry::accepts(const std::string& port_type, const std::string& produced) const {
  if (port_type == produced) return true;
  const ArtifactType* type = find_type(produced);
  return type && std::find(type->interfaces.begin(), type->interfaces.end(), port_type) !=
                     type->interfaces.end();
}

void Registry::check() const {
  auto known = [&](const std::string& t) { return find_type(t) || find_interface(t); };
  for (const auto& [name, type] : types_)
    for (const auto& i : type.interfaces)
      if (!find_interface(i))
        throw std::logic_error("type '" + name + "' implements unknown interface '" + i + "'");
  for (const auto& [name, op] : ops_) {
    if (!find_type(op.output_type))
      throw std::logic_error("op '" + name + "' outputs unknown type '" + op.output_type + "'");
    for (const auto& port : op.inputs)
      if (!known(port.type))
        throw std::logic_error("op '" + name + "' input '" + port.name + "' names unknown type '" +
                               port.type + "'");
    std::map<std::string, std::string> group_params;  // a choice's param -> its group
    for (const auto& p : op.params) {
      if (p.group.empty()) continue;
      const ParamGroup* g = find_group(p.group);
      if (!g)
        throw std::logic_error("op '" + name + "' param '" + p.name + "' selects unknown group '" +
                               p.group + "'");
      for (const auto& [choice_name, choice] : g->choices)
        for (const auto& cp : choice.params)
          if (op.find_param(cp.name))
            throw std::logic_error("param '" + cp.name + "' of " + p.group + " '" + choice_name +
                                   "' has the same name as a param of op '" + name + "'");
          else if (auto [it, fresh] = group_params.emplace(cp.name, p.group);
                   !fresh && it->second != p.group)
            throw std::logic_error("op '" + name + "': param '" + cp.name + "' belongs to both " +
                                   it->second + " and " + p.group + " choices");
    }
  }
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
