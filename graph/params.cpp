#include "graph/params.h"

#include <stdexcept>

#include <fmt/format.h>

namespace flowlab {

std::string to_string(ParamType t) {
  switch (t) {
    case ParamType::kInt:
      return "int";
    case ParamType::kFloat:
      return "float";
    case ParamType::kBool:
      return "bool";
    case ParamType::kString:
      return "string";
    case ParamType::kList:
      return "list";
    case ParamType::kMap:
      return "map";
  }
  return "?";
}

namespace {

// Text for a value; `shortest`: doubles in the shortest form that reads back exactly ("0.1"),
// else with 17 significant digits ("0.10000000000000001", the form cache keys were built from).
struct TextVisitor {
  bool shortest;
  std::string operator()(int64_t x) const { return std::to_string(x); }
  std::string operator()(double x) const {
    return shortest ? fmt::format("{}", x) : fmt::format("{:.17g}", x);
  }
  std::string operator()(bool x) const { return x ? "true" : "false"; }
  std::string operator()(const std::string& x) const { return x; }
  // Strings inside lists and maps are quoted so that ["a, b"] and ["a", "b"] differ.
  std::string item(const ScalarValue& s) const {
    if (auto str = std::get_if<std::string>(&s)) return fmt::format("\"{}\"", *str);
    return std::visit(*this, s);
  }
  std::string operator()(const ParamList& l) const {
    std::string out = "[";
    for (size_t i = 0; i < l.items.size(); ++i) out += (i ? ", " : "") + item(l.items[i]);
    return out + "]";
  }
  std::string operator()(const ParamMap& m) const {
    std::string out = "{";
    for (const auto& [k, value] : m.items)
      out += (out.size() > 1 ? ", " : "") + fmt::format("\"{}\": {}", k, item(value));
    return out + "}";
  }
};

}  // namespace

std::string to_string(const ScalarValue& v) { return std::visit(TextVisitor{false}, v); }
std::string to_string(const ParamValue& v) { return std::visit(TextVisitor{false}, v); }
std::string display_text(const ParamValue& v) { return std::visit(TextVisitor{true}, v); }

static std::string number(double x) { return fmt::format("{}", x); }

static std::string scalar_expectation(const ParamSpec& s, ParamType type) {
  switch (type) {
    case ParamType::kBool:
      return "true or false";
    case ParamType::kString: {
      if (s.choices.empty()) return "a string";
      std::string list;
      for (const auto& c : s.choices) list += (list.empty() ? "" : ", ") + c;
      return "one of " + list;
    }
    case ParamType::kInt:
    case ParamType::kFloat: {
      std::string what = type == ParamType::kInt ? "an integer" : "a number";
      if (s.min && s.max)
        return fmt::format("{} in {}{}, {}]", what, s.min_exclusive ? "(" : "[", number(*s.min),
                           number(*s.max));
      if (s.min) return fmt::format("{} {} {}", what, s.min_exclusive ? ">" : ">=", number(*s.min));
      if (s.max) return fmt::format("{} <= {}", what, number(*s.max));
      return what;
    }
    case ParamType::kList:
    case ParamType::kMap:
      break;
  }
  return "?";
}

std::string ParamSpec::element_expectation() const {
  return scalar_expectation(*this,
                            type == ParamType::kList || type == ParamType::kMap ? element : type);
}

std::string ParamSpec::expectation() const {
  if (type != ParamType::kList && type != ParamType::kMap) return element_expectation();
  std::string what = type == ParamType::kList ? "a list" : "a mapping of names to values";
  if (min_items > 0) what = (type == ParamType::kList ? "a non-empty list" : "a non-empty mapping");
  return fmt::format("{} ({} each, e.g. {})", what, element_expectation(),
                     type == ParamType::kList ? "[a, b]" : "{name: value}");
}

ParamSpec int_param(std::string name, int64_t def, std::string doc, std::optional<double> min,
                    std::optional<double> max) {
  ParamSpec s;
  s.name = std::move(name), s.type = ParamType::kInt, s.default_value = def;
  s.doc = std::move(doc), s.min = min, s.max = max;
  return s;
}

ParamSpec float_param(std::string name, double def, std::string doc, std::optional<double> min,
                      std::optional<double> max, bool min_exclusive) {
  ParamSpec s;
  s.name = std::move(name), s.type = ParamType::kFloat, s.default_value = def;
  s.doc = std::move(doc), s.min = min, s.max = max, s.min_exclusive = min_exclusive;
  return s;
}

ParamSpec bool_param(std::string name, bool def, std::string doc) {
  ParamSpec s;
  s.name = std::move(name), s.type = ParamType::kBool, s.default_value = def;
  s.doc = std::move(doc);
  return s;
}

ParamSpec string_param(std::string name, std::string def, std::string doc,
                       std::vector<std::string> choices) {
  ParamSpec s;
  s.name = std::move(name), s.type = ParamType::kString, s.default_value = std::move(def);
  s.doc = std::move(doc), s.choices = std::move(choices);
  return s;
}

template <class T>
static ParamList list_of(const std::vector<T>& values) {
  ParamList l;
  for (const auto& v : values) l.items.push_back(v);
  return l;
}

ParamSpec float_list_param(std::string name, std::vector<double> def, std::string doc,
                           std::optional<double> min, std::optional<double> max,
                           bool min_exclusive) {
  ParamSpec s = float_param(std::move(name), 0.0, std::move(doc), min, max, min_exclusive);
  s.type = ParamType::kList, s.element = ParamType::kFloat, s.default_value = list_of(def);
  return s;
}

ParamSpec int_list_param(std::string name, std::vector<int64_t> def, std::string doc,
                         std::optional<double> min, std::optional<double> max) {
  ParamSpec s = int_param(std::move(name), 0, std::move(doc), min, max);
  s.type = ParamType::kList, s.element = ParamType::kInt, s.default_value = list_of(def);
  return s;
}

ParamSpec string_list_param(std::string name, std::vector<std::string> def, std::string doc,
                            std::vector<std::string> choices) {
  ParamSpec s = string_param(std::move(name), "", std::move(doc), std::move(choices));
  s.type = ParamType::kList, s.element = ParamType::kString, s.default_value = list_of(def);
  return s;
}

ParamSpec float_map_param(std::string name, std::map<std::string, double> def, std::string doc,
                          std::optional<double> min, std::optional<double> max) {
  ParamSpec s = float_param(std::move(name), 0.0, std::move(doc), min, max);
  ParamMap m;
  for (const auto& [k, v] : def) m.items[k] = v;
  s.type = ParamType::kMap, s.element = ParamType::kFloat, s.default_value = std::move(m);
  return s;
}

ParamSpec group_param(std::string name, std::string group, std::string def, std::string doc) {
  ParamSpec s = string_param(std::move(name), std::move(def), std::move(doc));
  s.group = std::move(group);
  return s;
}

ParamSpec required(ParamSpec spec) {
  spec.default_value.reset();
  return spec;
}

ParamSpec inherited(ParamSpec spec) {
  spec.inherit_from_spec = true;
  return spec;
}

ParamSpec not_in_key(ParamSpec spec) {
  spec.in_cache_key = false;
  return spec;
}

ParamSpec content_keyed(ParamSpec spec) {
  spec.key_by_content = true;
  return spec;
}

ParamSpec non_empty(ParamSpec spec) {
  spec.min_items = 1;
  return spec;
}

const ParamValue& Params::at(const std::string& name) const {
  auto it = values_.find(name);
  // Validation fills every declared param, so a miss here is a bug in the op, not user error.
  if (it == values_.end()) throw std::logic_error("op reads undeclared param '" + name + "'");
  return it->second;
}

int64_t Params::get_int(const std::string& name) const { return std::get<int64_t>(at(name)); }

static double as_double(const ScalarValue& v) {
  if (auto i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return std::get<double>(v);
}

double Params::get_float(const std::string& name) const {
  const auto& v = at(name);
  if (auto i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return std::get<double>(v);
}

bool Params::get_bool(const std::string& name) const { return std::get<bool>(at(name)); }

const std::string& Params::get_string(const std::string& name) const {
  return std::get<std::string>(at(name));
}

std::vector<int64_t> Params::get_int_list(const std::string& name) const {
  std::vector<int64_t> out;
  for (const auto& v : std::get<ParamList>(at(name)).items) out.push_back(std::get<int64_t>(v));
  return out;
}

std::vector<double> Params::get_float_list(const std::string& name) const {
  std::vector<double> out;
  for (const auto& v : std::get<ParamList>(at(name)).items) out.push_back(as_double(v));
  return out;
}

std::vector<std::string> Params::get_string_list(const std::string& name) const {
  std::vector<std::string> out;
  for (const auto& v : std::get<ParamList>(at(name)).items) out.push_back(std::get<std::string>(v));
  return out;
}

std::map<std::string, double> Params::get_float_map(const std::string& name) const {
  std::map<std::string, double> out;
  for (const auto& [k, v] : std::get<ParamMap>(at(name)).items) out[k] = as_double(v);
  return out;
}

}  // namespace flowlab
