#include "graph/compose.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>

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

// A resolved string as spec text that resolves to it again: every "${" becomes "\${" and the
// backslashes just before it are doubled (OmegaConf reads "\\\${" as one backslash and a
// literal "${").
static std::string escape_interpolations(const std::string& text) {
  std::string out;
  size_t i = 0;
  while (true) {
    size_t open = text.find("${", i);
    if (open == std::string::npos) return out + text.substr(i);
    size_t run = open;
    while (run > i && text[run - 1] == '\\') --run;
    out += text.substr(i, run - i) + std::string(2 * (open - run) + 1, '\\') + "${";
    i = open + 2;
  }
}

// Like `out << node`, but keeps quoted scalars quoted: yaml-cpp's emitter drops the "!" tag of a
// quoted scalar, so `label: "1"` would come back as the number 1 when the output is read again.
// A string holding a literal "${" is written escaped, so that composing the output again gives
// the same string.
//
// YAML limits an implicit key to 1024 characters, and the emitter writes every key that way, so a
// long key (escaped, a byte can take 4) came out as text that does not read back ("illegal map
// value"). It is written as an explicit `? key`, which yaml-cpp gets right only in block style (and
// its LongKey setting stays on for the keys after it), so a map or list holding such a key is
// written in block style, all of it, with every key explicit. Found by fuzz/compose_fuzz.cpp.
static bool is_long_key(const YAML::Node& key) {
  return key.IsScalar() && key.Scalar().size() > 200;
}

static bool holds_long_key(const YAML::Node& node) {
  if (node.IsMap()) {
    for (const auto& kv : node)
      if (is_long_key(kv.first) || holds_long_key(kv.first) || holds_long_key(kv.second))
        return true;
  } else if (node.IsSequence()) {
    for (const auto& item : node)
      if (holds_long_key(item)) return true;
  }
  return false;
}

static void emit(YAML::Emitter& out, const YAML::Node& node, bool long_keys = false) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      long_keys = long_keys || holds_long_key(node);
      if (node.Style() == YAML::EmitterStyle::Flow && !long_keys) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const auto& kv : node) {
        if (long_keys) out << YAML::LongKey;
        out << YAML::Key;
        emit(out, kv.first, long_keys);
        out << YAML::Value;
        emit(out, kv.second, long_keys);
      }
      out << YAML::EndMap;
      break;
    case YAML::NodeType::Sequence:
      long_keys = long_keys || holds_long_key(node);
      if (node.Style() == YAML::EmitterStyle::Flow && !long_keys) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& item : node) emit(out, item, long_keys);
      out << YAML::EndSeq;
      break;
    case YAML::NodeType::Scalar:
      if (node.Tag() == "!") {
        out << YAML::DoubleQuoted << escape_interpolations(node.Scalar());
      } else {
        out << node.Scalar();
      }
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

// "1,000,000"
static std::string with_thousands(std::size_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

namespace {

// Checks a YAML document from its parse events, before yaml-cpp builds the tree: keys given twice
// in one mapping, aliases inside the node they name (yaml-cpp would build a cyclic tree that every
// traversal follows forever), and the number of values once aliases are expanded (yaml-cpp
// shares an aliased node, but composition copies it, so an alias bomb loads small and expands to
// millions). Work and memory are linear in the text: an alias adds the size recorded for its
// anchor instead of being expanded.
class SpecChecker : public YAML::EventHandler {
 public:
  explicit SpecChecker(std::string file) : file_(std::move(file)) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnAnchor(const YAML::Mark&, const std::string& name) override { anchor_name_ = name; }
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    leaf(mark, anchor, nullptr);
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string& value) override {
    leaf(mark, anchor, &value);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (collections_.count(anchor)) refuse_collection_key(mark);
    for (const auto& f : frames_)
      if (f.anchor == anchor)
        throw ConfigError(location_of(file_, mark), path(),
                          "alias *" + names_[anchor] + " refers to the node that contains it (&" +
                              names_[anchor] + "), which would make the spec infinitely deep");
    auto size = sizes_.find(anchor);
    add(mark, size == sizes_.end() ? 1 : size->second);
    child_done(mark, nullptr);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor, false);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor, true);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    bool map = false;
    YAML::anchor_t anchor = 0;
    std::size_t start = 0;     // values counted before this node
    std::size_t children = 0;  // completed children (a map's keys and values both count)
    std::string key;           // a map's current key
    std::map<std::string, int> key_lines;
  };

  std::string file_;
  std::vector<Frame> frames_;
  std::map<YAML::anchor_t, std::size_t> sizes_;  // expanded size of each anchored node
  std::map<YAML::anchor_t, std::string> names_;
  std::set<YAML::anchor_t> collections_;  // anchors of mappings and lists
  std::string anchor_name_;               // the name OnAnchor gave for the next node
  std::size_t values_ = 0;

  // The key path of the node being read ("nodes.data", "loop[0]").
  std::string path() const {
    std::string out;
    for (const auto& f : frames_) {
      if (!f.map)
        out += fmt::format("[{}]", f.children);
      else if (f.children % 2 == 1)
        out = join_path(out, f.key);
    }
    return out;
  }

  void name(YAML::anchor_t anchor) {
    if (anchor != 0) names_[anchor] = anchor_name_;
  }

  void add(const YAML::Mark& mark, std::size_t n) {
    values_ += n;
    if (values_ > kMaxSpecValues)
      throw ConfigError(
          location_of(file_, mark), path(),
          "the spec holds more than " + with_thousands(kMaxSpecValues) +
              " values once its aliases are expanded (flowlab's bound on the size of a spec)",
          {"an alias (*name) stands for a copy of the whole node it names"});
  }

  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor, const std::string* value) {
    name(anchor);
    add(mark, 1);
    if (anchor != 0) sizes_[anchor] = 1;
    child_done(mark, value);
  }

  void open(const YAML::Mark& mark, YAML::anchor_t anchor, bool map) {
    refuse_collection_key(mark);
    name(anchor);
    if (anchor != 0) collections_.insert(anchor);
    Frame f;
    f.map = map;
    f.anchor = anchor;
    f.start = values_;
    add(mark, 1);
    frames_.push_back(std::move(f));
  }

  void close() {
    Frame f = std::move(frames_.back());
    frames_.pop_back();
    if (f.anchor != 0) sizes_[f.anchor] = values_ - f.start;
    child_done(YAML::Mark::null_mark(), nullptr);
  }

  // Keys are names (flowlab reads them as strings): a mapping or list as a key (`? [a, b]: 1`, or
  // an alias of one) would fail later with a bare yaml-cpp conversion error, so it is refused
  // here, located. Found by fuzz/compose_fuzz.cpp.
  void refuse_collection_key(const YAML::Mark& mark) {
    if (frames_.empty() || !frames_.back().map || frames_.back().children % 2 != 0) return;
    throw ConfigError(location_of(file_, mark), path(),
                      "a mapping or a list as a key; keys must be names (scalars)");
  }

  // A child of the innermost collection is complete; `key_text` is its text when a scalar.
  void child_done(const YAML::Mark& mark, const std::string* key_text) {
    if (frames_.empty()) return;
    Frame& f = frames_.back();
    bool is_key = f.map && f.children % 2 == 0;
    ++f.children;
    if (!is_key) return;
    f.key = key_text ? *key_text : "";
    if (!key_text) return;  // a null, alias or collection as a key: not compared
    auto [it, inserted] = f.key_lines.emplace(*key_text, mark.line + 1);
    if (!inserted)
      throw ConfigError(location_of(file_, mark), path(),
                        fmt::format("duplicate key '{}' (first at line {})", *key_text, it->second),
                        {"YAML requires the keys of a mapping to be unique"});
  }
};

}  // namespace

