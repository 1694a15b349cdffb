#include "experiments/cli/node_output.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/error.h"
#include "experiments/cli/commands.h"
#include "graph/cache.h"

namespace flowlab::cli {

namespace fs = std::filesystem;

NodeOutput find_node_output(const fs::path& workspace, const std::string& run,
                            const std::string& node, const NodeChoice& choice,
                            const std::string& key) {
  const SourceLocation where{"command line"};
  const tracking::Store store(existing_results_store(workspace),
                              tracking::Store::Access::kReadOnly);
  const int64_t id = resolve_run(store, run);
  const NodeCache cache(workspace / "cache");
  const auto output_of = [&](const tracking::NodeExecution& e) {
    return cache.entry(e.cache_key) / "output";
  };
  std::vector<tracking::NodeExecution> found;
  std::vector<std::string> names;
  for (auto& e : store.node_executions(id)) {
    if (!node.empty() && e.node != node) continue;
    names.push_back(e.node);
    if (e.status == "FINISHED" && choice.accepts(e, output_of(e))) found.push_back(std::move(e));
  }
  if (found.empty()) {
    if (!node.empty() && names.empty())
      throw ConfigError(where, key, fmt::format("run {} has no node \"{}\"", id, node));
    if (!node.empty())
      throw ConfigError(
          where, key,
          fmt::format("node \"{}\" of run {} is not a finished {}", node, id, choice.what));
    throw ConfigError(where, key,
                      fmt::format("run {} has no finished {} (a sweep's are in its children: "
                                  "`flowlab runs --parent {}`)",
                                  id, choice.what, id));
  }
  if (found.size() > 1) {
    std::vector<std::string> candidates;
    for (const auto& e : found) candidates.push_back(e.node);
    throw ConfigError(where, key,
                      fmt::format("run {} has {} {} ({}): name one {}", id, found.size(),
                                  choice.plural, fmt::join(candidates, ", "), choice.name_one));
  }
  NodeOutput out{id, found.front(), output_of(found.front())};
  if (!fs::is_directory(out.dir))
    throw RunError(fmt::format("run {}'s {} ({}) is no longer in the cache ({}): run it again", id,
                               choice.what, out.execution.node, out.dir.string()));
  return out;
}

}  // namespace flowlab::cli
