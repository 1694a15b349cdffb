#pragma once
// Typed op parameters: the schema each op declares (drives validation, `flowlab ops` and the
// cache key) and the validated values a node body reads.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace flowlab {

enum class ParamType { kInt, kFloat, kBool, kString };
std::string to_string(ParamType t);  // "int", "float", "bool", "string"

using ParamValue = std::variant<int64_t, double, bool, std::string>;
std::string to_string(const ParamValue& v);  // canonical text (floats with 17 significant digits)

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kFloat;
  std::optional<ParamValue> default_value;  // empty: the param is required
  std::optional<double> min, max;           // inclusive bounds for numbers
  bool min_exclusive = false;
  std::vector<std::string> choices;         // allowed values for strings (empty: any)
  std::string doc;
  /// Falls back to the spec's top-level key of the same name (seed, device) when not given.
  bool inherit_from_spec = false;
  /// False for params that cannot change a node's result (how often to checkpoint): they are left
  /// out of the cache key.
  bool in_cache_key = true;

  /// "a number > 0", "an integer in [1, 1000]", "one of adam, sgd", ... for error messages.
  std::string expectation() const;
};

// Small builders so an op's schema reads as a table.
ParamSpec int_param(std::string name, int64_t def, std::string doc,
                    std::optional<double> min = std::nullopt, std::optional<double> max = std::nullopt);
ParamSpec float_param(std::string name, double def, std::string doc,
                      std::optional<double> min = std::nullopt, std::optional<double> max = std::nullopt,
                      bool min_exclusive = false);
ParamSpec bool_param(std::string name, bool def, std::string doc);
ParamSpec string_param(std::string name, std::string def, std::string doc,
                       std::vector<std::string> choices = {});
ParamSpec required(ParamSpec spec);   // drops the default
ParamSpec inherited(ParamSpec spec);  // sets inherit_from_spec
ParamSpec not_in_key(ParamSpec spec); // clears in_cache_key

/// Validated values of one node's params (every declared param present).
class Params {
 public:
  Params() = default;
  explicit Params(std::map<std::string, ParamValue> values) : values_(std::move(values)) {}

  int64_t get_int(const std::string& name) const;
  double get_float(const std::string& name) const;  // accepts ints too
  bool get_bool(const std::string& name) const;
  const std::string& get_string(const std::string& name) const;
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  const std::map<std::string, ParamValue>& values() const { return values_; }

 private:
  const ParamValue& at(const std::string& name) const;
  std::map<std::string, ParamValue> values_;
};

}  // namespace flowlab