static YAML::Node parse_yaml(const std::string& text, const std::string& file) {
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    SpecChecker checker(file);
    parser.HandleNextDocument(checker);  // YAML::Load reads the first document too
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(location_of(file, e.mark), "", "malformed YAML: " + e.msg);
  }
}

// What a path that is not a regular file is, in words ("a directory"); "" for a regular file or
// a pipe (`flowlab run <(generate-spec)`), which are read.
static std::string not_a_file(const fs::path& file) {
  std::error_code ec;
  fs::file_status st = fs::status(file, ec);
  if (ec) return "";
  switch (st.type()) {
    case fs::file_type::directory:
      return "a directory";
    case fs::file_type::character:
      return "a character device";
    case fs::file_type::block:
      return "a block device";
    case fs::file_type::socket:
      return "a socket";
    default:
      return "";
  }
}

// fs::exists and fs::is_directory that answer false instead of throwing filesystem_error when the
// path cannot be looked at (a name too long for the file system, a permission denied): option and
// group names come from the user, and the answer is the same "no such option". Found by
// fuzz/compose_fuzz.cpp (an over-long option name).
static bool exists_quietly(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}
static bool is_directory_quietly(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

YAML::Node load_yaml_file(const fs::path& file) {
  std::string kind = not_a_file(file);
  if (kind == "a directory")
    throw ConfigError(SourceLocation{file.string()}, "", "this is a directory, not a YAML file");
  if (!kind.empty())
    throw ConfigError(SourceLocation{file.string()}, "",
                      "this is not a regular file (" + kind + "), so it holds no YAML spec");
  std::ifstream in(file);
  if (!in)
    throw ConfigError(SourceLocation{file.string()}, "",
                      exists_quietly(file) ? "cannot read the file" : "no such file");
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

// ---------------------------------------------------------------------------------------------
// Interpolation, as OmegaConf 2.x resolves it:
//   ${a.b}  ${.sibling}  ${..parent.key}  ${a.list.0}  ${a.list[0]}  ${a.${k}}  (node)
//   ${oc.env:VAR}  ${oc.env:VAR,default}  ${oc.select:key,default}  ${oc.decode:text}  (resolvers)
// A value that is one interpolation and nothing else takes the type of what it names (a map is
// copied); anything else is a string. `\${` is a literal "${", `\\${x}` a backslash and then x.
// Resolver arguments are typed as OmegaConf types them: 5 is an int, null is null, 'a b' and
// a\,b are strings, [1, 2] and {k: 1} a list and a map.

struct PathPart {
  std::string key;
  bool index = false;  // a list position ("l[2]")
};
using KeyPath = std::vector<PathPart>;

std::string display_path(const KeyPath& path) {
  std::string out;
  for (const auto& p : path) out += p.index ? "[" + p.key + "]" : (out.empty() ? "" : ".") + p.key;
  return out;
}

bool has_interpolation(const std::string& s) { return s.find("${") != std::string::npos; }

// A string value: tagged like a quoted YAML scalar, so the planner never reads it as a number.
YAML::Node string_node(const std::string& text) {
  YAML::Node n(text);
  n.SetTag("!");
  return n;
}

YAML::Node plain_node(const std::string& text) {
  YAML::Node n(text);
  n.SetTag("?");
  return n;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// OmegaConf's INT_UNSIGNED: 0 | [1-9] ('_'? digit)*; returns the end or npos.
size_t match_uint(const std::string& s, size_t i) {
  if (i >= s.size() || !is_digit(s[i])) return std::string::npos;
  if (s[i] == '0') return i + 1;
  ++i;
  while (i < s.size()) {
    if (is_digit(s[i])) {
      ++i;
    } else if (s[i] == '_' && i + 1 < s.size() && is_digit(s[i + 1])) {
      i += 2;
    } else {
      break;
    }
  }
  return i;
}

// DIGIT ('_'? DIGIT)*
size_t match_digits(const std::string& s, size_t i) {
  if (i >= s.size() || !is_digit(s[i])) return std::string::npos;
  ++i;
  while (i < s.size() &&
         (is_digit(s[i]) || (s[i] == '_' && i + 1 < s.size() && is_digit(s[i + 1]))))
    i += s[i] == '_' ? 2 : 1;
  return i;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// An unquoted argument as OmegaConf types it: null, a bool, an int, a float or a string.
YAML::Node typed_primitive(const std::string& text) {
  std::string l = lower(text);
  if (l == "null") return YAML::Node(YAML::NodeType::Null);
  if (l == "true" || l == "false") return plain_node(l);
  size_t start = !text.empty() && (text[0] == '+' || text[0] == '-') ? 1 : 0;
  std::string sign = start && text[0] == '-' ? "-" : "";
  std::string body = l.substr(start);
  if (body == "inf") return plain_node(sign + ".inf");
  if (body == "nan") return plain_node(".nan");
  auto clean = [&]() {
    std::string out = sign;
    for (size_t i = start; i < text.size(); ++i)
      if (text[i] != '_') out += text[i];
    return plain_node(out);
  };
  if (match_uint(text, start) == text.size()) return clean();
  // POINT_FLOAT | EXPONENT_FLOAT
  size_t i = start;
  size_t u = match_uint(text, i);
  bool mantissa = false;
  if (u != std::string::npos) i = u, mantissa = true;
  if (i < text.size() && text[i] == '.') {
    size_t d = match_digits(text, i + 1);
    if (d != std::string::npos) {
      i = d, mantissa = true;
    } else if (mantissa) {
      i = i + 1;
    } else {
      return string_node(text);
    }
  } else if (i < text.size() && (text[i] == 'e' || text[i] == 'E') && mantissa) {
    // exponent below
  } else {
    return string_node(text);
  }
  if (!mantissa) return string_node(text);
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    size_t j = i + 1;
    if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
    size_t d = match_digits(text, j);
    if (d == std::string::npos) return string_node(text);
    i = d;
  }
  return i == text.size() ? clean() : string_node(text);
}

// Resolves every interpolation of a composed tree into a new tree. Errors name the value that
// holds the interpolation (file:line:col from the spec's locations).
class Interpolator {
 public:
  Interpolator(const YAML::Node& source, const ComposedSpec& spec) : spec_(spec) {
    source_.reset(source);
  }

  /// The whole tree, resolved: a new tree, the source is left as it was.
  YAML::Node resolve_all() { return resolve_at({}); }

 private:
  YAML::Node source_;
  const ComposedSpec& spec_;
  std::map<std::string, YAML::Node> done_;  // display path -> resolved value
  std::vector<std::string> stack_;          // display paths being resolved, outermost first
  std::size_t values_ = 0;                  // values in the resolved tree so far
  std::size_t copied_ = 0;                  // of which copies made by interpolations

  // Counts one more value of the source tree; past kMaxSpecValues an error at `at`.
  void count_values(const KeyPath& at, std::size_t n) {
    values_ += n;
    if (values_ > kMaxSpecValues)
      fail(at, "the composed spec holds more than " + with_thousands(kMaxSpecValues) +
                   " values (flowlab's bound on the size of a spec)");
  }

  // Counts the values of `node`, which an interpolation is about to copy into the resolved tree;
  // stops counting (and fails) as soon as kMaxInterpolatedValues is passed. An interpolation
  // copies what it names, so nine lines of nine interpolations of the line before would
  // otherwise build hundreds of millions of values.
  void count_copy(const KeyPath& at, const YAML::Node& node) {
    count_values(at, 1);
    if (++copied_ > kMaxInterpolatedValues)
      fail(at,
           "interpolations copy more than " + with_thousands(kMaxInterpolatedValues) +
               " values in all (flowlab's bound on what interpolations may copy)",
           {"an interpolation of a list or a mapping stands for a copy of all of it"});
    if (node.IsMap()) {
      for (const auto& kv : node) count_copy(at, kv.second);
    } else if (node.IsSequence()) {
      for (const auto& item : node) count_copy(at, item);
    }
  }

  struct Cursor {
    const std::string& s;
    size_t i;
    const KeyPath& at;  // the value whose text this is
    bool done() const { return i >= s.size(); }
    char peek(size_t k = 0) const { return i + k < s.size() ? s[i + k] : '\0'; }
    bool at_open() const { return s.compare(i, 2, "${") == 0; }
  };

  [[noreturn]] void fail(const KeyPath& at, const std::string& message,
                         std::vector<std::string> notes = {}) const {
    std::string path = display_path(at);
    throw ConfigError(spec_.where(path), path, message, std::move(notes));
  }

  [[noreturn]] void syntax(const Cursor& c, const std::string& what) const {
    if (c.done()) fail(c.at, "unterminated '${' in \"" + c.s + "\"");
    fail(c.at,
         fmt::format("malformed interpolation \"{}\": {} at character {}", c.s, what, c.i + 1));
  }

  static void skip_ws(Cursor& c) {
    while (c.peek() == ' ' || c.peek() == '\t') ++c.i;
  }

  // The child `part` of a map or list (const access: never inserts); Undefined when absent.
  // Marks a part that indexes a list.
  static YAML::Node child(const YAML::Node& node, PathPart& part) {
    if (node.IsMap()) {
      part.index = false;
      return node[part.key];
    }
    if (node.IsSequence() && !part.key.empty() && part.key.size() < 10 &&
        std::all_of(part.key.begin(), part.key.end(), is_digit) &&
        std::stoul(part.key) < node.size()) {
      part.index = true;
      return node[std::stoul(part.key)];
    }
    return YAML::Node(YAML::NodeType::Undefined);
  }

  // The unresolved node at `path` (no interpolation followed); Undefined when absent. Marks the
  // parts that index a list.
  YAML::Node source_at(KeyPath& path) const {
    YAML::Node cur;
    cur.reset(source_);
    for (auto& part : path) {
      const YAML::Node& ccur = cur;
      YAML::Node next = child(ccur, part);
      if (!next.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
      cur.reset(next);
    }
    return cur;
  }

  // The resolved value at an absolute path; Undefined when nothing is there. A step through a
  // value that is itself an interpolation follows what it resolves to.
  YAML::Node value_at(KeyPath path) {
    YAML::Node cur;
    cur.reset(source_);
    KeyPath walked;
    bool resolved = false;  // `cur` is part of a resolved value
    for (auto part : path) {
      if (!resolved && cur.IsScalar() && has_interpolation(cur.Scalar())) {
        cur.reset(resolve_at(walked));
        resolved = true;
      }
      const YAML::Node& ccur = cur;
      YAML::Node next = child(ccur, part);
      if (!next.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
      cur.reset(next);
      walked.push_back(part);
    }
    return resolved ? cur : resolve_at(walked);
  }

  YAML::Node resolve_at(const KeyPath& path) {
    std::string key = display_path(path);
    if (auto it = done_.find(key); it != done_.end()) return it->second;
    if (auto it = std::find(stack_.begin(), stack_.end(), key); it != stack_.end()) {
      std::string cycle;
      for (; it != stack_.end(); ++it) cycle += *it + " -> ";
      const std::string& referrer = stack_.back();
      throw ConfigError(spec_.where(referrer), referrer, "interpolation cycle: " + cycle + key);
    }
    KeyPath marked = path;
    YAML::Node src = source_at(marked);
    count_values(path, 1);
    stack_.push_back(key);
    YAML::Node out;
    if (src.IsMap()) {
      out = YAML::Node(YAML::NodeType::Map);
      out.SetStyle(src.Style());
      for (const auto& kv : src) {
        KeyPath child = marked;
        child.push_back({kv.first.as<std::string>(), false});
        out[child.back().key] = resolve_at(child);
      }
    } else if (src.IsSequence()) {
      out = YAML::Node(YAML::NodeType::Sequence);
      out.SetStyle(src.Style());
      for (size_t i = 0; i < src.size(); ++i) {
        KeyPath child = marked;
        child.push_back({std::to_string(i), true});
        out.push_back(resolve_at(child));
      }
    } else if (src.IsScalar() && has_interpolation(src.Scalar())) {
      out = resolve_string(marked, src.Scalar());
    } else {
      out = YAML::Clone(src);
    }
    stack_.pop_back();
    done_[key] = out;
    return out;
  }

  // A scalar's text: one interpolation alone keeps its value's type, anything else is a string.
  YAML::Node resolve_string(const KeyPath& at, const std::string& s) {
    Cursor c{s, 0, at};
    std::string text;
    bool has_text = false;  // literal text besides the interpolations
    std::vector<YAML::Node> values;
    while (!c.done()) {
      if (c.peek() == '\\') {
        // A run of backslashes before "${": pairs are escaped backslashes, an odd one escapes the
        // "${". Elsewhere backslashes are plain text.
        size_t n = 0;
        while (c.peek(n) == '\\') ++n;
        bool before_open = s.compare(c.i + n, 2, "${") == 0;
        text += before_open ? std::string(n / 2, '\\') : s.substr(c.i, n);
        c.i += n;
        if (before_open && n % 2 == 1) {
          text += "${";
          c.i += 2;
        }
        has_text = true;
      } else if (c.at_open()) {
        auto [value, expr] = parse_interpolation(c);
        if (values.empty() && !has_text && c.done()) return value;  // the whole value
        values.push_back(value);
        text += embed(c.at, value, expr);
      } else {
        text += c.s[c.i++];
        has_text = true;
      }
    }
    return string_node(text);
  }

  // The text of `value` inside a string. Deliberately not Python's str(): a bool or null keeps its
  // YAML spelling ("true", "null"); a map or list is an error.
  std::string embed(const KeyPath& at, const YAML::Node& value, const std::string& expr) const {
    if (value.IsNull()) return "null";
    if (value.IsScalar()) return value.Scalar();
    fail(at, expr + " is not a scalar and cannot be embedded in a string");
  }

  // At "${": the value and the interpolation's text.
  std::pair<YAML::Node, std::string> parse_interpolation(Cursor& c) {
    size_t start = c.i;
    c.i += 2;
    skip_ws(c);
    // A resolver: ID ('.' ID)* ':'
    size_t save = c.i;
    std::string name;
    while (std::isalpha(static_cast<unsigned char>(c.peek())) || c.peek() == '_') {
      while (std::isalnum(static_cast<unsigned char>(c.peek())) || c.peek() == '_')
        name += c.s[c.i++];
      if (c.peek() != '.') break;
      name += c.s[c.i++];
    }
    skip_ws(c);
    if (!name.empty() && name.back() != '.' && c.peek() == ':') {
      ++c.i;
      std::vector<YAML::Node> args = parse_arguments(c);
      std::string expr = c.s.substr(start, c.i - start);
      return {call(c.at, name, args, expr), expr};
    }
    c.i = save;  // not a resolver: a node key
    KeyPath target = parse_key(c);
    std::string expr = c.s.substr(start, c.i - start);
    return {lookup(c.at, target, expr), expr};
  }

  // A node key after "${": DOT* (key | [key]) (.key | [key])* '}'; returns an absolute path.
  KeyPath parse_key(Cursor& c) {
    size_t dots = 0;
    while (c.peek() == '.') ++dots, ++c.i;
    KeyPath parts;
    while (true) {
      bool bracket = c.peek() == '[';
      if (bracket) ++c.i;
      std::string segment = parse_key_segment(c);
      if (segment.empty()) syntax(c, "expected a key");
      parts.push_back({segment, false});
      if (bracket) {
        if (c.peek() != ']') syntax(c, "expected ']'");
        ++c.i;
      }
      if (c.peek() == '.') {
        ++c.i;
        continue;
      }
      if (c.peek() == '[') continue;
      skip_ws(c);
      if (c.peek() == '}') {
        ++c.i;
        break;
      }
      syntax(c, c.done() ? "" : std::string("unexpected '") + c.peek() + "'");
    }
    if (dots == 0) return parts;
    if (dots > c.at.size())
      fail(c.at, "interpolation ${" + std::string(dots, '.') + display_path(parts) +
                     "}: goes above the top of the spec");
    KeyPath base(c.at.begin(), c.at.end() - static_cast<std::ptrdiff_t>(dots));
    base.insert(base.end(), parts.begin(), parts.end());
    return base;
  }

  std::string parse_key_segment(Cursor& c) {
    if (c.at_open()) {
      auto [value, expr] = parse_interpolation(c);
      if (!value.IsScalar()) fail(c.at, expr + " names a key, so it must resolve to a scalar");
      return value.Scalar();
    }
    static const std::string stop = "\\{}()[]:. \t'\"";
    std::string out;
    while (!c.done() && stop.find(c.peek()) == std::string::npos && !c.at_open()) out += c.s[c.i++];
    return out;
  }

  YAML::Node lookup(const KeyPath& at, KeyPath target, const std::string& expr) {
    YAML::Node value = value_at(target);
    if (value.IsDefined()) {
      count_copy(at, value);
      return YAML::Clone(value);
    }
    KeyPath parent(target.begin(), target.end() - 1);
    YAML::Node p = source_at(parent);
    fail(at, "interpolation " + expr + ": no such key",
         p.IsMap() ? did_you_mean(target.back().key, map_keys(p)) : std::vector<std::string>{});
  }

  // After "name:": arguments up to the closing '}'.
  std::vector<YAML::Node> parse_arguments(Cursor& c) {
    std::vector<YAML::Node> args;
    skip_ws(c);
    if (c.peek() == '}') {
      ++c.i;
      return args;
    }
    while (true) {
      skip_ws(c);
      if (c.peek() == ',' || c.peek() == '}') {
        args.push_back(string_node(""));  // an empty argument (OmegaConf warns, then takes "")
      } else {
        args.push_back(parse_element(c, ",}"));
      }
      skip_ws(c);
      if (c.peek() == ',') {
        ++c.i;
        continue;
      }
      if (c.peek() == '}') {
        ++c.i;
        return args;
      }
      syntax(c, c.done() ? "" : std::string("unexpected '") + c.peek() + "'");
    }
  }

  // One element: a list, a map, a quoted string or an unquoted primitive, ending before one of
  // `closers`.
  YAML::Node parse_element(Cursor& c, const std::string& closers) {
    skip_ws(c);
    char ch = c.peek();
    if (ch == '[') {
      ++c.i;
      YAML::Node list(YAML::NodeType::Sequence);
      list.SetStyle(YAML::EmitterStyle::Flow);
      skip_ws(c);
      if (c.peek() == ']') {
        ++c.i;
        return list;
      }
      while (true) {
        list.push_back(parse_element(c, ",]"));
        skip_ws(c);
        if (c.peek() == ',') {
          ++c.i;
        } else if (c.peek() == ']') {
          ++c.i;
          return list;
        } else {
          syntax(c, "expected ',' or ']'");
        }
      }
    }
    if (ch == '{') {
      ++c.i;
      YAML::Node map(YAML::NodeType::Map);
      map.SetStyle(YAML::EmitterStyle::Flow);
      skip_ws(c);
      if (c.peek() == '}') {
        ++c.i;
        return map;
      }
      while (true) {
        skip_ws(c);
        std::string key;
        while (!c.done() && std::string(":,{}[]'\"").find(c.peek()) == std::string::npos)
          key += c.s[c.i++];
        key.erase(key.find_last_not_of(" \t") + 1);
        if (key.empty() || c.peek() != ':') syntax(c, "expected 'key: value'");
        ++c.i;
        map[key] = parse_element(c, ",}");
        skip_ws(c);
        if (c.peek() == ',') {
          ++c.i;
        } else if (c.peek() == '}') {
          ++c.i;
          return map;
        } else {
          syntax(c, "expected ',' or '}'");
        }
      }
    }
    if (ch == '\'' || ch == '"') return parse_quoted(c, closers);
    return parse_primitive(c, closers);
  }

  YAML::Node parse_quoted(Cursor& c, const std::string& closers) {
    char quote = c.s[c.i++];
    std::string text;
    while (true) {
      if (c.done()) syntax(c, "");
      char ch = c.peek();
      if (ch == '\\' && c.peek(1) == quote) {
        text += quote;
        c.i += 2;
      } else if (ch == '\\' && c.s.compare(c.i + 1, 2, "${") == 0) {
        text += "${";
        c.i += 3;
      } else if (c.at_open()) {
        auto [value, expr] = parse_interpolation(c);
        text += embed(c.at, value, expr);
      } else if (ch == quote) {
        ++c.i;
        break;
      } else {
        text += ch;
        ++c.i;
      }
    }
    skip_ws(c);
    if (!c.done() && closers.find(c.peek()) == std::string::npos)
      syntax(c, std::string("unexpected '") + c.peek() + "' after a quoted string");
    return string_node(text);
  }

  YAML::Node parse_primitive(Cursor& c, const std::string& closers) {
    static const std::string escapable = "\\()[]{}:=, \t";
    struct Piece {
      std::string text;
      YAML::Node value;
      std::string expr;  // non-empty for an interpolation
    };
    std::vector<Piece> pieces;
    size_t values = 0;
    bool plain = true;       // no escapes and no interpolations: typed as OmegaConf types tokens
    bool only_value = true;  // nothing but blanks besides one interpolation
    auto add_text = [&](const std::string& t) {
      if (pieces.empty() || !pieces.back().expr.empty()) pieces.push_back({});
      pieces.back().text += t;
    };
    while (!c.done() && closers.find(c.peek()) == std::string::npos) {
      char ch = c.peek();
      if (ch == '\\' && c.peek(1) != '\0' && escapable.find(c.peek(1)) != std::string::npos) {
        add_text(std::string(1, c.peek(1)));
        c.i += 2;
        plain = only_value = false;
      } else if (c.at_open()) {
        auto [value, expr] = parse_interpolation(c);
        pieces.push_back({"", value, expr});
        ++values;
        plain = false;
      } else if (ch == '[' || ch == '{' || ch == '\'' || ch == '"') {
        syntax(c, std::string("unexpected '") + ch + "'");
      } else {
        if (ch != ' ' && ch != '\t') only_value = false;
        add_text(std::string(1, ch));
        ++c.i;
      }
    }
    if (values == 1 && only_value)
      for (const auto& p : pieces)
        if (!p.expr.empty()) return p.value;
    std::string text;
    for (const auto& p : pieces) text += p.expr.empty() ? p.text : embed(c.at, p.value, p.expr);
    size_t first = text.find_first_not_of(" \t");
    text = first == std::string::npos
               ? ""
               : text.substr(first, text.find_last_not_of(" \t") - first + 1);
    if (plain && !text.empty()) return typed_primitive(text);
    return string_node(text);
  }

  YAML::Node call(const KeyPath& at, const std::string& name, const std::vector<YAML::Node>& args,
                  const std::string& expr) {
    auto text_of = [&](const YAML::Node& arg) -> std::string {
      if (arg.IsScalar()) return arg.Scalar();
      if (arg.IsNull()) return "null";
      YAML::Emitter e;
      e << YAML::Flow << arg;
      return e.c_str();
    };
    auto arity = [&](size_t low, size_t high) {
      if (args.size() < low || args.size() > high)
        fail(at, fmt::format("{}: {} takes {} argument{}, got {}", expr, name,
                             low == high ? std::to_string(low) : fmt::format("{} or {}", low, high),
                             high == 1 ? "" : "s", args.size()));
    };
    if (name == "oc.env" || name == "env") {  // `env:` is OmegaConf 2.0's spelling
      arity(1, 2);
      std::string var = text_of(args[0]);
      if (const char* value = std::getenv(var.c_str())) return string_node(value);
      if (args.size() == 2)
        return args[1].IsNull() ? YAML::Node(YAML::NodeType::Null) : string_node(text_of(args[1]));
      fail(at, "environment variable " + var + " is not set",
           {"give a default: ${oc.env:" + var + ",DEFAULT}"});
    }
    if (name == "oc.select") {
      arity(1, 2);
      std::string key = text_of(args[0]);
      std::string inner = "${" + key + "}";
      Cursor kc{inner, 2, at};
      KeyPath target = parse_key(kc);
      if (!kc.done()) syntax(kc, "unexpected text after the key");
      YAML::Node value = value_at(target);
      if (value.IsDefined()) {
        count_copy(at, value);
        return YAML::Clone(value);
      }
      return args.size() == 2 ? args[1] : YAML::Node(YAML::NodeType::Null);
    }
    if (name == "oc.decode") {
      arity(1, 1);
      if (!args[0].IsScalar() || args[0].Tag() != "!") return args[0];
      const std::string& text = args[0].Scalar();
      Cursor dc{text, 0, at};
      YAML::Node value = parse_element(dc, "");
      skip_ws(dc);
      if (!dc.done()) syntax(dc, std::string("unexpected '") + dc.peek() + "'");
      return value;
    }
    fail(at, "unknown resolver '" + name + "' in " + expr,
         did_you_mean(name, {"oc.env", "oc.select", "oc.decode"}));
  }
};

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
      // As in Hydra, a dict value sets the config, even at a group's name (`model={width: 8}`).
      bool dict_value = o.has_value && o.value.rfind('{', 0) == 0;
      (is_group(o.key) && !dict_value ? group_overrides : value_overrides).push_back(o);
    }

    std::vector<DefaultsEntry> defaults = read_defaults(primary);
    apply_group_overrides(defaults, group_overrides);

    spec_.root = YAML::Node(YAML::NodeType::Map);
    bool self_listed = false;
    for (const auto& e : defaults) self_listed |= e.self;
    if (!self_listed) defaults.push_back(DefaultsEntry{"", "", "", true});

    // A group listed more than once is recorded by each entry's key (model@nodes.train.params),
    // one listed once by its name.
    std::map<std::string, int> entries_of;
    for (const auto& e : defaults)
      if (!e.self && !e.group.empty()) ++entries_of[e.group];
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
      if (load_entry(entry) && !entry.group.empty())
        spec_.group_choices.emplace_back(
            entries_of[entry.group] > 1 ? entry_key(entry) : entry.group, entry.option);
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
           is_directory_quietly(group_dir(group));
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
    int self_line = 0;  // where `_self_` was first listed
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node item = list[i];
      std::string path = fmt::format("defaults[{}]", i);
      DefaultsEntry e;
      e.where = location_of(spec_name_, item.Mark());
      if (item.IsScalar()) {
        std::string s = item.Scalar();
        if (s == "_self_") {
          // Hydra: "Duplicate _self_ defined in <config>".
          if (self_line > 0)
            throw ConfigError(e.where, path,
                              fmt::format("'_self_' is listed twice in the defaults list (first "
                                          "at line {})",
                                          self_line));
          self_line = e.where.line > 0 ? e.where.line : 1;
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

  // Hydra's override key of a defaults-list entry: the group, plus "@package" when the entry
  // places it somewhere other than the group's default package (package headers do not count).
  static std::string entry_key(const std::string& group, const std::string& package) {
    std::string default_package = group;
    std::replace(default_package.begin(), default_package.end(), '/', '.');
    if (package.empty() || package == "_group_" || package == default_package) return group;
    return group + "@" + package;
  }
  static std::string entry_key(const DefaultsEntry& e) { return entry_key(e.group, e.package); }

  static std::string join_keys(const std::vector<std::string>& keys) {
    std::string out;
    for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
    return out;
  }

  // The entry an override `group[@package]=...` names: the one with the same key; a plain
  // `group` also names the group's only entry whatever its package (flowlab's convenience), and
  // is ambiguous when the group has several. end() when the group has no entry at all.
  std::vector<DefaultsEntry>::iterator find_entry(std::vector<DefaultsEntry>& defaults,
                                                  const Override& o, const SourceLocation& where) {
    auto at = o.key.find('@');
    std::string group = o.key.substr(0, at);
    bool explicit_package = at != std::string::npos;
    std::string key = explicit_package ? entry_key(group, o.key.substr(at + 1)) : group;
    std::vector<std::vector<DefaultsEntry>::iterator> same_group;
    for (auto it = defaults.begin(); it != defaults.end(); ++it) {
      if (it->self || it->group != group) continue;
      if (entry_key(*it) == key) return it;
      same_group.push_back(it);
    }
    if (same_group.empty()) return defaults.end();
    if (!explicit_package && same_group.size() == 1) return same_group.front();
    std::vector<std::string> keys;
    for (const auto& it : same_group) keys.push_back(entry_key(*it));
    std::string example = (o.kind == Override::Kind::kDelete ? "~" : "") + keys.front() +
                          (o.has_value ? "=" + o.value : "");
    if (!explicit_package)
      throw ConfigError(where, group,
                        fmt::format("ambiguous: config group '{}' has {} entries in the defaults "
                                    "list: {}",
                                    group, keys.size(), join_keys(keys)),
                        {"name the entry by its package, e.g. " + example});
    auto notes = did_you_mean(o.key, keys);
    notes.push_back("the entries of config group '" + group + "': " + join_keys(keys));
    throw ConfigError(where, o.key, "no defaults-list entry '" + key + "'", notes);
  }

  // The option an override names: the string itself, unquoted and unescaped (model='mlp' is mlp).
  static std::string option_of(const Override& o) {
    return o.parsed.kind == OverrideValue::Kind::kString ? o.parsed.text : o.value;
  }

  void apply_group_overrides(std::vector<DefaultsEntry>& defaults,
                             const std::vector<Override>& overrides) {
    for (const auto& o : overrides) {
      SourceLocation where{"command line", 0, 0, "override '" + o.text + "'"};
      auto at = o.key.find('@');
      std::string group = o.key.substr(0, at);
      std::string package = at == std::string::npos ? "" : o.key.substr(at + 1);
      switch (o.kind) {
        case Override::Kind::kDelete: {
          auto it = find_entry(defaults, o, where);
          if (it == defaults.end())
            throw ConfigError(where, group, "config group is not in the defaults list");
          // ~group=option deletes only when that option is the one selected.
          if (o.has_value && it->option != option_of(o))
            throw ConfigError(where, entry_key(*it),
                              "config group selects '" + it->option + "', not '" + option_of(o) +
                                  "', so nothing was deleted");
          defaults.erase(it);
          break;
        }
        case Override::Kind::kForceAdd:
          // Hydra: "force-add of config groups is not supported".
          throw ConfigError(where, o.key, "'++' does not apply to config groups",
                            {"to switch the option: " + o.key + "=" + o.value,
                             "to add an entry: +" + o.key + "=" + o.value});
        case Override::Kind::kAdd: {
          std::string key = entry_key(group, package);
          auto it = std::find_if(defaults.begin(), defaults.end(), [&](const DefaultsEntry& e) {
            return !e.self && e.group == group && entry_key(e) == key;
          });
          if (it != defaults.end())
            throw ConfigError(where, key, "config group is already in the defaults list",
                              {"switch it with " + key + "=" + o.value});
          DefaultsEntry e{group, option_of(o), package, false, false, where};
          // Added groups go before _self_ so the spec's own keys still win.
          auto self = std::find_if(defaults.begin(), defaults.end(),
                                   [](const DefaultsEntry& d) { return d.self; });
          defaults.insert(self, e);
          break;
        }
        case Override::Kind::kSet: {
          auto it = find_entry(defaults, o, where);
          if (it == defaults.end())
            throw ConfigError(where, group,
                              "config group is not in the defaults list of " + spec_name_,
                              {"add it with +" + o.text});
          it->option = option_of(o);
          it->where = where;
          break;
        }
      }
    }
  }

  // Merges the entry's config file; false when an optional entry has none.
  bool load_entry(const DefaultsEntry& entry) {
    std::string label = entry.group.empty() ? "config" : "config group '" + entry.group + "'";
    fs::path dir = entry.group.empty() ? spec_.config_dir : group_dir(entry.group);
    if (spec_.config_dir.empty())
      throw ConfigError(entry.where, "defaults",
                        "no configs/ directory found next to the spec or above it (the spec is "
                        "outside a flowlab project): pass --config-dir DIR");
    if (!entry.group.empty() && !is_directory_quietly(dir)) {
      if (entry.optional) return false;
      throw ConfigError(entry.where, "defaults", "unknown config group '" + entry.group + "'",
                        did_you_mean(entry.group, groups()));
    }
    fs::path file = dir / (entry.option + ".yaml");
    if (!exists_quietly(file)) {
      if (entry.optional) return false;
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
    return true;
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
      value = override_value_node(o);  // typed by Hydra's grammar (graph/override_grammar.h)
    }
    // An op param the spec leaves at its default can be set without '+': it is declared.
    if (o.kind == Override::Kind::kSet && !exists && declared_param(parts))
      o.kind = Override::Kind::kForceAdd;
    switch (o.kind) {
      case Override::Kind::kSet:
        if (!exists) throw missing();
        break;
      case Override::Kind::kAdd:
        // Hydra: '+' on an existing key is refused unless that key is null or the value is a
        // dict or a list (which is merged in).
        if (exists && !static_cast<const YAML::Node&>(parent)[parts.back()].IsNull() &&
            !value.IsMap() && !value.IsSequence())
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
    if (exists) {
      // OmegaConf.update(cfg, key, value, merge=True): a dict merges into a dict; with '=' (struct
      // mode) only into keys that exist or that the op declares.
      merge_override(parent, parts.back(), o.key, value, o.kind != Override::Kind::kSet, o, where);
      return;
    }
    parent[parts.back()] = value;
    spec_.set_location(o.key, where);
  }

  // Sets `parent[key]` (at `path`) to `value`, merging maps into maps recursively.
  void merge_override(YAML::Node parent, const std::string& key, const std::string& path,
                      const YAML::Node& value, bool may_add, const Override& o,
                      const SourceLocation& where) {
    YAML::Node current = static_cast<const YAML::Node&>(parent)[key];
    if (value.IsMap() && current.IsSequence())
      throw ConfigError(where, path, "cannot merge a mapping into a list");
    if (value.IsSequence() && current.IsMap())
      throw ConfigError(where, path, "cannot merge a list into a mapping");
    if (!value.IsMap() || !current.IsMap()) {
      parent[key] = YAML::Clone(value);
      spec_.set_location(path, where);
      return;
    }
    for (const auto& kv : value) {
      std::string child = kv.first.as<std::string>();
      std::string child_path = path + "." + child;
      if (static_cast<const YAML::Node&>(current)[child].IsDefined()) {
        merge_override(current, child, child_path, kv.second, may_add, o, where);
        continue;
      }
      if (!may_add && !declared_param(split_path(child_path))) {
        std::string value_text = o.text.substr(o.text.find('=') + 1);
        auto notes = did_you_mean(child, map_keys(current));
        notes.push_back("to add keys while merging, write ++" + o.key + "=" + value_text);
        throw ConfigError(where, child_path, "no such key in the composed spec", notes);
      }
      current[child] = YAML::Clone(kv.second);
      spec_.set_location(child_path, where);
    }
  }

  // --- interpolation -------------------------------------------------------------------------

  void resolve_interpolations() { spec_.root = Interpolator(spec_.root, spec_).resolve_all(); }
};

}  // namespace

fs::path find_project_root(const fs::path& start) {
  fs::path dir = fs::absolute(start).lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();  // "a/b/" -> "a/b"
  while (true) {
    if (is_directory_quietly(dir / "configs")) return dir;
    if (dir == dir.root_path() || dir.empty()) return {};
    dir = dir.parent_path();
  }
}

fs::path find_config_dir(const fs::path& spec_file) {
  const fs::path root = find_project_root(fs::absolute(spec_file).parent_path());
  return root.empty() ? fs::path() : root / "configs";
}

ComposedSpec compose(const ComposeOptions& options) {
  ComposedSpec spec;
  spec.spec_file = options.spec_file;
  spec.overrides = options.overrides;
  spec.config_dir =
      options.config_dir.empty() ? find_config_dir(options.spec_file) : options.config_dir;
  YAML::Node primary = load_yaml_file(options.spec_file);
  if (primary.IsNull())
    throw ConfigError(location_of(options.spec_file.string(), primary.Mark()), "",
                      "the spec is empty: expected a mapping with keys such as nodes:, defaults:");
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
  if (primary.IsNull())
    throw ConfigError(location_of(virtual_file, primary.Mark()), "",
                      "the spec is empty: expected a mapping with keys such as nodes:, defaults:");
  if (!primary.IsMap())
    throw ConfigError(location_of(virtual_file, primary.Mark()), "",
                      "expected a mapping at the top of the spec (keys such as nodes:, defaults:)");
  Composer(spec, virtual_file).run(primary, overrides);
  return spec;
}

}  // namespace flowlab
