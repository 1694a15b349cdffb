#pragma once
// Plots as data and as SVG: "nice" axis ticks, aggregation over repeats (seeds), and a small SVG
// writer for line plots with error bars or bands. No database and no CLI here (plot_data.h reads
// runs, plot_command.cpp wires the flags), so every piece can be tested on its own.
#include <cstddef>
#include <string>
#include <vector>

namespace flowlab::plot {

// ---------------------------------------------------------------------------------------------
// Axis ticks

/// The 1-2-5 step (1, 2 or 5 times a power of ten) that puts the most ticks in [lo, hi] without
/// exceeding `max_ticks`. REQUIRES: lo < hi, both finite, max_ticks >= 2.
double nice_step(double lo, double hi, int max_ticks);

/// Multiples of nice_step(lo, hi, max_ticks) inside [lo, hi], ascending, with rounding noise
/// removed (0.1 * 3 comes out as 0.3). REQUIRES as nice_step.
std::vector<double> nice_ticks(double lo, double hi, int max_ticks = 7);

/// Ticks for a log axis over [lo, hi]: the decades 10^k inside it (every m-th decade when there are
/// more than max_ticks); 1-2-5 multiples of the decades when fewer than three decades fit; linear
/// nice_ticks when even those give fewer than two. REQUIRES: 0 < lo < hi, max_ticks >= 2.
std::vector<double> log_ticks(double lo, double hi, int max_ticks = 7);

/// Tick labels for linear ticks: as many decimals as the step needs, SI suffixes from 10^4 up
/// ("20k", "1.5M"), so that labels stay short and line up ("0.80", "0.85", "0.90").
std::vector<std::string> linear_tick_labels(const std::vector<double>& ticks);

/// Tick labels for log ticks: plain numbers ("0.01", "200", "10k") when every tick lies in
/// [0.001, 10^9], else powers of ten ("10⁻⁶", "2×10⁻⁶").
std::vector<std::string> log_tick_labels(const std::vector<double>& ticks);

// ---------------------------------------------------------------------------------------------
// Aggregation over repeats

enum class Agg { kMean, kMedian };
enum class ErrorBar { kNone, kStd, kSem, kMinMax };

Agg parse_agg(const std::string& name);             // mean | median; throws ConfigError
ErrorBar parse_error_bar(const std::string& name);  // std | sem | minmax | none; throws ConfigError
std::string to_string(Agg agg);
std::string to_string(ErrorBar error);

/// Summary statistics of one group of values (one plotted point).
struct Stats {
  size_t n = 0;
  double mean = 0, median = 0;
  double std = 0;  // sample standard deviation (n - 1 in the denominator); 0 when n == 1
  double sem = 0;  // std / sqrt(n)
  double min = 0, max = 0;
};

/// REQUIRES: values is non-empty and every value is finite.
Stats describe(std::vector<double> values);

/// One plotted point: the centre (mean or median) and the error bar's ends.
struct Point {
  double x = 0;   // data coordinate; for a categorical axis, the category's index
  double y = 0;   // the aggregate
  double lo = 0;  // error bar ends (lo == y == hi: no bar)
  double hi = 0;
  size_t n = 1;  // runs behind the point
};

/// The point for values observed at one x. Std and sem bars are centred on the aggregate (also
/// for the median); min-max bars span the values.
Point summarize(double x, const Stats& stats, Agg agg, ErrorBar error);

// ---------------------------------------------------------------------------------------------
// Long series: smoothing and downsampling (the dashboard's step charts)

/// TensorBoard's smoothing: an exponential moving average s_i = w s_{i-1} + (1 - w) v_i from
/// s_{-1} = 0, divided by 1 - w^(i+1) so that early points are not pulled towards zero (a
/// constant series stays constant). Non-finite values are passed through and skipped by the
/// average. REQUIRES: 0 <= weight < 1 (0 returns the values unchanged).
std::vector<double> smooth_ema(const std::vector<double>& values, double weight);

/// Which of n points (in x order) to draw so that at most `max_points` remain and the picture
/// keeps its shape: the first and last point, and in each of (max_points - 2) / 2 equal buckets
/// of the rest the lowest and the highest y (in x order). All indices when n <= max_points.
/// Indices ascending. REQUIRES: max_points >= 4.
std::vector<size_t> downsample_extremes(const std::vector<double>& y, size_t max_points);

// ---------------------------------------------------------------------------------------------
// The plot model and its SVG

enum class Scale { kLinear, kLog };

/// How spread is drawn: kBars (whiskers with caps at each point) suits a few x values; kBand (a
/// shaded region) suits curves with many steps. kAuto picks bands above 25 points per series.
enum class ErrorStyle { kAuto, kBars, kBand };

/// One line in the legend: a group of runs.
struct Series {
  std::string name;           // legend entry; may be empty when there is a single series
  std::vector<Point> points;  // drawn in ascending x
};

struct PlotSpec {
  std::string title;
  std::string subtitle;  // one smaller line under the title (how points were aggregated)
  std::string x_label, y_label;
  std::string legend_title;  // what the series differ in, e.g. "train.model"
  Scale x_scale = Scale::kLinear;
  Scale y_scale = Scale::kLinear;
  /// Non-empty: x is categorical, Point::x is an index into this list, series are not joined by
  /// lines and are dodged sideways so their bars do not overlap.
  std::vector<std::string> x_categories;
  std::vector<Series> series;
  /// Non-empty (numeric x only): ticks at exactly these values (those inside the axis range), e.g.
  /// the grid a sweep ran on (2, 4, 8, 16 on a log axis), instead of automatic ones.
  std::vector<double> x_ticks;
  ErrorStyle error_style = ErrorStyle::kAuto;
  int width = 800;  // pixels
  int height = 500;
};

/// The Okabe-Ito colour-blind-safe palette, in the order series use it (yellow last: weakest on
/// white). Series past the eighth reuse colours with dashed lines.
const std::vector<std::string>& series_colors();

/// A standalone SVG 1.1 document. Text is escaped; data outside the plot area is clipped; the
/// legend goes in the plot corner that covers no data, or to the right of the plot if none does.
/// Throws ConfigError (key "--logx"/"--logy") when a log axis meets a value <= 0, and when there
/// is nothing to draw. Error bars reaching <= 0 on a log axis are cut at the axis instead.
std::string render_svg(const PlotSpec& spec);

/// `text` with & < > " ' replaced by entities and control characters other than tab and newline
/// dropped (they are not allowed in XML 1.0).
std::string xml_escape(const std::string& text);

}  // namespace flowlab::plot
