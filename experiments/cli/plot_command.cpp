// `flowlab plot`: metrics against a param (or against step), or metric families against the
// number in their names, one line per y and group, error bars over repeats. The work happens in
// plot_data.cpp (which runs, which numbers) and plot/svg.cpp (the SVG); this file only maps flags
// onto them and writes the files.
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "common/error.h"
#include "common/file_io.h"
#include "common/text.h"
#include "experiments/cli/app.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/plot_data.h"
#include "plot/plot.h"
#include "plot/svg_png.h"

namespace flowlab::cli {
namespace fs = std::filesystem;

namespace {

struct PlotOptions {
  PlotQuery query;
  std::string agg = "mean", error = "std";
  int64_t parent = 0;  // --parent; 0 = not given (run ids start at 1)
  bool log_x = false, log_y = false;
  std::string title, x_label, y_label;
  std::string size = "800x500";
  std::string output;  // default: derived from the names, in WORKSPACE/plots/
  bool png = false;
  std::string data;  // --data FILE.csv|FILE.json
};

constexpr const char* kFooter = R"(
Names: metrics as NODE.KEY (eval.accuracy), params as recorded (data.limit_train, train.lr, seed);
prefix with metrics. or params. when a name is both. `flowlab show last` lists a run's names.
Metric families: --y 'NODE.KEY@*' draws the metrics NODE.KEY@<number> of each run (accuracy per
noise amplitude, certified accuracy per radius) against the number; leave --x out. '*.KEY@*'
takes every node's, one line per node. Repeat --y for several metrics (or families), one line
each (with --group, one per metric and group).
Runs: the FINISHED runs of the newest run's experiment, or of --experiment, or the children of
--parent (a sweep); a --runs filter narrows those (or, alone, searches all runs); --runs with ids
takes exactly those runs, any status. Runs sharing a group and an x (seeds) become one point.

Examples:
  flowlab plot --y eval.accuracy --x data.limit_train --group train.model --logx --png
  flowlab plot --y train.loss --group train.lr --logy           loss curves, one per lr
  flowlab plot --y eval.accuracy --x train.lr --parent 12 --runs "params.train.model = 'cnn'" \
      --data points.csv                                           points with n, std, run ids
  flowlab plot --y 'robust_legs.accuracy@*' --y 'robust_ptd.accuracy@*' --xlabel amplitude)";

// file-name-safe version of a name: "eval.accuracy" stays, "a/b c" -> "a_b_c".
std::string slug(const std::string& s) {
  std::string out;
  for (char c : s)
    out += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ? c : '_';
  return out;
}

std::pair<int, int> parse_size(const std::string& text) {
  int w = 0, h = 0;
  char sep = 0, extra = 0;
  if (std::sscanf(text.c_str(), "%d%c%d%c", &w, &sep, &h, &extra) != 3 || sep != 'x' || w < 300 ||
      w > 4000 || h < 200 || h > 4000)
    throw ConfigError(
        SourceLocation{"command line"}, "--size",
        fmt::format("expected WIDTHxHEIGHT in pixels (300-4000 x 200-4000), got \"{}\"", text));
  return {w, h};
}

void write_text(const fs::path& path, const std::string& text) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  write_text_file(path, text);
}

