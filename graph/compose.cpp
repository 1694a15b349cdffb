#include "graph/compose.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "graph/override.h"

namespace flowlab {
namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Paths and locations

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

static std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(path);
  while (std::getline(in, part, '.')) parts.push_back(part);
  return parts;
}

YAML::Node find_path(const YAML::Node& root, const std::string& key_path) {
  YAML::Node cur = YAML::Clone(YAML::Node());  // placeholder; rebound below
  cur.reset(root);
  if (key_path.empty()) return cur;
  for (const auto& part : split_path(key_path)) {
    if (!cur.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& const_cur = cur;
    YAML::Node next = const_cur[part];  // const access: never inserts
    if (!next.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
    cur.reset(next);
  }
  return cur;
}

std::vector<std::string> map_keys(const YAML::Node& map) {
  std::vector<std::string> keys;
  if (map.IsMap())
    for (const auto& kv : map) keys.push_back(kv.first.as<std::string>());
  return keys;
}

static SourceLocation location_of(const std::string& file, const YAML::Mark& mark) {
  SourceLocation loc{file};
  if (!mark.is_null()) {
    loc.line = mark.line + 1;  // yaml-cpp marks are 0-based
    loc.column = mark.column + 1;
  }
  return loc;
}

SourceLocation ComposedSpec::where(const std::string& key_path) const {
  std::string path = key_path;
  while (true) {
    auto it = locations_.find(path);
    if (it != locations_.end()) return it->second;
    if (path.empty()) break;
    // Strip the last component ("a.b[2]" -> "a.b", "a.b" -> "a").
    auto cut = path.find_last_of(".[");
    path = cut == std::string::npos ? "" : path.substr(0, cut);
  }
  return SourceLocation{spec_file.string()};
}

void ComposedSpec::set_location(const std::string& key_path, SourceLocation loc) {
  locations_[key_path] = std::move(loc);
}

// Like `out << node`, but keeps quoted scalars quoted: yaml-cpp's emitter drops the "!" tag of a
// quoted scalar, so `label: "1"` would come back as the number 1 when the output is read again.
static void emit(YAML::Emitter& out, const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      if (node.Style() == YAML::EmitterStyle::Flow) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const auto& kv : node) {
        out << YAML::Key;
        emit(out, kv.first);
        out << YAML::Value;
        emit(out, kv.second);
      }
      out << YAML::EndMap;
      break;
    case YAML::NodeType::Sequence:
      if (node.Style() == YAML::EmitterStyle::Flow) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& item : node) emit(out, item);
      out << YAML::EndSeq;
      break;
    case YAML::NodeType::Scalar:
      if (node.Tag() == "!") out << YAML::DoubleQuoted;
      out << node.Scalar();
      break;
    case YAML::NodeType::Null:
      out << YAML::Null;
      break;
    case YAML::NodeType::Undefined:
      break;
  }
}

std::string ComposedSpec::to_yaml() const {
  YAML::Emitter out;
  emit(out, root);
  return std::string(out.c_str()) + "\n";
}

