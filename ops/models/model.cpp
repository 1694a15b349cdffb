#include "ops/models/model.h"

#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/file_io.h"
#include "ops/models/network.h"

namespace flowlab::ops {
namespace {

nlohmann::json to_json(const ScalarValue& v) {
  return std::visit([](const auto& x) { return nlohmann::json(x); }, v);
}

nlohmann::json to_json(const ParamValue& v) {
  if (auto l = std::get_if<ParamList>(&v)) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : l->items) out.push_back(to_json(item));
    return out;
  }
  if (auto m = std::get_if<ParamMap>(&v)) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, item] : m->items) out[k] = to_json(item);
    return out;
  }
  return std::visit(
      [](const auto& x) -> nlohmann::json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, ParamList> || std::is_same_v<T, ParamMap>)
          return {};
        else
          return nlohmann::json(x);
      },
      v);
}

ScalarValue scalar_from_json(ParamType type, const nlohmann::json& j) {
  switch (type) {
    case ParamType::kInt:
      return j.get<int64_t>();
    case ParamType::kFloat:
      return j.get<double>();
    case ParamType::kBool:
      return j.get<bool>();
    default:
      return j.get<std::string>();
  }
}

ParamValue from_json(const ParamSpec& spec, const nlohmann::json& j) {
  if (spec.type == ParamType::kList) {
    ParamList l;
    for (const auto& item : j) l.items.push_back(scalar_from_json(spec.element, item));
    return l;
  }
  if (spec.type == ParamType::kMap) {
    ParamMap m;
    for (const auto& [k, item] : j.items()) m.items[k] = scalar_from_json(spec.element, item);
    return m;
  }
  return std::visit([](auto&& x) -> ParamValue { return x; }, scalar_from_json(spec.type, j));
}

const ModelDef& find_model(const Registry& registry, const std::string& family,
                           const std::string& arch) {
  const ParamGroup* group = registry.find_group(family);
  const ParamChoice* choice = group ? group->find(arch) : nullptr;
  if (!choice)
    throw RunError(
        fmt::format("no {} architecture '{}' is registered in this build", family, arch));
  return *std::any_cast<std::shared_ptr<const ModelDef>>(choice->payload);
}

}  // namespace

std::string family_summary(const std::string& family) {
  if (family == "classifier") return "networks that give class logits (train.classifier's model)";
  if (family == "dsd") return "one-hidden-layer models of the DSD task (train.dsd's model)";
  if (family == "kge")
    return "knowledge-graph embeddings: a score for every (head, relation, tail) (train.kge's "
           "model)";
  if (family == "graph")
    return "graph classifiers: class logits for a whole graph (train.graph_classifier's model)";
  return family + " architectures";
}

void add_model(Registry& registry, ModelDef model) {
  ParamChoice choice;
  choice.name = model.name;
  choice.summary = model.summary;
  choice.params = model.params;
  std::string family = model.family;
  choice.payload = std::make_shared<const ModelDef>(std::move(model));
  registry.add_choice(family, family_summary(family), std::move(choice));
}

Params model_params(const Registry& registry, const std::string& family, const std::string& arch,
                    const Params& node_params) {
  std::map<std::string, ParamValue> values;
  for (const auto& spec : find_model(registry, family, arch).params)
    values[spec.name] = node_params.values().at(spec.name);
  return Params(std::move(values));
}

std::shared_ptr<Network> ModelRecord::build(const Registry& registry) const {
  return find_model(registry, family, arch).build(params, input);
}

void ModelRecord::save(const std::filesystem::path& dir) const {
  nlohmann::json params_json = nlohmann::json::object();
  for (const auto& [name, value] : params.values()) params_json[name] = to_json(value);
  nlohmann::json j = {{"family", family},
                      {"arch", arch},
                      {"params", params_json},
                      {"input_shape", input.shape},
                      {"outputs", input.outputs},
                      {"scale", input.scale},
                      {"vocab_size", input.vocab_size},
                      {"entities", input.entities},
                      {"relations", input.relations}};
  write_text_file(dir / "model.json", j.dump(1));
}

ModelRecord ModelRecord::load(const std::filesystem::path& dir, const Registry& registry) {
  std::ifstream in(dir / "model.json");
  if (!in) throw RunError("cannot read " + (dir / "model.json").string());
  auto j = nlohmann::json::parse(in);
  ModelRecord r;
  r.family = j.at("family"), r.arch = j.at("arch");
  r.input.shape = j.at("input_shape").get<std::vector<int64_t>>();
  r.input.outputs = j.at("outputs"), r.input.scale = j.at("scale");
  r.input.vocab_size = j.value("vocab_size", int64_t{0});  // absent before token inputs existed
  r.input.entities = j.value("entities", int64_t{0});      // absent before knowledge graphs
  r.input.relations = j.value("relations", int64_t{0});
  std::map<std::string, ParamValue> values;
  for (const auto& spec : find_model(registry, r.family, r.arch).params) {
    const auto& saved = j.at("params");
    if (saved.contains(spec.name))
      values[spec.name] = from_json(spec, saved.at(spec.name));
    else if (spec.default_value)
      values[spec.name] = *spec.default_value;  // added since: default
    else
      throw RunError("model.json in " + dir.string() + " has no param '" + spec.name + "'");
  }
  r.params = Params(std::move(values));
  return r;
}

}  // namespace flowlab::ops
