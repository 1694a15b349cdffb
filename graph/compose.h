#pragma once
// Hydra-style composition of an experiment spec:
//   1. the spec's `defaults:` list names config-group options (configs/<group>/<option>.yaml),
//      merged in order (later entries win; maps merge, everything else is replaced), with the
//      spec's own keys at `_self_` (last when not listed: the spec overrides its defaults);
//   2. command-line overrides switch groups and set, add or delete keys;
//   3. `${path.to.key}` interpolations are resolved against the composed tree.
// Each value remembers where it came from so later errors can name file:line:col.
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/error.h"

namespace flowlab {

struct ComposeOptions {
  std::filesystem::path spec_file;
  /// Directory holding config groups. Empty: the first `configs/` found in the spec's directory
  /// or one of its parents.
  std::filesystem::path config_dir;
  std::vector<std::string> overrides;
  /// Whether op `op` declares param `param`: lets `nodes.N.params.P=v` set a param that the spec
  /// leaves at its default without Hydra's '+' (the op's schema already declares the key).
  std::function<bool(const std::string& op, const std::string& param)> declared_param;
};

class ComposedSpec {
 public:
  std::filesystem::path spec_file;
  std::filesystem::path config_dir;    // empty if none was found
  YAML::Node root;                     // composed and interpolated; no `defaults`
  std::vector<std::string> overrides;  // as given on the command line
  std::vector<std::pair<std::string, std::string>> group_choices;  // group -> option, in order

  /// Where the value at `key_path` came from; falls back to the nearest ancestor that has a
  /// location (a missing key is reported at its parent).
  SourceLocation where(const std::string& key_path) const;
  void set_location(const std::string& key_path, SourceLocation loc);

  /// The composed spec as YAML text (what `flowlab run SPEC --cfg` prints).
  std::string to_yaml() const;

 private:
  std::map<std::string, SourceLocation> locations_;
};

/// Throws ConfigError for unreadable or malformed YAML, unknown groups or options, bad overrides
/// and interpolations that point nowhere.
ComposedSpec compose(const ComposeOptions& options);

/// Composes from YAML text (tests); `virtual_file` names it in error messages.
ComposedSpec compose_text(const std::string& yaml, const std::string& virtual_file,
                          const std::filesystem::path& config_dir,
                          const std::vector<std::string>& overrides);

/// The first `configs/` directory in the spec's directory or one of its parents; empty if none.
std::filesystem::path find_config_dir(const std::filesystem::path& spec_file);

/// Reads a YAML file, turning parse errors into ConfigError with file:line:col.
YAML::Node load_yaml_file(const std::filesystem::path& file);

/// Dotted path helpers over const nodes (never insert keys).
std::string join_path(const std::string& parent, const std::string& key);
YAML::Node find_path(const YAML::Node& root, const std::string& key_path);  // invalid if absent
std::vector<std::string> map_keys(const YAML::Node& map);

/// Leaves of a tree as flattened "a.b.c" -> scalar text (lists as flow YAML).
std::map<std::string, std::string> flatten(const YAML::Node& node, const std::string& prefix = "");

}  // namespace flowlab
