#include "graph/override_grammar.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

#include "common/error.h"
#include "common/text.h"

namespace flowlab {

using Kind = OverrideValue::Kind;

OverrideValue OverrideValue::null() { return OverrideValue{}; }
OverrideValue OverrideValue::of_bool(bool b) {
  OverrideValue v;
  v.kind = Kind::kBool;
  v.boolean = b;
  return v;
}
OverrideValue OverrideValue::of_int(int64_t i) {
  OverrideValue v;
  v.kind = Kind::kInt;
  v.integer = i;
  return v;
}
OverrideValue OverrideValue::of_float(double f) {
  OverrideValue v;
  v.kind = Kind::kFloat;
  v.number = f;
  return v;
}
OverrideValue OverrideValue::of_string(std::string s, char quote) {
  OverrideValue v;
  v.kind = Kind::kString;
  v.text = std::move(s);
  v.quote = quote;
  return v;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Errors

std::string caret_line(const std::string& text, size_t at) {
  std::string line;
  for (size_t i = 0; i < at && i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) == 0x80) continue;  // UTF-8 continuation byte: no column of its own
    line += c == '\t' ? '\t' : ' ';
  }
  return line + "^";
}

}  // namespace

[[noreturn]] void throw_override_error(const std::string& text, size_t at,
                                       const std::string& message, std::vector<std::string> hints) {
  std::vector<std::string> notes{text, caret_line(text, at)};
  for (auto& h : hints) notes.push_back(std::move(h));
  throw ConfigError(SourceLocation{"command line", 0, 0, "override '" + text + "'"}, "", message,
                    std::move(notes));
}

namespace {

// ---------------------------------------------------------------------------------------------
// Lexer (VALUE_MODE of OverrideLexer.g4): the longest match wins, ties go to the earlier rule.

enum class Tok {
  kPOpen,
  kComma,
  kPClose,
  kBracketOpen,
  kBracketClose,
  kBraceOpen,
  kBraceClose,
  kColon,
  kEqual,
  kFloat,
  kInt,
  kBool,
  kNull,
  kUnquotedChar,
  kId,
  kEsc,
  kWs,
  kQuoted,
  kInterpolation,
  kEof
};

struct Token {
  Tok type = Tok::kEof;
  size_t begin = 0, end = 0;
  std::string text;
};

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
 public:
  Lexer(const std::string& s, size_t begin) : s_(s), pos_(begin) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    while (pos_ < s_.size()) {
      size_t best = 0;
      Tok type = Tok::kEof;
      for (int t = 0; t < static_cast<int>(Tok::kEof); ++t) {
        size_t len = match(static_cast<Tok>(t), pos_);
        if (len > best) best = len, type = static_cast<Tok>(t);
      }
      if (best == 0) {
        char c = s_[pos_];
        if (c == '\'' || c == '"')
          throw_override_error(s_, pos_,
                               std::string("unterminated quoted string (no closing ") + c + ")",
                               {"inside quotes, write \\" + std::string(1, c) + " for a quote"});
        throw_override_error(s_, pos_,
                             "unexpected character '" + display_char(pos_) + "' in the value",
                             {"quote the value ('...') or escape the character with a backslash"});
      }
      out.push_back(Token{type, pos_, pos_ + best, s_.substr(pos_, best)});
      pos_ += best;
    }
    out.push_back(Token{Tok::kEof, s_.size(), s_.size(), ""});
    return out;
  }

 private:
  const std::string& s_;
  size_t pos_;

  std::string display_char(size_t p) const {
    size_t len = 1;
    unsigned char c = static_cast<unsigned char>(s_[p]);
    if (c >= 0xF0)
      len = 4;
    else if (c >= 0xE0)
      len = 3;
    else if (c >= 0xC0)
      len = 2;
    return s_.substr(p, len);
  }

  char at(size_t p) const { return p < s_.size() ? s_[p] : '\0'; }
  size_t ws(size_t p) const {
    size_t q = p;
    while (at(q) == ' ' || at(q) == '\t') ++q;
    return q - p;
  }
  size_t sym(size_t p, bool lead, char c, bool trail) const {
    size_t q = p;
    if (lead) q += ws(q);
    if (at(q) != c) return 0;
    ++q;
    if (trail) q += ws(q);
    return q - p;
  }
  bool ci(size_t p, const char* word) const {
    for (size_t i = 0; word[i]; ++i)
      if (std::tolower(static_cast<unsigned char>(at(p + i))) != word[i]) return false;
    return true;
  }
  // DIGIT (('_')? DIGIT)*
  size_t digits(size_t p) const {
    if (!is_digit(at(p))) return 0;
    size_t q = p + 1;
    for (;;) {
      if (is_digit(at(q)))
        ++q;
      else if (at(q) == '_' && is_digit(at(q + 1)))
        q += 2;
      else
        break;
    }
    return q - p;
  }
  // '0' | [1-9] (('_')? DIGIT)*
  size_t int_unsigned(size_t p) const {
    if (at(p) == '0') return 1;
    if (at(p) >= '1' && at(p) <= '9') return digits(p);
    return 0;
  }
  size_t float_len(size_t p) const {
    size_t q = p;
    if (at(q) == '+' || at(q) == '-') ++q;
    size_t best = 0;
    if (ci(q, "inf") || ci(q, "nan")) best = q + 3 - p;
    size_t ip = int_unsigned(q);
    size_t point_end = 0;
    if (ip && at(q + ip) == '.') {
      point_end = q + ip + 1;
      point_end += digits(point_end);
    } else if (at(q) == '.' && digits(q + 1)) {
      point_end = q + 1 + digits(q + 1);
    }
    if (point_end) best = std::max(best, point_end - p);
    for (size_t m : {ip ? q + ip : 0, point_end}) {
      if (!m || (at(m) != 'e' && at(m) != 'E')) continue;
      size_t e = m + 1;
      if (at(e) == '+' || at(e) == '-') ++e;
      if (size_t d = digits(e)) best = std::max(best, e + d - p);
    }
    return best;
  }
  size_t match(Tok t, size_t p) const {
    switch (t) {
      case Tok::kPOpen:
        return sym(p, true, '(', true);
      case Tok::kComma:
        return sym(p, true, ',', true);
      case Tok::kPClose:
        return sym(p, true, ')', false);
      case Tok::kBracketOpen:
        return sym(p, false, '[', true);
      case Tok::kBracketClose:
        return sym(p, true, ']', false);
      case Tok::kBraceOpen:
        return sym(p, false, '{', true);
      case Tok::kBraceClose:
        return sym(p, true, '}', false);
      case Tok::kColon:
        return sym(p, true, ':', true);
      case Tok::kEqual:
        return sym(p, true, '=', true);
      case Tok::kFloat:
        return float_len(p);
      case Tok::kInt: {
        size_t q = p;
        if (at(q) == '+' || at(q) == '-') ++q;
        size_t n = int_unsigned(q);
        return n ? q + n - p : 0;
      }
      case Tok::kBool:
        return ci(p, "true") ? 4 : ci(p, "false") ? 5 : 0;
      case Tok::kNull:
        return ci(p, "null") ? 4 : 0;
      case Tok::kUnquotedChar:
        return at(p) && std::string_view("/-\\+.$%*@?|").find(at(p)) != std::string_view::npos;
      case Tok::kId: {
        if (!is_alpha(at(p)) && at(p) != '_') return 0;
        size_t q = p + 1;
        while (is_alpha(at(q)) || is_digit(at(q)) || at(q) == '_' || at(q) == '-') ++q;
        return q - p;
      }
      case Tok::kEsc: {
        size_t q = p;
        while (at(q) == '\\' && q + 1 < s_.size() &&
               std::string_view("\\()[]{}:=, \t").find(s_[q + 1]) != std::string_view::npos)
          q += 2;
        return q - p;
      }
      case Tok::kWs:
        return ws(p);
      case Tok::kQuoted: {
        char qc = at(p);
        if (qc != '\'' && qc != '"') return 0;
        size_t backslashes = 0;
        for (size_t q = p + 1; q < s_.size(); ++q) {
          if (s_[q] == qc && backslashes % 2 == 0) return q + 1 - p;
          backslashes = s_[q] == '\\' ? backslashes + 1 : 0;
        }
        return 0;
      }
      case Tok::kInterpolation: {
        if (at(p) != '$' || at(p + 1) != '{') return 0;
        size_t q = p + 2;
        while (q < s_.size() && s_[q] != '}') ++q;
        return q < s_.size() && q > p + 2 ? q + 1 - p : 0;
      }
      case Tok::kEof:
        return 0;
    }
    return 0;
  }
};

