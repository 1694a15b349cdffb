// The plot model as SVG: layout, axes, series, error bars and bands, legend placement (the third
// section of plot.h).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "common/error.h"
#include "common/text.h"
#include "plot/plot.h"
#include "plot/tick_math.h"

namespace flowlab::plot {
namespace {

using internal::kEps;
using internal::pow10;
using internal::scaled;
using internal::short_number;

constexpr double kPi = 3.14159265358979323846;

}  // namespace

// ---------------------------------------------------------------------------------------------
// SVG

const std::vector<std::string>& series_colors() {
  // Okabe & Ito (2008), "Color Universal Design".
  static const std::vector<std::string> kColors = {
      "#0072B2",  // blue
      "#D55E00",  // vermillion
      "#009E73",  // bluish green
      "#CC79A7",  // reddish purple
      "#E69F00",  // orange
      "#56B4E9",  // sky blue
      "#000000",  // black
      "#F0E442",  // yellow
  };
  return kColors;
}

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') break;
        out += c;
    }
  }
  return out;
}

namespace {

using Attrs = std::vector<std::pair<std::string, std::string>>;

// Coordinates with two decimals at most: sub-pixel precision without noise.
std::string num(double v) {
  std::string s = fmt::format("{:.2f}", v);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

// Writes elements with escaped attributes and text and keeps open tags on a stack, so the
// document is balanced by construction.
class SvgWriter {
 public:
  void open(const std::string& tag, const Attrs& attrs) {
    start(tag, attrs);
    out_ += ">\n";
    stack_.push_back(tag);
  }
  void leaf(const std::string& tag, const Attrs& attrs) {
    start(tag, attrs);
    out_ += "/>\n";
  }
  void text_element(const std::string& tag, const Attrs& attrs, const std::string& content) {
    start(tag, attrs);
    out_ += ">" + xml_escape(content) + "</" + tag + ">\n";
  }
  void close() {
    out_ += std::string(2 * (stack_.size() - 1), ' ') + "</" + stack_.back() + ">\n";
    stack_.pop_back();
  }
  std::string finish() {
    while (!stack_.empty()) close();
    return std::move(out_);
  }

 private:
  void start(const std::string& tag, const Attrs& attrs) {
    out_ += std::string(2 * stack_.size(), ' ') + "<" + tag;
    for (const auto& [name, value] : attrs) out_ += " " + name + "=\"" + xml_escape(value) + "\"";
  }
  std::string out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  std::vector<std::string> stack_;
};

// Sizes in px. Tick labels at 13 px stay legible at 100 % zoom; the title stands out at 18.
constexpr double kTitleFont = 18, kSubtitleFont = 13, kLabelFont = 15, kTickFont = 13,
                 kLegendFont = 13;
constexpr double kTickLength = 5, kPad = 12, kMarkerRadius = 4.5;
constexpr const char* kFontFamily = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif";

// Estimated advance width of text in DejaVu Sans (the widest common sans, so other fonts fit too).
// There are no font metrics at hand; per-class averages are close enough for layout.
double text_width(const std::string& s, double font) {
  double em = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) == 0x80) continue;  // UTF-8 continuation byte
    if (c >= 0x80)
      em += 0.65;
    else if (std::isdigit(c))
      em += 0.64;
    else if (std::strchr("iljtfI.,:;'|!()[] ", c))
      em += 0.34;
    else if (std::strchr("mwMW", c))
      em += 0.95;
    else if (std::isupper(c))
      em += 0.72;
    else
      em += 0.6;
  }
  return em * font;
}

// Bold glyphs are about a tenth wider.
constexpr double kBold = 1.12;

// Cuts long labels so one odd name cannot squeeze the plot.
std::string ellipsize(const std::string& s, size_t max_code_points) {
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (++count > max_code_points) return s.substr(0, i) + "…";
  }
  return s;
}

// The longest prefix of s (plus "…") that fits max_px: titles and axis labels must not run off
// the image.
std::string fit_width(const std::string& s, double font, double max_px) {
  if (text_width(s, font) <= max_px) return s;
  size_t count = code_points(s);
  while (count > 1) {
    std::string cut = ellipsize(s, --count);
    if (text_width(cut, font) <= max_px) return cut;
  }
  return "…";
}

