#include "common/text.h"

#include <locale.h>
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

std::string fold_case(std::string_view text) {
  // One C.UTF-8 locale object for the process (newlocale is not free); never freed.
  static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
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
    // Decode one code point by hand (mbrtowc would need the thread's locale).
    const int extra = c >= 0xF8 ? -1 : c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : -1;
    char32_t cp = extra == 3 ? c & 0x07 : extra == 2 ? c & 0x0F : c & 0x1F;
    bool valid = extra > 0;  // a continuation byte cannot start a character
    for (int k = 1; valid && k <= extra; ++k) {
      if (i + k >= text.size()) {
        valid = false;
        break;
      }
      const unsigned char cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) valid = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!valid || utf8 == static_cast<locale_t>(0)) {
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
    i += static_cast<size_t>(extra) + 1;
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
  size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
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
