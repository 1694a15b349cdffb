#pragma once
// Typed op parameters: the schema each op declares (drives validation, `flowlab ops` and the
// cache key) and the validated values a node body reads. A param is a scalar (int, float, bool,
// string), a list of scalars of one type, or a map from names to scalars of one type.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace flowlab {

enum class ParamType { kInt, kFloat, kBool, kString, kList, kMap };
std::string to_string(ParamType t);  // "int", "float", "bool", "string", "list", "map"

using ScalarValue = std::variant<int64_t, double, bool, std::string>;
/// A list param's value: its elements, in order, all of the spec's element type.
struct ParamList {
  std::vector<ScalarValue> items;
  bool operator==(const ParamList& o) const { return items == o.items; }
};
/// A map param's value: name -> scalar of the spec's element type, sorted by name.
struct ParamMap {
  std::map<std::string, ScalarValue> items;
  bool operator==(const ParamMap& o) const { return items == o.items; }
};
using ParamValue = std::variant<int64_t, double, bool, std::string, ParamList, ParamMap>;

/// Canonical text: floats with 17 significant digits, lists as [a, b], maps as {k: v, ...}.
/// Equal values give equal text, so it is what cache keys hash.
std::string to_string(const ScalarValue& v);
std::string to_string(const ParamValue& v);
/// As the user would write it: doubles in the shortest text that reads back as the same number
/// ("0.1", where to_string, which cache keys hash, writes "0.10000000000000001"). What runs
/// record as params and tables show.
std::string display_text(const ParamValue& v);

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kFloat;
  /// For lists and maps: the type of each element (a scalar type). Bounds and choices below
  /// apply to every element.
  ParamType element = ParamType::kFloat;
  std::optional<ParamValue> default_value;  // empty: the param is required
  std::optional<double> min, max;           // inclusive bounds for numbers
  bool min_exclusive = false;
  std::vector<std::string> choices;  // allowed values for strings (empty: any)
  /// A string param whose value selects an option of this registered param group (a model
  /// architecture); the option's own params then join the node's params. Empty: a plain param.
  std::string group;
  size_t min_items = 0;  // lists and maps: fewest elements allowed
  std::string doc;
  /// Falls back to the spec's top-level key of the same name (seed, device) when not given.
  bool inherit_from_spec = false;
  /// False for params that cannot change a node's result (how often to log or checkpoint): they
  /// are left out of the cache key.
  bool in_cache_key = true;
  /// A string param naming a file or directory of the user's data: its bytes join the cache key
  /// (a file's content; a directory's regular files, names and content, not recursing), so a
  /// node reruns when the data is edited, not only when the path changes.
  bool key_by_content = false;

  /// "a number > 0", "an integer in [1, 1000]", "one of adam, sgd", "a list of numbers >= 0", ...
  /// for error messages.
  std::string expectation() const;
  /// What one element of a list or map must be ("a number >= 0"); expectation() for scalars.
  std::string element_expectation() const;
};

// Small builders so an op's schema reads as a table.
ParamSpec int_param(std::string name, int64_t def, std::string doc,
                    std::optional<double> min = std::nullopt,
                    std::optional<double> max = std::nullopt);
ParamSpec float_param(std::string name, double def, std::string doc,
                      std::optional<double> min = std::nullopt,
                      std::optional<double> max = std::nullopt, bool min_exclusive = false);
ParamSpec bool_param(std::string name, bool def, std::string doc);
ParamSpec string_param(std::string name, std::string def, std::string doc,
                       std::vector<std::string> choices = {});
/// Lists: `radii: [0, 0.25, 0.5]`; each element is checked against the bounds / choices.
ParamSpec float_list_param(std::string name, std::vector<double> def, std::string doc,
                           std::optional<double> min = std::nullopt,
                           std::optional<double> max = std::nullopt, bool min_exclusive = false);
ParamSpec int_list_param(std::string name, std::vector<int64_t> def, std::string doc,
                         std::optional<double> min = std::nullopt,
                         std::optional<double> max = std::nullopt);
ParamSpec string_list_param(std::string name, std::vector<std::string> def, std::string doc,
                            std::vector<std::string> choices = {});
/// Maps from names to numbers: `weights: {cnn: 1.0, lcn: 0.5}`.
ParamSpec float_map_param(std::string name, std::map<std::string, double> def, std::string doc,
                          std::optional<double> min = std::nullopt,
                          std::optional<double> max = std::nullopt);
/// A string param selecting an option of param group `group` (see ParamSpec::group).
ParamSpec group_param(std::string name, std::string group, std::string def, std::string doc);
ParamSpec required(ParamSpec spec);       // drops the default
ParamSpec inherited(ParamSpec spec);      // sets inherit_from_spec
ParamSpec not_in_key(ParamSpec spec);     // clears in_cache_key
ParamSpec content_keyed(ParamSpec spec);  // sets key_by_content
ParamSpec non_empty(ParamSpec spec);      // lists and maps: at least one element

/// Validated values of one node's params (every declared param present).
class Params {
 public:
  Params() = default;
  explicit Params(std::map<std::string, ParamValue> values) : values_(std::move(values)) {}

  int64_t get_int(const std::string& name) const;
  double get_float(const std::string& name) const;  // accepts ints too
  bool get_bool(const std::string& name) const;
  const std::string& get_string(const std::string& name) const;
  std::vector<int64_t> get_int_list(const std::string& name) const;
  std::vector<double> get_float_list(const std::string& name) const;  // accepts ints too
  std::vector<std::string> get_string_list(const std::string& name) const;
  std::map<std::string, double> get_float_map(const std::string& name) const;
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  const std::map<std::string, ParamValue>& values() const { return values_; }

 private:
  const ParamValue& at(const std::string& name) const;
  std::map<std::string, ParamValue> values_;
};

}  // namespace flowlab