struct Axis {
  Scale scale = Scale::kLinear;
  double lo = 0, hi = 1;        // data limits
  double px_lo = 0, px_hi = 1;  // pixels for lo and hi
  std::vector<double> ticks;
  std::vector<std::string> labels;

  double t(double v) const { return scale == Scale::kLog ? std::log10(v) : v; }
  double to_px(double v) const {
    return px_lo + (t(v) - t(lo)) / (t(hi) - t(lo)) * (px_hi - px_lo);
  }
};

struct Extent {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v, Scale scale) {
    if (!std::isfinite(v) || (scale == Scale::kLog && v <= 0)) return;
    lo = std::min(lo, v), hi = std::max(hi, v);
  }
};

// Data limits with 5 % air on each side (in log space for log axes), so that markers at the
// extremes are not cut by the frame.
std::pair<double, double> padded(Extent e, Scale scale) {
  if (scale == Scale::kLog) {
    double a = std::log10(e.lo), b = std::log10(e.hi);
    const double pad = b > a ? 0.05 * (b - a) : 0.1;
    return {std::pow(10, a - pad), std::pow(10, b + pad)};
  }
  const double pad = e.hi > e.lo ? 0.05 * (e.hi - e.lo) : (e.lo == 0 ? 1 : 0.1 * std::fabs(e.lo));
  return {e.lo - pad, e.hi + pad};
}

void set_ticks(Axis& axis, int max_ticks) {
  if (axis.scale == Scale::kLog) {
    axis.ticks = log_ticks(axis.lo, axis.hi, max_ticks);
    // Within one 1-2-5 interval log_ticks falls back to linear steps (0.55, 0.60, ...), which
    // read best with linear labels (aligned decimals).
    const bool one_two_five = std::all_of(axis.ticks.begin(), axis.ticks.end(), [](double t) {
      const double m = t / pow10(static_cast<int>(std::floor(std::log10(t) + kEps)));
      return std::fabs(m - 1) < 1e-9 || std::fabs(m - 2) < 1e-9 || std::fabs(m - 5) < 1e-9;
    });
    axis.labels = one_two_five ? log_tick_labels(axis.ticks) : linear_tick_labels(axis.ticks);
    // No unlabelled marks: every tick drawn has its number (a bare mark between 10 and 100
    // reads as a value nobody can name).
  } else {
    axis.ticks = nice_ticks(axis.lo, axis.hi, max_ticks);
    axis.labels = linear_tick_labels(axis.ticks);
  }
}

struct Rect {
  double x0, y0, x1, y1;
  bool contains(double x, double y) const { return x >= x0 && x <= x1 && y >= y0 && y <= y1; }
  bool overlaps(const Rect& o) const {
    return x0 <= o.x1 && o.x0 <= x1 && y0 <= o.y1 && o.y0 <= y1;
  }
};

// Liang-Barsky: does the segment (ax, ay)-(bx, by) pass through r?
bool segment_hits(const Rect& r, double ax, double ay, double bx, double by) {
  double t0 = 0, t1 = 1;
  const double dx = bx - ax, dy = by - ay;
  const double p[4] = {-dx, dx, -dy, dy};
  const double q[4] = {ax - r.x0, r.x1 - ax, ay - r.y0, r.y1 - ay};
  for (int i = 0; i < 4; ++i) {
    if (p[i] == 0) {
      if (q[i] < 0) return false;
      continue;
    }
    const double t = q[i] / p[i];
    if (p[i] < 0)
      t0 = std::max(t0, t);
    else
      t1 = std::min(t1, t);
    if (t0 > t1) return false;
  }
  return true;
}

