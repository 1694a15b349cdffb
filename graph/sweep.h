#pragma once
// Hydra's sweep grammar for `flowlab sweep`:
//   key=a,b,c                 choices (quote a value to keep its commas: key='x,y')
//   key=choice(a,b)           the same
//   key=range(start,stop[,step])  Python-like, floats allowed: range(0,1,0.25) = 0, 0.25, 0.5, 0.75
//   group=glob(pattern[,exclude=pattern])  the config group's options whose names match
// The spec may declare axes in a `sweep: {params: {key: values}}` block; a command-line axis on
// the same key replaces it. The same block may name aggregate nodes (`sweep.aggregate`) that run
// after the children, on their results (see the runner). Children are the cartesian product, the
// last axis varying fastest.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace flowlab {

struct SweepAxis {
  std::string key;                  // override key, with any +/++ prefix ("+nodes.x.params.k")
  std::vector<std::string> values;  // each a value text usable after '='
  std::string source;               // as written, for messages
};

struct SweepExpansion {
  std::vector<std::string> fixed;  // plain overrides applied to every child
  std::vector<SweepAxis> axes;
  std::vector<std::vector<std::string>> children;  // full override list per child
};

/// Parses one command-line argument; nullopt when it is a plain (non-sweeping) override.
/// Throws ConfigError for a malformed sweep (bad range, empty choice, glob on a non-group).
std::optional<SweepAxis> parse_sweep_argument(const std::string& text,
                                              const std::filesystem::path& config_dir);

/// Combines the spec's `sweep.params` block (from the primary spec file) with the command line.
SweepExpansion expand_sweep(const YAML::Node& spec_sweep_block, const std::string& spec_file,
                            const std::vector<std::string>& arguments,
                            const std::filesystem::path& config_dir);

/// Splits "a,'b,c',[1,2]" on top-level commas, keeping quotes and brackets intact.
std::vector<std::string> split_top_level(const std::string& text, char separator = ',');

}  // namespace flowlab