// Hydra's un-escaping of a quoted string: a run of n backslashes followed by the quote character
// stands for n/2 backslashes, plus the quote when n is odd; other backslashes are literal.
std::string unquote(const std::string& token) {
  char qc = token.front();
  std::string body = token.substr(1, token.size() - 2), out;
  for (size_t i = 0; i < body.size();) {
    if (body[i] != '\\') {
      out += body[i++];
      continue;
    }
    size_t j = i;
    while (j < body.size() && body[j] == '\\') ++j;
    size_t n = j - i;
    if (j < body.size() && body[j] == qc) {
      out.append(n / 2, '\\');
      out += qc;  // n is odd here: the lexer ends the string at a quote after an even run
      i = j + 1;
    } else if (j == body.size()) {
      out.append(n / 2, '\\');  // before the closing quote: an even run
      i = j;
    } else {
      out.append(n, '\\');
      i = j;
    }
  }
  return out;
}

std::string unescape(const std::string& esc) {
  std::string out;
  for (size_t i = 1; i < esc.size(); i += 2) out += esc[i];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Python-compatible helpers

std::string python_type(const OverrideValue& v) {
  switch (v.kind) {
    case Kind::kNull:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kList:
      return "list";
    case Kind::kDict:
      return "dict";
    case Kind::kChoice:
      return "ChoiceSweep";
    case Kind::kRange:
      return "RangeSweep";
    case Kind::kGlob:
      return "Glob";
    case Kind::kInterval:
      return "IntervalSweep";
  }
  return "?";
}

std::string py_str_repr(const std::string& s) {
  char q = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
  std::string out(1, q);
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == q)
      out += std::string("\\") + q;
    else if (c == '\t')
      out += "\\t";
    else if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (static_cast<unsigned char>(c) < 0x20)
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    else
      out += c;
  }
  return out + q;
}

bool is_number(const OverrideValue& v) {
  return v.kind == Kind::kInt || v.kind == Kind::kFloat || v.kind == Kind::kBool;
}
double as_double(const OverrideValue& v) {
  return v.kind == Kind::kFloat
             ? v.number
             : static_cast<double>(v.kind == Kind::kBool ? v.boolean : v.integer);
}

struct PyError {
  std::string type, message;
};

// Python's `a < b` for the types an override holds; throws PyError for incomparable types.
bool py_less(const OverrideValue& a, const OverrideValue& b) {
  if (is_number(a) && is_number(b)) {
    if (a.kind != Kind::kFloat && b.kind != Kind::kFloat) {
      int64_t x = a.kind == Kind::kBool ? a.boolean : a.integer;
      int64_t y = b.kind == Kind::kBool ? b.boolean : b.integer;
      return x < y;
    }
    return as_double(a) < as_double(b);
  }
  if (a.kind == Kind::kString && b.kind == Kind::kString) return a.text < b.text;
  if (a.kind == Kind::kList && b.kind == Kind::kList) {
    for (size_t i = 0; i < a.items.size() && i < b.items.size(); ++i) {
      if (py_less(a.items[i], b.items[i])) return true;
      if (py_less(b.items[i], a.items[i])) return false;
    }
    return a.items.size() < b.items.size();
  }
  throw PyError{"TypeError", "'<' not supported between instances of '" + python_type(a) +
                                 "' and '" + python_type(b) + "'"};
}

// Python's int(str): blanks around, an optional sign, digits with single '_' between them.
std::optional<int64_t> py_int_of(const std::string& text) {
  std::string t = trim(text), digits_only;
  size_t i = 0;
  bool neg = false;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) neg = t[i++] == '-';
  if (i >= t.size()) return std::nullopt;
  for (; i < t.size(); ++i) {
    if (is_digit(t[i]))
      digits_only += t[i];
    else if (t[i] == '_' && !digits_only.empty() && i + 1 < t.size() && is_digit(t[i + 1]))
      continue;
    else
      return std::nullopt;
  }
  int64_t v = 0;
  if (neg) digits_only = "-" + digits_only;
  auto r = std::from_chars(digits_only.data(), digits_only.data() + digits_only.size(), v);
  if (r.ec != std::errc()) return std::nullopt;
  return v;
}

