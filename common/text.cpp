#include "common/text.h"

#include <locale.h>
#include <wchar.h>
#include <wctype.h>

#include <algorithm>
#include <charconv>
#include <clocale>
#include <cmath>
#include <cstdlib>
#include <cwctype>
#include <system_error>

namespace flowlab {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// from_chars does the conversion (exact, locale-independent); the syntax is checked here because
// from_chars also takes "inf", "nan" and "infinity", and no leading '+'.
std::optional<double> parse_decimal(std::string_view text, bool allow_overflow) {
  std::string_view s = text;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const size_t mantissa = !s.empty() && s.front() == '-' ? 1 : 0;
  if (s.size() <= mantissa || !(is_digit(s[mantissa]) || s[mantissa] == '.')) return std::nullopt;
  if (s.size() != text.size() && mantissa) return std::nullopt;  // "+-1"
  double v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ptr != s.data() + s.size()) return std::nullopt;
  if (r.ec == std::errc::result_out_of_range) {
    // 1e999 is +-inf, 1e-999 is 0: tell them apart by the exponent's sign.
    const bool negative = mantissa == 1;
    const size_t e = s.find_first_of("eE");
    const bool tiny = e != std::string_view::npos && e + 1 < s.size() && s[e + 1] == '-';
    if (tiny) return negative ? -0.0 : 0.0;
    if (!allow_overflow) return std::nullopt;
    return negative ? -HUGE_VAL : HUGE_VAL;
  }
  if (r.ec != std::errc()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<double> parse_double(std::string_view text) { return parse_decimal(text, false); }

std::optional<double> parse_double_or_inf(std::string_view text) {
  return parse_decimal(text, true);
}

std::optional<int64_t> parse_int64(std::string_view text) {
  int64_t v = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || r.ec != std::errc() || r.ptr != text.data() + text.size())
    return std::nullopt;
  return v;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += separator;
    out += parts[i];
  }
  return out;
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

namespace {

// One C.UTF-8 locale object for the process (newlocale is not free); never freed.
locale_t utf8_locale() {
  static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  return utf8;
}

// The code point starting at text[i] and its length in bytes (by hand: mbrtowc would need the
// thread's locale); length 0 when the bytes there are not a valid UTF-8 sequence.
std::pair<char32_t, size_t> decode_at(std::string_view text, size_t i) {
  const unsigned char c = static_cast<unsigned char>(text[i]);
  if (c < 0x80) return {c, 1};
  const int extra = c >= 0xF8 ? -1 : c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : -1;
  if (extra <= 0) return {0, 0};  // a continuation byte cannot start a character
  char32_t cp = extra == 3 ? c & 0x07 : extra == 2 ? c & 0x0F : c & 0x1F;
  for (int k = 1; k <= extra; ++k) {
    if (i + k >= text.size()) return {0, 0};
    const unsigned char cc = static_cast<unsigned char>(text[i + k]);
    if ((cc & 0xC0) != 0x80) return {0, 0};
    cp = (cp << 6) | (cc & 0x3F);
  }
  return {cp, static_cast<size_t>(extra) + 1};
}

// Columns one code point takes on a terminal: wcwidth under C.UTF-8 (glibc has no wcwidth_l, so
// the thread's locale is switched around the call, which uselocale keeps to this thread).
size_t columns_of(char32_t cp) {
  if (cp < 0x80) return 1;
  const locale_t utf8 = utf8_locale();
  if (utf8 == static_cast<locale_t>(0)) return 1;
  const locale_t before = uselocale(utf8);
  const int w = wcwidth(static_cast<wchar_t>(cp));
  uselocale(before);
  return w < 0 ? 1 : static_cast<size_t>(w);  // unprintable: shown as one replacement glyph
}

}  // namespace

std::string fold_case(std::string_view text) {
  const locale_t utf8 = utf8_locale();
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {  // ASCII: no table needed
      out += static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
      ++i;
      continue;
    }
    const auto [cp, length] = decode_at(text, i);
    if (length == 0 || utf8 == static_cast<locale_t>(0)) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    const auto lower = static_cast<char32_t>(towlower_l(static_cast<wint_t>(cp), utf8));
    // Encode; the lower-case form may take another number of bytes.
    if (lower < 0x80) {
      out += static_cast<char>(lower);
    } else if (lower < 0x800) {
      out += static_cast<char>(0xC0 | (lower >> 6));
      out += static_cast<char>(0x80 | (lower & 0x3F));
    } else if (lower < 0x10000) {
      out += static_cast<char>(0xE0 | (lower >> 12));
      out += static_cast<char>(0x80 | ((lower >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (lower & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (lower >> 18));
      out += static_cast<char>(0x80 | ((lower >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((lower >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (lower & 0x3F));
    }
    i += length;
  }
  return out;
}

std::string first_line(std::string_view text) {
  return std::string(text.substr(0, text.find('\n')));
}

std::string trim(std::string_view text) {
  constexpr std::string_view kBlanks = " \t\r\n";
  const size_t first = text.find_first_not_of(kBlanks);
  if (first == std::string_view::npos) return "";
  const size_t last = text.find_last_not_of(kBlanks);
  return std::string(text.substr(first, last - first + 1));
}

size_t display_width(std::string_view text) {
  size_t columns = 0;
  for (size_t i = 0; i < text.size();) {
    const auto [cp, length] = decode_at(text, i);
    columns += length == 0 ? 1 : columns_of(cp);
    i += length == 0 ? 1 : length;
  }
  return columns;
}

size_t code_points(std::string_view text) {
  size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

size_t prefix_fitting(std::string_view text, size_t columns) {
  size_t used = 0, i = 0;
  while (i < text.size()) {
    const auto [cp, length] = decode_at(text, i);
    const size_t step = length == 0 ? 1 : length, width = length == 0 ? 1 : columns_of(cp);
    if (used + width > columns) break;
    used += width;
    i += step;
  }
  return i;
}

bool NaturalLess::less(const std::string& a, const std::string& b) {
  auto number = [](const std::string& text, double& value) {
    char* end = nullptr;
    value = std::strtod(text.c_str(), &end);
    return !text.empty() && *end == '\0' && std::isfinite(value);
  };
  double x = 0, y = 0;
  const bool a_number = number(a, x), b_number = number(b, y);
  if (a_number != b_number) return a_number;
  if (a_number && x != y) return x < y;
  return a < b;
}

bool NaturalLess::operator()(const std::vector<std::string>& a,
                             const std::vector<std::string>& b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), less);
}

}  // namespace flowlab
