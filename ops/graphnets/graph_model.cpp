#include <fstream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/file_io.h"
#include "ops/graphnets/graph_models.h"
#include "ops/graphnets/graph_network.h"
#include "ops/models/saved_model.h"

namespace flowlab::ops::graphnets {

void GraphModel::save(const std::filesystem::path& dir) const {
  save_network(dir, record, *network);
  write_text_file(dir / "graph_model.json",
                  nlohmann::json{{"class_names", class_names}, {"best_epoch", best_epoch}}.dump());
}

ArtifactPtr GraphModel::load(const std::filesystem::path& dir, const Registry& registry) {
  auto m = std::make_shared<GraphModel>();
  m->record = ModelRecord::load(dir, registry);
  m->network = std::dynamic_pointer_cast<GraphNetwork>(build_locked(m->record, registry));
  if (!m->network) throw RunError(dir.string() + " does not hold a graph classifier");
  load_weights(dir, *m->network);
  m->network->eval();
  std::ifstream in(dir / "graph_model.json");
  const auto j = nlohmann::json::parse(in);
  m->class_names = j.at("class_names").get<std::vector<std::string>>();
  m->best_epoch = j.at("best_epoch");
  return m;
}

void register_graph_classification(Registry& r) {
  r.add_type({GraphModel::kType,
              "a trained graph classifier (spen, ign, gin): architecture, params, class names "
              "and weights",
              &GraphModel::load});
  register_train_graph_classifier(r);
  register_eval_graph_classification(r);
}

}  // namespace flowlab::ops::graphnets