// Python's float(str): blanks around, inf/infinity/nan in any case, decimal syntax with '_'
// between digits.
std::optional<double> py_float_of(const std::string& text) {
  std::string t = trim(text);
  std::string body = t;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) body = body.substr(1);
  std::string lower = body;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double sign = !t.empty() && t[0] == '-' ? -1.0 : 1.0;
  if (lower == "inf" || lower == "infinity") return sign * HUGE_VAL;
  if (lower == "nan") return std::nan("");
  std::string clean;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '_') {
      if (i == 0 || i + 1 >= t.size() || !is_digit(t[i - 1]) || !is_digit(t[i + 1]))
        return std::nullopt;
      continue;
    }
    clean += t[i];
  }
  if (auto d = parse_double_or_inf(clean)) return *d;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Parser (OverrideParser.g4's value rule) and the functions of Hydra's basic grammar

struct Call {
  std::string name, text;
  size_t at = 0;
  std::vector<OverrideValue> args;
  std::vector<std::pair<std::string, OverrideValue>> kwargs;
};

class Parser {
 public:
  Parser(const std::string& text, size_t offset) : s_(text), tokens_(Lexer(text, offset).run()) {}

  OverrideValue parse() {
    if (peek().type == Tok::kEof) return OverrideValue::of_string("");
    OverrideValue first = element();
    if (peek().type != Tok::kComma) {
      expect_end();
      return first;
    }
    OverrideValue choice;
    choice.kind = Kind::kChoice;
    choice.simple_form = true;
    choice.items.push_back(std::move(first));
    while (peek().type == Tok::kComma) {
      next();
      if (peek().type == Tok::kComma || peek().type == Tok::kEof)
        fail(peek().begin, "empty choice: expected a value after ','",
             {"a value with commas in it must be quoted: key='a,b'"});
      choice.items.push_back(element());
    }
    expect_end();
    return choice;
  }

 private:
  const std::string& s_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  static constexpr int kMaxDepth = 100;
  int depth_ = 0;

  const Token& peek(size_t k = 0) const { return tokens_[std::min(pos_ + k, tokens_.size() - 1)]; }
  const Token& next() { return tokens_[std::min(pos_++, tokens_.size() - 1)]; }

  [[noreturn]] void fail(size_t at, const std::string& message,
                         std::vector<std::string> hints = {}) {
    throw_override_error(s_, at, message, std::move(hints));
  }

  static std::string shown(const Token& t) {
    if (t.type == Tok::kEof) return "the end";
    return "'" + trim(t.text) + "'";
  }

  void expect_end() {
    const Token& t = peek();
    if (t.type == Tok::kEof) return;
    if (t.type == Tok::kPOpen)
      fail(t.begin, "unexpected '(': only a function name may come before '('",
           {"to keep the parenthesis, quote the value or escape it: \\("});
    fail(t.begin, "unexpected " + shown(t) + " after the value",
         {"quote the whole value ('...') to keep it as text"});
  }

  static bool primitive_token(Tok t, bool dict_key) {
    switch (t) {
      case Tok::kId:
      case Tok::kNull:
      case Tok::kInt:
      case Tok::kFloat:
      case Tok::kBool:
      case Tok::kUnquotedChar:
      case Tok::kEsc:
      case Tok::kWs:
        return true;
      case Tok::kColon:
      case Tok::kInterpolation:
        return !dict_key;
      default:
        return false;
    }
  }

  OverrideValue element() {
    const Token& t = peek();
    // Lists, dicts and function calls nest by recursion: `[[[[...` a few thousand deep overflowed
    // the stack (found by fuzz/override_fuzz.cpp). No real value nests this deep.
    struct Depth {
      int& d;
      explicit Depth(int& depth) : d(++depth) {}
      ~Depth() { --d; }
    } depth(depth_);
    if (depth_ > kMaxDepth)
      fail(t.begin, "the value nests lists, dicts or functions more than 100 levels deep");
    if (t.type == Tok::kId && peek(1).type == Tok::kPOpen) return function();
    if (t.type == Tok::kBracketOpen) return list();
    if (t.type == Tok::kBraceOpen) return dict();
    if (t.type == Tok::kQuoted) {
      next();
      return OverrideValue::of_string(unquote(t.text), t.text.front());
    }
    if (primitive_token(t.type, false)) return primitive(false);
    if (t.type == Tok::kEof) fail(t.begin, "expected a value");
    fail(t.begin, "expected a value, got " + shown(t));
  }

  OverrideValue primitive(bool dict_key) {
    size_t first = pos_;
    while (primitive_token(peek().type, dict_key)) next();
    size_t last = pos_;  // exclusive
    size_t lo = first, hi = last;
    if (tokens_[lo].type == Tok::kWs) {
      if (hi - lo == 1) fail(tokens_[lo].begin, "a value cannot be only whitespace");
      ++lo;
    }
    if (tokens_[hi - 1].type == Tok::kWs) --hi;
    if (hi - lo > 1) {
      std::string text;
      for (size_t i = lo; i < hi; ++i)
        text += tokens_[i].type == Tok::kEsc ? unescape(tokens_[i].text) : tokens_[i].text;
      return OverrideValue::of_string(text);
    }
    const Token& t = tokens_[lo];
    switch (t.type) {
      case Tok::kInt: {
        std::string digits;
        for (char c : t.text)
          if (c != '_' && c != '+') digits += c;
        int64_t v = 0;
        auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v);
        if (r.ec != std::errc())
          fail(t.begin, "integer " + t.text + " does not fit in 64 bits",
               {"quote it to keep it as text"});
        return OverrideValue::of_int(v);
      }
      case Tok::kFloat: {
        std::string clean;
        for (char c : t.text)
          if (c != '_') clean += c;
        return OverrideValue::of_float(std::strtod(clean.c_str(), nullptr));
      }
      case Tok::kNull:
        return OverrideValue::null();
      case Tok::kBool:
        return OverrideValue::of_bool(t.text.size() == 4);
      case Tok::kEsc:
        return OverrideValue::of_string(unescape(t.text));
      default:
        return OverrideValue::of_string(t.text);
    }
  }

  OverrideValue list() {
    const Token& open = next();
    OverrideValue v;
    v.kind = Kind::kList;
    if (peek().type == Tok::kBracketClose) {
      next();
      return v;
    }
    for (;;) {
      if (peek().type == Tok::kEof)
        fail(peek().begin, "expected a value or ']' to close the list opened here at column " +
                               std::to_string(open.begin + 1));
      v.items.push_back(element());
      const Token& t = next();
      if (t.type == Tok::kBracketClose) return v;
      if (t.type != Tok::kComma) fail(t.begin, "expected ',' or ']' in the list, got " + shown(t));
    }
  }

  OverrideValue dict() {
    next();
    OverrideValue v;
    v.kind = Kind::kDict;
    if (peek().type == Tok::kBraceClose) {
      next();
      return v;
    }
    for (;;) {
      const Token& k = peek();
      if (!primitive_token(k.type, true)) {
        if (k.type == Tok::kQuoted)
          fail(k.begin, "a dict key cannot be quoted (Hydra's grammar)",
               {"escape special characters in keys instead: {a\\ b: 1}"});
        fail(k.begin, "expected a dict key, got " + shown(k));
      }
      OverrideValue key = primitive(true);
      if (peek().type != Tok::kColon)
        fail(peek().begin, "expected ':' after the dict key, got " + shown(peek()));
      next();
      OverrideValue value = element();
      auto same = std::find_if(v.entries.begin(), v.entries.end(), [&](const auto& e) {
        return e.first.kind == key.kind &&
               format_override_value(e.first) == format_override_value(key);
      });
      if (same != v.entries.end())
        same->second = std::move(value);  // a Python dict: the last value wins
      else
        v.entries.emplace_back(std::move(key), std::move(value));
      const Token& t = next();
      if (t.type == Tok::kBraceClose) return v;
      if (t.type != Tok::kComma) fail(t.begin, "expected ',' or '}' in the dict, got " + shown(t));
    }
  }

  OverrideValue function() {
    Call call;
    const Token& name = next();
    call.name = name.text;
    call.at = name.begin;
    next();  // '('
    bool keywords = false;
    if (peek().type == Tok::kPClose) {
      next();
    } else {
      for (;;) {
        if (peek().type == Tok::kId && peek(1).type == Tok::kEqual) {
          std::string arg = next().text;
          next();
          call.kwargs.emplace_back(arg, element());
          keywords = true;
        } else {
          if (keywords) fail(peek().begin, "positional argument follows keyword argument");
          if (peek().type == Tok::kEof)
            fail(peek().begin, "expected an argument or ')' to close " + call.name + "(");
          call.args.push_back(element());
        }
        const Token& t = next();
        if (t.type == Tok::kPClose) break;
        if (t.type != Tok::kComma)
          fail(t.begin, "expected ',' or ')' in the call to " + call.name + "(), got " + shown(t));
      }
    }
    call.text = s_.substr(call.at, tokens_[pos_ - 1].end - call.at);
    try {
      return evaluate(call);
    } catch (const PyError& e) {
      fail(call.at, e.type + " while evaluating '" + call.text + "': " + e.message);
    }
  }

  // --- functions ------------------------------------------------------------------------------

  struct Bound {
    std::vector<std::optional<OverrideValue>> named;  // in the order of `params`
    std::vector<OverrideValue> rest;                  // *args
  };

  static Bound bind(const Call& c, const std::vector<std::string>& params, bool var_positional,
                    size_t positional_count) {
    Bound b;
    b.named.resize(params.size());
    if (var_positional) {
      b.rest = c.args;
    } else {
      if (c.args.size() > positional_count)
        throw PyError{"TypeError", "too many positional arguments"};
      for (size_t i = 0; i < c.args.size(); ++i) b.named[i] = c.args[i];
    }
    for (const auto& [name, value] : c.kwargs) {
      auto it = std::find(params.begin(), params.end(), name);
      if (it == params.end())
        throw PyError{"TypeError", "got an unexpected keyword argument '" + name + "'"};
      size_t i = static_cast<size_t>(it - params.begin());
      if (b.named[i] && !var_positional && i < c.args.size())
        throw PyError{"TypeError", "multiple values for argument '" + name + "'"};
      b.named[i] = value;
    }
    return b;
  }

  static void mismatch(const std::string& arg, const OverrideValue& v,
                       const std::string& expected) {
    throw PyError{"TypeError", "mismatch type argument " + arg + ": " + python_type(v) +
                                   " is incompatible with " + expected};
  }

  OverrideValue evaluate(const Call& c) {
    const std::string& f = c.name;
    if (f == "int" || f == "float" || f == "str" || f == "bool") {
      Bound b = bind(c, {"value"}, true, 0);
      OverrideValue v;
      if (b.named[0] && !b.rest.empty())
        throw PyError{"TypeError", "cannot use both position and named arguments"};
      if (b.named[0])
        v = *b.named[0];
      else if (b.rest.empty())
        throw PyError{"TypeError", "No positional args or value specified"};
      else if (b.rest.size() == 1)
        v = b.rest[0];
      else
        v = simple_choice(b.rest);
      return cast(f, v);
    }
    if (f == "choice") {
      Bound b = bind(c, {}, true, 0);
      if (b.rest.empty()) throw PyError{"ValueError", "empty choice is not legal"};
      if (b.rest.size() == 1 && b.rest[0].kind == Kind::kChoice) {
        if (!b.rest[0].simple_form) throw PyError{"ValueError", "nesting choices is not supported"};
        OverrideValue v = b.rest[0];
        v.simple_form = false;
        return v;
      }
      for (size_t i = 0; i < b.rest.size(); ++i)
        if (b.rest[i].kind == Kind::kNull || b.rest[i].is_sweep())
          mismatch(fmt::format("args[{}]", i), b.rest[i],
                   "Union[str, int, float, bool, Dict[Any, Any], List[Any], ChoiceSweep]");
      OverrideValue v;
      v.kind = Kind::kChoice;
      v.items = b.rest;
      return v;
    }
    if (f == "range") {
      Bound b = bind(c, {"start", "stop", "step"}, false, 3);
      if (!b.named[0]) throw PyError{"TypeError", "missing a required argument: 'start'"};
      const char* names[] = {"start", "stop", "step"};
      for (size_t i = 0; i < 3; ++i)
        if (b.named[i] && !is_number(*b.named[i]))
          throw PyError{"TypeError", std::string("range() takes numbers: ") + names[i] + " is " +
                                         python_type(*b.named[i]) + " (mismatch type argument " +
                                         names[i] + ": " + python_type(*b.named[i]) +
                                         " is incompatible with Union[int, float])"};
      OverrideValue v;
      v.kind = Kind::kRange;
      OverrideValue start = *b.named[0];
      if (!b.named[1])
        v.items = {OverrideValue::of_int(0), start};
      else
        v.items = {start, *b.named[1]};
      v.items.push_back(b.named[2] ? *b.named[2] : OverrideValue::of_int(1));
      for (auto& x : v.items)
        if (x.kind == Kind::kBool) x = OverrideValue::of_int(x.boolean);
      return v;
    }
    if (f == "interval") {
      Bound b = bind(c, {"start", "end"}, false, 2);
      const char* names[] = {"start", "end"};
      OverrideValue v;
      v.kind = Kind::kInterval;
      for (size_t i = 0; i < 2; ++i) {
        if (!b.named[i])
          throw PyError{"TypeError",
                        std::string("missing a required argument: '") + names[i] + "'"};
        if (!is_number(*b.named[i])) mismatch(names[i], *b.named[i], "Union[int, float]");
        v.items.push_back(OverrideValue::of_float(as_double(*b.named[i])));
      }
      return v;
    }
    if (f == "tag") {
      Bound b = bind(c, {"sweep"}, true, 0);
      std::vector<OverrideValue> args = b.rest;
      if (args.empty())
        throw PyError{"ValueError", "Not enough arguments to tag, must take at least a sweep"};
      if (b.named[0]) args.push_back(*b.named[0]);
      OverrideValue sweep = args.back();
      if (sweep.kind != Kind::kChoice && sweep.kind != Kind::kRange &&
          sweep.kind != Kind::kInterval)
        throw PyError{"ValueError",
                      "Last argument to tag() must be a choice(), range() or interval(), got " +
                          python_type(sweep)};
      std::vector<std::string> tags;
      for (size_t i = 0; i + 1 < args.size(); ++i) {
        if (args[i].kind != Kind::kString)
          throw PyError{"ValueError",
                        "tag arguments type must be string, got " + python_type(args[i])};
        tags.push_back(args[i].text);
      }
      std::sort(tags.begin(), tags.end());
      tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
      sweep.tags = tags;
      return sweep;
    }
    if (f == "shuffle") {
      Bound b = bind(c, {"sweep", "list", "seed"}, true, 0);
      std::optional<uint64_t> seed;
      if (b.named[2]) {
        if (b.named[2]->kind != Kind::kInt) mismatch("seed", *b.named[2], "int");
        seed = static_cast<uint64_t>(b.named[2]->integer);
      }
      std::vector<OverrideValue> args = b.rest;
      if (b.named[1]) args = {*b.named[1]};
      if (b.named[0]) args = {*b.named[0]};
      for (size_t i = 0; i < args.size(); ++i)
        if (args[i].kind == Kind::kNull || args[i].kind == Kind::kGlob ||
            args[i].kind == Kind::kInterval)
          mismatch(
              fmt::format("args[{}]", i), args[i],
              "Union[str, int, bool, float, List[Any], Dict[str, Any], ChoiceSweep, RangeSweep]");
      if (args.size() == 1) {
        OverrideValue v = args[0];
        if (v.kind == Kind::kChoice || v.kind == Kind::kRange) {
          v.shuffle = true;
          v.seed = seed;
          return v;
        }
        if (v.kind == Kind::kList) {
          std::mt19937_64 rng(seed ? *seed : std::random_device{}());
          std::shuffle(v.items.begin(), v.items.end(), rng);
          return v;
        }
        OverrideValue list;
        list.kind = Kind::kList;
        list.items = {v};
        return list;
      }
      OverrideValue v = simple_choice(args);
      v.shuffle = true;
      v.seed = seed;
      return v;
    }
    if (f == "sort") {
      Bound b = bind(c, {"sweep", "list", "reverse"}, true, 0);
      bool reverse = false;
      if (b.named[2]) {
        if (b.named[2]->kind != Kind::kBool) mismatch("reverse", *b.named[2], "bool");
        reverse = b.named[2]->boolean;
      }
      if (b.named[1]) {
        if (b.named[1]->kind != Kind::kList) mismatch("list", *b.named[1], "Optional[List[Any]]");
        return sorted(*b.named[1], reverse);
      }
      if (b.named[0]) return sort_sweep(*b.named[0], reverse);
      if (b.rest.size() == 1) {
        const OverrideValue& a = b.rest[0];
        if (a.kind == Kind::kChoice || a.kind == Kind::kRange) return sort_sweep(a, reverse);
        if (a.kind == Kind::kList) return sorted(a, reverse);
        if (a.kind == Kind::kNull || a.is_sweep())
          throw PyError{"TypeError", "Invalid arguments: sort() takes values, a list or a sweep"};
        return a;
      }
      for (const auto& a : b.rest)
        if (!is_number(a) && a.kind != Kind::kString)
          throw PyError{"TypeError",
                        "Invalid arguments: sort(a, b, ...) takes ints, floats, bools and strings"};
      if (b.rest.empty()) throw PyError{"ValueError", "empty sort input"};
      return sort_sweep(simple_choice(b.rest), reverse);
    }
    if (f == "glob") {
      Bound b = bind(c, {"include", "exclude"}, false, 2);
      if (!b.named[0]) throw PyError{"TypeError", "missing a required argument: 'include'"};
      OverrideValue v;
      v.kind = Kind::kGlob;
      auto strings = [&](const OverrideValue& x, const std::string& name) {
        std::vector<std::string> out;
        if (x.kind == Kind::kString) return std::vector<std::string>{x.text};
        if (x.kind != Kind::kList) mismatch(name, x, "Union[List[str], str]");
        for (const auto& item : x.items) {
          if (item.kind != Kind::kString)
            throw PyError{"TypeError",
                          name + " patterns must be strings, got " + python_type(item)};
          out.push_back(item.text);
        }
        return out;
      };
      v.include = strings(*b.named[0], "include");
      if (b.named[1] && b.named[1]->kind != Kind::kNull)
        v.exclude = strings(*b.named[1], "exclude");
      return v;
    }
    if (f == "extend_list" || f == "json_str")
      throw PyError{"ValueError", f + "() is deprecated in Hydra and not supported by flowlab"};
    throw_override_error(
        s_, c.at, "Unknown function '" + f + "'",
        {"Available: bool,choice,float,glob,int,interval,range,shuffle,sort,str,tag",
         "to keep the text, quote the value or escape the parenthesis: \\("});
  }

  static OverrideValue simple_choice(const std::vector<OverrideValue>& items) {
    OverrideValue v;
    v.kind = Kind::kChoice;
    v.simple_form = true;
    v.items = items;
    return v;
  }

  static std::vector<OverrideValue> sorted_items(std::vector<OverrideValue> items, bool reverse) {
    // Python's sorted(): stable; reverse keeps equal elements in their original order.
    std::stable_sort(items.begin(), items.end(),
                     [&](const OverrideValue& a, const OverrideValue& b) {
                       return reverse ? py_less(b, a) : py_less(a, b);
                     });
    // A single element is never compared; Python does not check it either.
    return items;
  }

  static OverrideValue sorted(OverrideValue list, bool reverse) {
    list.items = sorted_items(std::move(list.items), reverse);
    return list;
  }

  static OverrideValue sort_sweep(OverrideValue sweep, bool reverse) {
    if (sweep.kind == Kind::kChoice) {
      sweep.items = sorted_items(std::move(sweep.items), reverse);
      return sweep;
    }
    if (sweep.kind == Kind::kRange) {
      sweep.sort = reverse ? -1 : 1;
      return sweep;
    }
    throw PyError{"TypeError", "Invalid arguments: sort(sweep=...) takes a choice or a range"};
  }

  static OverrideValue cast(const std::string& f, const OverrideValue& v) {
    switch (v.kind) {
      case Kind::kList:
      case Kind::kChoice: {
        OverrideValue out;
        out.kind = v.kind;
        out.simple_form = v.simple_form;
        for (const auto& x : v.items) out.items.push_back(cast(f, x));
        return out;
      }
      case Kind::kDict: {
        OverrideValue out = v;
        for (auto& e : out.entries) e.second = cast(f, e.second);
        return out;
      }
      case Kind::kRange: {
        if (f != "int" && f != "float")
          throw PyError{"ValueError", "Range can only be cast to int or float"};
        OverrideValue out;
        out.kind = Kind::kRange;
        out.sort = v.sort;
        for (const auto& x : v.items) out.items.push_back(cast(f, x));
        return out;
      }
      case Kind::kInterval: {
        if (f != "int" && f != "float")
          throw PyError{"ValueError", "Intervals cannot be cast to " + f};
        OverrideValue out = v;
        for (auto& x : out.items) x = cast(f, x);
        return out;
      }
      case Kind::kGlob:
      case Kind::kNull:
        throw PyError{"TypeError", f + "() cannot convert " + python_type(v)};
      default:
        break;
    }
    if (f == "int") {
      if (v.kind == Kind::kInt) return v;
      if (v.kind == Kind::kBool) return OverrideValue::of_int(v.boolean);
      if (v.kind == Kind::kFloat) {
        if (std::isinf(v.number))
          throw PyError{"OverflowError", "cannot convert float infinity to integer"};
        if (std::isnan(v.number))
          throw PyError{"ValueError", "cannot convert float NaN to integer"};
        if (std::fabs(v.number) >= 9.2e18)
          throw PyError{"OverflowError", "the integer does not fit in 64 bits"};
        return OverrideValue::of_int(static_cast<int64_t>(std::trunc(v.number)));
      }
      if (auto i = py_int_of(v.text)) return OverrideValue::of_int(*i);
      throw PyError{"ValueError", "invalid literal for int() with base 10: " + py_str_repr(v.text)};
    }
    if (f == "float") {
      if (v.kind == Kind::kString) {
        if (auto d = py_float_of(v.text)) return OverrideValue::of_float(*d);
        throw PyError{"ValueError", "could not convert string to float: " + py_str_repr(v.text)};
      }
      return OverrideValue::of_float(as_double(v));
    }
    if (f == "str") {
      switch (v.kind) {
        case Kind::kBool:
          return OverrideValue::of_string(v.boolean ? "true" : "false");
        case Kind::kInt:
          return OverrideValue::of_string(std::to_string(v.integer));
        case Kind::kFloat:
          return OverrideValue::of_string(python_float_repr(v.number));
        default:
          return OverrideValue::of_string(v.text);
      }
    }
    // bool
    if (v.kind == Kind::kString) {
      std::string lower = v.text;
      for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (lower == "true") return OverrideValue::of_bool(true);
      if (lower == "false") return OverrideValue::of_bool(false);
      throw PyError{"ValueError", "Cannot cast '" + v.text + "' to bool"};
    }
    if (v.kind == Kind::kBool) return v;
    return OverrideValue::of_bool(v.kind == Kind::kInt ? v.integer != 0 : v.number != 0.0);
  }
};