// Marker outlines as polygons (unit size), so every shape is one <path>; index 0 is a circle.
std::string marker_path(size_t shape, double cx, double cy, double r) {
  static const std::vector<std::vector<std::pair<double, double>>> kShapes = [] {
    std::vector<std::vector<std::pair<double, double>>> s(8);
    s[1] = {{-0.85, -0.85}, {0.85, -0.85}, {0.85, 0.85}, {-0.85, 0.85}};  // square
    s[2] = {{0, -1.2}, {1.1, 0.75}, {-1.1, 0.75}};                        // triangle up
    s[3] = {{0, -1.25}, {1.05, 0}, {0, 1.25}, {-1.05, 0}};                // diamond
    s[4] = {{0, 1.2}, {1.1, -0.75}, {-1.1, -0.75}};                       // triangle down
    const double a = 1.15, b = 0.38;                                      // plus
    s[5] = {{-b, -a}, {b, -a}, {b, -b}, {a, -b}, {a, b},   {b, b},
            {b, a},   {-b, a}, {-b, b}, {-a, b}, {-a, -b}, {-b, -b}};
    for (auto [x, y] : s[5]) {  // x (plus, 45°)
      const double k = std::sqrt(0.5);
      s[6].push_back({k * (x - y), k * (x + y)});
    }
    for (int i = 0; i < 10; ++i) {  // star
      const double angle = -kPi / 2 + i * kPi / 5, rad = i % 2 ? 0.55 : 1.3;
      s[7].push_back({rad * std::cos(angle), rad * std::sin(angle)});
    }
    return s;
  }();
  shape %= kShapes.size();
  if (shape == 0)  // circle as two arcs
    return fmt::format("M{} {}a{} {} 0 1 0 {} 0a{} {} 0 1 0 {} 0Z", num(cx - r), num(cy), num(r),
                       num(r), num(2 * r), num(r), num(r), num(-2 * r));
  std::string d;
  for (const auto& [x, y] : kShapes[shape])
    d += (d.empty() ? "M" : "L") + num(cx + r * x) + " " + num(cy + r * y);
  return d + "Z";
}

const char* dash_for(size_t series_index) {
  static const char* kDashes[] = {"", "7 4", "2 3", "9 3 2 3"};
  return kDashes[(series_index / series_colors().size()) % 4];
}

[[noreturn]] void log_error(const char* flag, const char* axis, const std::string& series,
                            const std::string& x, double y, size_t count) {
  std::string where = series.empty() ? "" : fmt::format(" in '{}'", series);
  throw ConfigError(SourceLocation{"command line"}, flag,
                    fmt::format("a log scale needs {} > 0, but {} point(s) have {} <= 0 (first{}: "
                                "x = {}, y = {})",
                                axis, count, axis, where, x, short_number(y)),
                    {fmt::format("drop {} or select runs with positive values", flag)});
}

// Rejects values a log axis cannot show; error bars are exempt (they are cut at the frame).
void check_log_axes(const PlotSpec& spec) {
  for (int axis = 0; axis < 2; ++axis) {
    const bool is_x = axis == 0;
    if ((is_x ? spec.x_scale : spec.y_scale) != Scale::kLog) continue;
    if (is_x && !spec.x_categories.empty())
      throw ConfigError(SourceLocation{"command line"}, "--logx",
                        "x is categorical (its values are not numbers); a log scale needs numbers");
    size_t bad = 0;
    const Series* first_series = nullptr;
    const Point* first = nullptr;
    for (const auto& s : spec.series)
      for (const auto& p : s.points)
        if ((is_x ? p.x : p.y) <= 0) {
          if (!bad++) first_series = &s, first = &p;
        }
    if (bad) {
      const auto index = static_cast<size_t>(first->x);
      const std::string x = !spec.x_categories.empty() && index < spec.x_categories.size()
                                ? spec.x_categories[index]
                                : short_number(first->x);
      log_error(is_x ? "--logx" : "--logy", is_x ? "x" : "y", first_series->name, x, first->y, bad);
    }
  }
}

// Where things go, in pixels, for a given space reserved right of the plot.
struct Layout {
  Rect plot;
  Axis x, y;
  bool rotate_x_labels = false;
  double x_label_depth = 0;  // vertical room the x tick labels take
  double y_title_x = 0;      // baseline of the rotated y axis title, beside the tick labels
};

