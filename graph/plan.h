#pragma once
// Validation and planning: a composed spec becomes a DAG of op instances, each with its resolved
// params and a content hash. Everything a user can get wrong is caught here, before anything runs.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "graph/compose.h"
#include "graph/op.h"

namespace flowlab {

struct PlannedNode {
  size_t index = 0;  // position in Plan::nodes
  std::string name;
  const OpDef* op = nullptr;
  Params params;
  std::map<std::string, size_t> inputs;  // port -> index of the producing node in Plan::nodes
  std::vector<size_t> consumers;         // indices of nodes reading this one
  /// LibTorch intra-op threads the node runs with: `threads:` in its spec, else its op's default
  /// (0: the op does not use them). Part of the key, never derived from the machine or `-j`.
  int threads = 0;
  /// Cache key: hash of op name and version, resolved params and the inputs' keys. Equal keys
  /// mean equal outputs, so a node with a known key is never computed twice.
  std::string key;
  SourceLocation where;
};

struct Plan {
  std::string experiment;  // `experiment:` or the spec file's stem
  int64_t seed = 0;
  int threads = 0;  // 0 = auto (all cores)
  std::string device = "auto";
  /// The spec's `tags:` map (name -> value as text): recorded as the run's tags, never part of a
  /// cache key.
  std::map<std::string, std::string> tags;
  std::vector<PlannedNode> nodes;  // in topological order

  const PlannedNode* find(const std::string& name) const;
};

/// Throws ConfigError naming file:line:col and the key path for: no nodes, unknown op, unknown,
/// missing or mistyped params, unknown or missing inputs, inputs of the wrong type, cycles.
Plan make_plan(const ComposedSpec& spec, const Registry& registry);

/// The cache key of `node`: op name and version, the params in the key, threads (for ops that use
/// them) and the keys of its inputs, which must be set already.
std::string node_key(const Plan& plan, const PlannedNode& node);

/// Sets node `index`'s key (an output whose identity is known only at run time, e.g. a sweep's
/// child results) and recomputes the keys of every node downstream of it.
void set_key(Plan& plan, size_t index, std::string key);

/// The hex digest flowlab uses for cache keys (XXH3-128).
std::string content_hash(const std::string& text);

}  // namespace flowlab
