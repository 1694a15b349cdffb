#include "graph/override.h"

#include <stdexcept>

#include "common/error.h"

namespace flowlab {
namespace {

bool alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool digit(char c) { return c >= '0' && c <= '9'; }

// Offset of the first character that breaks Hydra's `ID` rule in [b, e), or npos.
size_t bad_id(const std::string& s, size_t b, size_t e) {
  if (b == e) return b;
  if (!alpha(s[b]) && s[b] != '_') return b;
  for (size_t i = b + 1; i < e; ++i)
    if (!alpha(s[i]) && !digit(s[i]) && s[i] != '_' && s[i] != '-') return i;
  return std::string::npos;
}

// Hydra's `package`: empty, ID, KEY_SPECIAL ($ allowed) or a DOT_PATH whose parts are KEY_SPECIAL
// or unsigned ints (list.0). Returns the offset of the first bad character, or npos.
size_t bad_package(const std::string& s, size_t b, size_t e) {
  if (b == e) return std::string::npos;
  bool dotted = s.find('.', b) < e;
  size_t part = b;
  for (size_t i = b; i <= e; ++i) {
    if (i < e && s[i] != '.') continue;
    if (i == part) return i;  // empty part: a leading, doubled or trailing dot
    bool ok_int = dotted && digit(s[part]);
    if (ok_int) {
      // INT_UNSIGNED: '0' | [1-9] (('_')? DIGIT)*
      if (s[part] == '0' && i - part > 1) return part + 1;
      for (size_t k = part + 1; k < i; ++k)
        if (!digit(s[k]) && !(s[k] == '_' && k + 1 < i && digit(s[k + 1]))) return k;
    } else {
      if (!alpha(s[part]) && s[part] != '_' && s[part] != '$') return part;
      for (size_t k = part + 1; k < i; ++k)
        if (!alpha(s[k]) && !digit(s[k]) && s[k] != '_' && s[k] != '-' && s[k] != '$') return k;
    }
    part = i + 1;
  }
  return std::string::npos;
}

// Hydra's `packageOrGroup`: a package, or ID (SLASH ID)+.
size_t bad_key_or_group(const std::string& s, size_t b, size_t e) {
  if (s.find('/', b) >= e) return bad_package(s, b, e);
  size_t part = b;
  for (size_t i = b; i <= e; ++i) {
    if (i < e && s[i] != '/') continue;
    if (size_t bad = bad_id(s, part, i); bad != std::string::npos) return bad;
    part = i + 1;
  }
  return std::string::npos;
}

const char* sweep_kind(const OverrideValue& v) {
  switch (v.kind) {
    case OverrideValue::Kind::kChoice:
      return v.simple_form ? "a choice sweep (a,b)" : "a choice() sweep";
    case OverrideValue::Kind::kRange:
      return "a range() sweep";
    case OverrideValue::Kind::kGlob:
      return "a glob() sweep";
    default:
      return "an interval() sweep";
  }
}

Override parse(const std::string& text, bool allow_sweep) {
  SourceLocation where{"command line", 0, 0, "override '" + text + "'"};
  const std::vector<std::string> kKeyHint{"keys are dotted names such as nodes.train.params.lr"};
  Override o;
  o.text = text;
  size_t b = 0;
  if (text.rfind("++", 0) == 0) {
    o.kind = Override::Kind::kForceAdd;
    b = 2;
  } else if (text.rfind("+", 0) == 0) {
    o.kind = Override::Kind::kAdd;
    b = 1;
  } else if (text.rfind("~", 0) == 0) {
    o.kind = Override::Kind::kDelete;
    b = 1;
  }
  size_t eq = text.find('=', b);
  size_t e = eq == std::string::npos ? text.size() : eq;
  o.key = text.substr(b, e - b);
  if (eq == std::string::npos && o.kind != Override::Kind::kDelete) {
    if (o.kind == Override::Kind::kSet)
      throw ConfigError(where, "", "expected key=value",
                        {"overrides look like a.b=1, +new.key=x, ~a.b or group=option"});
    if (!o.key.empty())
      throw ConfigError(where, o.key, "'+' needs a value", {"write " + text + "=VALUE"});
  }
  if (o.key.empty()) throw_override_error(text, b, "missing key before '='", kKeyHint);
  // Spaces around '=' are a classic shell mistake ("lr = 0.1" arrives as three words).
  if (o.key.front() == ' ' || o.key.front() == '\t')
    throw_override_error(text, b, "unexpected space in the key",
                         {"write key=value without spaces"});
  if (o.key.back() == ' ' || o.key.back() == '\t')
    throw_override_error(text, e - 1, "unexpected space in the key",
                         {"write key=value without spaces"});
  size_t at = text.find('@', b);
  size_t group_end = at < e ? at : e;
  size_t bad = bad_key_or_group(text, b, group_end);
  if (bad == std::string::npos && at < e) {
    size_t second = text.find('@', at + 1);
    bad = second < e ? second : bad_package(text, at + 1, e);
  }
  if (bad == std::string::npos && group_end == b) bad = b;  // "@pkg=x": no group
  if (bad != std::string::npos)
    throw_override_error(text, bad, "malformed key '" + o.key + "'", kKeyHint);
  o.key_or_group = text.substr(b, group_end - b);
  if (at < e) o.package = text.substr(at + 1, e - at - 1);
  if (eq == std::string::npos) return o;  // ~key

  o.has_value = true;
  o.value = text.substr(eq + 1);
  size_t value_begin = eq + 1;
  while (value_begin < text.size() && (text[value_begin] == ' ' || text[value_begin] == '\t'))
    ++value_begin;
  o.parsed = parse_override_value(text, value_begin);
  if (o.parsed.is_sweep() && !allow_sweep)
    throw_override_error(
        text, value_begin,
        std::string("the value is ") + sweep_kind(o.parsed) +
            ", which a single run cannot take: use `flowlab sweep` to run one child per value",
        {"to set the text itself, quote it: " + text.substr(0, eq + 1) + "'" +
         text.substr(value_begin) + "'"});
  return o;
}

}  // namespace

Override parse_override(const std::string& text) { return parse(text, false); }

Override parse_sweep_override(const std::string& text) { return parse(text, true); }

YAML::Node override_value_node(const Override& o) {
  if (!o.has_value)
    throw std::logic_error("override_value_node: override '" + o.text + "' has no value");
  if (o.is_sweep())
    throw ConfigError(SourceLocation{"command line", 0, 0, "override '" + o.text + "'"}, o.key,
                      "a sweep value in a single run: use `flowlab sweep`");
  return override_value_to_yaml(o.parsed);
}

}  // namespace flowlab