Layout make_layout(const PlotSpec& spec, const Axis& x_limits, const Axis& y_limits,
                   double reserved_right) {
  Layout l;
  l.x = x_limits;
  l.y = y_limits;
  const double top = kPad + (spec.title.empty() ? 0 : kTitleFont + 6) +
                     (spec.subtitle.empty() ? 0 : kSubtitleFont + 6) + 8;
  const double x_title = spec.x_label.empty() ? 0 : kLabelFont + 10;
  const double y_title = spec.y_label.empty() ? 0 : kLabelFont + 10;

  // y ticks depend only on the height; x tick labels are one line unless rotated (decided below).
  double bottom = kPad + x_title + kTickLength + 6 + kTickFont;
  double plot_h = spec.height - top - bottom;
  set_ticks(l.y, std::clamp(static_cast<int>(plot_h / 50), 3, 9));
  double widest_y = 0;
  for (const auto& s : l.y.labels) widest_y = std::max(widest_y, text_width(s, kTickFont));
  double left = kPad + y_title + widest_y + kTickLength + 6;
  const double right = std::max(kPad + 8, reserved_right);
  double plot_w = spec.width - left - right;

  if (spec.x_categories.empty() && !spec.x_ticks.empty()) {
    l.x.ticks.clear();
    for (double t : spec.x_ticks)
      if (t >= l.x.lo && t <= l.x.hi && (l.x.scale == Scale::kLinear || t > 0))
        l.x.ticks.push_back(t);
    std::sort(l.x.ticks.begin(), l.x.ticks.end());
    l.x.labels =
        l.x.scale == Scale::kLog ? log_tick_labels(l.x.ticks) : linear_tick_labels(l.x.ticks);
  }
  if (spec.x_categories.empty() && (spec.x_ticks.empty() || l.x.ticks.empty())) {
    // As many ticks as fit with their labels side by side, a gap of 1.5 em between them.
    for (int max_ticks = std::clamp(static_cast<int>(plot_w / 70), 3, 10); max_ticks >= 2;
         --max_ticks) {
      set_ticks(l.x, max_ticks);
      double total = 0;
      for (const auto& s : l.x.labels) total += text_width(s, kTickFont) + 1.5 * kTickFont;
      if (total <= plot_w) break;
    }
  } else if (!spec.x_categories.empty()) {
    l.x.ticks.clear();
    l.x.labels.clear();
    double total = 0, widest = 0;
    for (size_t i = 0; i < spec.x_categories.size(); ++i) {
      l.x.ticks.push_back(static_cast<double>(i));
      l.x.labels.push_back(ellipsize(spec.x_categories[i], 24));
      const double w = text_width(l.x.labels.back(), kTickFont);
      total += w + kTickFont;
      widest = std::max(widest, w);
    }
    if (total > plot_w) {
      // Rotated 40°: the label's depth below the axis is its width's vertical component.
      l.rotate_x_labels = true;
      l.x_label_depth = widest * std::sin(40 * kPi / 180) + kTickFont;
      bottom += l.x_label_depth - kTickFont;
      plot_h = spec.height - top - bottom;
      // The first label ends at its tick and reaches left: keep it inside the image.
      const double first_reach =
          text_width(l.x.labels.front(), kTickFont) * std::cos(40 * kPi / 180);
      const double first_tick = left + plot_w / (2 * static_cast<double>(spec.x_categories.size()));
      if (first_tick - first_reach < kPad) {
        const double shift = kPad - (first_tick - first_reach);
        left += shift;
        plot_w -= shift;
      }
    }
  }
  l.plot = Rect{left, top, left + plot_w, top + plot_h};
  l.y_title_x = left - kTickLength - 6 - widest_y - 10;
  l.x.px_lo = l.plot.x0, l.x.px_hi = l.plot.x1;
  l.y.px_lo = l.plot.y1, l.y.px_hi = l.plot.y0;  // y grows upwards
  return l;
}

// A series as drawn: pixel positions, after the sideways dodge.
struct DrawnPoint {
  double x, y, lo, hi;  // lo/hi: pixel ends of the error bar (clamped to the plot)
  bool has_bar;
};

