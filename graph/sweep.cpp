#include "graph/sweep.h"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "common/error.h"
#include "graph/override.h"

namespace flowlab {
namespace fs = std::filesystem;

std::vector<std::string> split_top_level(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::string current;
  int depth = 0;
  char quote = 0;
  for (char c : text) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '[' || c == '{' || c == '(') {
      ++depth;
    } else if (c == ']' || c == '}' || c == ')') {
      --depth;
    } else if (c == separator && depth == 0) {
      parts.push_back(current);
      current.clear();
      continue;
    }
    current += c;
  }
  parts.push_back(current);
  return parts;
}

namespace {

[[noreturn]] void sweep_error(const std::string& text, const std::string& message,
                              std::vector<std::string> notes = {}) {
  throw ConfigError(SourceLocation{"command line", 0, 0, "sweep '" + text + "'"}, "", message,
                    std::move(notes));
}

std::string prefix_of(const Override& o) {
  switch (o.kind) {
    case Override::Kind::kAdd:
      return "+";
    case Override::Kind::kForceAdd:
      return "++";
    case Override::Kind::kDelete:
      return "~";
    default:
      return "";
  }
}

std::vector<std::string> expand_glob(const std::string& group_key, const OverrideValue& glob,
                                     const fs::path& config_dir, const std::string& text) {
  std::string group = group_key.substr(0, group_key.find('@'));
  // error_code overloads: a group name the file system cannot look up (too long, say) is "not a
  // group", not a filesystem_error.
  std::error_code ec;
  if (config_dir.empty() || !fs::is_directory(config_dir / group, ec))
    sweep_error(text, "glob() selects options of a config group, and '" + group + "' is not one");
  std::vector<std::string> options;
  for (const auto& f : fs::directory_iterator(config_dir / group, ec))
    if (f.path().extension() == ".yaml") options.push_back(f.path().stem().string());
  std::sort(options.begin(), options.end());
  auto matches = [](const std::vector<std::string>& patterns, const std::string& name) {
    return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) {
      return fnmatch(p.c_str(), name.c_str(), 0) == 0;
    });
  };
  std::vector<std::string> values;
  for (const auto& o : options)
    if (matches(glob.include, o) && !matches(glob.exclude, o)) values.push_back(o);
  if (values.empty()) sweep_error(text, "glob() matches no option of config group '" + group + "'");
  return values;
}

// The values of one axis as override texts (each parses back to the same typed value).
std::vector<std::string> axis_values(const Override& o, const fs::path& config_dir,
                                     const std::string& text) {
  const OverrideValue& v = o.parsed;
  std::vector<std::string> values;
  switch (v.kind) {
    case OverrideValue::Kind::kGlob:
      return expand_glob(o.key, v, config_dir, text);
    case OverrideValue::Kind::kInterval:
      sweep_error(text,
                  "interval() is a continuous search space for optimizing sweepers (Optuna, Ax); "
                  "`flowlab sweep` enumerates values",
                  {"use range(start,stop,step) or choice(...)"});
    case OverrideValue::Kind::kChoice:
    case OverrideValue::Kind::kRange:
      // `a=2,range(1,3)` parses (as in Hydra) to a choice holding a sweep; its child would get
      // `a=range(1,3,1)`, which every child then refused as "use flowlab sweep". Found by
      // fuzz/override_fuzz.cpp (the value does not write back as itself).
      for (const auto& x : v.items)
        if (x.is_sweep())
          sweep_error(text, "a sweep inside a list of choices is not supported",
                      {"write the values out: a=2,1,2 or a=choice(2,1,2)"});
      for (const auto& x : enumerate_sweep(v, "sweep '" + text + "'"))
        values.push_back(format_override_value(x));
      if (values.empty())
        sweep_error(text,
                    v.kind == OverrideValue::Kind::kRange ? "range() is empty" : "empty choice");
      return values;
    default:
      return {format_override_value(v)};  // a plain value: an axis of one
  }
}

// A YAML value from the spec's sweep block as a typed override value: quoted scalars are strings,
// plain ones typed as Hydra types them.
OverrideValue from_yaml(const YAML::Node& node) {
  OverrideValue v;
  if (node.IsSequence()) {
    v.kind = OverrideValue::Kind::kList;
    for (const auto& item : node) v.items.push_back(from_yaml(item));
  } else if (node.IsMap()) {
    v.kind = OverrideValue::Kind::kDict;
    for (const auto& kv : node) v.entries.emplace_back(from_yaml(kv.first), from_yaml(kv.second));
  } else if (node.IsScalar()) {
    if (node.Tag() == "!") return OverrideValue::of_string(node.Scalar(), '\'');
    try {
      std::string probe = "x=" + node.Scalar();
      v = parse_override_value(probe, 2);
      if (v.is_sweep()) v = OverrideValue::of_string(node.Scalar(), '\'');
    } catch (const ConfigError&) {
      v = OverrideValue::of_string(node.Scalar(), '\'');
    }
  }
  return v;
}

}  // namespace

