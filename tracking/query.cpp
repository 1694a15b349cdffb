#include "tracking/query.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <system_error>
#include <tuple>

#include "tracking/store.h"

namespace flowlab::tracking {
namespace {

// ---------------------------------------------------------------------------------------------
// Attributes: the run columns a filter may name. `sql` is fixed text from this table; the user's
// spelling only selects a row of it.

struct Attribute {
  const char* name;
  const char* sql;
  const char* type;  // int | real | time | text
};

constexpr Attribute kAttributes[] = {
    {"id", "r.id", "int"},
    {"uuid", "r.uuid", "text"},
    {"name", "r.name", "text"},
    {"experiment", "e.name", "text"},
    {"status", "r.status", "text"},
    {"start_time", "r.start_time", "time"},
    {"end_time", "r.end_time", "time"},
    // Same definition as runs_summary.duration_s: a running run counts to its last heartbeat.
    {"duration", "(COALESCE(r.end_time, r.heartbeat, r.start_time) - r.start_time)", "real"},
    {"parent_id", "r.parent_id", "int"},
    {"seed", "r.seed", "int"},
    {"host", "r.host", "text"},
    {"git_commit", "r.git_commit", "text"},
    {"spec_file", "r.spec_file", "text"},
    {"overrides", "r.overrides", "text"},
};

// MLflow's names for the same things.
constexpr std::pair<const char*, const char*> kAttributeAliases[] = {
    {"run_id", "id"}, {"run_name", "name"}, {"created", "start_time"},
    {"experiment_name", "experiment"},
};

const Attribute* find_attribute(const std::string& name) {
  std::string lower = name;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& [alias, canonical] : kAttributeAliases)
    if (lower == alias) lower = canonical;
  for (const auto& a : kAttributes)
    if (lower == a.name) return &a;
  return nullptr;
}

std::vector<std::string> attribute_names() {
  std::vector<std::string> out;
  for (const auto& a : kAttributes) out.emplace_back(a.name);
  for (const auto& [alias, canonical] : kAttributeAliases) out.emplace_back(alias);
  return out;
}

const char* const kStatuses[] = {"RUNNING", "FINISHED", "FAILED", "KILLED"};

bool is_segment_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '/';
}
bool is_word_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string lowercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// End of a number starting at `pos` in the filter's number syntax, or npos.
size_t scan_number(const std::string& s, size_t pos) {
  size_t i = pos;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  const size_t int_start = i;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  bool digits = i > int_start;
  if (i < s.size() && s[i] == '.') {
    const size_t frac_start = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    digits = digits || i > frac_start;
  }
  if (!digits) return std::string::npos;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    const size_t exp_start = j;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
    if (j == exp_start) return std::string::npos;
    i = j;
  }
  return i;
}

// The value of text that scan_number accepted.
double to_double(const std::string& s) {
  // from_chars is locale-independent and rejects a leading '+', which scan_number allows.
  const char* first = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
  double v = 0;
  const auto r = std::from_chars(first, s.data() + s.size(), v);
  if (r.ec == std::errc::result_out_of_range) {
    // 1e999 is +-inf, 1e-999 is 0: tell them apart by the exponent's sign.
    const bool negative = s[0] == '-';
    const size_t e = s.find_first_of("eE");
    const bool tiny = e != std::string::npos && e + 1 < s.size() && s[e + 1] == '-';
    if (tiny) return negative ? -0.0 : 0.0;
    return negative ? -HUGE_VAL : HUGE_VAL;
  }
  return v;
}

// A local date "YYYY-MM-DD[( |T)HH:MM[:SS]]" as unix seconds (local time, like `flowlab runs`).
std::optional<double> parse_local_date(const std::string& s) {
  std::tm tm{};
  int used = 0;
  char sep = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &used) != 3 ||
      used != 10)
    return std::nullopt;
  if (static_cast<size_t>(used) < s.size()) {
    int rest = 0;
    if (std::sscanf(s.c_str() + used, "%c%2d:%2d%n", &sep, &tm.tm_hour, &tm.tm_min, &rest) != 3 ||
        (sep != ' ' && sep != 'T'))
      return std::nullopt;
    used += rest;
    if (static_cast<size_t>(used) < s.size()) {
      if (std::sscanf(s.c_str() + used, ":%2d%n", &tm.tm_sec, &rest) != 1) return std::nullopt;
      used += rest;
    }
    if (static_cast<size_t>(used) != s.size()) return std::nullopt;
  }
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_isdst = -1;  // let mktime decide whether daylight saving applies on that date
  const std::time_t t = std::mktime(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return static_cast<double>(t);
}

// LIKE's wildcards (% and _) as a GLOB pattern: GLOB is SQLite's case-sensitive matcher, LIKE is
// ASCII case-insensitive. GLOB's own metacharacters are bracketed so they match themselves.
std::string like_to_glob(const std::string& like) {
  std::string out;
  for (char c : like) {
    switch (c) {
      case '%': out += '*'; break;
      case '_': out += '?'; break;
      case '*': out += "[*]"; break;
      case '?': out += "[?]"; break;
      case '[': out += "[[]"; break;
      default: out += c;
    }
  }
  return out;
}