// ---------------------------------------------------------------------------------------------
// Exact decimal ranges (Hydra's FloatRange computes with decimal.Decimal(str(x)))

struct Decimal {
  __int128 mantissa = 0;
  int exponent = 0;  // value = mantissa * 10^exponent
};

std::optional<Decimal> decimal_of(const OverrideValue& v) {
  if (v.kind == Kind::kInt) return Decimal{v.integer, 0};
  if (v.kind == Kind::kBool) return Decimal{v.boolean ? 1 : 0, 0};
  if (!std::isfinite(v.number)) return std::nullopt;
  std::string repr = python_float_repr(v.number);
  Decimal d;
  bool neg = repr[0] == '-';
  if (neg) repr = repr.substr(1);
  auto e = repr.find('e');
  std::string mant = repr.substr(0, e);
  int exp = e == std::string::npos ? 0 : std::stoi(repr.substr(e + 1));
  auto dot = mant.find('.');
  if (dot != std::string::npos) {
    exp -= static_cast<int>(mant.size() - dot - 1);
    mant.erase(dot, 1);
  }
  if (mant.size() > 30) return std::nullopt;
  for (char c : mant) d.mantissa = d.mantissa * 10 + (c - '0');
  if (neg) d.mantissa = -d.mantissa;
  d.exponent = exp;
  return d;
}

