#include "graph/override.h"

#include <cctype>

#include "common/error.h"

namespace flowlab {

static bool valid_key(const std::string& key) {
  if (key.empty() || key.front() == '.' || key.back() == '.') return false;
  char prev = 0;
  for (char c : key) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
              c == '/' || c == '@';
    if (!ok || (c == '.' && prev == '.')) return false;
    prev = c;
  }
  return true;
}

Override parse_override(const std::string& text) {
  SourceLocation where{"command line", 0, 0, "override '" + text + "'"};
  Override o;
  o.text = text;
  std::string rest = text;
  if (rest.rfind("++", 0) == 0) {
    o.kind = Override::Kind::kForceAdd;
    rest = rest.substr(2);
  } else if (rest.rfind("+", 0) == 0) {
    o.kind = Override::Kind::kAdd;
    rest = rest.substr(1);
  } else if (rest.rfind("~", 0) == 0) {
    o.kind = Override::Kind::kDelete;
    rest = rest.substr(1);
  }
  auto eq = rest.find('=');
  if (eq == std::string::npos) {
    if (o.kind != Override::Kind::kDelete)
      throw ConfigError(where, "", "expected key=value",
                        {"overrides look like a.b=1, +new.key=x, ~a.b or group=option"});
    o.key = rest;
  } else {
    o.key = rest.substr(0, eq);
    o.value = rest.substr(eq + 1);
    o.has_value = true;
  }
  // Spaces around '=' are a classic shell mistake ("lr = 0.1" arrives as three words).
  if (!o.key.empty() && (std::isspace(static_cast<unsigned char>(o.key.back())) ||
                         std::isspace(static_cast<unsigned char>(o.key.front()))))
    throw ConfigError(where, "", "unexpected space in the key", {"write key=value without spaces"});
  if (!valid_key(o.key))
    throw ConfigError(where, "",
                      o.key.empty() ? "missing key before '='" : "malformed key '" + o.key + "'",
                      {"keys are dotted names such as nodes.train.params.lr"});
  if ((o.kind == Override::Kind::kAdd || o.kind == Override::Kind::kForceAdd) && !o.has_value)
    throw ConfigError(where, o.key, "'+' needs a value", {"write +" + o.key + "=VALUE"});
  return o;
}

}  // namespace flowlab
