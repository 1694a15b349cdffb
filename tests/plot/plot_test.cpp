// Tests for the plot model: nice ticks (exact values), aggregation over repeats (hand-computed),
// and the SVG (balanced, escaped, labelled, legend placed off the data, log axes refusing <= 0).
#include "plot/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <regex>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "common/error.h"

using namespace flowlab;
using namespace flowlab::plot;
namespace tt = boost::test_tools;

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Checks that every element is closed in order and that text and attributes hold no raw '<' or
// stray '&'. Returns "" when fine, else what is wrong.
std::string xml_problem(const std::string& xml) {
  std::vector<std::string> stack;
  size_t i = 0;
  if (xml.rfind("<?xml", 0) == 0) i = xml.find("?>") + 2;
  while (i < xml.size()) {
    const size_t lt = xml.find('<', i);
    const std::string text = xml.substr(i, (lt == std::string::npos ? xml.size() : lt) - i);
    for (size_t amp = text.find('&'); amp != std::string::npos; amp = text.find('&', amp + 1))
      if (!std::regex_search(text.substr(amp), std::regex("^&(amp|lt|gt|quot|apos);")))
        return "bare & in text: " + text;
    if (text.find('>') != std::string::npos) return "bare > in text: " + text;
    if (lt == std::string::npos) break;
    const size_t gt = xml.find('>', lt);
    if (gt == std::string::npos) return "unterminated tag";
    const std::string tag = xml.substr(lt + 1, gt - lt - 1);
    if (tag.find('<') != std::string::npos) return "'<' inside a tag: " + tag;
    // Attribute values: quotes must pair up, and & must start an entity.
    if (std::count(tag.begin(), tag.end(), '"') % 2) return "unpaired quote: " + tag;
    for (size_t amp = tag.find('&'); amp != std::string::npos; amp = tag.find('&', amp + 1))
      if (!std::regex_search(tag.substr(amp), std::regex("^&(amp|lt|gt|quot|apos);")))
        return "bare & in tag: " + tag;
    const std::string name =
        tag.substr(tag[0] == '/' ? 1 : 0, tag.find_first_of(" /", 1) - (tag[0] == '/' ? 1 : 0));
    if (tag[0] == '/') {
      if (stack.empty() || stack.back() != name) return "unbalanced </" + name + ">";
      stack.pop_back();
    } else if (tag.back() != '/') {
      stack.push_back(name);
    }
    i = gt + 1;
  }
  if (!stack.empty()) return "unclosed <" + stack.back() + ">";
  return "";
}

// The first number after `attr="` following `anchor` in the SVG.
double attr_after(const std::string& svg, const std::string& anchor, const std::string& attr) {
  size_t at = svg.find(anchor);
  BOOST_REQUIRE(at != std::string::npos);
  at = svg.find(attr + "=\"", at);
  BOOST_REQUIRE(at != std::string::npos);
  return std::stod(svg.substr(at + attr.size() + 2));
}

struct Box {
  double x0, y0, x1, y1;
};

Box rect_after(const std::string& svg, const std::string& anchor) {
  const double x = attr_after(svg, anchor, "x"), y = attr_after(svg, anchor, "y");
  return {x, y, x + attr_after(svg, anchor, "width"), y + attr_after(svg, anchor, "height")};
}

Series line(const std::string& name, std::vector<std::pair<double, double>> xy) {
  Series s{name, {}};
  for (auto [x, y] : xy) s.points.push_back(Point{x, y, y, y, 1});
  return s;
}

