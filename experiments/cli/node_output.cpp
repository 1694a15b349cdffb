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
  std::vector<std::string> names, gone;  // gone: finished, but no longer in the cache
  for (auto& e : store.node_executions(id)) {
    if (!node.empty() && e.node != node) continue;
    names.push_back(e.node);
    // A node served from the cache computed its output as much as one that ran (a repeated run
    // records CACHED).
    if (e.status != "FINISHED" && e.status != "CACHED") continue;
    const fs::path dir = output_of(e);
    if (!fs::is_directory(dir))
      gone.push_back(e.node);
    else if (choice.accepts(e, dir))
      found.push_back(std::move(e));
  }
  if (found.empty() && !gone.empty())  // what it was cannot be told any more: say what happened
    throw RunError(fmt::format(
        "the output of run {}'s {} {} is no longer in the cache ({}; `flowlab cache gc` or a "
        "deleted cache): run it again",
        id, gone.size() == 1 ? "node" : "nodes", fmt::join(gone, ", "), cache.dir().string()));
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
  return NodeOutput{id, found.front(), output_of(found.front())};
}

}  // namespace flowlab::cli
