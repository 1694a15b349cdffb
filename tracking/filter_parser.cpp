// The MLflow filter language: lexing and recursive-descent parsing of filters, column lists and
// sort keys into tracking/filter.h's tree, with errors that point at the offending token.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "common/text.h"
#include "tracking/filter.h"
#include "tracking/query.h"

namespace flowlab::tracking {
namespace filter {
namespace {

// ---------------------------------------------------------------------------------------------
// Attributes: the run columns a filter may name (see Attribute in filter.h).

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
    // Soft delete (migration 5): seen only with a view that includes deleted runs.
    {"deleted_at", "r.deleted_at", "time", "NULL"},
    {"lifecycle_stage", "(CASE WHEN r.deleted_at IS NULL THEN 'active' ELSE 'deleted' END)", "text",
     "'active'"},
};

// MLflow's names for the same things.
constexpr std::pair<const char*, const char*> kAttributeAliases[] = {
    {"run_id", "id"},          {"run_name", "name"},
    {"run name", "name"},  // MLflow's `run name` (quoted: attributes.`run name`)
    {"created", "start_time"}, {"experiment_name", "experiment"},
};

}  // namespace

const Attribute* find_attribute(const std::string& name) {
  std::string lower = name;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& [alias, canonical] : kAttributeAliases)
    if (lower == alias) lower = canonical;
  for (const auto& a : kAttributes)
    if (lower == a.name) return &a;
  return nullptr;
}

namespace {

std::vector<std::string> attribute_names() {
  std::vector<std::string> out;
  for (const auto& a : kAttributes) out.emplace_back(a.name);
  for (const auto& [alias, canonical] : kAttributeAliases) out.emplace_back(alias);
  return out;
}

const char* const kStatuses[] = {"RUNNING", "FINISHED", "FAILED", "KILLED", "SCHEDULED", "STALE"};

// Letters, digits, _ - / and any non-ASCII byte (UTF-8: params.größe needs no quotes).
bool is_segment_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '/' ||
         static_cast<unsigned char>(c) >= 0x80;
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

// Display columns of text[0, pos), for carets under the offending token.
size_t width_before(const std::string& text, size_t pos) {
  return display_width(std::string_view(text).substr(0, pos));
}

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
  // Comparisons in one filter. The SQL nests them as a balanced tree (SQLite took 3,000), but
  // PostgreSQL's planner grows faster than linearly in them (an AND of 200 param comparisons
  // plans in 1 s, of 500 in 16 s): a clear limit instead of a query that seems to hang.
  static constexpr int kMaxComparisons = 250;

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
      if (depth >= kMaxDepth)
        fail(open, fmt::format("parentheses nested deeper than {}", kMaxDepth));
      Expr e = parse_or(depth + 1);
      skip_ws();
      if (at_end() || text_[pos_] != ')')
        fail(pos_, fmt::format("expected ')' to close the '(' at column {}, got {}",
                               width_before(text_, open) + 1, got(pos_)));
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
        if (at_end()) fail(open, fmt::format("unterminated quoted key: missing the closing {}", q));
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
    std::string word = peek_word();
    static const std::vector<std::string> kPrefixes = {"metrics", "params", "tags", "attributes"};
    bool quoted_prefix = false;
    if (word.empty() && !at_end() && text_[pos_] == '`') {
      // MLflow also takes a backquoted entity (`metric`.a) or a backquoted bare attribute
      // (`run name` = 'x').
      word = parse_segment("");
      quoted_prefix = true;
      if (at_end() || text_[pos_] != '.') {
        if (const Attribute* a = find_attribute(word))
          return {Field{FieldKind::kAttribute, "", a->name}, a};
        fail(start, "unknown field `" + word +
                        "`: expected an attribute name, or `metrics`, "
                        "`params`, `tags` or `attributes` followed by '.' and a key");
      }
    }
    if (word.empty())
      fail(start,
           "expected a field (metrics.<key>, params.<key>, tags.<key> or "
           "attributes.<name>), got " +
               got(start));
    if (!quoted_prefix) pos_ += word.size();
    const std::string prefix = lowercase(word);
    FieldKind kind;
    if (prefix == "metrics" || prefix == "metric") {
      kind = FieldKind::kMetric;
    } else if (prefix == "params" || prefix == "param" || prefix == "parameters" ||
               prefix == "parameter") {
      kind = FieldKind::kParam;
    } else if (prefix == "tags" || prefix == "tag") {
      kind = FieldKind::kTag;
    } else if (prefix == "attributes" || prefix == "attribute" || prefix == "attr" ||
               prefix == "run") {
      kind = FieldKind::kAttribute;
    } else {
      if (at_end() || text_[pos_] != '.') {
        // A bare attribute name: `status = 'FINISHED'`, `--sort -start_time`.
        if (const Attribute* a = find_attribute(word))
          return {Field{FieldKind::kAttribute, "", a->name}, a};
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
          for (const auto& at : kAttributes)
            names += std::string(names.empty() ? "" : ", ") + at.name;
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
    lit.number = *parse_double_or_inf(lit.text);  // scan_number accepted it
    pos_ = end;
    return lit;
  }

  Comparison parse_comparison() {
    Comparison c;
    const size_t field_pos = pos_;
    if (++comparisons_ > kMaxComparisons)
      fail(field_pos, fmt::format("a filter has at most {} comparisons; use IN (...) for a list "
                                  "of values",
                                  kMaxComparisons));
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
    } else if (accept_keyword("is")) {
      // IS [NOT] NULL: whether the run has the field at all (a metric whose latest value is NaN
      // counts as having none, as in every other comparison).
      c.op = Op::kIsNull;
      c.negated = accept_keyword("not");
      if (!accept_keyword("null")) {
        skip_ws();
        fail(pos_, "expected NULL or NOT NULL after IS, got " + got(pos_));
      }
      return c;
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
             std::string("expected ") +
                 (c.negated ? "IN, LIKE or ILIKE after NOT"
                            : "an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, "
                              "IS [NOT] NULL) after '" +
                                  field_text + "'") +
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
    // MLflow names runs by their hex id: attributes.run_id IN ('4f2a...', ...) means the uuid.
    const bool all_text = std::none_of(c.values.begin(), c.values.end(),
                                       [](const Literal& v) { return v.number.has_value(); });
    if (c.attribute && std::string(c.attribute->name) == "id" && all_text && !like &&
        (c.op == Op::kEq || c.op == Op::kNe || c.op == Op::kIn)) {
      c.attribute = find_attribute("uuid");
      c.field.key = "uuid";
      return;
    }
    if (type == "time")
      for (auto& v : c.values)
        // MLflow's times are milliseconds. Seconds this large would be after the year 5138, so
        // such a number is read as milliseconds (attributes.start_time > 1670628787527).
        if (v.number && std::fabs(*v.number) >= 1e11) *v.number /= 1000;
    if (type != "text") {
      if (like)
        fail(op_pos, "LIKE and ILIKE compare text, and " + shown +
                         " is a number; use =, !=, <, <=, >, >= or IN");
      for (auto& v : c.values) {
        if (v.number) continue;
        if (type == "time") {
          if ((v.number = parse_local_date(v.text))) continue;
          fail(v.pos,
               "expected unix seconds or a local date like '2024-05-01' or "
               "'2024-05-01 13:30:00' for " +
                   shown + ", got '" + v.text + "'");
        }
        fail(v.pos, "expected a number for " + shown + ", got '" + v.text + "'" +
                        (shown == "id" ? " (or the runs' uuids, every value quoted)" : ""));
      }
    }
    if (c.attribute && std::string(c.attribute->name) == "status" && !like) {
      for (auto& v : c.values) {
        std::string upper = v.text;
        for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        if (std::find(std::begin(kStatuses), std::end(kStatuses), upper) == std::end(kStatuses))
          fail(v.pos,
               "unknown run status '" + v.text +
                   "': expected RUNNING, FINISHED, FAILED, KILLED, SCHEDULED or STALE (any case)");
        v.text = upper;
      }
    }
  }

  std::string option_;
  const std::string& text_;
  size_t pos_ = 0;
  int comparisons_ = 0;
};

}  // namespace

