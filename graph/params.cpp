#include "graph/params.h"

#include <stdexcept>

#include <fmt/format.h>

namespace flowlab {

std::string to_string(ParamType t) {
  switch (t) {
    case ParamType::kInt: return "int";
    case ParamType::kFloat: return "float";
    case ParamType::kBool: return "bool";
    case ParamType::kString: return "string";
  }
  return "?";
}

std::string to_string(const ParamValue& v) {
  struct Visitor {
    std::string operator()(int64_t x) const { return std::to_string(x); }
    std::string operator()(double x) const { return fmt::format("{:.17g}", x); }
    std::string operator()(bool x) const { return x ? "true" : "false"; }
    std::string operator()(const std::string& x) const { return x; }
  };
  return std::visit(Visitor{}, v);
}

static std::string number(double x) { return fmt::format("{}", x); }

std::string ParamSpec::expectation() const {
  switch (type) {
    case ParamType::kBool: return "true or false";
    case ParamType::kString: {
      if (choices.empty()) return "a string";
      std::string list;
      for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
      return "one of " + list;
    }
    case ParamType::kInt:
    case ParamType::kFloat: {
      std::string what = type == ParamType::kInt ? "an integer" : "a number";
      if (min && max) return fmt::format("{} in {}{}, {}]", what, min_exclusive ? "(" : "[", number(*min), number(*max));
      if (min) return fmt::format("{} {} {}", what, min_exclusive ? ">" : ">=", number(*min));
      if (max) return fmt::format("{} <= {}", what, number(*max));
      return what;
    }
  }
  return "?";
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
  s.name = std::move(name), s.type = ParamType::kBool, s.default_value = def, s.doc = std::move(doc);
  return s;
}

ParamSpec string_param(std::string name, std::string def, std::string doc,
                       std::vector<std::string> choices) {
  ParamSpec s;
  s.name = std::move(name), s.type = ParamType::kString, s.default_value = std::move(def);
  s.doc = std::move(doc), s.choices = std::move(choices);
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

const ParamValue& Params::at(const std::string& name) const {
  auto it = values_.find(name);
  // Validation fills every declared param, so a miss here is a bug in the op, not user error.
  if (it == values_.end()) throw std::logic_error("op reads undeclared param '" + name + "'");
  return it->second;
}

int64_t Params::get_int(const std::string& name) const { return std::get<int64_t>(at(name)); }

double Params::get_float(const std::string& name) const {
  const auto& v = at(name);
  if (auto i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return std::get<double>(v);
}

bool Params::get_bool(const std::string& name) const { return std::get<bool>(at(name)); }

const std::string& Params::get_string(const std::string& name) const {
  return std::get<std::string>(at(name));
}

}  // namespace flowlab
