#pragma once
// Hydra's command-line override grammar, hand-written (the reference is Hydra's ANTLR grammar,
// hydra/grammar/OverrideLexer.g4 and OverrideParser.g4, and its visitor): the value after '=' is
// lexed and parsed into a typed value, exactly as Hydra types it:
//   10, -1, 10_0 (= 100)          int          3.14, 1e-3, 3.1_4, inf, -inf, nan, NaN   float
//   true, faLse                   bool         null, NULL                                null
//   abc, a-b, /x/y.txt, c:\f      string       0x10, 010, 1___0 (not numbers)           string
//   'a b', "x,y", 'it\'s'         quoted string (Hydra's escapes: \' and \" only before a quote)
//   a\,b  a\=b  \ x  \[  \\       escaped characters in unquoted strings (the backslash goes)
//   ${a.b}, ${oc.env:X,y}         interpolations, kept as text (resolved by composition)
//   [1, [a]], {a: 1, b: [x]}      lists and dicts; compact {a:b} too
//   a,b,c                         a choice sweep (simple form)
//   f(x, name=y)                  functions: int float str bool choice range interval tag
//                                 shuffle sort glob (Hydra's), evaluated while parsing
// Errors are ConfigErrors naming the override, with the override and a caret under the offending
// character as notes.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace flowlab {

/// A parsed override value: an element (null, bool, int, float, string, list, dict) or a sweep
/// (choice, range, glob, interval).
struct OverrideValue {
  enum class Kind {
    kNull,
    kBool,
    kInt,
    kFloat,
    kString,
    kList,
    kDict,
    kChoice,
    kRange,
    kGlob,
    kInterval
  };
  Kind kind = Kind::kNull;
  bool boolean = false;
  int64_t integer = 0;
  double number = 0;
  std::string text;  // kString: the string, unescaped
  char quote = 0;    // kString: '\'' or '"' when it was written quoted
  /// kList and kChoice: the elements. kRange: start, stop, step (ints or floats). kInterval: start,
  /// end (floats).
  std::vector<OverrideValue> items;
  std::vector<std::pair<OverrideValue, OverrideValue>> entries;  // kDict, in order
  bool simple_form = false;          // kChoice: written a,b,c rather than choice(a,b,c)
  bool shuffle = false;              // kChoice, kRange: shuffle(...)
  std::optional<uint64_t> seed;      // shuffle(..., seed=N): flowlab's extension
  int sort = 0;                      // kRange: 1 ascending, -1 descending (sort(range(...)))
  std::vector<std::string> include;  // kGlob
  std::vector<std::string> exclude;  // kGlob
  std::vector<std::string> tags;     // tag(...): kept, not used by the basic sweep

  bool is_sweep() const { return kind >= Kind::kChoice; }

  static OverrideValue null();
  static OverrideValue of_bool(bool b);
  static OverrideValue of_int(int64_t i);
  static OverrideValue of_float(double f);
  static OverrideValue of_string(std::string s, char quote = 0);
};

/// Parses the value part of `override_text`, which starts at byte `value_offset` (after '=').
/// An empty value is the empty string. Throws ConfigError (with a caret) on malformed input.
OverrideValue parse_override_value(const std::string& override_text, size_t value_offset);

/// The value as Hydra would write it after '=' so that it parses back to the same value (strings
/// that would read as another type, or hold characters the grammar does not allow unquoted, are
/// quoted). Sweeps are written as choice(...)/range(...).
std::string format_override_value(const OverrideValue& value);

/// The value as a YAML node for composition: ints, floats (.inf, -.inf, .nan for the special
/// values), bools, null, lists and dicts (flow style). A string that a YAML reader would take for
/// another type ("1", "010", "true", "") carries the quoted tag "!" so it stays a string.
/// Sweeps have no node (std::logic_error).
YAML::Node override_value_to_yaml(const OverrideValue& value);

/// The values a choice or range sweep enumerates, in order (shuffled or sorted as asked). Glob and
/// interval sweeps are not enumerated here (std::logic_error). Throws ConfigError naming `where`
/// (an override or a spec key) for a range with step 0 or more than 100,000 values.
std::vector<OverrideValue> enumerate_sweep(const OverrideValue& sweep, const std::string& where);

/// Python's repr() of a float, which Hydra uses to write floats: 0.5, 10.0, 1e-05, 1e+16, inf, nan.
std::string python_float_repr(double value);

/// Whether a plain YAML scalar with this text would be read as something other than a string
/// (null, bool, int or float, by YAML or by flowlab's param parser).
bool plain_scalar_is_not_a_string(const std::string& text);

/// Python's repr() of the value Hydra would give (Override.value()): 100, 3.14, 'abc', True, None,
/// [1, 'a'], {'a': 10}; sweeps as choice(...), range(...), glob(...), interval(...). For tests.
std::string python_repr(const OverrideValue& value);

/// Throws the ConfigError of a malformed override: the message, then the override and a caret
/// under byte `at` as notes, then `hints`.
[[noreturn]] void throw_override_error(const std::string& override_text, size_t at,
                                       const std::string& message,
                                       std::vector<std::string> hints = {});

/// A short description of the value's type for messages and tests: null, bool, int, float, str,
/// list, dict, choice, range, glob, interval.
std::string override_value_type(const OverrideValue& value);

}  // namespace flowlab