std::optional<SweepAxis> parse_sweep_argument(const std::string& text, const fs::path& config_dir) {
  Override o = parse_sweep_override(text);
  if (!o.is_sweep()) return std::nullopt;
  if (o.kind == Override::Kind::kDelete)
    sweep_error(text, "a deletion (~key) cannot sweep over values");
  SweepAxis axis{prefix_of(o) + o.key, axis_values(o, config_dir, text), text};
  return axis;
}

SweepExpansion expand_sweep(const YAML::Node& block, const std::string& spec_file,
                            const std::vector<std::string>& arguments, const fs::path& config_dir) {
  SweepExpansion e;
  std::vector<SweepAxis> cli_axes;
  for (const auto& arg : arguments) {
    if (auto axis = parse_sweep_argument(arg, config_dir))
      cli_axes.push_back(*axis);
    else
      e.fixed.push_back(arg);
  }
  // The key without its +/++ prefix. A key of only '+' (a spec's `sweep.params: {"+": [1]}`)
  // is itself: substr(npos) would throw std::out_of_range.
  auto bare = [](const std::string& key) {
    size_t start = key.find_first_not_of('+');
    return start == std::string::npos ? key : key.substr(start);
  };
  if (block.IsDefined() && !block.IsNull()) {
    SourceLocation where{spec_file, block.Mark().line + 1, block.Mark().column + 1};
    if (!block.IsMap()) throw ConfigError(where, "sweep", "expected a mapping with params:");
    for (const auto& kv : block) {
      std::string key = kv.first.as<std::string>();
      if (key != "params" && key != "aggregate")
        throw ConfigError(where, "sweep." + key,
                          "unknown key in sweep (expected params or aggregate)",
                          did_you_mean(key, {"params", "aggregate"}));
    }
    YAML::Node params = block["params"];
    if (params.IsDefined() && !params.IsMap())
      throw ConfigError(where, "sweep.params", "expected a mapping of override keys to values");
    if (params.IsDefined())
      for (const auto& kv : params) {
        std::string key = kv.first.as<std::string>();
        SweepAxis axis;
        if (kv.second.IsSequence()) {
          axis.key = key;
          axis.source = "sweep.params." + key;
          for (const auto& item : kv.second)
            axis.values.push_back(format_override_value(from_yaml(item)));
        } else if (kv.second.IsScalar()) {
          Override o = parse_sweep_override(key + "=" + kv.second.Scalar());
          axis = SweepAxis{key, axis_values(o, config_dir, "sweep.params." + key),
                           "sweep.params." + key};
        } else {
          throw ConfigError(
              SourceLocation{spec_file, kv.second.Mark().line + 1, kv.second.Mark().column + 1},
              "sweep.params." + key,
              "expected a list or a sweep expression such as a,b or range(0,3)");
        }
        // The command line wins over the spec for the same key.
        bool overridden =
            std::any_of(cli_axes.begin(), cli_axes.end(),
                        [&](const SweepAxis& a) { return bare(a.key) == bare(key); }) ||
            std::any_of(e.fixed.begin(), e.fixed.end(), [&](const std::string& f) {
              return bare(f.substr(0, f.find('='))) == bare(key);
            });
        if (!overridden) e.axes.push_back(axis);
      }
  }
  for (const auto& a : cli_axes) e.axes.push_back(a);

  // Cartesian product, last axis fastest (as Hydra's basic sweeper).
  std::vector<size_t> index(e.axes.size(), 0);
  // Counted in double: the product of sizes can pass 2^64 (four axes of range(0,65536) wrapped
  // to 0 children in size_t), and a sweep of zero children is no error.
  constexpr size_t kMaxChildren = 100000;
  double children = 1;
  for (const auto& a : e.axes) children *= static_cast<double>(a.values.size());
  if (children > kMaxChildren)
    sweep_error("sweep", fmt::format("the sweep has {:.0f} children; at most 100,000", children));
  const size_t total = static_cast<size_t>(children);
  for (size_t n = 0; n < total; ++n) {
    std::vector<std::string> overrides = e.fixed;
    for (size_t k = 0; k < e.axes.size(); ++k)
      overrides.push_back(e.axes[k].key + "=" + e.axes[k].values[index[k]]);
    e.children.push_back(overrides);
    for (size_t k = e.axes.size(); k-- > 0;) {
      if (++index[k] < e.axes[k].values.size()) break;
      index[k] = 0;
    }
  }
  return e;
}

}  // namespace flowlab
