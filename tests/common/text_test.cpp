// Tests for the shared string and number helpers (common/text.cpp).
#include "common/text.h"

#include <cmath>
#include <limits>
#include <string>

#include <boost/test/unit_test.hpp>

using flowlab::display_width;
using flowlab::join;
using flowlab::parse_double;
using flowlab::parse_double_or_inf;
using flowlab::parse_int64;
using flowlab::trim;

BOOST_AUTO_TEST_SUITE(common_text)

BOOST_AUTO_TEST_CASE(csv_fields_are_quoted_only_when_rfc_4180_needs_it) {
  BOOST_TEST(flowlab::csv_field("plain text") == "plain text");
  BOOST_TEST(flowlab::csv_field("a,b") == "\"a,b\"");
  BOOST_TEST(flowlab::csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  BOOST_TEST(flowlab::csv_field("two\nlines") == "\"two\nlines\"");
  BOOST_TEST(flowlab::csv_field("cr\r") == "\"cr\r\"");
  BOOST_TEST(flowlab::csv_field("").empty());
}

BOOST_AUTO_TEST_CASE(parse_double_reads_the_whole_text_in_decimal_syntax) {
  BOOST_TEST(parse_double("0.01").value() == 0.01);
  BOOST_TEST(parse_double("1e-3").value() == 0.001);
  BOOST_TEST(parse_double("-.5").value() == -0.5);
  BOOST_TEST(parse_double("+7").value() == 7.0);
  BOOST_TEST(parse_double("3.").value() == 3.0);
  BOOST_TEST(parse_double("1.e2").value() == 100.0);
  BOOST_TEST(parse_double("-2E+3").value() == -2000.0);
  // Params are stored with 17 significant digits; they must read back as the same double.
  BOOST_TEST(parse_double("0.10000000000000001").value() == 0.1);
  for (const char* junk :
       {"",  " 1", "1 ", "0x10", "inf", "-inf", "nan",   "infinity", "1e",    "1e+",
        ".", "-",  "+",  "+-1",  "-+1", "++1",  "12abc", "1,5",      "1e999", "-1e999"})
    BOOST_TEST(!parse_double(junk).has_value(), "accepted '" << junk << "'");
}

BOOST_AUTO_TEST_CASE(underflow_reads_as_signed_zero_and_overflow_as_infinity_on_request) {
  BOOST_TEST(parse_double("1e-999").value() == 0.0);
  BOOST_TEST(std::signbit(parse_double("-1e-999").value()));
  BOOST_TEST(parse_double_or_inf("1e999").value() == std::numeric_limits<double>::infinity());
  BOOST_TEST(parse_double_or_inf("-1e999").value() == -std::numeric_limits<double>::infinity());
  BOOST_TEST(parse_double_or_inf("2.5").value() == 2.5);
  BOOST_TEST(!parse_double_or_inf("inf").has_value());
  BOOST_TEST(!parse_double_or_inf("1e").has_value());
}

BOOST_AUTO_TEST_CASE(parse_int64_takes_whole_base_10_integers_that_fit) {
  BOOST_TEST(parse_int64("0").value() == 0);
  BOOST_TEST(parse_int64("-42").value() == -42);
  BOOST_TEST(parse_int64("9223372036854775807").value() == std::numeric_limits<int64_t>::max());
  for (const char* junk :
       {"", " 1", "1 ", "+1", "1.0", "1e3", "0x1", "9223372036854775808", "-", "12abc"})
    BOOST_TEST(!parse_int64(junk).has_value(), "accepted '" << junk << "'");
}

BOOST_AUTO_TEST_CASE(join_and_trim) {
  BOOST_TEST(join({}, ", ") == "");
  BOOST_TEST(join({"a"}, ", ") == "a");
  BOOST_TEST(join({"a", "", "c"}, ", ") == "a, , c");
  BOOST_TEST(trim("  a b \t\r\n") == "a b");
  BOOST_TEST(trim(" \t ") == "");
  BOOST_TEST(trim("x") == "x");
}

BOOST_AUTO_TEST_CASE(display_width_counts_terminal_columns) {
  BOOST_TEST(display_width("") == 0u);
  BOOST_TEST(display_width("abc") == 3u);
  BOOST_TEST(display_width("±0.5 ×10⁻⁶") == 10u);  // 2- and 3-byte sequences, one column each
  BOOST_TEST(display_width("…") == 1u);
  // East Asian wide characters take two columns (Unicode's East_Asian_Width W/F), combining
  // marks none, a bad byte one.
  BOOST_TEST(display_width("日本語") == 6u);
  BOOST_TEST(display_width("ｶﾀ") == 2u);              // halfwidth katakana: narrow
  BOOST_TEST(display_width("ＡＢ") == 4u);            // fullwidth Latin: wide
  BOOST_TEST(display_width("e\u0301t\u00e9") == 3u);  // e + combining acute, t, precomposed é
  BOOST_TEST(display_width("a\xff"
                           "b") == 3u);
  BOOST_TEST(flowlab::code_points("日本語") == 3u);
}

BOOST_AUTO_TEST_CASE(prefix_fitting_keeps_whole_characters) {
  using flowlab::prefix_fitting;
  BOOST_TEST(prefix_fitting("abc", 2) == 2u);
  BOOST_TEST(prefix_fitting("日本語", 5) == 6u);  // two characters (4 columns); the third won't fit
  BOOST_TEST(prefix_fitting("日本語", 6) == 9u);
  BOOST_TEST(prefix_fitting("日本語", 1) == 0u);
  BOOST_TEST(prefix_fitting("e\u0301x", 1) == 3u);  // the mark stays with its letter
  BOOST_TEST(prefix_fitting("", 4) == 0u);
}

BOOST_AUTO_TEST_CASE(fold_case_is_unicode_lower_case) {
  BOOST_TEST(flowlab::fold_case("ÜNÏCÖDÉ") == "ünïcödé");
  BOOST_TEST(flowlab::fold_case("ΣΩ Straße ABC") == "σω straße abc");
  BOOST_TEST(flowlab::fold_case("ЖЁЛТЫЙ") == "жёлтый");
  BOOST_TEST(flowlab::fold_case("a\xff\xc3"
                                "b") ==
             "a\xff\xc3"
             "b");  // not UTF-8: kept byte for byte
  BOOST_TEST(flowlab::fold_case("") == "");
}

BOOST_AUTO_TEST_SUITE_END()