std::string render_error(const PlotSpec& spec) {
  try {
    render_svg(spec);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(plot_ticks)

BOOST_AUTO_TEST_CASE(linear_ticks_are_1_2_5_multiples_inside_the_range) {
  BOOST_TEST(nice_ticks(0, 1, 7) == (std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1}),
             tt::per_element());
  BOOST_TEST(
      nice_ticks(0.83, 0.97, 7) == (std::vector<double>{0.84, 0.86, 0.88, 0.9, 0.92, 0.94, 0.96}),
      tt::per_element());
  BOOST_TEST(
      nice_ticks(1000, 60000, 7) == (std::vector<double>{10000, 20000, 30000, 40000, 50000, 60000}),
      tt::per_element());
  BOOST_TEST(nice_ticks(-2.5, 2.5, 7) == (std::vector<double>{-2, -1, 0, 1, 2}), tt::per_element());
  // Step 2 would give 8 ticks (-2..12), one too many: the next 1-2-5 step is 5.
  BOOST_TEST(nice_ticks(-3.7, 12.2, 7) == (std::vector<double>{0, 5, 10}), tt::per_element());
  BOOST_TEST(nice_ticks(0.0012, 0.0047, 5) == (std::vector<double>{0.002, 0.003, 0.004}),
             tt::per_element());
}

BOOST_AUTO_TEST_CASE(the_step_is_the_smallest_that_fits_max_ticks) {
  BOOST_TEST(nice_step(0, 100, 11) == 10);
  BOOST_TEST(nice_step(0, 100, 10) == 20);  // 10 would give 11 ticks
  BOOST_TEST(nice_step(0, 100, 5) == 50);   // 20 would give 6
  BOOST_TEST(nice_step(3, 3.04, 5) == 0.01);
}

BOOST_AUTO_TEST_CASE(log_ticks_are_decades_or_1_2_5_within_a_few_decades) {
  BOOST_TEST(log_ticks(1e-5, 0.1, 7) == (std::vector<double>{1e-5, 1e-4, 1e-3, 1e-2, 1e-1}),
             tt::per_element());
  BOOST_TEST(log_ticks(0.5, 2e6, 7) == (std::vector<double>{1, 10, 100, 1e3, 1e4, 1e5, 1e6}),
             tt::per_element());
  // Sixteen decades, at most seven ticks: every third decade, and 10^0 among them.
  BOOST_TEST(log_ticks(1e-12, 1e3, 7) == (std::vector<double>{1e-12, 1e-9, 1e-6, 1e-3, 1, 1e3}),
             tt::per_element());
  BOOST_TEST(log_ticks(800, 25000, 7) == (std::vector<double>{1000, 2000, 5000, 10000, 20000}),
             tt::per_element());
  BOOST_TEST(log_ticks(3, 400, 7) == (std::vector<double>{5, 10, 20, 50, 100, 200}),
             tt::per_element());
  // No 1-2-5 value inside: fall back to linear ticks.
  BOOST_TEST(log_ticks(1.1, 1.9, 7) == (std::vector<double>{1.2, 1.4, 1.6, 1.8}),
             tt::per_element());
}

BOOST_AUTO_TEST_CASE(labels_are_short_and_aligned) {
  BOOST_TEST(
      linear_tick_labels({0.8, 0.85, 0.9}) == (std::vector<std::string>{"0.80", "0.85", "0.90"}),
      tt::per_element());
  BOOST_TEST(linear_tick_labels({0, 20000, 40000, 60000}) ==
                 (std::vector<std::string>{"0", "20k", "40k", "60k"}),
             tt::per_element());
  BOOST_TEST(linear_tick_labels({-1, 0, 1}) == (std::vector<std::string>{"−1", "0", "1"}),
             tt::per_element());
  BOOST_TEST(log_tick_labels({1e-3, 1e-2, 0.1, 1}) ==
                 (std::vector<std::string>{"0.001", "0.01", "0.1", "1"}),
             tt::per_element());
  BOOST_TEST(log_tick_labels({1000, 2000, 5000, 10000, 20000}) ==
                 (std::vector<std::string>{"1000", "2000", "5000", "10k", "20k"}),
             tt::per_element());
  BOOST_TEST(
      log_tick_labels({1e-6, 2e-6, 1e-4}) == (std::vector<std::string>{"10⁻⁶", "2×10⁻⁶", "10⁻⁴"}),
      tt::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(plot_aggregation)

// {2, 4, 4, 4, 5, 5, 7, 9}: mean 5, median (4 + 5) / 2, squared deviations sum to 32, so the
// sample variance is 32 / 7.
BOOST_AUTO_TEST_CASE(describe_matches_hand_computed_statistics) {
  const Stats s = describe({9, 4, 2, 5, 4, 7, 4, 5});
  BOOST_TEST(s.n == 8u);
  BOOST_TEST(s.mean == 5.0, tt::tolerance(1e-12));
  BOOST_TEST(s.median == 4.5);
  BOOST_TEST(s.std == std::sqrt(32.0 / 7), tt::tolerance(1e-12));
  BOOST_TEST(s.sem == std::sqrt(32.0 / 7) / std::sqrt(8.0), tt::tolerance(1e-12));
  BOOST_TEST(s.min == 2);
  BOOST_TEST(s.max == 9);

  const Stats odd = describe({3, 1, 2});
  BOOST_TEST(odd.median == 2);
  BOOST_TEST(odd.std == 1.0, tt::tolerance(1e-12));

  const Stats one = describe({7});
  BOOST_TEST(one.std == 0);
  BOOST_TEST(one.sem == 0);
  BOOST_TEST(one.median == 7);
}

BOOST_AUTO_TEST_CASE(summarize_centres_and_bars) {
  const Stats s = describe({9, 4, 2, 5, 4, 7, 4, 5});
  const double sd = std::sqrt(32.0 / 7);

  Point p = summarize(10, s, Agg::kMean, ErrorBar::kStd);
  BOOST_TEST(p.x == 10);
  BOOST_TEST(p.n == 8u);
  BOOST_TEST(p.y == 5.0, tt::tolerance(1e-12));
  BOOST_TEST(p.lo == 5 - sd, tt::tolerance(1e-12));
  BOOST_TEST(p.hi == 5 + sd, tt::tolerance(1e-12));

  p = summarize(10, s, Agg::kMedian, ErrorBar::kSem);
  BOOST_TEST(p.y == 4.5);
  BOOST_TEST(p.hi - p.y == sd / std::sqrt(8.0), tt::tolerance(1e-12));
  BOOST_TEST(p.y - p.lo == sd / std::sqrt(8.0), tt::tolerance(1e-12));

  p = summarize(10, s, Agg::kMean, ErrorBar::kMinMax);
  BOOST_TEST(p.lo == 2);
  BOOST_TEST(p.hi == 9);

  p = summarize(10, s, Agg::kMedian, ErrorBar::kNone);
  BOOST_TEST(p.lo == 4.5);
  BOOST_TEST(p.hi == 4.5);
}

BOOST_AUTO_TEST_CASE(unknown_names_get_a_suggestion) {
  BOOST_TEST(to_string(parse_agg("median")) == "median");
  BOOST_TEST(to_string(parse_error_bar("minmax")) == "minmax");
  try {
    parse_agg("medain");
    BOOST_FAIL("expected ConfigError");
  } catch (const ConfigError& e) {
    BOOST_TEST(contains(e.what(), "--agg: expected mean or median, got \"medain\""));
    BOOST_TEST(contains(e.what(), "did you mean 'median'?"));
  }
  BOOST_CHECK_THROW(parse_error_bar("stdev"), ConfigError);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(plot_svg)

BOOST_AUTO_TEST_CASE(svg_is_balanced_labelled_and_escaped) {
  PlotSpec spec;
  spec.title = "accuracy & size";
  spec.subtitle = "mean ± std over 3 runs per point";
  spec.x_label = "data.limit_train";
  spec.y_label = "eval.accuracy";
  spec.legend_title = "train.model";
  spec.series = {line("a<b & c>d", {{100, 0.5}, {1000, 0.7}, {10000, 0.8}}),
                 line("cnn", {{100, 0.6}, {1000, 0.8}, {10000, 0.9}}),
                 line("mlp", {{100, 0.55}, {1000, 0.75}, {10000, 0.85}})};
  spec.series[1].points[1].lo = 0.75;  // one error bar
  spec.series[1].points[1].hi = 0.85;
  spec.x_scale = Scale::kLog;
  const std::string svg = render_svg(spec);

  BOOST_TEST(xml_problem(svg) == "");
  BOOST_TEST(contains(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
  BOOST_TEST(contains(svg, ">data.limit_train</text>"));
  BOOST_TEST(contains(svg, ">eval.accuracy</text>"));
  BOOST_TEST(contains(svg, ">accuracy &amp; size</text>"));
  BOOST_TEST(!contains(svg, "a<b"));
  const std::string legend = svg.substr(svg.find("class=\"legend\""));
  BOOST_TEST(contains(legend, ">train.model</text>"));
  for (const char* entry : {">a&lt;b &amp; c&gt;d</text>", ">cnn</text>", ">mlp</text>"})
    BOOST_TEST(contains(legend, entry), entry);
  // Data is clipped to the plot area, and the log axis is labelled by 1-2-5 values.
  BOOST_TEST(contains(svg, "<clipPath id=\"plot-area\">"));
  BOOST_TEST(contains(svg, "clip-path=\"url(#plot-area)\""));
  BOOST_TEST(contains(svg, ">1000</text>"));
  BOOST_TEST(contains(svg, ">10k</text>"));
  // One error bar: a single whisker path (vertical line with two caps).
  BOOST_TEST(std::regex_search(svg, std::regex("d=\"M[0-9.]+ [0-9.]+V[0-9.]+M")));
}

BOOST_AUTO_TEST_CASE(escaping_covers_markup_and_control_characters) {
  BOOST_TEST(xml_escape("a<b>&\"c'\x01") == "a&lt;b&gt;&amp;&quot;c&apos;");
}

BOOST_AUTO_TEST_CASE(legend_avoids_the_data) {
  // A rising line covers the top-right and bottom-left corners: the legend goes top-left.
  PlotSpec spec;
  spec.x_label = "x";
  spec.y_label = "y";
  spec.series = {line("rising", {{0, 0}, {1, 1}, {2, 2}, {3, 3}, {4, 4}}),
                 line("also rising", {{0, 0.2}, {1, 1.2}, {2, 2.2}, {3, 3.2}, {4, 4.2}})};
  std::string svg = render_svg(spec);
  Box plot = rect_after(svg, "<clipPath");
  Box legend = rect_after(svg, "class=\"legend\"");
  BOOST_TEST(legend.x0 < (plot.x0 + plot.x1) / 2);  // left half
  BOOST_TEST(legend.y1 < (plot.y0 + plot.y1) / 2);  // top half
  BOOST_TEST(legend.x0 > plot.x0);                  // inside

  // Zig-zags across the whole area leave no free corner: the legend moves right of the plot.
  std::vector<std::pair<double, double>> zig;
  for (int i = 0; i <= 20; ++i) zig.push_back({i, i % 2 ? 1.0 : 0.0});
  spec.series = {line("zig", zig)};
  for (auto& p : zig) p.second = 1 - p.second;
  spec.series.push_back(line("zag", zig));
  svg = render_svg(spec);
  plot = rect_after(svg, "<clipPath");
  legend = rect_after(svg, "class=\"legend\"");
  BOOST_TEST(legend.x0 > plot.x1);
  BOOST_TEST(legend.x1 <= spec.width);
  BOOST_TEST(xml_problem(svg) == "");
}

BOOST_AUTO_TEST_CASE(a_single_unnamed_series_has_no_legend) {
  PlotSpec spec;
  spec.series = {line("", {{0, 1}, {1, 2}})};
  BOOST_TEST(!contains(render_svg(spec), "class=\"legend\""));
}

BOOST_AUTO_TEST_CASE(log_axes_refuse_values_at_or_below_zero) {
  PlotSpec spec;
  spec.series = {line("cnn", {{100, 0.0}, {1000, 0.5}}), line("mlp", {{100, 0.2}, {1000, 0.4}})};
  spec.y_scale = Scale::kLog;
  std::string e = render_error(spec);
  BOOST_TEST(contains(e, "error: --logy: a log scale needs y > 0, but 1 point(s) have y <= 0"));
  BOOST_TEST(contains(e, "in 'cnn': x = 100, y = 0"));
  BOOST_TEST(contains(e, "drop --logy"));

  spec.y_scale = Scale::kLinear;
  spec.x_scale = Scale::kLog;
  spec.series[1].points[0].x = -5;
  BOOST_TEST(contains(render_error(spec), "--logx: a log scale needs x > 0"));

  // Positive values, but an error bar reaching below zero: drawn, cut at the axis.
  spec.series[1].points[0].x = 100;
  spec.x_scale = Scale::kLinear;
  spec.y_scale = Scale::kLog;
  spec.series[0].points[0].y = 0.1;
  spec.series[0].points[0].lo = -0.3;
  spec.series[0].points[0].hi = 0.5;
  BOOST_TEST(render_error(spec) == "");

  PlotSpec categorical;
  categorical.x_categories = {"cnn", "mlp"};
  categorical.series = {line("", {{0, 1}, {1, 2}})};
  categorical.x_scale = Scale::kLog;
  BOOST_TEST(contains(render_error(categorical), "--logx: x is categorical"));
}

BOOST_AUTO_TEST_CASE(a_log_axis_within_one_step_gets_linear_ticks_and_labels) {
  // 0.55 to 0.85 holds no 1-2-5 value but 0.5's neighbours: the ticks are linear, labelled with
  // aligned decimals.
  PlotSpec spec;
  spec.series = {line("", {{1, 0.55}, {2, 0.7}, {3, 0.85}})};
  spec.y_scale = Scale::kLog;
  const std::string svg = render_svg(spec);
  BOOST_TEST(contains(svg, ">0.60</text>"));
  BOOST_TEST(contains(svg, ">0.80</text>"));
  BOOST_TEST(!contains(svg, ">0.6</text>"));
}

BOOST_AUTO_TEST_CASE(explicit_x_ticks_replace_the_automatic_ones) {
  // A sweep's grid on a log axis: ticks at 2, 4, 8, 16 (not the 1-2-5 values 2, 5, 10), none
  // outside the data's range, no unlabelled minor marks.
  PlotSpec spec;
  spec.series = {line("cnn", {{2, 0.1}, {4, 0.2}, {8, 0.4}, {16, 0.8}})};  // y labels: 0.1 ... 0.8
  spec.x_scale = Scale::kLog;
  const std::string automatic = render_svg(spec);
  BOOST_TEST(contains(automatic, ">10</text>"));
  spec.x_ticks = {16, 2, 8, 4, 1000};  // 1000 lies outside the data
  const std::string svg = render_svg(spec);
  BOOST_TEST(xml_problem(svg) == "");
  for (const char* tick : {">2</text>", ">4</text>", ">8</text>", ">16</text>"})
    BOOST_TEST(contains(svg, tick), tick);
  BOOST_TEST(!contains(svg, ">5</text>"));
  BOOST_TEST(!contains(svg, ">1000</text>"));
}

BOOST_AUTO_TEST_CASE(every_tick_on_a_log_axis_is_labelled) {
  // Three decades on x, four on y: as many tick marks as tick labels (no bare minor marks).
  PlotSpec spec;
  spec.series = {line("", {{1, 0.01}, {30, 0.5}, {1000, 10}})};
  spec.x_scale = Scale::kLog;
  spec.y_scale = Scale::kLog;
  const std::string svg = render_svg(spec);
  const std::regex path(R"re(<path d="((?:M[-0-9.]+ [-0-9.]+[vh]-?[0-9.]+)+)")re");
  std::smatch m;
  BOOST_TEST_REQUIRE(std::regex_search(svg, m, path));
  const std::string ticks = m[1];
  const auto count = [](const std::string& text, const std::regex& re) {
    return std::distance(std::sregex_iterator(text.begin(), text.end(), re),
                         std::sregex_iterator());
  };
  const long marks = count(ticks, std::regex("M"));
  const size_t labels_at = svg.find("<g font-size=\"", svg.find(m[0]));
  const std::string labels = svg.substr(labels_at, svg.find("</g>", labels_at) - labels_at);
  BOOST_TEST(marks == count(labels, std::regex("<text")));
  BOOST_TEST(marks >= 6);
}

BOOST_AUTO_TEST_CASE(nothing_to_plot_is_an_error) {
  PlotSpec spec;
  spec.series = {Series{"empty", {}}};
  BOOST_TEST(contains(render_error(spec), "nothing to plot"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(plot_long_series)

BOOST_AUTO_TEST_CASE(smoothing_is_the_debiased_moving_average) {
  // Unrolled by hand: s = w s + (1 - w) v from 0, divided by 1 - w^k after k finite values.
  const double nan = std::nan("");
  const auto s = smooth_ema({1, 2, nan, 3}, 0.5);
  BOOST_TEST(s[0] == 0.5 / 0.5, tt::tolerance(1e-12));
  BOOST_TEST(s[1] == (0.25 + 1.0) / 0.75, tt::tolerance(1e-12));
  BOOST_TEST(std::isnan(s[2]));
  BOOST_TEST(s[3] == (0.625 + 1.5) / 0.875, tt::tolerance(1e-12));
  // A constant stays constant (the debiasing), and weight 0 changes nothing.
  for (double v : smooth_ema(std::vector<double>(50, 7.25), 0.99))
    BOOST_TEST(v == 7.25, tt::tolerance(1e-12));
  const std::vector<double> raw{3, -1, 4, 1, -5};
  BOOST_TEST(smooth_ema(raw, 0) == raw, tt::per_element());
}

BOOST_AUTO_TEST_CASE(downsampling_keeps_ends_and_every_buckets_extremes) {
  BOOST_TEST(downsample_extremes({1, 2, 3}, 4).size() == 3u);
  // A million noisy points with a spike and a dip somewhere in the middle.
  std::vector<double> y(1000000);
  uint64_t state = 12345;
  for (auto& v : y) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    v = static_cast<double>(state >> 40) / 16777216.0;
  }
  y[123457] = 50, y[876543] = -50;
  const size_t max_points = 2000;
  const auto keep = downsample_extremes(y, max_points);
  BOOST_TEST(keep.size() <= max_points);
  BOOST_TEST(keep.size() >= max_points - 2);  // every bucket holds distinct min and max
  BOOST_TEST(keep.front() == 0u);
  BOOST_TEST(keep.back() == y.size() - 1);
  for (size_t i = 1; i < keep.size(); ++i) BOOST_TEST_REQUIRE(keep[i - 1] < keep[i]);
  BOOST_TEST(std::count(keep.begin(), keep.end(), 123457u) == 1);
  BOOST_TEST(std::count(keep.begin(), keep.end(), 876543u) == 1);
  // Brute force over each bucket (the same split: (max_points - 2) / 2 equal parts of the
  // interior): its lowest and highest values are among the kept ones.
  const size_t buckets = (max_points - 2) / 2, interior = y.size() - 2;
  std::vector<bool> kept(y.size());
  for (size_t k : keep) kept[k] = true;
  for (size_t b = 0; b < buckets; b += 97) {
    const size_t from = 1 + b * interior / buckets, to = 1 + (b + 1) * interior / buckets;
    const auto [lo, hi] = std::minmax_element(y.begin() + from, y.begin() + to);
    BOOST_TEST(kept[lo - y.begin()]);
    BOOST_TEST(kept[hi - y.begin()]);
  }
}

BOOST_AUTO_TEST_SUITE_END()