std::map<std::string, std::string> flatten(const YAML::Node& node, const std::string& prefix) {
  std::map<std::string, std::string> out;
  if (node.IsMap()) {
    for (const auto& kv : node) {
      auto sub = flatten(kv.second, join_path(prefix, kv.first.as<std::string>()));
      out.insert(sub.begin(), sub.end());
    }
  } else if (node.IsScalar()) {
    out[prefix] = node.Scalar();
  } else if (node.IsNull()) {
    out[prefix] = "null";
  } else if (node.IsSequence()) {
    YAML::Emitter e;
    e << YAML::Flow << node;
    out[prefix] = e.c_str();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading YAML

static YAML::Node parse_yaml(const std::string& text, const std::string& file) {
  try {
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(location_of(file, e.mark), "", "malformed YAML: " + e.msg);
  }
}

YAML::Node load_yaml_file(const fs::path& file) {
  std::ifstream in(file);
  if (!in)
    throw ConfigError(SourceLocation{file.string()}, "",
                      fs::exists(file) ? "cannot read the file" : "no such file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_yaml(buffer.str(), file.string());
}

static std::string read_package_header(const fs::path& file) {
  // Hydra's `# @package <path>` header on the first line(s) places a group file elsewhere.
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    auto pos = line.find("@package");
    if (line.rfind("#", 0) == 0 && pos != std::string::npos) {
      std::string pkg = line.substr(pos + 8);
      pkg.erase(0, pkg.find_first_not_of(" \t"));
      pkg.erase(pkg.find_last_not_of(" \t\r") + 1);
      return pkg;
    }
    if (!line.empty() && line[0] != '#') break;
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// Composition

namespace {

struct DefaultsEntry {
  std::string group;    // empty for _self_ or a root-level config
  std::string option;   // option name, or config name for root-level entries
  std::string package;  // explicit @package from the entry, if any
  bool self = false;
  bool optional = false;
  SourceLocation where;
};

class Composer {
 public:
  Composer(ComposedSpec& spec, std::string spec_name,
           std::function<bool(const std::string&, const std::string&)> declared_param = {})
      : spec_(spec), spec_name_(std::move(spec_name)), declared_param_(std::move(declared_param)) {}

  void run(YAML::Node primary, const std::vector<std::string>& override_texts) {
    std::vector<Override> group_overrides, value_overrides;
    for (const auto& text : override_texts) {
      Override o = parse_override(text);
      (is_group(o.key) ? group_overrides : value_overrides).push_back(o);
    }

    std::vector<DefaultsEntry> defaults = read_defaults(primary);
    apply_group_overrides(defaults, group_overrides);

    spec_.root = YAML::Node(YAML::NodeType::Map);
    bool self_listed = false;
    for (const auto& e : defaults) self_listed |= e.self;
    if (!self_listed) defaults.push_back(DefaultsEntry{"", "", "", true});

    for (const auto& entry : defaults) {
      if (entry.self) {
        YAML::Node body = YAML::Clone(primary);
        if (body.IsMap()) body.remove("defaults");
        // YAML::Clone drops marks (every cloned node says 1:1), so the spec's own locations
        // are recorded from the parsed node itself.
        record_locations("", primary, spec_name_);
        merge_at("", body, spec_name_, /*record=*/false);
        continue;
      }
      if (entry.option.empty()) continue;  // a `group: null` placeholder no override filled
      load_entry(entry);
    }
    for (const auto& o : value_overrides) apply_value_override(o);
    resolve_interpolations();
  }

 private:
  ComposedSpec& spec_;
  std::string spec_name_;
  std::function<bool(const std::string&, const std::string&)> declared_param_;

  fs::path group_dir(const std::string& group) const { return spec_.config_dir / group; }

  bool is_group(const std::string& key) const {
    // Only the group part must be dot-free: `+model@nodes.train.params=cnn` names a package.
    std::string group = key.substr(0, key.find('@'));
    return !spec_.config_dir.empty() && group.find('.') == std::string::npos &&
           fs::is_directory(group_dir(group));
  }

  std::vector<std::string> options_of(const std::string& group) const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& f : fs::directory_iterator(group_dir(group), ec))
      if (f.path().extension() == ".yaml") names.push_back(f.path().stem().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  std::vector<std::string> groups() const {
    std::vector<std::string> names;
    std::error_code ec;
    if (!spec_.config_dir.empty())
      for (const auto& f : fs::directory_iterator(spec_.config_dir, ec))
        if (f.is_directory()) names.push_back(f.path().filename().string());
    return names;
  }

  std::vector<DefaultsEntry> read_defaults(const YAML::Node& primary) {
    std::vector<DefaultsEntry> entries;
    if (!primary.IsMap()) return entries;
    const YAML::Node& cprimary = primary;
    YAML::Node list = cprimary["defaults"];
    if (!list.IsDefined() || list.IsNull()) return entries;
    if (!list.IsSequence())
      throw ConfigError(location_of(spec_name_, list.Mark()), "defaults",
                        "expected a list of config-group choices such as '- model: cnn'");
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node item = list[i];
      std::string path = fmt::format("defaults[{}]", i);
      DefaultsEntry e;
      e.where = location_of(spec_name_, item.Mark());
      if (item.IsScalar()) {
        std::string s = item.Scalar();
        if (s == "_self_") {
          e.self = true;
        } else if (auto slash = s.rfind('/'); slash != std::string::npos) {
          e.group = s.substr(0, slash);
          e.option = s.substr(slash + 1);
        } else {
          e.option = s;  // configs/<name>.yaml merged at the root
        }
      } else if (item.IsMap() && item.size() == 1) {
        auto kv = *item.begin();
        std::string key = kv.first.as<std::string>();
        if (key.rfind("optional ", 0) == 0) e.optional = true, key = key.substr(9);
        if (key.rfind("override ", 0) == 0) key = key.substr(9);
        auto at = key.find('@');
        e.group = key.substr(0, at);
        if (at != std::string::npos) e.package = key.substr(at + 1);
        // `group: null` is a placeholder for an override: kept (with no option) so that
        // `group=option` on the command line finds it.
        if (kv.second.IsNull()) {
          entries.push_back(e);
          continue;
        }
        if (!kv.second.IsScalar())
          throw ConfigError(e.where, path, "expected one option name for group '" + e.group + "'");
        e.option = kv.second.Scalar();
      } else {
        throw ConfigError(e.where, path,
                          "expected '_self_', a config name or a one-key map 'group: option'");
      }
      entries.push_back(e);
    }
    return entries;
  }

  void apply_group_overrides(std::vector<DefaultsEntry>& defaults,
                             const std::vector<Override>& overrides) {
    for (const auto& o : overrides) {
      SourceLocation where{"command line", 0, 0, "override '" + o.text + "'"};
      std::string group = o.key.substr(0, o.key.find('@'));
      auto it = std::find_if(defaults.begin(), defaults.end(),
                             [&](const DefaultsEntry& e) { return !e.self && e.group == group; });
      switch (o.kind) {
        case Override::Kind::kDelete:
          if (it == defaults.end())
            throw ConfigError(where, group, "config group is not in the defaults list");
          defaults.erase(it);
          break;
        case Override::Kind::kAdd:
        case Override::Kind::kForceAdd:
          if (it != defaults.end() && o.kind == Override::Kind::kAdd)
            throw ConfigError(where, group, "config group is already in the defaults list",
                              {"switch it with " + group + "=" + o.value});
          if (it != defaults.end()) {
            it->option = o.value, it->where = where;
          } else {
            DefaultsEntry e{group, o.value, "", false, false, where};
            auto at = o.key.find('@');
            if (at != std::string::npos) e.package = o.key.substr(at + 1);
            // Added groups go before _self_ so the spec's own keys still win.
            auto self = std::find_if(defaults.begin(), defaults.end(),
                                     [](const DefaultsEntry& d) { return d.self; });
            defaults.insert(self, e);
          }
          break;
        case Override::Kind::kSet:
          if (it == defaults.end())
            throw ConfigError(where, group,
                              "config group is not in the defaults list of " + spec_name_,
                              {"add it with +" + o.text});
          it->option = o.value;
          it->where = where;
          break;
      }
    }
  }

  void load_entry(const DefaultsEntry& entry) {
    std::string label = entry.group.empty() ? "config" : "config group '" + entry.group + "'";
    fs::path dir = entry.group.empty() ? spec_.config_dir : group_dir(entry.group);
    if (spec_.config_dir.empty())
      throw ConfigError(entry.where, "defaults",
                        "no configs/ directory found next to the spec or above it");
    if (!entry.group.empty() && !fs::is_directory(dir)) {
      if (entry.optional) return;
      throw ConfigError(entry.where, "defaults", "unknown config group '" + entry.group + "'",
                        did_you_mean(entry.group, groups()));
    }
    fs::path file = dir / (entry.option + ".yaml");
    if (!fs::exists(file)) {
      if (entry.optional) return;
      auto notes = did_you_mean(entry.option, options_of(entry.group));
      auto opts = options_of(entry.group);
      std::string list;
      for (const auto& n : opts) list += (list.empty() ? "" : ", ") + n;
      notes.push_back("available: " + (list.empty() ? std::string("none") : list));
      throw ConfigError(entry.where, entry.group.empty() ? "defaults" : entry.group,
                        "no option '" + entry.option + "' in " + label, notes);
    }
    YAML::Node body = load_yaml_file(file);
    if (body.IsMap() && static_cast<const YAML::Node&>(body)["defaults"].IsDefined())
      throw ConfigError(location_of(file.string(), body.Mark()), "defaults",
                        "a defaults list inside a config group file is not supported");
    std::string package = entry.package;
    if (package.empty()) package = read_package_header(file);
    if (package.empty() || package == "_group_") {
      package = entry.group;
      std::replace(package.begin(), package.end(), '/', '.');
    }
    if (package == "_global_") package = "";
    fs::path shown = fs::relative(file, fs::current_path()).string().rfind("..", 0) == 0
                         ? file
                         : fs::relative(file, fs::current_path());
    merge_at(package, body, shown.string());
    if (!entry.group.empty()) spec_.group_choices.emplace_back(entry.group, entry.option);
  }

  // Records where every value under `node` came from, then deep-merges it at `package`.
  void merge_at(const std::string& package, const YAML::Node& node, const std::string& file,
                bool record = true) {
    if (node.IsNull() || !node.IsDefined()) return;
    if (record) record_locations(package, node, file);
    YAML::Node target = ensure_map_at(package, node);
    if (!node.IsMap()) return;  // ensure_map_at already stored a non-map value
    merge_into(target, node);
  }

  YAML::Node ensure_map_at(const std::string& path, const YAML::Node& value) {
    YAML::Node cur;
    cur.reset(spec_.root);
    if (path.empty()) return cur;
    auto parts = split_path(path);
    for (size_t i = 0; i < parts.size(); ++i) {
      bool last = i + 1 == parts.size();
      const YAML::Node& ccur = cur;
      YAML::Node child = ccur[parts[i]];
      if (last && !value.IsMap()) {
        cur[parts[i]] = YAML::Clone(value);
        return cur;
      }
      if (!child.IsDefined() || !child.IsMap()) cur[parts[i]] = YAML::Node(YAML::NodeType::Map);
      YAML::Node next = cur[parts[i]];
      cur.reset(next);
    }
    return cur;
  }

  static void merge_into(YAML::Node dst, const YAML::Node& src) {
    for (const auto& kv : src) {
      std::string key = kv.first.as<std::string>();
      const YAML::Node& cdst = dst;
      YAML::Node existing = cdst[key];
      if (existing.IsDefined() && existing.IsMap() && kv.second.IsMap()) {
        merge_into(dst[key], kv.second);
      } else {
        // Lists and scalars are replaced, as in Hydra/OmegaConf. Clone: nodes alias otherwise.
        dst[key] = YAML::Clone(kv.second);
      }
    }
  }

  void record_locations(const std::string& path, const YAML::Node& node, const std::string& file) {
    spec_.set_location(path, location_of(file, node.Mark()));
    if (node.IsMap()) {
      for (const auto& kv : node)
        record_locations(join_path(path, kv.first.as<std::string>()), kv.second, file);
    } else if (node.IsSequence()) {
      for (size_t i = 0; i < node.size(); ++i)
        record_locations(fmt::format("{}[{}]", path, i), node[i], file);
    }
  }

  bool declared_param(const std::vector<std::string>& parts) const {
    if (!declared_param_ || parts.size() != 4 || parts[0] != "nodes" || parts[2] != "params")
      return false;
    YAML::Node op = find_path(spec_.root, "nodes." + parts[1] + ".op");
    return op.IsDefined() && op.IsScalar() && declared_param_(op.Scalar(), parts[3]);
  }

  // `train.lr=0.1` is shorthand for `nodes.train.params.lr=0.1` when `train` is a node and not
  // a top-level key.
  std::string expand_node_shorthand(const std::string& key) const {
    auto parts = split_path(key);
    if (parts.size() < 2) return key;
    const YAML::Node& root = spec_.root;
    if (root[parts[0]].IsDefined()) return key;
    YAML::Node nodes = root["nodes"];
    if (!nodes.IsDefined() || !nodes.IsMap() ||
        !static_cast<const YAML::Node&>(nodes)[parts[0]].IsDefined())
      return key;
    return "nodes." + parts[0] + ".params" + key.substr(parts[0].size());
  }

  void apply_value_override(Override o) {
    SourceLocation where{"command line", 0, 0, "override '" + o.text + "'"};
    o.key = expand_node_shorthand(o.key);
    auto parts = split_path(o.key);
    std::string parent_path = o.key.substr(0, o.key.size() - parts.back().size());
    if (!parent_path.empty()) parent_path.pop_back();
    YAML::Node parent = find_path(spec_.root, parent_path);
    bool exists = parent.IsDefined() && parent.IsMap() &&
                  static_cast<const YAML::Node&>(parent)[parts.back()].IsDefined();

    auto missing = [&]() {
      std::vector<std::string> notes = parent.IsDefined()
                                           ? did_you_mean(parts.back(), map_keys(parent))
                                           : std::vector<std::string>{};
      if (o.kind == Override::Kind::kSet)
        notes.push_back("to add a new key, write +" + o.key + "=" + o.value);
      return ConfigError(where, o.key, "no such key in the composed spec", notes);
    };

    YAML::Node value;
    if (o.has_value) {
      value = o.value.empty() ? YAML::Node(std::string()) : parse_yaml(o.value, "command line");
    }
    // An op param the spec leaves at its default can be set without '+': it is declared.
    if (o.kind == Override::Kind::kSet && !exists && declared_param(parts))
      o.kind = Override::Kind::kForceAdd;
    switch (o.kind) {
      case Override::Kind::kSet:
        if (!exists) throw missing();
        break;
      case Override::Kind::kAdd:
        if (exists)
          throw ConfigError(where, o.key, "key already exists",
                            {"to change it, write " + o.key + "=" + o.value + " (or ++" + o.key +
                             "=" + o.value + ")"});
        break;
      case Override::Kind::kForceAdd:
        break;
      case Override::Kind::kDelete: {
        if (!exists) throw missing();
        YAML::Node current = static_cast<const YAML::Node&>(parent)[parts.back()];
        if (o.has_value && !(current.IsScalar() && current.Scalar() == value.Scalar()))
          throw ConfigError(where, o.key, "value is not '" + o.value + "', so it was not deleted");
        parent.remove(parts.back());
        return;
      }
    }
    if (!parent.IsDefined() || !parent.IsMap()) {
      if (o.kind == Override::Kind::kSet) throw missing();
      // + and ++ create missing intermediate maps, but never replace a value that is not a map.
      for (std::string up = parent_path; !up.empty();) {
        YAML::Node n = find_path(spec_.root, up);
        if (n.IsDefined()) {
          if (!n.IsMap())
            throw ConfigError(where, o.key,
                              "'" + up + "' is not a mapping, so no key can be added under it");
          break;
        }
        auto dot = up.find_last_of('.');
        up = dot == std::string::npos ? "" : up.substr(0, dot);
      }
      ensure_map_at(parent_path, YAML::Node(YAML::NodeType::Map));
      parent = find_path(spec_.root, parent_path);
    }
    parent[parts.back()] = value;
    spec_.set_location(o.key, where);
  }

  // --- interpolation -------------------------------------------------------------------------

  std::vector<std::string> stack_;

  [[noreturn]] void interpolation_error(const std::string& at, const std::string& message,
                                        std::vector<std::string> notes = {}) {
    throw ConfigError(spec_.where(at), at, message, std::move(notes));
  }

  YAML::Node lookup(const std::string& target, const std::string& at) {
    if (std::find(stack_.begin(), stack_.end(), target) != stack_.end()) {
      std::string cycle;
      for (const auto& p : stack_) cycle += p + " -> ";
      interpolation_error(at, "interpolation cycle: " + cycle + target);
    }
    YAML::Node node = find_path(spec_.root, target);
    if (!node.IsDefined()) {
      auto parts = split_path(target);
      std::string parent = target.substr(0, target.size() - parts.back().size());
      if (!parent.empty()) parent.pop_back();
      YAML::Node p = find_path(spec_.root, parent);
      interpolation_error(
          at, "interpolation ${" + target + "}: no such key",
          p.IsDefined() ? did_you_mean(parts.back(), map_keys(p)) : std::vector<std::string>{});
    }
    stack_.push_back(target);
    resolve_tree(node, target);
    stack_.pop_back();
    return node;
  }

  std::string evaluate(const std::string& expr, const std::string& at) {
    if (expr.rfind("oc.env:", 0) == 0 || expr.rfind("env:", 0) == 0) {
      std::string arg = expr.substr(expr.find(':') + 1);
      auto comma = arg.find(',');
      std::string var = arg.substr(0, comma);
      const char* value = std::getenv(var.c_str());
      if (value) return value;
      if (comma != std::string::npos) return arg.substr(comma + 1);
      interpolation_error(at, "environment variable " + var + " is not set");
    }
    YAML::Node target = lookup(expr, at);
    if (!target.IsScalar())
      interpolation_error(at, "${" + expr + "} is not a scalar and cannot be embedded in a string");
    return target.Scalar();
  }

  void resolve_tree(YAML::Node node, const std::string& path) {
    if (node.IsMap()) {
      for (auto kv : node) resolve_tree(kv.second, join_path(path, kv.first.as<std::string>()));
    } else if (node.IsSequence()) {
      for (size_t i = 0; i < node.size(); ++i)
        resolve_tree(node[i], fmt::format("{}[{}]", path, i));
    } else if (node.IsScalar() && node.Scalar().find("${") != std::string::npos) {
      const std::string s = node.Scalar();
      if (s.rfind("${", 0) == 0 && s.find('}') == s.size() - 1 &&
          s.find("${", 2) == std::string::npos) {
        std::string expr = s.substr(2, s.size() - 3);
        if (expr.find(':') != std::string::npos) {
          node = evaluate(expr, path);
        } else {
          node = YAML::Clone(lookup(expr, path));  // whole-node interpolation keeps the type
        }
        return;
      }
      std::string out;
      size_t i = 0;
      while (i < s.size()) {
        auto open = s.find("${", i);
        if (open == std::string::npos) {
          out += s.substr(i);
          break;
        }
        auto close = s.find('}', open);
        if (close == std::string::npos)
          interpolation_error(path, "unterminated '${' in \"" + s + "\"");
        out += s.substr(i, open - i);
        out += evaluate(s.substr(open + 2, close - open - 2), path);
        i = close + 1;
      }
      node = out;
    }
  }

  void resolve_interpolations() { resolve_tree(spec_.root, ""); }
};

}  // namespace

fs::path find_config_dir(const fs::path& spec_file) {
  fs::path dir = fs::absolute(spec_file).parent_path();
  while (true) {
    if (fs::is_directory(dir / "configs")) return dir / "configs";
    if (dir == dir.root_path() || dir.empty()) return {};
    dir = dir.parent_path();
  }
}

ComposedSpec compose(const ComposeOptions& options) {
  ComposedSpec spec;
  spec.spec_file = options.spec_file;
  spec.overrides = options.overrides;
  spec.config_dir =
      options.config_dir.empty() ? find_config_dir(options.spec_file) : options.config_dir;
  YAML::Node primary = load_yaml_file(options.spec_file);
  if (!primary.IsMap())
    throw ConfigError(location_of(options.spec_file.string(), primary.Mark()), "",
                      "expected a mapping at the top of the spec (keys such as nodes:, defaults:)");
  Composer(spec, options.spec_file.string(), options.declared_param)
      .run(primary, options.overrides);
  return spec;
}

ComposedSpec compose_text(const std::string& yaml, const std::string& virtual_file,
                          const fs::path& config_dir, const std::vector<std::string>& overrides) {
  ComposedSpec spec;
  spec.spec_file = virtual_file;
  spec.overrides = overrides;
  spec.config_dir = config_dir;
  YAML::Node primary = parse_yaml(yaml, virtual_file);
  if (!primary.IsMap())
    throw ConfigError(location_of(virtual_file, primary.Mark()), "",
                      "expected a mapping at the top of the spec (keys such as nodes:, defaults:)");
  Composer(spec, virtual_file).run(primary, overrides);
  return spec;
}

}  // namespace flowlab
