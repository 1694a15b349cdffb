#pragma once
// String and number helpers every layer needs: one decimal syntax for "is this text a number"
// (params, filter values, table cells), joining and trimming, and the width of UTF-8 text.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flowlab {

/// The number the whole of `text` spells in decimal syntax: [+-] digits [. digits] [e [+-] digits]
/// (a digit on at least one side of the point). Locale-independent, unlike std::stod; blanks, hex,
/// "inf" and "nan" are not numbers. A value too small for a double reads as 0; one too large for
/// a double, and any other text, gives nullopt.
std::optional<double> parse_double(std::string_view text);

/// As parse_double, but a value too large for a double is +-infinity (so that a filter's
/// "x < 1e999" still means something).
std::optional<double> parse_double_or_inf(std::string_view text);

/// The integer the whole of `text` spells in base 10 (an optional '-', then digits), when it fits
/// in 64 bits; else nullopt.
std::optional<int64_t> parse_int64(std::string_view text);

/// `parts` with `separator` between each two.
std::string join(const std::vector<std::string>& parts, std::string_view separator);

/// `text` as one CSV field (RFC 4180): quoted, with quotes doubled, when it holds a comma, a quote
/// or a line break; as it is otherwise.
std::string csv_field(std::string_view text);

/// `text` up to its first line break (all of it when it has none): the gist of a library's
/// multi-line exception message (LibTorch's carry a C++ backtrace after the first line).
std::string first_line(std::string_view text);

/// `text` without leading and trailing spaces, tabs, carriage returns and newlines.
std::string trim(std::string_view text);

/// UTF-8 `text` with every letter in lower case, by Unicode's simple case mapping (glibc's
/// C.UTF-8 tables: "ÜNÏCÖDÉ" -> "ünïcödé", "ΣΩ" -> "σω"); bytes that are not valid UTF-8 are kept
/// as they are. What ILIKE folds on both sides.
std::string fold_case(std::string_view text);

/// Terminal columns of UTF-8 `text`, as a terminal lays it out (glibc's wcwidth in C.UTF-8): one
/// for most characters, two for wide East Asian characters and emoji ("日本" is 4), none for
/// combining marks ("e" + U+0301 is 1). Bytes that are not valid UTF-8 take one column each.
size_t display_width(std::string_view text);

/// Code points of UTF-8 `text` (continuation bytes take none): where a count of characters, not
/// of columns, is meant.
size_t code_points(std::string_view text);

/// Bytes of the longest prefix of UTF-8 `text` that takes at most `columns` terminal columns,
/// ending between whole characters (a combining mark stays with its letter).
size_t prefix_fitting(std::string_view text, size_t columns);

/// Orders labels value by value: finite numbers first, as numbers ("2" < "16"; ties by text,
/// "8" < "8.0"), then anything else as text. A strict weak ordering, as std::map requires (NaN and
/// mixed number/text values do not make it cyclic). Lists compare element by element.
struct NaturalLess {
  static bool less(const std::string& a, const std::string& b);
  bool operator()(const std::string& a, const std::string& b) const { return less(a, b); }
  bool operator()(const std::vector<std::string>& a, const std::vector<std::string>& b) const;
};

}  // namespace flowlab
