#include "graph/sweep_results.h"

#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/file_io.h"
#include "graph/plan.h"

namespace flowlab {

static nlohmann::json to_json(const SweepResults& r) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& c : r.children)
    j.push_back({{"run_id", c.run_id},
                 {"status", c.status},
                 {"overrides", c.overrides},
                 {"params", c.params},
                 {"metrics", c.metrics}});
  return nlohmann::json{{"parent", r.parent_run_id}, {"children", j}};
}

void SweepResults::save(const std::filesystem::path& dir) const {
  write_text_file(dir / "sweep_results.json", to_json(*this).dump(1));
}

std::string SweepResults::content_key() const {
  // Metric values as %.17g text: the JSON writer would turn a NaN into null.
  std::string text = "flowlab-sweep-results/1\n" + to_json(*this).dump() + "\n";
  for (const auto& c : children)
    for (const auto& [k, v] : c.metrics) text += fmt::format("{}:{}={:.17g}\n", c.run_id, k, v);
  return content_hash(text);
}

void register_sweep_results(Registry& r) {
  r.add_type({SweepResults::kType,
              "a sweep's child runs: overrides, status, params and final metrics (what aggregate "
              "ops read; supplied from the database, never cached)",
              nullptr});
  OpDef op;
  op.name = kSweepChildrenOp;
  op.summary = "the child runs of a sweep, read from the database (the source node of aggregates)";
  op.output_type = SweepResults::kType;
  op.cache_output = false;
  op.run = [](OpContext& ctx) -> ArtifactPtr {
    throw std::logic_error("node '" + ctx.node() + "': sweep.children is supplied by the runner");
  };
  r.add(std::move(op));
}

}  // namespace flowlab
