#pragma once
// Hydra-style composition of an experiment spec:
//   1. the spec's `defaults:` list names config-group options (configs/<group>/<option>.yaml),
//      merged in order (later entries win; maps merge, everything else is replaced), with the
//      spec's own keys at `_self_` (last when not listed: the spec overrides its defaults);
//   2. command-line overrides switch groups and set, add or delete keys. As in Hydra, an entry
//      is named by its override key: the group, plus `@package` when the entry places it
//      elsewhere (`model@nodes.train_odd.params=mlp`, `~model@nodes.train_even.params`,
//      `~model=cnn` only if cnn is selected); `++group=x` is refused (Hydra: force-add of
//      groups is not supported). flowlab's convenience: a plain `model=mlp` names the group's
//      only entry whatever its package, and is refused as ambiguous when there are several.
//      A dict value merges into the map it sets (OmegaConf.update(merge=True)); with `=` only
//      into keys that exist or that the op declares, with `+`/`++` new keys too;
//   3. interpolations are resolved as OmegaConf resolves them: `${a.b}`, `${.sibling}`,
//      `${..parent.key}`, `${a.list.0}` / `${a.list[0]}`, `${a.${k}}`, `${oc.env:VAR[,default]}`
//      (a string; a null default gives null), `${oc.select:key[,default]}`,
//      `${oc.decode:text}`; `\${` is a literal "${". A value that is one interpolation takes the
//      type of what it names; any other text with interpolations is a string (tagged "!", as a
//      quoted YAML string). Deliberate differences from OmegaConf: a bool or null embedded in a
//      string keeps its YAML spelling ("xtrue", not "xTrue"), a float keeps its text ("1e3", not
//      "1000.0"), and a map or list embedded in a string is an error.
// Each value remembers where it came from so later errors can name file:line:col.
#include <cstddef>
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
  /// group -> option, in order; a group listed more than once is named by each entry's Hydra
  /// override key ("model@nodes.train_odd.params"), so every entry is recorded.
  std::vector<std::pair<std::string, std::string>> group_choices;

  /// Where the value at `key_path` came from; falls back to the nearest ancestor that has a
  /// location (a missing key is reported at its parent).
  SourceLocation where(const std::string& key_path) const;
  void set_location(const std::string& key_path, SourceLocation loc);

  /// The composed spec as YAML text (what `flowlab run SPEC --cfg` prints). Strings are written
  /// so that composing the text again gives the same values: quoted, and a literal "${" escaped.
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

/// A flowlab project's root: the first folder, from `start` upward, that holds a `configs/`
/// directory (as git finds a repository by its .git); empty if none. Both the config groups
/// (ROOT/configs) and the workspace (ROOT/.flowlab) are found through it: from the spec's folder
/// for run and sweep, from the current directory for the other commands.
std::filesystem::path find_project_root(const std::filesystem::path& start);

/// ROOT/configs for the spec's project root (found from the spec's folder); empty if none.
std::filesystem::path find_config_dir(const std::filesystem::path& spec_file);

/// The most values (scalars, nulls, lists and maps, each counted once) that a spec file may hold
/// once its aliases are expanded, and that the composed spec may hold. Real specs hold a few
/// hundred; an "alias bomb" (nine lines, each nine aliases to the line before) would hold 387
/// million. Going past it is a ConfigError, found while parsing and long before anything is
/// expanded.
inline constexpr std::size_t kMaxSpecValues = 1000000;
/// The most values that interpolations may copy in all (`${base}` copies all of `base`): real
/// specs copy a few dozen; building copies is what costs time, so this bound is lower.
inline constexpr std::size_t kMaxInterpolatedValues = 100000;

/// Reads a YAML file, turning parse errors into ConfigError with file:line:col. Also refused, each
/// with a located error: a directory or a device instead of a file; a key given twice in one
/// mapping (YAML requires unique keys; the message names the first one's line); an alias inside
/// the node it names (`loop: &l [*l]`); more than kMaxSpecValues values once aliases are expanded.
YAML::Node load_yaml_file(const std::filesystem::path& file);

/// Dotted path helpers over const nodes (never insert keys).
std::string join_path(const std::string& parent, const std::string& key);
YAML::Node find_path(const YAML::Node& root, const std::string& key_path);  // invalid if absent
std::vector<std::string> map_keys(const YAML::Node& map);

/// Leaves of a tree as flattened "a.b.c" -> scalar text (lists as flow YAML).
std::map<std::string, std::string> flatten(const YAML::Node& node, const std::string& prefix = "");

}  // namespace flowlab
