#include "ops/metrics_table.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "common/file_io.h"

namespace flowlab::ops {

void MetricsTable::save(const std::filesystem::path& dir) const {
  write_text_file(dir / "metrics.json", nlohmann::json(values).dump(1));
}

ArtifactPtr MetricsTable::load(const std::filesystem::path& dir) {
  std::ifstream in(dir / "metrics.json");
  auto table = std::make_shared<MetricsTable>();
  table->values = nlohmann::json::parse(in).get<std::map<std::string, double>>();
  return table;
}

}  // namespace flowlab::ops
