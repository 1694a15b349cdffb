#pragma once
// Hydra's command-line override grammar for single runs:
//   a.b=1        set an existing key          +a.b=x   add a key that must not exist
//   ++a.b=x      add or set                   ~a.b     delete a key (~a.b=v: only if it equals v)
//   group=option switch a config group        +group=option / ~group  add / drop a defaults entry
// Whether `x=y` switches a group or sets a value is decided by the composer: it is a group switch
// when configs/x/ exists.
#include <string>

namespace flowlab {

struct Override {
  enum class Kind { kSet, kAdd, kForceAdd, kDelete };
  Kind kind = Kind::kSet;
  std::string key;    // dotted path ("nodes.train.params.lr") or group name
  std::string value;  // raw text after '=' (YAML-parsed later); empty for a bare delete
  bool has_value = false;
  std::string text;  // the override exactly as typed, for error messages
};

/// Parses one override; throws ConfigError (file "command line") naming the override on bad syntax.
Override parse_override(const std::string& text);

}  // namespace flowlab