std::vector<std::vector<DrawnPoint>> project(const PlotSpec& spec, const Layout& l, bool bands) {
  const size_t k = spec.series.size();
  // Dodge: series side by side so that bars at a shared x stay apart (and categories hold all).
  double dodge = 0;
  if (!spec.x_categories.empty() && k > 1) {
    const double slot = (l.plot.x1 - l.plot.x0) / static_cast<double>(spec.x_categories.size());
    dodge = std::min(0.6 * slot / static_cast<double>(k), 16.0);
  } else if (!bands && k > 1) {
    dodge = 4;
  }
  std::vector<std::vector<DrawnPoint>> out(k);
  for (size_t i = 0; i < k; ++i) {
    const double offset = (static_cast<double>(i) - (static_cast<double>(k) - 1) / 2) * dodge;
    for (const auto& p : spec.series[i].points) {
      DrawnPoint d{};
      d.x = l.x.to_px(p.x) + offset;
      d.y = l.y.to_px(p.y);
      d.has_bar = p.hi > p.lo;
      const double lo = l.y.scale == Scale::kLog && p.lo <= 0 ? l.y.lo : std::max(p.lo, l.y.lo);
      d.lo = d.has_bar ? l.y.to_px(lo) : d.y;
      d.hi = d.has_bar ? l.y.to_px(std::min(p.hi, l.y.hi)) : d.y;
      out[i].push_back(d);
    }
  }
  return out;
}

// How many drawn features (markers, bars, line segments, band edges) a box would cover.
size_t collisions(const Rect& box, const std::vector<std::vector<DrawnPoint>>& drawn, bool joined) {
  size_t hits = 0;
  for (const auto& series : drawn) {
    for (size_t j = 0; j < series.size(); ++j) {
      const DrawnPoint& p = series[j];
      const Rect marker{p.x - kMarkerRadius, p.y - kMarkerRadius, p.x + kMarkerRadius,
                        p.y + kMarkerRadius};
      if (marker.overlaps(box)) ++hits;
      if (p.has_bar && segment_hits(box, p.x, p.lo, p.x, p.hi)) ++hits;
      if (joined && j > 0) {
        const DrawnPoint& q = series[j - 1];
        if (segment_hits(box, q.x, q.y, p.x, p.y)) ++hits;
        if (p.has_bar && segment_hits(box, q.x, q.lo, p.x, p.lo)) ++hits;
        if (p.has_bar && segment_hits(box, q.x, q.hi, p.x, p.hi)) ++hits;
      }
    }
  }
  return hits;
}

struct LegendBox {
  double width = 0, height = 0;
  bool shown = false;
};

constexpr double kLegendRow = 20, kLegendSample = 30;

LegendBox measure_legend(const PlotSpec& spec) {
  LegendBox b;
  b.shown = spec.series.size() > 1 || !spec.series.front().name.empty();
  if (!b.shown) return b;
  double widest = 0;
  for (const auto& s : spec.series)
    widest = std::max(widest, text_width(ellipsize(s.name, 40), kLegendFont));
  b.width = 10 + kLegendSample + 8 + widest + 10;
  if (!spec.legend_title.empty())
    b.width =
        std::max(b.width, 20 + kBold * text_width(ellipsize(spec.legend_title, 40), kLegendFont));
  b.height = 8 + (spec.legend_title.empty() ? 0 : kLegendRow) +
             kLegendRow * static_cast<double>(spec.series.size()) + 4;
  return b;
}

}  // namespace