std::string int128_text(__int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  unsigned __int128 u =
      neg ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string s;
  while (u) s += static_cast<char>('0' + static_cast<int>(u % 10)), u /= 10;
  if (neg) s += '-';
  std::reverse(s.begin(), s.end());
  return s;
}

[[noreturn]] void sweep_value_error(const std::string& where, const std::string& message) {
  throw ConfigError(SourceLocation{"command line", 0, 0, where}, "", message);
}

std::vector<OverrideValue> range_values(const OverrideValue& r, const std::string& where) {
  const OverrideValue &start = r.items[0], &stop = r.items[1], &step = r.items[2];
  std::vector<OverrideValue> out;
  constexpr size_t kMax = 100000;
  auto too_many = [&]() { sweep_value_error(where, "range() gives more than 100,000 values"); };
  if (start.kind == Kind::kInt && stop.kind == Kind::kInt && step.kind == Kind::kInt) {
    if (step.integer == 0) sweep_value_error(where, "range() step must not be 0");
    for (__int128 x = start.integer; step.integer > 0 ? x < stop.integer : x > stop.integer;
         x += step.integer) {
      if (out.size() >= kMax) too_many();
      out.push_back(OverrideValue::of_int(static_cast<int64_t>(x)));
    }
    return out;
  }
  auto a = decimal_of(start), b = decimal_of(stop), s = decimal_of(step);
  if (!a || !b || !s) sweep_value_error(where, "range() takes finite numbers");
  if (s->mantissa == 0) sweep_value_error(where, "range() step must not be 0");
  int e = std::min({a->exponent, b->exponent, s->exponent});
  auto scaled = [&](const Decimal& d) -> __int128 {
    __int128 m = d.mantissa;
    for (int i = d.exponent; i > e; --i) {
      if (m > static_cast<__int128>(1) << 100 || m < -(static_cast<__int128>(1) << 100))
        sweep_value_error(where, "range() numbers differ too much in scale");
      m *= 10;
    }
    return m;
  };
  __int128 x = scaled(*a), y = scaled(*b), st = scaled(*s);
  for (__int128 cur = x; st > 0 ? cur < y : cur > y; cur += st) {
    if (out.size() >= kMax) too_many();
    std::string text = int128_text(cur) + "e" + std::to_string(e);
    out.push_back(OverrideValue::of_float(std::strtod(text.c_str(), nullptr)));
  }
  return out;
}