std::optional<Expr> parse(const std::string& filter) {
  return Parser("filter", filter).parse_filter();
}

void collect_fields(const Expr& e, std::vector<Field>& out) {
  if (e.kind == Expr::kCompare) {
    if (std::find(out.begin(), out.end(), e.cmp.field) == out.end()) out.push_back(e.cmp.field);
    return;
  }
  for (const auto& c : e.children) collect_fields(c, out);
}

}  // namespace filter

namespace {

bool needs_quotes(const std::string& segment, bool dots_ok) {
  if (segment.empty()) return true;
  if (dots_ok &&
      (segment.front() == '.' || segment.back() == '.' || segment.find("..") != std::string::npos))
    return true;
  return !std::all_of(segment.begin(), segment.end(),
                      [&](char c) { return filter::is_segment_char(c) || (dots_ok && c == '.'); });
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
                        echo, std::string(filter::width_before(text, position), ' ') + "^"};
                  }()),
      position_(position) {}

std::string Field::display() const {
  switch (kind) {
    case FieldKind::kMetric:
      // With a node the key may keep its dots (everything after the node is the key).
      return node.empty() ? "metrics." + quoted(key, false)
                          : "metrics." + quoted(node, false) + "." + quoted(key, true);
    case FieldKind::kParam:
      return "params." + quoted(key, true);
    case FieldKind::kTag:
      return "tags." + quoted(key, true);
    case FieldKind::kAttribute:
      return key;
  }
  return key;
}

std::string attribute_type(const std::string& name) {
  const filter::Attribute* a = filter::find_attribute(name);
  return a ? a->type : "text";
}

std::optional<double> parse_number(const std::string& text) { return parse_double(text); }

Field parse_field(const std::string& text, const std::string& option) {
  return filter::Parser(option, text).parse_single_field();
}

std::vector<Field> parse_columns(const std::string& text) {
  return filter::Parser("--columns", text).parse_field_list();
}

std::vector<SortKey> parse_sort(const std::string& text) {
  return filter::Parser("--sort", text).parse_sort_list();
}

std::vector<Field> filter_fields(const std::string& filter) {
  std::vector<Field> out;
  if (auto e = filter::parse(filter)) filter::collect_fields(*e, out);
  return out;
}

}  // namespace flowlab::tracking