std::string render_svg(const PlotSpec& spec) {
  size_t total_points = 0, longest = 0;
  for (const auto& s : spec.series) {
    total_points += s.points.size();
    longest = std::max(longest, s.points.size());
  }
  if (total_points == 0)
    throw ConfigError(SourceLocation{"command line"}, "", "nothing to plot: no data points");
  check_log_axes(spec);
  const bool categorical = !spec.x_categories.empty();
  const bool bands = !categorical && (spec.error_style == ErrorStyle::kBand ||
                                      (spec.error_style == ErrorStyle::kAuto && longest > 25));

  // Data limits.
  Extent ex, ey;
  for (const auto& s : spec.series)
    for (const auto& p : s.points) {
      ex.add(p.x, spec.x_scale);
      for (double v : {p.y, p.lo, p.hi}) ey.add(v, spec.y_scale);
    }
  Axis x_limits, y_limits;
  x_limits.scale = spec.x_scale;
  y_limits.scale = spec.y_scale;
  if (categorical) {
    x_limits.lo = -0.5;
    x_limits.hi = static_cast<double>(spec.x_categories.size()) - 0.5;
  } else {
    std::tie(x_limits.lo, x_limits.hi) = padded(ex, spec.x_scale);
  }
  std::tie(y_limits.lo, y_limits.hi) = padded(ey, spec.y_scale);

  // Legend: the first inside corner that covers nothing, else outside on the right.
  const LegendBox legend = measure_legend(spec);
  Layout l = make_layout(spec, x_limits, y_limits, 0);
  auto drawn = project(spec, l, bands);
  Rect legend_rect{};
  if (legend.shown) {
    const double inset = 10;
    const Rect& p = l.plot;
    const Rect corners[] = {
        {p.x1 - inset - legend.width, p.y0 + inset, p.x1 - inset, p.y0 + inset + legend.height},
        {p.x0 + inset, p.y0 + inset, p.x0 + inset + legend.width, p.y0 + inset + legend.height},
        {p.x1 - inset - legend.width, p.y1 - inset - legend.height, p.x1 - inset, p.y1 - inset},
        {p.x0 + inset, p.y1 - inset - legend.height, p.x0 + inset + legend.width, p.y1 - inset},
    };
    bool placed = false;
    for (const Rect& c : corners) {
      const Rect margin{c.x0 - 4, c.y0 - 4, c.x1 + 4, c.y1 + 4};
      const bool fits = c.x0 >= p.x0 && c.y1 <= p.y1;
      if (fits && collisions(margin, drawn, !categorical) == 0) {
        legend_rect = c;
        placed = true;
        break;
      }
    }
    if (!placed) {
      l = make_layout(spec, x_limits, y_limits, legend.width + 2 * kPad);
      drawn = project(spec, l, bands);
      legend_rect = Rect{l.plot.x1 + kPad, l.plot.y0, l.plot.x1 + kPad + legend.width,
                         l.plot.y0 + legend.height};
    }
  }
  const double height = std::max<double>(spec.height, legend_rect.y1 + kPad);

  SvgWriter svg;
  svg.open("svg", {{"xmlns", "http://www.w3.org/2000/svg"},
                   {"width", num(spec.width)},
                   {"height", num(height)},
                   {"viewBox", fmt::format("0 0 {} {}", num(spec.width), num(height))},
                   {"font-family", kFontFamily}});
  svg.text_element("title", {}, spec.title.empty() ? spec.y_label : spec.title);
  if (!spec.subtitle.empty()) svg.text_element("desc", {}, spec.subtitle);
  svg.open("defs", {});
  svg.open("clipPath", {{"id", "plot-area"}});
  svg.leaf("rect", {{"x", num(l.plot.x0)},
                    {"y", num(l.plot.y0)},
                    {"width", num(l.plot.x1 - l.plot.x0)},
                    {"height", num(l.plot.y1 - l.plot.y0)}});
  svg.close();
  svg.close();
  svg.leaf("rect", {{"width", "100%"}, {"height", "100%"}, {"fill", "white"}});

  // Title and subtitle, centred over the plot area.
  const double centre_x = (l.plot.x0 + l.plot.x1) / 2;
  const double centred_room = 2 * std::min(centre_x - kPad, spec.width - centre_x - kPad);
  double baseline = kPad + kTitleFont * 0.8;
  if (!spec.title.empty()) {
    svg.text_element("text",
                     {{"x", num(centre_x)},
                      {"y", num(baseline)},
                      {"font-size", num(kTitleFont)},
                      {"font-weight", "bold"},
                      {"text-anchor", "middle"},
                      {"fill", "#222"}},
                     fit_width(spec.title, kTitleFont * kBold, centred_room));
    baseline += kSubtitleFont + 8;
  }
  if (!spec.subtitle.empty())
    svg.text_element("text",
                     {{"x", num(centre_x)},
                      {"y", num(baseline)},
                      {"font-size", num(kSubtitleFont)},
                      {"text-anchor", "middle"},
                      {"fill", "#555"}},
                     fit_width(spec.subtitle, kSubtitleFont, centred_room));

  // Grid lines under the data.
  svg.open("g", {{"stroke", "#e3e3e3"}, {"stroke-width", "1"}});
  for (double t : l.x.ticks) {
    const double px = l.x.to_px(t);
    if (!categorical)
      svg.leaf("line",
               {{"x1", num(px)}, {"y1", num(l.plot.y0)}, {"x2", num(px)}, {"y2", num(l.plot.y1)}});
  }
  for (double t : l.y.ticks) {
    const double py = l.y.to_px(t);
    svg.leaf("line",
             {{"x1", num(l.plot.x0)}, {"y1", num(py)}, {"x2", num(l.plot.x1)}, {"y2", num(py)}});
  }
  svg.close();

  // Data, clipped to the plot area.
  svg.open("g", {{"clip-path", "url(#plot-area)"}});
  const auto& colors = series_colors();
  for (size_t i = 0; i < spec.series.size(); ++i) {
    const std::string& color = colors[i % colors.size()];
    const auto& pts = drawn[i];
    svg.open("g", {{"class", "series"}, {"fill", color}, {"stroke", color}});
    if (bands && pts.size() > 1) {
      std::string d;
      for (const auto& p : pts) d += (d.empty() ? "M" : "L") + num(p.x) + " " + num(p.hi);
      for (auto it = pts.rbegin(); it != pts.rend(); ++it)
        d += "L" + num(it->x) + " " + num(it->lo);
      svg.leaf("path", {{"d", d + "Z"}, {"fill-opacity", "0.18"}, {"stroke", "none"}});
    }
    if (!categorical && pts.size() > 1) {
      std::string points;
      for (const auto& p : pts) points += (points.empty() ? "" : " ") + num(p.x) + "," + num(p.y);
      Attrs attrs = {{"points", points},
                     {"fill", "none"},
                     {"stroke-width", "2"},
                     {"stroke-linejoin", "round"}};
      if (*dash_for(i)) attrs.push_back({"stroke-dasharray", dash_for(i)});
      svg.leaf("polyline", attrs);
    }
    if (!bands) {
      std::string d;
      const double cap = 4;
      for (const auto& p : pts)
        if (p.has_bar)
          d += fmt::format("M{} {}V{}M{} {}h{}M{} {}h{}", num(p.x), num(p.lo), num(p.hi),
                           num(p.x - cap), num(p.lo), num(2 * cap), num(p.x - cap), num(p.hi),
                           num(2 * cap));
      if (!d.empty()) svg.leaf("path", {{"d", d}, {"fill", "none"}, {"stroke-width", "1.5"}});
    }
    // Every marker for sparse series; about a dozen, staggered per series, on long curves.
    const size_t every = pts.size() > 25 ? (pts.size() + 11) / 12 : 1;
    const size_t start = every > 1 ? (i * every / spec.series.size()) % every : 0;
    std::string markers;
    for (size_t j = start; j < pts.size(); j += every)
      markers += marker_path(i, pts[j].x, pts[j].y, kMarkerRadius);
    if (!markers.empty())
      svg.leaf("path", {{"d", markers}, {"stroke", "white"}, {"stroke-width", "0.8"}});
    svg.close();
  }
  svg.close();

  // Frame, ticks and tick labels.
  svg.leaf("rect", {{"x", num(l.plot.x0)},
                    {"y", num(l.plot.y0)},
                    {"width", num(l.plot.x1 - l.plot.x0)},
                    {"height", num(l.plot.y1 - l.plot.y0)},
                    {"fill", "none"},
                    {"stroke", "#444"},
                    {"stroke-width", "1"}});
  svg.open("g", {{"stroke", "#444"}, {"stroke-width", "1"}});
  std::string tick_marks;
  for (double t : l.x.ticks)
    tick_marks += fmt::format("M{} {}v{}", num(l.x.to_px(t)), num(l.plot.y1), num(kTickLength));
  for (double t : l.y.ticks)
    tick_marks += fmt::format("M{} {}h{}", num(l.plot.x0), num(l.y.to_px(t)), num(-kTickLength));
  svg.leaf("path", {{"d", tick_marks}, {"fill", "none"}});
  svg.close();

  svg.open("g", {{"font-size", num(kTickFont)}, {"fill", "#333"}});
  const double x_label_y = l.plot.y1 + kTickLength + 4 + kTickFont * 0.8;
  for (size_t i = 0; i < l.x.ticks.size(); ++i) {
    const double px = l.x.to_px(l.x.ticks[i]);
    if (l.rotate_x_labels)
      svg.text_element(
          "text",
          {{"x", num(px)},
           {"y", num(x_label_y)},
           {"text-anchor", "end"},
           {"transform", fmt::format("rotate(-40 {} {})", num(px), num(x_label_y - 4))}},
          l.x.labels[i]);
    else
      svg.text_element("text", {{"x", num(px)}, {"y", num(x_label_y)}, {"text-anchor", "middle"}},
                       l.x.labels[i]);
  }
  for (size_t i = 0; i < l.y.ticks.size(); ++i)
    svg.text_element("text",
                     {{"x", num(l.plot.x0 - kTickLength - 4)},
                      {"y", num(l.y.to_px(l.y.ticks[i]) + kTickFont * 0.35)},
                      {"text-anchor", "end"}},
                     l.y.labels[i]);
  svg.close();

  // Axis titles.
  if (!spec.x_label.empty()) {
    const double depth = l.rotate_x_labels ? l.x_label_depth : kTickFont;
    svg.text_element("text",
                     {{"x", num(centre_x)},
                      {"y", num(l.plot.y1 + kTickLength + 6 + depth + 6 + kLabelFont * 0.8)},
                      {"font-size", num(kLabelFont)},
                      {"text-anchor", "middle"},
                      {"fill", "#222"}},
                     fit_width(spec.x_label, kLabelFont, l.plot.x1 - l.plot.x0));
  }
  if (!spec.y_label.empty()) {
    const double x = l.y_title_x, y = (l.plot.y0 + l.plot.y1) / 2;
    svg.text_element("text",
                     {{"x", num(x)},
                      {"y", num(y)},
                      {"font-size", num(kLabelFont)},
                      {"text-anchor", "middle"},
                      {"fill", "#222"},
                      {"transform", fmt::format("rotate(-90 {} {})", num(x), num(y))}},
                     fit_width(spec.y_label, kLabelFont, l.plot.y1 - l.plot.y0));
  }

  // Legend: a line sample with the series' marker, then its name.
  if (legend.shown) {
    const Rect& r = legend_rect;
    svg.open("g", {{"class", "legend"}, {"font-size", num(kLegendFont)}});
    svg.leaf("rect", {{"x", num(r.x0)},
                      {"y", num(r.y0)},
                      {"width", num(r.x1 - r.x0)},
                      {"height", num(r.y1 - r.y0)},
                      {"rx", "3"},
                      {"fill", "white"},
                      {"fill-opacity", "0.9"},
                      {"stroke", "#bbb"}});
    double row_y = r.y0 + 4;
    if (!spec.legend_title.empty()) {
      svg.text_element("text",
                       {{"x", num(r.x0 + 10)},
                        {"y", num(row_y + kLegendRow * 0.5 + kLegendFont * 0.35)},
                        {"font-weight", "bold"},
                        {"fill", "#222"}},
                       ellipsize(spec.legend_title, 40));
      row_y += kLegendRow;
    }
    for (size_t i = 0; i < spec.series.size(); ++i) {
      const std::string& color = colors[i % colors.size()];
      const double cy = row_y + kLegendRow * 0.5 + 2;
      const double x0 = r.x0 + 10;
      Attrs line = {{"x1", num(x0)}, {"y1", num(cy)},   {"x2", num(x0 + kLegendSample)},
                    {"y2", num(cy)}, {"stroke", color}, {"stroke-width", "2"}};
      if (*dash_for(i)) line.push_back({"stroke-dasharray", dash_for(i)});
      if (!categorical) svg.leaf("line", line);
      svg.leaf("path", {{"d", marker_path(i, x0 + kLegendSample / 2, cy, kMarkerRadius)},
                        {"fill", color},
                        {"stroke", "white"},
                        {"stroke-width", "0.8"}});
      svg.text_element("text",
                       {{"x", num(x0 + kLegendSample + 8)},
                        {"y", num(cy + kLegendFont * 0.35)},
                        {"fill", "#222"}},
                       ellipsize(spec.series[i].name, 40));
      row_y += kLegendRow;
    }
    svg.close();
  }
  return svg.finish();
}

}  // namespace flowlab::plot