void run_plot(const PlotOptions& o, const GlobalOptions& global, std::ostream& out) {
  PlotQuery q = o.query;
  q.agg = parse_agg(o.agg);
  q.error = parse_error_bar(o.error);
  if (o.parent > 0) q.parent = o.parent;
  const auto [width, height] = parse_size(o.size);
  if (o.png && !png_supported())
    throw ConfigError(SourceLocation{"command line"}, "--png",
                      "this flowlab was built without PNG support (librsvg2-dev was not found "
                      "when CMake ran)",
                      {"install librsvg2-dev and rebuild, or convert the SVG with any browser"});

  const PlotData data = load_plot_data(results_store(global.workspace()), q);
  PlotSpec spec = make_plot_spec(data, q);
  spec.x_scale = o.log_x ? Scale::kLog : Scale::kLinear;
  spec.y_scale = o.log_y ? Scale::kLog : Scale::kLinear;
  if (!o.title.empty()) spec.title = o.title;
  if (!o.x_label.empty()) spec.x_label = o.x_label;
  if (!o.y_label.empty()) spec.y_label = o.y_label;
  spec.width = width;
  spec.height = height;
  const std::string svg = render_svg(spec);  // before writing anything: it may refuse a log axis

  fs::path svg_path = o.output;
  if (svg_path.empty()) {
    // "robust_legs.accuracy_robust_ptd.accuracy-vs-accuracy": a family's x without its '@'.
    std::string x_name = data.x_name;
    if (data.x_is_suffix && !x_name.empty() && x_name.back() == '@') x_name.pop_back();
    std::string name = join(data.y_names, "_") + "-vs-" + x_name;
    if (!data.group_names.empty()) name += "-by-" + data.group_names.front();
    // In the workspace, beside the results it draws (not wherever the command was typed).
    svg_path = global.workspace() / "plots" / (slug(name) + ".svg");
    fs::create_directories(svg_path.parent_path());
  }
  write_text(svg_path, svg);
  std::string written = svg_path.string();
  if (o.png) {
    fs::path png_path = svg_path;
    png_path.replace_extension(".png");
    write_png(svg, png_path);
    written += ", " + png_path.string();
  }
  if (!o.data.empty()) {
    const fs::path data_path = o.data;
    std::ostringstream text;
    print(plot_table(data), data_path.extension() == ".json" ? Format::kJson : Format::kCsv, text);
    write_text(data_path, text.str());
    written += ", " + data_path.string();
  }

  out << "wrote " << written << "\n";
  std::string summary =
      fmt::format("{} group{}, {} points, {} run{} ({})", data.series.size(),
                  data.series.size() == 1 ? "" : "s", data.rows.size(), data.runs_used.size(),
                  data.runs_used.size() == 1 ? "" : "s", data.source);
  if (!data.runs_skipped.empty())
    summary += fmt::format("; skipped {} run{} without {}{}", data.runs_skipped.size(),
                           data.runs_skipped.size() == 1 ? "" : "s", data.y_name,
                           data.x_is_step || data.x_is_suffix ? "" : " or " + data.x_name);
  out << summary << "\n";
}

}  // namespace

void add_plot_command(CLI::App& app, GlobalOptions& global) {
  auto o = std::make_shared<PlotOptions>();
  auto* cmd = app.add_subcommand(
      "plot",
      "draw metrics against a param or step (or metric families against the number after '@'), "
      "one line per group, as SVG (and PNG)");
  cmd->footer(kFooter);
  cmd->add_option("--y", o->query.y,
                  "metric to plot (eval.accuracy), or metric family (robust_legs.accuracy@*); "
                  "repeat for several, one line each")
      ->required()
      ->allow_extra_args(false);
  cmd->add_option("--x", o->query.x,
                  "param (its value), metric (its final value) or 'step' (the metric's series; "
                  "the default). Not with a family: its x is the number after '@'");
  cmd->add_option("--group", o->query.group,
                  "param(s) whose values make the lines (comma separated), or 'run'")
      ->delimiter(',');
  auto* experiment = cmd->add_option("--experiment", o->query.experiment,
                                     "runs of this experiment (default: the newest run's)");
  auto* parent = cmd->add_option("--parent", o->parent, "the child runs of this sweep run")
                     ->check(CLI::PositiveNumber);
  experiment->excludes(parent);
  cmd->add_option("--runs", o->query.runs,
                  "run ids (3,5,10-12), or a filter as in `flowlab query` "
                  "(\"params.train.model = 'cnn' and metrics.eval.loss < 1\")");
  cmd->add_flag("--any-status", o->query.any_status, "include RUNNING, FAILED and KILLED runs");
  cmd->add_option("--agg", o->agg, "mean or median of the runs at a point")->capture_default_str();
  cmd->add_option("--error", o->error, "error bars: std, sem, minmax or none")
      ->capture_default_str();
  cmd->add_flag("--logx", o->log_x, "logarithmic x axis");
  cmd->add_flag("--logy", o->log_y, "logarithmic y axis");
  cmd->add_option("--title", o->title, "plot title (default: Y vs X)");
  cmd->add_option("--xlabel", o->x_label,
                  "x axis label (default: the x name; for a family its key, e.g. accuracy@)");
  cmd->add_option("--ylabel", o->y_label, "y axis label (default: the y name)");
  cmd->add_option("--size", o->size, "image size in pixels, WIDTHxHEIGHT")->capture_default_str();
  cmd->add_option("-o,--output", o->output,
                  "SVG file (default: WORKSPACE/plots/Y-vs-X[-by-GROUP].svg)");
  cmd->add_flag("--png", o->png,
                png_supported() ? "also write a PNG (2x) next to the SVG"
                                : "also write a PNG (not available in this build)");
  cmd->add_option("--data", o->data,
                  "also write the points with n, mean, median, std, min, max "
                  "and run ids (.csv, or .json)");
  cmd->callback([o, &global] { run_plot(*o, global, std::cout); });
}

}  // namespace flowlab::cli