// Display columns of text[0, pos): UTF-8 continuation bytes take no column.
size_t display_width(const std::string& text, size_t pos) {
  size_t n = 0;
  for (size_t i = 0; i < pos && i < text.size(); ++i)
    n += (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
  return n;
}

// ---------------------------------------------------------------------------------------------
// The parsed filter.

enum class Op { kEq, kNe, kLt, kLe, kGt, kGe, kLike, kILike, kIn };

const char* op_sql(Op op) {
  switch (op) {
    case Op::kEq: return " = ";
    case Op::kNe: return " != ";
    case Op::kLt: return " < ";
    case Op::kLe: return " <= ";
    case Op::kGt: return " > ";
    case Op::kGe: return " >= ";
    default: return " ? ";  // unreachable: LIKE/ILIKE/IN are emitted separately
  }
}

struct Literal {
  std::string text;               // a string's contents, or a number as written
  std::optional<double> number;   // set when the literal is (or spells) a number
  size_t pos = 0;
};

struct Comparison {
  Field field;
  const Attribute* attribute = nullptr;  // for attributes
  Op op = Op::kEq;
  bool negated = false;  // NOT LIKE / NOT ILIKE / NOT IN
  std::vector<Literal> values;
};

struct Expr {
  enum Kind { kCompare, kAnd, kOr } kind = kCompare;
  Comparison cmp;
  std::vector<Expr> children;
};

// ---------------------------------------------------------------------------------------------
// Recursive-descent parser; the lexer is driven by context, because a double quote starts a key
// on the left of an operator and a string on its right (both as in MLflow).

class Parser {
 public:
  Parser(std::string option, const std::string& text) : option_(std::move(option)), text_(text) {}

  std::optional<Expr> parse_filter() {
    skip_ws();
    if (at_end()) return std::nullopt;
    Expr e = parse_or(0);
    skip_ws();
    if (!at_end()) fail(pos_, "expected AND, OR or the end of the filter, got " + got(pos_));
    return e;
  }

  Field parse_single_field() {
    skip_ws();
    Field f = parse_field().first;
    skip_ws();
    if (!at_end()) fail(pos_, "expected the end of the field, got " + got(pos_));
    return f;
  }

  std::vector<Field> parse_field_list() {
    std::vector<Field> out;
    for (;;) {
      skip_ws();
      out.push_back(parse_field().first);
      skip_ws();
      if (at_end()) return out;
      if (text_[pos_] != ',') fail(pos_, "expected ',' or the end of the list, got " + got(pos_));
      ++pos_;
    }
  }

  std::vector<SortKey> parse_sort_list() {
    std::vector<SortKey> out;
    for (;;) {
      skip_ws();
      SortKey k;
      bool signed_key = false;
      if (!at_end() && (text_[pos_] == '+' || text_[pos_] == '-')) {
        k.descending = text_[pos_] == '-';
        signed_key = true;
        ++pos_;
      }
      k.field = parse_field().first;
      skip_ws();
      const size_t dir_pos = pos_;
      const std::string word = lowercase(peek_word());
      if (word == "asc" || word == "desc") {
        if (signed_key) fail(dir_pos, "give the direction once: a leading + or -, or ASC/DESC");
        k.descending = word == "desc";
        pos_ += word.size();
        skip_ws();
      }
      out.push_back(std::move(k));
      if (at_end()) return out;
      if (text_[pos_] != ',')
        fail(pos_, "expected ASC, DESC, ',' or the end of the sort keys, got " + got(pos_));
      ++pos_;
    }
  }

 private:
  static constexpr int kMaxDepth = 64;  // parentheses; keeps recursion and SQLite's depth bounded

  [[noreturn]] void fail(size_t at, const std::string& message) const {
    throw QuerySyntaxError(option_, text_, at, message);
  }

  bool at_end() const { return pos_ >= text_.size(); }
  void skip_ws() {
    while (!at_end() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  // What is at `at`, quoted, for "got ..." in messages.
  std::string got(size_t at) const {
    if (at >= text_.size()) return "the end of the input";
    size_t end = at;
    if (is_segment_char(text_[at]) || text_[at] == '.') {
      while (end < text_.size() && (is_segment_char(text_[end]) || text_[end] == '.')) ++end;
    } else {
      end = at + 1;
      // Keep a UTF-8 sequence whole.
      while (end < text_.size() && (static_cast<unsigned char>(text_[end]) & 0xC0) == 0x80) ++end;
    }
    if (text_[at] == '\'' || text_[at] == '"' || text_[at] == '`') {  // a whole quoted token
      end = text_.find(text_[at], at + 1);
      end = end == std::string::npos ? text_.size() : end + 1;
    }
    const std::string tok = text_.substr(at, std::min<size_t>(end - at, 30));
    return tok.find('\'') == std::string::npos ? "'" + tok + "'" : "\"" + tok + "\"";
  }

  std::string peek_word() const {
    if (at_end() || !is_word_start(text_[pos_])) return "";
    size_t end = pos_;
    while (end < text_.size() && is_word_char(text_[end])) ++end;
    return text_.substr(pos_, end - pos_);
  }

  // Consumes `keyword` (case-insensitive, as a whole word) if it comes next.
  bool accept_keyword(const char* keyword) {
    skip_ws();
    if (lowercase(peek_word()) != keyword) return false;
    pos_ += std::char_traits<char>::length(keyword);
    return true;
  }

  Expr parse_or(int depth) {
    Expr first = parse_and(depth);
    if (!peek_keyword("or")) return first;
    Expr e;
    e.kind = Expr::kOr;
    e.children.push_back(std::move(first));
    while (accept_keyword("or")) e.children.push_back(parse_and(depth));
    return e;
  }

  Expr parse_and(int depth) {
    Expr first = parse_primary(depth);
    if (!peek_keyword("and")) return first;
    Expr e;
    e.kind = Expr::kAnd;
    e.children.push_back(std::move(first));
    while (accept_keyword("and")) e.children.push_back(parse_primary(depth));
    return e;
  }

  bool peek_keyword(const char* keyword) {
    skip_ws();
    return lowercase(peek_word()) == keyword;
  }

  Expr parse_primary(int depth) {
    skip_ws();
    if (!at_end() && text_[pos_] == '(') {
      const size_t open = pos_++;
      if (depth >= kMaxDepth) fail(open, fmt::format("parentheses nested deeper than {}", kMaxDepth));
      Expr e = parse_or(depth + 1);
      skip_ws();
      if (at_end() || text_[pos_] != ')')
        fail(pos_, fmt::format("expected ')' to close the '(' at column {}, got {}",
                               display_width(text_, open) + 1, got(pos_)));
      ++pos_;
      return e;
    }
    Expr e;
    e.cmp = parse_comparison();
    return e;
  }

  // One key segment: a run of [A-Za-z0-9_/-], or a `backquoted` / "double-quoted" name in which
  // a doubled quote stands for itself.
  std::string parse_segment(const std::string& after) {
    if (at_end() || (!is_segment_char(text_[pos_]) && text_[pos_] != '`' && text_[pos_] != '"'))
      fail(pos_, "expected a key after '" + after + "', got " + got(pos_) +
                     " (quote keys with special characters: `my key` or \"my key\")");
    const char q = text_[pos_];
    if (q == '`' || q == '"') {
      const size_t open = pos_++;
      std::string out;
      for (;;) {
        if (at_end())
          fail(open, fmt::format("unterminated quoted key: missing the closing {}", q));
        if (text_[pos_] == q) {
          if (pos_ + 1 < text_.size() && text_[pos_ + 1] == q) {
            out += q;
            pos_ += 2;
            continue;
          }
          ++pos_;
          break;
        }
        out += text_[pos_++];
      }
      if (out.empty()) fail(open, "empty key");
      return out;
    }
    const size_t start = pos_;
    while (!at_end() && is_segment_char(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  // A field, and its row in kAttributes when it is an attribute.
  std::pair<Field, const Attribute*> parse_field() {
    skip_ws();
    const size_t start = pos_;
    const std::string word = peek_word();
    static const std::vector<std::string> kPrefixes = {"metrics", "params", "tags", "attributes"};
    if (word.empty())
      fail(start, "expected a field (metrics.<key>, params.<key>, tags.<key> or "
                  "attributes.<name>), got " + got(start));
    pos_ += word.size();
    const std::string prefix = lowercase(word);
    FieldKind kind;
    if (prefix == "metrics" || prefix == "metric") {
      kind = FieldKind::kMetric;
    } else if (prefix == "params" || prefix == "param") {
      kind = FieldKind::kParam;
    } else if (prefix == "tags" || prefix == "tag") {
      kind = FieldKind::kTag;
    } else if (prefix == "attributes" || prefix == "attribute" || prefix == "attr") {
      kind = FieldKind::kAttribute;
    } else {
      if (at_end() || text_[pos_] != '.') {
        // A bare attribute name: `status = 'FINISHED'`, `--sort -start_time`.
        if (const Attribute* a = find_attribute(word)) return {Field{FieldKind::kAttribute, "", a->name}, a};
      }
      std::vector<std::string> candidates = kPrefixes;
      for (const auto& n : attribute_names()) candidates.push_back(n);
      const std::string near = closest_match(word, candidates);
      fail(start, "unknown field '" + word +
                      "': expected metrics.<key>, params.<key>, tags.<key>, attributes.<name> or "
                      "an attribute name" +
                      (near.empty() ? std::string() : " (did you mean '" + near + "'?)"));
    }
    if (at_end() || text_[pos_] != '.')
      fail(pos_, "expected '.' and a key after '" + word + "', got " + got(pos_));
    ++pos_;
    std::vector<std::string> segments;
    std::string after = word + ".";
    const size_t name_pos = pos_;
    for (;;) {
      segments.push_back(parse_segment(after));
      if (at_end() || text_[pos_] != '.') break;
      after = text_.substr(start, pos_ + 1 - start);
      ++pos_;
    }
    Field f;
    f.kind = kind;
    auto join = [&](size_t from) {
      std::string key;
      for (size_t i = from; i < segments.size(); ++i) key += (i > from ? "." : "") + segments[i];
      return key;
    };
    switch (kind) {
      case FieldKind::kMetric:
        // One segment: any node's KEY. More: NODE, then the rest (dots and all) is the key.
        if (segments.size() == 1) {
          f.key = segments[0];
        } else {
          f.node = segments[0];
          f.key = join(1);
        }
        return {f, nullptr};
      case FieldKind::kParam:
      case FieldKind::kTag:
        f.key = join(0);
        return {f, nullptr};
      case FieldKind::kAttribute: {
        const Attribute* a = segments.size() == 1 ? find_attribute(segments[0]) : nullptr;
        if (!a) {
          const std::string near = closest_match(join(0), attribute_names());
          std::string names;
          for (const auto& at : kAttributes) names += std::string(names.empty() ? "" : ", ") + at.name;
          fail(name_pos, "unknown attribute '" + join(0) + "': expected one of " + names +
                             (near.empty() ? std::string() : " (did you mean '" + near + "'?)"));
        }
        f.key = a->name;
        return {f, a};
      }
    }
    fail(start, "internal error: unhandled field kind");
  }

  Literal parse_value() {
    skip_ws();
    Literal lit;
    lit.pos = pos_;
    if (at_end()) fail(pos_, "expected a number or a quoted string, got the end of the input");
    const char c = text_[pos_];
    if (c == '\'' || c == '"') {
      ++pos_;
      for (;;) {
        if (at_end()) fail(lit.pos, fmt::format("unterminated string: missing the closing {}", c));
        if (text_[pos_] == c) {
          if (pos_ + 1 < text_.size() && text_[pos_ + 1] == c) {  // '' stands for '
            lit.text += c;
            pos_ += 2;
            continue;
          }
          ++pos_;
          break;
        }
        lit.text += text_[pos_++];
      }
      lit.number = parse_number(lit.text);
      return lit;
    }
    const size_t end = scan_number(text_, pos_);
    if (end == std::string::npos || (end < text_.size() && is_segment_char(text_[end])))
      fail(pos_, "expected a number or a quoted string ('text'), got " + got(pos_));
    lit.text = text_.substr(pos_, end - pos_);
    lit.number = to_double(lit.text);
    pos_ = end;
    return lit;
  }

  Comparison parse_comparison() {
    Comparison c;
    const size_t field_pos = pos_;
    std::tie(c.field, c.attribute) = parse_field();
    const std::string field_text = text_.substr(field_pos, pos_ - field_pos);
    skip_ws();
    const size_t op_pos = pos_;
    auto starts = [&](const char* s) { return text_.compare(pos_, std::strlen(s), s) == 0; };
    if (starts("!=")) {
      c.op = Op::kNe, pos_ += 2;
    } else if (starts("<=")) {
      c.op = Op::kLe, pos_ += 2;
    } else if (starts(">=")) {
      c.op = Op::kGe, pos_ += 2;
    } else if (starts("<")) {
      c.op = Op::kLt, pos_ += 1;
    } else if (starts(">")) {
      c.op = Op::kGt, pos_ += 1;
    } else if (starts("=")) {
      c.op = Op::kEq, pos_ += 1;
    } else {
      c.negated = accept_keyword("not");
      if (accept_keyword("in")) {
        c.op = Op::kIn;
      } else if (accept_keyword("like")) {
        c.op = Op::kLike;
      } else if (accept_keyword("ilike")) {
        c.op = Op::kILike;
      } else {
        fail(c.negated ? pos_ : op_pos,
             std::string("expected ") + (c.negated ? "IN, LIKE or ILIKE after NOT" :
             "an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN) after '" + field_text + "'") +
                 ", got " + got(c.negated ? pos_ : op_pos));
      }
    }
    if (c.op == Op::kIn) {
      skip_ws();
      if (at_end() || text_[pos_] != '(')
        fail(pos_, "expected '(' and a list of values after IN, got " + got(pos_));
      ++pos_;
      for (;;) {
        c.values.push_back(parse_value());
        skip_ws();
        if (!at_end() && text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (!at_end() && text_[pos_] == ')') {
          ++pos_;
          break;
        }
        fail(pos_, "expected ',' or ')' in the IN list, got " + got(pos_));
      }
    } else {
      c.values.push_back(parse_value());
    }
    check_types(c, op_pos);
    return c;
  }

  // Types are checked here, where positions are known, so the caret can point at the culprit.
  void check_types(Comparison& c, size_t op_pos) {
    const bool like = c.op == Op::kLike || c.op == Op::kILike;
    std::string type = "text";
    if (c.field.kind == FieldKind::kMetric) type = "real";
    if (c.attribute) type = c.attribute->type;
    const std::string shown = c.field.display();
    if (type != "text") {
      if (like)
        fail(op_pos, "LIKE and ILIKE compare text, and " + shown +
                         " is a number; use =, !=, <, <=, >, >= or IN");
      for (auto& v : c.values) {
        if (v.number) continue;
        if (type == "time") {
          if ((v.number = parse_local_date(v.text))) continue;
          fail(v.pos, "expected unix seconds or a local date like '2024-05-01' or "
                      "'2024-05-01 13:30:00' for " + shown + ", got '" + v.text + "'");
        }
        fail(v.pos, "expected a number for " + shown + ", got '" + v.text + "'" +
                        (shown == "id" ? " (MLflow's hex run id is attributes.uuid here)" : ""));
      }
    }
    if (c.attribute && std::string(c.attribute->name) == "status" && !like) {
      for (auto& v : c.values) {
        std::string upper = v.text;
        for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        if (std::find(std::begin(kStatuses), std::end(kStatuses), upper) == std::end(kStatuses))
          fail(v.pos, "unknown run status '" + v.text +
                          "': expected RUNNING, FINISHED, FAILED or KILLED");
        v.text = upper;
      }
    }
  }

  std::string option_;
  const std::string& text_;
  size_t pos_ = 0;
};

void collect_fields(const Expr& e, std::vector<Field>& out) {
  if (e.kind == Expr::kCompare) {
    if (std::find(out.begin(), out.end(), e.cmp.field) == out.end()) out.push_back(e.cmp.field);
    return;
  }
  for (const auto& c : e.children) collect_fields(c, out);
}

// ---------------------------------------------------------------------------------------------
// SQL generation. add() takes only string literals written in this file; everything that came
// from the user goes through bind(). That split is what keeps a filter from changing the SQL.

class SqlBuilder {
 public:
  template <size_t N>
  SqlBuilder& add(const char (&fixed)[N]) {
    sql_.append(fixed, N - 1);
    return *this;
  }
  SqlBuilder& add_fixed(const char* fixed_from_this_file) {  // e.g. an Attribute::sql
    sql_ += fixed_from_this_file;
    return *this;
  }
  SqlBuilder& bind(SqlValue v) {
    sql_ += '?';
    binds_.push_back(std::move(v));
    return *this;
  }
  SqlBuilder& name(char prefix, size_t index) {  // generated column names: c0, s1, ...
    sql_ += prefix;
    sql_ += std::to_string(index);
    return *this;
  }
  CompiledQuery finish(std::vector<Field> columns) {
    return CompiledQuery{std::move(sql_), std::move(binds_), std::move(columns)};
  }

 private:
  std::string sql_;
  std::vector<SqlValue> binds_;
};

// `IN (?, ?, ...)` over `values`, each bound as produced by `as_value`.
template <typename F>
void emit_list(SqlBuilder& b, const std::vector<Literal>& values, bool negated, F as_value) {
  b.add_fixed(negated ? " NOT IN (" : " IN (");
  bool first = true;
  for (const auto& v : values) {
    if (auto bound = as_value(v)) {
      if (!first) b.add(", ");
      b.bind(std::move(*bound));
      first = false;
    }
  }
  b.add(")");
}

void emit_numeric_predicate(SqlBuilder& b, const char* column, const Comparison& c) {
  b.add("(").add_fixed(column);
  if (c.op == Op::kIn) {
    emit_list(b, c.values, c.negated,
              [](const Literal& v) { return std::optional<SqlValue>(*v.number); });
  } else {
    b.add_fixed(op_sql(c.op)).bind(*c.values.front().number);
  }
  b.add(")");
}

// Text comparison; with `numeric_aware` (params, tags), a stored number meets a number in the
// filter as a number.
void emit_text_predicate(SqlBuilder& b, const char* column, const Comparison& c,
                         bool numeric_aware) {
  if (c.op == Op::kLike || c.op == Op::kILike) {
    b.add("(").add_fixed(column);
    if (c.op == Op::kLike) {
      b.add_fixed(c.negated ? " NOT GLOB " : " GLOB ").bind(like_to_glob(c.values.front().text));
    } else {
      b.add_fixed(c.negated ? " NOT LIKE " : " LIKE ").bind(c.values.front().text);
    }
    b.add(")");
    return;
  }
  const bool any_number = std::any_of(c.values.begin(), c.values.end(),
                                      [](const Literal& v) { return v.number.has_value(); });
  auto as_text = [](const Literal& v) { return std::optional<SqlValue>(v.text); };
  if (!numeric_aware || !any_number) {
    b.add("(").add_fixed(column);
    if (c.op == Op::kIn) {
      emit_list(b, c.values, c.negated, as_text);
    } else {
      b.add_fixed(op_sql(c.op)).bind(c.values.front().text);
    }
    b.add(")");
    return;
  }
  // Text when the stored value is not a number, else numbers (only the numeric list items).
  b.add("(CASE WHEN flowlab_number(").add_fixed(column).add(") IS NULL THEN ").add_fixed(column);
  if (c.op == Op::kIn) {
    emit_list(b, c.values, c.negated, as_text);
  } else {
    b.add_fixed(op_sql(c.op)).bind(c.values.front().text);
  }
  b.add(" ELSE flowlab_number(").add_fixed(column).add(")");
  if (c.op == Op::kIn) {
    emit_list(b, c.values, c.negated, [](const Literal& v) {
      return v.number ? std::optional<SqlValue>(*v.number) : std::nullopt;
    });
  } else {
    b.add_fixed(op_sql(c.op)).bind(*c.values.front().number);
  }
  b.add(" END)");
}

void emit_comparison(SqlBuilder& b, const Comparison& c) {
  switch (c.field.kind) {
    case FieldKind::kMetric:
      // Any matching series satisfies it; with a node there is at most one (the primary key).
      b.add("EXISTS (SELECT 1 FROM latest_metrics lm WHERE lm.run_id = r.id AND lm.key = ")
          .bind(c.field.key);
      if (!c.field.node.empty()) b.add(" AND lm.node = ").bind(c.field.node);
      b.add(" AND ");
      emit_numeric_predicate(b, "lm.value", c);
      b.add(")");
      return;
    case FieldKind::kParam:
      b.add("EXISTS (SELECT 1 FROM params pv WHERE pv.run_id = r.id AND pv.key = ").bind(c.field.key);
      b.add(" AND ");
      emit_text_predicate(b, "pv.value", c, true);
      b.add(")");
      return;
    case FieldKind::kTag:
      b.add("EXISTS (SELECT 1 FROM tags tv WHERE tv.run_id = r.id AND tv.key = ").bind(c.field.key);
      b.add(" AND ");
      emit_text_predicate(b, "tv.value", c, true);
      b.add(")");
      return;
    case FieldKind::kAttribute:
      if (std::string(c.attribute->type) == "text")
        emit_text_predicate(b, c.attribute->sql, c, false);
      else
        emit_numeric_predicate(b, c.attribute->sql, c);
      return;
  }
}

void emit_expr(SqlBuilder& b, const Expr& e) {
  if (e.kind == Expr::kCompare) {
    emit_comparison(b, e.cmp);
    return;
  }
  b.add("(");
  for (size_t i = 0; i < e.children.size(); ++i) {
    if (i) b.add_fixed(e.kind == Expr::kAnd ? " AND " : " OR ");
    emit_expr(b, e.children[i]);
  }
  b.add(")");
}

// The value of `f` for run r, as a scalar SQL expression.
void emit_value(SqlBuilder& b, const Field& f) {
  switch (f.kind) {
    case FieldKind::kMetric:
      if (!f.node.empty()) {
        b.add("(SELECT lm.value FROM latest_metrics lm WHERE lm.run_id = r.id AND lm.node = ")
            .bind(f.node)
            .add(" AND lm.key = ")
            .bind(f.key)
            .add(")");
      } else {  // several nodes may log KEY: the most recently logged one stands for the run
        b.add("(SELECT lm.value FROM latest_metrics lm WHERE lm.run_id = r.id AND lm.key = ")
            .bind(f.key)
            .add(" ORDER BY lm.timestamp DESC, lm.node LIMIT 1)");
      }
      return;
    case FieldKind::kParam:
      b.add("(SELECT pv.value FROM params pv WHERE pv.run_id = r.id AND pv.key = ").bind(f.key).add(")");
      return;
    case FieldKind::kTag:
      b.add("(SELECT tv.value FROM tags tv WHERE tv.run_id = r.id AND tv.key = ").bind(f.key).add(")");
      return;
    case FieldKind::kAttribute:
      b.add_fixed(find_attribute(f.key)->sql);
      return;
  }
}

bool needs_quotes(const std::string& segment, bool dots_ok) {
  if (segment.empty()) return true;
  if (dots_ok && (segment.front() == '.' || segment.back() == '.' ||
                  segment.find("..") != std::string::npos))
    return true;
  return !std::all_of(segment.begin(), segment.end(),
                      [&](char c) { return is_segment_char(c) || (dots_ok && c == '.'); });
}

std::string quoted(const std::string& segment, bool dots_ok) {
  if (!needs_quotes(segment, dots_ok)) return segment;
  std::string out = "`";
  for (char c : segment) out += c == '`' ? std::string("``") : std::string(1, c);
  return out + "`";
}

}  // namespace

// ---------------------------------------------------------------------------------------------

QuerySyntaxError::QuerySyntaxError(const std::string& option, const std::string& text,
                                   size_t position, const std::string& message)
    : ConfigError(SourceLocation{"command line"}, option, message,
                  [&] {
                    std::string echo = text;
                    for (char& c : echo)
                      if (c == '\n' || c == '\t' || c == '\r') c = ' ';
                    return std::vector<std::string>{
                        echo, std::string(display_width(text, position), ' ') + "^"};
                  }()),
      position_(position) {}

std::string Field::display() const {
  switch (kind) {
    case FieldKind::kMetric:
      // With a node the key may keep its dots (everything after the node is the key).
      return node.empty() ? "metrics." + quoted(key, false)
                          : "metrics." + quoted(node, false) + "." + quoted(key, true);
    case FieldKind::kParam: return "params." + quoted(key, true);
    case FieldKind::kTag: return "tags." + quoted(key, true);
    case FieldKind::kAttribute: return key;
  }
  return key;
}

std::string attribute_type(const std::string& name) {
  const Attribute* a = find_attribute(name);
  return a ? a->type : "text";
}

std::optional<double> parse_number(const std::string& text) {
  if (text.empty() || scan_number(text, 0) != text.size()) return std::nullopt;
  const double v = to_double(text);
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

Field parse_field(const std::string& text, const std::string& option) {
  return Parser(option, text).parse_single_field();
}

std::vector<Field> parse_columns(const std::string& text) {
  return Parser("--columns", text).parse_field_list();
}

std::vector<SortKey> parse_sort(const std::string& text) {
  return Parser("--sort", text).parse_sort_list();
}

std::vector<Field> filter_fields(const std::string& filter) {
  std::vector<Field> out;
  if (auto e = Parser("filter", filter).parse_filter()) collect_fields(*e, out);
  return out;
}

CompiledQuery compile_query(const RunQuery& query) {
  // Parse everything first: a mistake anywhere is reported before any SQL exists.
  const std::optional<Expr> where = Parser("filter", query.filter).parse_filter();
  std::vector<SortKey> sort;
  for (const auto& s : query.sort) {
    auto keys = parse_sort(s);
    sort.insert(sort.end(), keys.begin(), keys.end());
  }
  std::vector<Field> columns;
  const bool blank_columns =
      std::all_of(query.columns.begin(), query.columns.end(),
                  [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
  if (!blank_columns) {
    columns = parse_columns(query.columns);
  } else {
    for (const char* a : {"id", "experiment", "name", "status"})
      columns.push_back(Field{FieldKind::kAttribute, "", a});
    if (where) collect_fields(*where, columns);
    for (const auto& k : sort)
      if (std::find(columns.begin(), columns.end(), k.field) == columns.end())
        columns.push_back(k.field);
  }

  // The inner query computes every column and sort key once per matching run; the outer one
  // orders by the sort keys (runs missing a key last) and keeps the requested columns.
  SqlBuilder b;
  b.add("SELECT ");
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) b.add(", ");
    b.name('c', i);
  }
  b.add(" FROM (SELECT ");
  for (size_t i = 0; i < columns.size(); ++i) {
    emit_value(b, columns[i]);
    b.add(" AS ").name('c', i).add(", ");
  }
  for (size_t i = 0; i < sort.size(); ++i) {
    emit_value(b, sort[i].field);
    b.add(" AS ").name('s', i).add(", ");
  }
  b.add("r.start_time AS start_, r.id AS id_ FROM runs r JOIN experiments e ON e.id = r.experiment_id");
  if (where) {
    b.add(" WHERE ");
    emit_expr(b, *where);
  }
  b.add(") ORDER BY ");
  for (size_t i = 0; i < sort.size(); ++i) {
    const char* dir = sort[i].descending ? " DESC, " : " ASC, ";
    b.name('s', i).add(" IS NULL, ");
    if (sort[i].field.kind == FieldKind::kParam || sort[i].field.kind == FieldKind::kTag) {
      // Numbers (in numeric order) before other text (in text order).
      b.add("flowlab_number(").name('s', i).add(") IS NULL, ");
      b.add("flowlab_number(").name('s', i).add(")").add_fixed(dir);
    }
    b.name('s', i).add_fixed(dir);
  }
  b.add("start_ DESC, id_ DESC LIMIT ").bind(int64_t{query.limit > 0 ? query.limit : -1});
  return b.finish(std::move(columns));
}

QueryResult run_query(const ReadOnlyDb& db, const RunQuery& query) {
  CompiledQuery q = compile_query(query);
  if (db.schema_version() < 3)
    throw StoreError(fmt::format("the database is at schema version {}; queries need version 3 "
                                 "(any flowlab command that opens it read-write upgrades it)",
                                 db.schema_version()));
  ResultSet rs = db.execute(q.sql, q.binds);
  return QueryResult{std::move(q.columns), std::move(rs.rows)};
}

// ---------------------------------------------------------------------------------------------
// ReadOnlyDb

namespace {

// flowlab_number(x): x when it is a number, the number a text spells, else NULL.
void sql_flowlab_number(sqlite3_context* ctx, int, sqlite3_value** argv) {
  switch (sqlite3_value_type(argv[0])) {
    case SQLITE_INTEGER:
    case SQLITE_FLOAT: sqlite3_result_double(ctx, sqlite3_value_double(argv[0])); return;
    case SQLITE_TEXT: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
      const std::string s(p, static_cast<size_t>(sqlite3_value_bytes(argv[0])));
      if (auto v = parse_number(s)) {
        sqlite3_result_double(ctx, *v);
        return;
      }
      break;
    }
    default: break;
  }
  sqlite3_result_null(ctx);
}

struct StmtGuard {
  sqlite3_stmt* s = nullptr;
  ~StmtGuard() { sqlite3_finalize(s); }
};

SqlValue column_value(sqlite3_stmt* st, int col) {
  switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER: return static_cast<int64_t>(sqlite3_column_int64(st, col));
    case SQLITE_FLOAT: return sqlite3_column_double(st, col);
    case SQLITE_TEXT: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, col));
      return std::string(p, static_cast<size_t>(sqlite3_column_bytes(st, col)));
    }
    case SQLITE_BLOB: {
      const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(st, col));
      const int n = sqlite3_column_bytes(st, col);
      std::string hex = "x'";
      for (int i = 0; i < n; ++i) hex += fmt::format("{:02x}", p[i]);
      return hex + "'";
    }
    default: return std::monostate{};
  }
}

// Steps `st` to the end, collecting rows. Returns the failing result code, or SQLITE_DONE.
int collect(sqlite3_stmt* st, ResultSet& out) {
  const int n = sqlite3_column_count(st);
  for (int i = 0; i < n; ++i) out.columns.emplace_back(sqlite3_column_name(st, i));
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    std::vector<SqlValue> row;
    row.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) row.push_back(column_value(st, i));
    out.rows.push_back(std::move(row));
  }
  return rc;
}

}  // namespace

