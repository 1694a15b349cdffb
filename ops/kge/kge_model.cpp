#include "ops/kge/kge_model.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/file_io.h"
#include "ops/kge/kge_network.h"
#include "ops/models/saved_model.h"

namespace flowlab::ops::kge {

void KgeModel::save(const std::filesystem::path& dir) const {
  save_network(dir, record, *network);
  write_text_file(
      dir / "kge.json",
      nlohmann::json{{"base_relations", base_relations}, {"best_epoch", best_epoch}}.dump());
}

ArtifactPtr KgeModel::load(const std::filesystem::path& dir, const Registry& registry) {
  auto m = std::make_shared<KgeModel>();
  m->record = ModelRecord::load(dir, registry);
  m->network = std::dynamic_pointer_cast<KgeNetwork>(build_locked(m->record, registry));
  if (!m->network) throw RunError(dir.string() + " does not hold a knowledge-graph embedding");
  load_weights(dir, *m->network);
  m->network->eval();
  std::ifstream in(dir / "kge.json");
  const auto j = nlohmann::json::parse(in);
  m->base_relations = j.at("base_relations");
  m->best_epoch = j.at("best_epoch");
  return m;
}

}  // namespace flowlab::ops::kge
