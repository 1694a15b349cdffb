#pragma once
// Finding what a run's node computed: its output folder in the workspace's node cache, for the
// commands that use a trained artifact outside a run (compress and decompress with a circuit,
// export with a model).
#include <filesystem>
#include <functional>
#include <string>

#include "tracking/store.h"

namespace flowlab::cli {

struct NodeOutput {
  int64_t run_id = 0;
  tracking::NodeExecution execution;
  std::filesystem::path dir;  // the cache entry's output/ folder
};

/// Which of a run's finished nodes a command can use: `accepts` says whether one is (given the
/// execution and its output folder, which exists); `what` and `plural` name such nodes in messages
/// ("train.pc node", "train.pc nodes"); `name_one` says how to pick one ("with --node NODE").
struct NodeChoice {
  std::function<bool(const tracking::NodeExecution&, const std::filesystem::path& dir)> accepts;
  std::string what, plural, name_one;
};

/// RUN's (an id, uuid or "last") node `node`, or when `node` is empty its only node `choice`
/// accepts. Throws ConfigError under `key` for an unknown run, no such node, a node that is not
/// what the command needs, or several candidates (naming them); RunError when no candidate is
/// left but finished nodes whose outputs have left the cache since (naming them).
NodeOutput find_node_output(const std::filesystem::path& workspace, const std::string& run,
                            const std::string& node, const NodeChoice& choice,
                            const std::string& key);

}  // namespace flowlab::cli