bool round_trips_unquoted(const std::string& escaped, const std::string& text) {
  try {
    std::string probe = "x=" + escaped;
    OverrideValue v = parse_override_value(probe, 2);
    return v.kind == Kind::kString && v.text == text;
  } catch (const ConfigError&) {
    return false;
  }
}

// Hydra's escape_special_characters.
std::string escape_special(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\()[]{}:=, \t").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// Hydra's QuotedString.with_quotes.
std::string with_quotes(const std::string& text, char qc) {
  std::string out(1, qc);
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '\\') {
      size_t j = i;
      while (j < text.size() && text[j] == '\\') ++j;
      size_t n = j - i;
      bool before_quote = j == text.size() || text[j] == qc;
      out.append(before_quote ? 2 * n : n, '\\');
      i = j;
    } else if (text[i] == qc) {
      out += '\\';
      out += qc;
      ++i;
    } else {
      out += text[i++];
    }
  }
  return out + qc;
}

}  // namespace

OverrideValue parse_override_value(const std::string& override_text, size_t value_offset) {
  return Parser(override_text, value_offset).parse();
}

std::string python_float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string sci(buf, r.ptr);  // -d.ddde+XX, shortest round-trip digits
  bool neg = sci[0] == '-';
  if (neg) sci = sci.substr(1);
  auto e = sci.find('e');
  int exp = std::stoi(sci.substr(e + 1));
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out;
  if (exp < -4 || exp >= 16) {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += fmt::format("e{}{:02d}", exp < 0 ? '-' : '+', std::abs(exp));
  } else if (exp < 0) {
    out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  } else {
    size_t int_digits = static_cast<size_t>(exp) + 1;
    if (digits.size() <= int_digits)
      out = digits + std::string(int_digits - digits.size(), '0') + ".0";
    else
      out = digits.substr(0, int_digits) + "." + digits.substr(int_digits);
  }
  return neg ? "-" + out : out;
}

