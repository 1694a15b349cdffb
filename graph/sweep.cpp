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

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

[[noreturn]] void sweep_error(const std::string& text, const std::string& message,
                              std::vector<std::string> notes = {}) {
  throw ConfigError(SourceLocation{"command line", 0, 0, "sweep '" + text + "'"}, "", message,
                    std::move(notes));
}

bool is_call(const std::string& value, const std::string& fn) {
  return value.rfind(fn + "(", 0) == 0 && value.back() == ')';
}

std::string call_args(const std::string& value, const std::string& fn) {
  return value.substr(fn.size() + 1, value.size() - fn.size() - 2);
}

double parse_number(const std::string& s, const std::string& text) {
  try {
    size_t used = 0;
    double v = std::stod(trim(s), &used);
    if (used == trim(s).size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  sweep_error(text, "range() takes numbers, got \"" + trim(s) + "\"");
}

bool looks_integer(const std::string& s) {
  std::string t = trim(s);
  return !t.empty() && t.find_first_not_of("-+0123456789") == std::string::npos;
}

std::vector<std::string> expand_range(const std::string& args, const std::string& text) {
  auto parts = split_top_level(args);
  if (parts.size() < 2 || parts.size() > 3)
    sweep_error(text, "range() takes (start, stop[, step])");
  double start = parse_number(parts[0], text), stop = parse_number(parts[1], text);
  double step = parts.size() == 3 ? parse_number(parts[2], text) : 1.0;
  if (step == 0) sweep_error(text, "range() step must not be 0");
  bool integers = std::all_of(parts.begin(), parts.end(), looks_integer);
  std::vector<std::string> values;
  // Python semantics: start, start+step, ... strictly before stop. Index-based, so no drift.
  for (int64_t i = 0;; ++i) {
    double v = start + static_cast<double>(i) * step;
    if ((step > 0 && v >= stop - 1e-12 * std::fabs(step)) ||
        (step < 0 && v <= stop + 1e-12 * std::fabs(step)))
      break;
    if (values.size() > 100000) sweep_error(text, "range() gives more than 100,000 values");
    values.push_back(integers ? std::to_string(static_cast<int64_t>(std::llround(v)))
                              : fmt::format("{}", std::round(v * 1e12) / 1e12));
  }
  if (values.empty()) sweep_error(text, "range() is empty");
  return values;
}

std::vector<std::string> expand_glob(const std::string& key, const std::string& args,
                                     const fs::path& config_dir, const std::string& text) {
  std::string group = key.substr(key.find_first_not_of('+'));
  group = group.substr(0, group.find('@'));
  if (config_dir.empty() || !fs::is_directory(config_dir / group))
    sweep_error(text, "glob() selects options of a config group, and '" + group + "' is not one");
  std::vector<std::string> include, exclude;
  for (const auto& raw : split_top_level(args)) {
    std::string a = trim(raw);
    if (a.rfind("exclude=", 0) == 0) {
      std::string ex = a.substr(8);
      if (ex.size() > 1 && ex.front() == '[') ex = ex.substr(1, ex.size() - 2);
      for (const auto& e : split_top_level(ex)) exclude.push_back(trim(e));
    } else {
      include.push_back(a);
    }
  }
  std::vector<std::string> options;
  for (const auto& f : fs::directory_iterator(config_dir / group))
    if (f.path().extension() == ".yaml") options.push_back(f.path().stem().string());
  std::sort(options.begin(), options.end());
  std::vector<std::string> values;
  for (const auto& o : options) {
    auto matches = [&](const std::vector<std::string>& patterns) {
      return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) {
        return fnmatch(p.c_str(), o.c_str(), 0) == 0;
      });
    };
    if (matches(include) && !matches(exclude)) values.push_back(o);
  }
  if (values.empty()) sweep_error(text, "glob() matches no option of config group '" + group + "'");
  return values;
}

SweepAxis axis_from(const std::string& key, const std::string& value, const std::string& text,
                    const fs::path& config_dir) {
  SweepAxis axis{key, {}, text};
  std::string v = trim(value);
  if (is_call(v, "range")) {
    axis.values = expand_range(call_args(v, "range"), text);
  } else if (is_call(v, "glob")) {
    axis.values = expand_glob(key, call_args(v, "glob"), config_dir, text);
  } else {
    if (is_call(v, "choice")) v = call_args(v, "choice");
    for (const auto& part : split_top_level(v)) {
      std::string p = trim(part);
      if (p.empty()) sweep_error(text, "empty choice (no spaces around commas, no trailing comma)");
      axis.values.push_back(p);
    }
  }
  return axis;
}

}  // namespace

std::optional<SweepAxis> parse_sweep_argument(const std::string& text, const fs::path& config_dir) {
  Override o = parse_override(text);  // validates the key part and the prefix
  if (!o.has_value || o.kind == Override::Kind::kDelete) return std::nullopt;
  std::string v = trim(o.value);
  bool sweeping = split_top_level(v).size() > 1 || is_call(v, "range") || is_call(v, "glob") ||
                  is_call(v, "choice");
  if (!sweeping) return std::nullopt;
  std::string key = text.substr(0, text.find('='));
  return axis_from(key, v, text, config_dir);
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
  auto bare = [](const std::string& key) { return key.substr(key.find_first_not_of('+')); };
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
        std::string text = key + "=";
        SweepAxis axis;
        if (kv.second.IsSequence()) {
          axis.key = key;
          axis.source = "sweep.params." + key;
          for (const auto& item : kv.second) {
            YAML::Emitter out;
            out << YAML::Flow << item;
            axis.values.push_back(out.c_str());
          }
        } else if (kv.second.IsScalar()) {
          axis = axis_from(key, kv.second.Scalar(), "sweep.params." + key, config_dir);
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
  size_t total = 1;
  for (const auto& a : e.axes) total *= a.values.size();
  if (total > 100000)
    sweep_error("sweep", fmt::format("the sweep has {} children; at most 100,000", total));
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
