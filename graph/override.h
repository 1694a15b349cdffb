#pragma once
// Hydra's command-line override grammar (see graph/override_grammar.h for the values):
//   a.b=1        set an existing key          +a.b=x   add a key that must not exist
//   ++a.b=x      add or set                   ~a.b     delete a key (~a.b=v: only if it equals v)
//   group=option switch a config group        +group=option / ~group  add / drop a defaults entry
//   group@pkg=option  the defaults entry of `group` placed at package `pkg`
// Whether `x=y` switches a group or sets a value is decided by the composer: it is a group switch
// when configs/x/ exists. Keys follow Hydra: dotted names (a.b, list.0, $x), group paths (a/b) and
// an optional @package.
#include <optional>
#include <string>

#include <yaml-cpp/yaml.h>

#include "graph/override_grammar.h"

namespace flowlab {

struct Override {
  enum class Kind { kSet, kAdd, kForceAdd, kDelete };
  Kind kind = Kind::kSet;
  std::string key;    // as typed, without the +/++/~ prefix: "nodes.train.params.lr", "model@x.y"
  std::string value;  // raw text after '=' (for messages); empty for a bare delete
  bool has_value = false;
  std::string text;                    // the override exactly as typed, for error messages
  std::string key_or_group;            // key without "@package"
  std::optional<std::string> package;  // after '@' ("" for group@=option)
  OverrideValue parsed;                // the typed value (the empty string for `key=`)

  bool is_sweep() const { return has_value && parsed.is_sweep(); }
};

/// Parses one override of a single run; throws ConfigError (file "command line") naming the
/// override, with a caret under the offending character, on bad syntax, and refuses sweep values
/// (a,b  choice()  range()  glob()  interval()) saying to use `flowlab sweep`.
Override parse_override(const std::string& text);

/// As parse_override, but sweep values are allowed (is_sweep() tells them apart).
Override parse_sweep_override(const std::string& text);

/// The override's value as a YAML node for composition (typed as Hydra types it: `a=inf` is the
/// float .inf, `a='1'` the string "1", `a=[1,2]` a sequence). Requires has_value and no sweep.
YAML::Node override_value_node(const Override& o);

}  // namespace flowlab