std::string format_override_value(const OverrideValue& v) {
  // An element of a list, choice or dict: the empty string is written '' there (`str(a,'')` was
  // written back as "a," which does not parse; found by fuzz/override_fuzz.cpp). Alone, an empty
  // value is the empty string (`key=`).
  auto element = [](const OverrideValue& x) {
    std::string text = format_override_value(x);
    return text.empty() ? std::string("''") : text;
  };
  auto join = [&](const std::vector<OverrideValue>& items) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + element(items[i]);
    return out;
  };
  auto strings = [](const std::vector<std::string>& xs) {
    std::string out = "[";
    for (size_t i = 0; i < xs.size(); ++i) out += (i ? "," : "") + escape_special(xs[i]);
    return out + "]";
  };
  switch (v.kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return v.boolean ? "true" : "false";
    case Kind::kInt:
      return std::to_string(v.integer);
    case Kind::kFloat:
      return python_float_repr(v.number);
    case Kind::kString: {
      if (v.quote) return with_quotes(v.text, v.quote);
      std::string escaped = escape_special(v.text);
      return round_trips_unquoted(escaped, v.text) ? escaped : with_quotes(v.text, '\'');
    }
    case Kind::kList:
      return "[" + join(v.items) + "]";
    case Kind::kDict: {
      std::string out = "{";
      for (size_t i = 0; i < v.entries.size(); ++i) {
        const auto& [k, x] = v.entries[i];
        out += (i ? "," : "") +
               (k.kind == Kind::kString ? escape_special(k.text) : format_override_value(k)) + ":" +
               element(x);
      }
      return out + "}";
    }
    case Kind::kChoice:
      return v.simple_form ? join(v.items) : "choice(" + join(v.items) + ")";
    case Kind::kRange:
      return "range(" + join(v.items) + ")";
    case Kind::kGlob:
      return "glob(include=" + strings(v.include) + ",exclude=" + strings(v.exclude) + ")";
    case Kind::kInterval:
      return "interval(" + join(v.items) + ")";
  }
  return "";
}