ReadOnlyDb::ReadOnlyDb(const std::filesystem::path& path) : path_(path) {
  if (!std::filesystem::exists(path))
    throw StoreError(fmt::format("no results database at {}", path.string()));
  const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw StoreError(fmt::format("cannot open {} read-only: {}", path.string(), msg));
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 30'000);
  // Belt and braces: the open flag already forbids writes; query_only also refuses them in
  // statements that would otherwise only fail when they reach the file.
  char* err = nullptr;
  if (sqlite3_exec(db_, "PRAGMA query_only=ON", nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw StoreError("PRAGMA query_only failed: " + msg);
  }
  sqlite3_create_function_v2(db_, "flowlab_number", 1,
                             SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                             sql_flowlab_number, nullptr, nullptr, nullptr);
}

ReadOnlyDb::~ReadOnlyDb() {
  if (db_) sqlite3_close_v2(db_);
}

int ReadOnlyDb::schema_version() const {
  ResultSet rs = execute("PRAGMA user_version");
  return rs.rows.empty() ? 0 : static_cast<int>(std::get<int64_t>(rs.rows[0][0]));
}

ResultSet ReadOnlyDb::execute(const std::string& sql, const std::vector<SqlValue>& binds) const {
  StmtGuard st;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK)
    throw StoreError(fmt::format("sqlite error preparing a query: {}", sqlite3_errmsg(db_)));
  for (size_t i = 0; i < binds.size(); ++i) {
    const int idx = static_cast<int>(i) + 1;
    const SqlValue& v = binds[i];
    int rc;
    if (std::holds_alternative<int64_t>(v)) {
      rc = sqlite3_bind_int64(st.s, idx, std::get<int64_t>(v));
    } else if (std::holds_alternative<double>(v)) {
      rc = sqlite3_bind_double(st.s, idx, std::get<double>(v));
    } else if (std::holds_alternative<std::string>(v)) {
      const auto& s = std::get<std::string>(v);
      rc = sqlite3_bind_text(st.s, idx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    } else {
      rc = sqlite3_bind_null(st.s, idx);
    }
    if (rc != SQLITE_OK)
      throw StoreError(fmt::format("sqlite error binding value {}: {}", idx, sqlite3_errmsg(db_)));
  }
  ResultSet out;
  if (collect(st.s, out) != SQLITE_DONE)
    throw StoreError(fmt::format("sqlite error running a query: {}", sqlite3_errmsg(db_)));
  return out;
}

ResultSet ReadOnlyDb::execute_user_sql(const std::string& sql) const {
  auto user_error = [](const std::string& message) {
    return ConfigError(SourceLocation{"command line"}, "sql", message);
  };
  StmtGuard st;
  const char* tail = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &st.s, &tail) != SQLITE_OK)
    throw user_error(sqlite3_errmsg(db_));
  if (!st.s) throw user_error("no SQL statement given");
  // Anything after the first statement other than blanks, comments and ';' is refused: one
  // statement, one result table.
  const char* end = sql.data() + sql.size();
  while (tail && tail < end) {
    StmtGuard extra;
    const char* next = nullptr;
    if (sqlite3_prepare_v2(db_, tail, static_cast<int>(end - tail), &extra.s, &next) != SQLITE_OK)
      throw user_error(std::string("after the first statement: ") + sqlite3_errmsg(db_));
    if (extra.s) throw user_error("give one SQL statement at a time");
    if (next == tail) break;
    tail = next;
  }
  if (!sqlite3_stmt_readonly(st.s))
    throw user_error("flowlab sql is read-only: this statement would change the database, so "
                     "it was not run (use the sqlite3 shell on a copy to experiment)");
  ResultSet out;
  const int rc = collect(st.s, out);
  if (rc != SQLITE_DONE) {
    const std::string msg = sqlite3_errmsg(db_);
    // The machine's trouble (busy, I/O, corruption, memory) is a failure; the rest is about
    // what the statement asked for (no such file to ATTACH, a bad function argument, ...).
    switch (rc & 0xff) {
      case SQLITE_BUSY: case SQLITE_LOCKED: case SQLITE_NOMEM: case SQLITE_IOERR:
      case SQLITE_CORRUPT: case SQLITE_FULL: case SQLITE_INTERRUPT: case SQLITE_PROTOCOL:
        throw StoreError(fmt::format("sqlite error running the statement: {}", msg));
      default:
        throw user_error(msg);
    }
  }
  return out;
}

}  // namespace flowlab::tracking
