#include "graph/sweep_results.h"

#include <fstream>

#include <nlohmann/json.hpp>

namespace flowlab {

void SweepResults::save(const std::filesystem::path& dir) const {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& c : children)
    j.push_back({{"run_id", c.run_id}, {"status", c.status}, {"overrides", c.overrides},
                 {"params", c.params}, {"metrics", c.metrics}});
  std::ofstream(dir / "sweep_results.json") << nlohmann::json{{"parent", parent_run_id}, {"children", j}}.dump(1);
}

}  // namespace flowlab