bool plain_scalar_is_not_a_string(const std::string& t) {
  static const char* kWords[] = {"~",    "null", "Null", "NULL",  "y",     "Y",     "yes",
                                 "Yes",  "YES",  "n",    "N",     "no",    "No",    "NO",
                                 "true", "True", "TRUE", "false", "False", "FALSE", "on",
                                 "On",   "ON",   "off",  "Off",   "OFF"};
  if (t.empty()) return true;
  for (const char* w : kWords)
    if (t == w) return true;
  std::string body = t;
  if (body[0] == '+' || body[0] == '-') body = body.substr(1);
  std::string lower = body;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == ".inf" || lower == ".nan" || lower == "inf" || lower == "nan" || lower == "infinity")
    return true;
  if (lower.size() > 2 && lower[0] == '0' &&
      (lower[1] == 'x' || lower[1] == 'o' || lower[1] == 'b'))
    return true;
  char* end = nullptr;
  std::strtod(t.c_str(), &end);
  if (end == t.c_str() + t.size()) return true;
  // Hydra's own typing (10_0, 3.1_4, trUe, nULL): a single int/float/bool/null token.
  try {
    std::string probe = "x=" + t;
    OverrideValue v = parse_override_value(probe, 2);
    if (v.kind != Kind::kString) return true;
  } catch (const ConfigError&) {
  }
  // YAML 1.1 integers with '_' or ':' (1_000, 1:30) and leading-zero octals.
  bool numberish = !body.empty() && is_digit(body[0]) &&
                   body.find_first_not_of("0123456789_:.eE+-") == std::string::npos;
  return numberish;
}

YAML::Node override_value_to_yaml(const OverrideValue& v) {
  switch (v.kind) {
    case Kind::kNull:
      return YAML::Node(YAML::NodeType::Null);
    case Kind::kBool:
      return YAML::Node(std::string(v.boolean ? "true" : "false"));
    case Kind::kInt:
      return YAML::Node(std::to_string(v.integer));
    case Kind::kFloat:
      if (std::isnan(v.number)) return YAML::Node(std::string(".nan"));
      if (std::isinf(v.number)) return YAML::Node(std::string(v.number > 0 ? ".inf" : "-.inf"));
      return YAML::Node(python_float_repr(v.number));
    case Kind::kString: {
      YAML::Node n(v.text);
      if (plain_scalar_is_not_a_string(v.text)) n.SetTag("!");
      return n;
    }
    case Kind::kList: {
      YAML::Node n(YAML::NodeType::Sequence);
      for (const auto& x : v.items) n.push_back(override_value_to_yaml(x));
      n.SetStyle(YAML::EmitterStyle::Flow);
      return n;
    }
    case Kind::kDict: {
      YAML::Node n(YAML::NodeType::Map);
      for (const auto& [k, x] : v.entries)
        n.force_insert(override_value_to_yaml(k), override_value_to_yaml(x));
      n.SetStyle(YAML::EmitterStyle::Flow);
      return n;
    }
    default:
      throw std::logic_error("a sweep has no YAML value");
  }
}

std::vector<OverrideValue> enumerate_sweep(const OverrideValue& sweep, const std::string& where) {
  std::vector<OverrideValue> values;
  if (sweep.kind == Kind::kChoice)
    values = sweep.items;
  else if (sweep.kind == Kind::kRange)
    values = range_values(sweep, where);
  else
    throw std::logic_error("enumerate_sweep: not a choice or range");
  if (sweep.kind == Kind::kRange && sweep.sort != 0)
    std::stable_sort(
        values.begin(), values.end(), [&](const OverrideValue& a, const OverrideValue& b) {
          return sweep.sort < 0 ? as_double(b) < as_double(a) : as_double(a) < as_double(b);
        });
  if (sweep.shuffle) {
    std::mt19937_64 rng(sweep.seed ? *sweep.seed : std::random_device{}());
    std::shuffle(values.begin(), values.end(), rng);
  }
  return values;
}

std::string override_value_type(const OverrideValue& v) {
  switch (v.kind) {
    case Kind::kNull:
      return "null";
    case Kind::kChoice:
      return "choice";
    case Kind::kRange:
      return "range";
    case Kind::kGlob:
      return "glob";
    case Kind::kInterval:
      return "interval";
    default:
      return python_type(v);
  }
}

std::string python_repr(const OverrideValue& v) {
  switch (v.kind) {
    case Kind::kNull:
      return "None";
    case Kind::kBool:
      return v.boolean ? "True" : "False";
    case Kind::kInt:
      return std::to_string(v.integer);
    case Kind::kFloat:
      return python_float_repr(v.number);
    case Kind::kString:
      return py_str_repr(v.text);
    case Kind::kList:
    case Kind::kChoice: {
      std::string out = v.kind == Kind::kList ? "[" : "choice(";
      for (size_t i = 0; i < v.items.size(); ++i) out += (i ? ", " : "") + python_repr(v.items[i]);
      return out + (v.kind == Kind::kList ? "]" : ")");
    }
    case Kind::kDict: {
      std::string out = "{";
      for (size_t i = 0; i < v.entries.size(); ++i)
        out += (i ? ", " : "") + python_repr(v.entries[i].first) + ": " +
               python_repr(v.entries[i].second);
      return out + "}";
    }
    case Kind::kRange:
    case Kind::kInterval: {
      std::string out = v.kind == Kind::kRange ? "range(" : "interval(";
      for (size_t i = 0; i < v.items.size(); ++i) out += (i ? ", " : "") + python_repr(v.items[i]);
      return out + ")";
    }
    case Kind::kGlob: {
      std::string out = "glob(include=[";
      for (size_t i = 0; i < v.include.size(); ++i)
        out += (i ? ", " : "") + py_str_repr(v.include[i]);
      out += "], exclude=[";
      for (size_t i = 0; i < v.exclude.size(); ++i)
        out += (i ? ", " : "") + py_str_repr(v.exclude[i]);
      return out + "])";
    }
  }
  return "";
}

}  // namespace flowlab
