// Tests for what `flowlab plot` reads: run selection (newest experiment, sweep children, explicit
// ids, --runs filters), name resolution with did-you-mean, grouping and aggregation of repeats,
// from a database filled through tracking::Store. Also the command end to end through CLI11.
#include "experiments/cli/plot_data.h"

#include <cmath>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/test/unit_test.hpp>

#include "common/error.h"
#include "experiments/cli/app.h"
#include "plot/svg_png.h"
#include "tests/support/temp_dir.h"
#include "tracking/store.h"

using namespace flowlab;
using namespace flowlab::cli;
namespace fs = std::filesystem;
namespace tt = boost::test_tools;

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// `flowlab plot ARGS` over `workspace`, parsed by CLI11 as main() would; what it printed.
std::string run_plot_command(const fs::path& workspace, const std::vector<std::string>& args) {
  CLI::App app;
  GlobalOptions global;
  global.workspace_flag = workspace.string();
  add_plot_command(app, global);
  std::vector<const char*> argv = {"flowlab", "plot"};
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream captured;
  auto* old = std::cout.rdbuf(captured.rdbuf());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (...) {
    std::cout.rdbuf(old);
    throw;
  }
  std::cout.rdbuf(old);
  return captured.str();
}

// Accuracy that grows with the training-set size and depends on the model, plus 0.01 per seed:
// over seeds 0, 1, 2 the mean is base + 0.01 and the sample std exactly 0.01.
double base_accuracy(const std::string& model, int size) {
  const double model_offset = model == "cnn" ? 0.1 : 0.0;
  return 0.5 + model_offset + 0.05 * std::log10(size);
}

// Training loss at a step: base / (step + 1) + 0.1 * seed.
double loss(const std::string& model, int step, int seed) {
  return (model == "cnn" ? 1.0 : 2.0) / (step + 1) + 0.1 * seed;
}

// A workspace with:
//   experiment "old": one finished run (never the default: older);
//   experiment "sizes": 2 models x 3 sizes x 3 seeds, finished (ids in `grid`), plus one FAILED
//   run with an absurd accuracy that must not show up by default;
//   experiment "sweep": a parent run with two children (lr 0.1 and 0.01).
struct Workspace {
  testing::TempDir dir;
  fs::path db = dir / "runs.db";
  std::map<std::tuple<std::string, int, int>, int64_t> grid;  // (model, size, seed) -> run id
  int64_t failed = 0, old_run = 0, sweep_parent = 0;
  std::vector<int64_t> sweep_children;

  Workspace() {
    tracking::Store store(db);
    old_run = add_run(store, "old", {{"train.model", "cnn"}, {"data.limit_train", "50"}},
                      {{"eval", "accuracy", 0, 0.3}});
    for (std::string model : {"cnn", "mlp"})
      for (int size : {100, 1000, 10000})
        for (int seed : {0, 1, 2}) {
          std::vector<tracking::MetricRow> metrics = {
              {"eval", "accuracy", 0, base_accuracy(model, size) + 0.01 * seed, 0}};
          for (int step = 0; step < 4; ++step)
            metrics.push_back({"train", "loss", step, loss(model, step, seed), 0});
          grid[{model, size, seed}] = add_run(store, "sizes",
                                              {{"train.model", model},
                                               {"data.limit_train", std::to_string(size)},
                                               {"seed", std::to_string(seed)},
                                               {"train.lr", "0.10000000000000001"}},
                                              metrics);
        }
    failed = add_run(store, "sizes",
                     {{"train.model", "cnn"}, {"data.limit_train", "100"}, {"seed", "3"}},
                     {{"eval", "accuracy", 0, 99.0}}, tracking::RunStatus::kFailed);
    sweep_parent = add_run(store, "sweep", {}, {});
    for (const char* lr : {"0.10000000000000001", "0.01"})
      sweep_children.push_back(add_run(store, "sweep", {{"train.lr", lr}},
                                       {{"eval", "accuracy", 0, lr[2] == '1' ? 0.8 : 0.7}},
                                       tracking::RunStatus::kFinished, sweep_parent));
    // The newest run decides the default experiment: make it one in "sizes".
    add_run(store, "sizes", {{"train.model", "cnn"}}, {}, tracking::RunStatus::kRunning);
  }

  static int64_t add_run(tracking::Store& store, const std::string& experiment,
                         const std::map<std::string, std::string>& params,
                         const std::vector<tracking::MetricRow>& metrics,
                         tracking::RunStatus status = tracking::RunStatus::kFinished,
                         std::optional<int64_t> parent = std::nullopt) {
    tracking::RunStart start;
    start.experiment = experiment;
    start.name = "test";
    start.parent_id = parent;
    const int64_t id = store.begin_run(start);
    store.log_params(id, params);
    store.log_metrics(id, metrics);
    if (status != tracking::RunStatus::kRunning) store.finish_run(id, status);
    return id;
  }
};

PlotQuery accuracy_by_size() {
  PlotQuery q;
  q.y = {"metrics.eval.accuracy"};
  q.x = "params.data.limit_train";
  q.group = {"params.train.model"};
  return q;
}

std::string load_error(const fs::path& db, const PlotQuery& q) {
  try {
    load_plot_data(db, q);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(plot_data)

BOOST_AUTO_TEST_CASE(groups_by_x_with_seeds_give_exactly_the_expected_points) {
  Workspace ws;
  const PlotData data = load_plot_data(ws.db, accuracy_by_size());
  BOOST_TEST(data.source == "experiment 'sizes'");
  BOOST_TEST(data.y_name == "eval.accuracy");
  BOOST_TEST(data.x_name == "data.limit_train");
  BOOST_TEST(data.group_names == std::vector<std::string>{"train.model"}, tt::per_element());
  BOOST_TEST(data.x_categories.empty());
  // 18 finished runs with the metric; the RUNNING run and the FAILED one are not selected.
  BOOST_TEST(data.runs_used.size() == 18u);
  BOOST_TEST(data.runs_skipped.empty());

  BOOST_REQUIRE_EQUAL(data.series.size(), 2u);
  BOOST_TEST(data.series[0].name == "cnn");
  BOOST_TEST(data.series[1].name == "mlp");
  BOOST_REQUIRE_EQUAL(data.rows.size(), 6u);
  size_t row = 0;
  for (const std::string model : {"cnn", "mlp"}) {
    const auto& points = data.series[model == "cnn" ? 0 : 1].points;
    BOOST_REQUIRE_EQUAL(points.size(), 3u);
    const int sizes[] = {100, 1000, 10000};
    for (int i = 0; i < 3; ++i) {
      const Point& p = points[i];
      const double mean = base_accuracy(model, sizes[i]) + 0.01;
      BOOST_TEST(p.x == sizes[i]);
      BOOST_TEST(p.n == 3u);
      BOOST_TEST(p.y == mean, tt::tolerance(1e-12));
      BOOST_TEST(p.lo == mean - 0.01, tt::tolerance(1e-9));  // mean - sample std
      BOOST_TEST(p.hi == mean + 0.01, tt::tolerance(1e-9));
      const PlotRow& r = data.rows[row++];
      BOOST_TEST(r.series == model);
      BOOST_TEST(r.x == std::to_string(sizes[i]));
      BOOST_TEST(r.stats.min == base_accuracy(model, sizes[i]), tt::tolerance(1e-12));
      BOOST_TEST(r.stats.max == base_accuracy(model, sizes[i]) + 0.02, tt::tolerance(1e-12));
      const std::vector<int64_t> ids = {ws.grid[{model, sizes[i], 0}],
                                        ws.grid[{model, sizes[i], 1}],
                                        ws.grid[{model, sizes[i], 2}]};
      BOOST_TEST(r.run_ids == ids, tt::per_element());
    }
  }
}

BOOST_AUTO_TEST_CASE(median_and_minmax_follow_the_query) {
  Workspace ws;
  PlotQuery q = accuracy_by_size();
  q.agg = Agg::kMedian;
  q.error = ErrorBar::kMinMax;
  const PlotData data = load_plot_data(ws.db, q);
  const Point& p = data.series[1].points[0];  // mlp at 100: seeds give base + {0, .01, .02}
  BOOST_TEST(p.y == base_accuracy("mlp", 100) + 0.01, tt::tolerance(1e-12));
  BOOST_TEST(p.lo == base_accuracy("mlp", 100), tt::tolerance(1e-12));
  BOOST_TEST(p.hi == base_accuracy("mlp", 100) + 0.02, tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(step_series_are_averaged_per_step) {
  Workspace ws;
  PlotQuery q;
  q.y = {"train.loss"};  // no prefix needed
  q.group = {"train.model"};
  q.runs = "params.data.limit_train = 1000";
  const PlotData data = load_plot_data(ws.db, q);
  BOOST_TEST(data.x_is_step);
  BOOST_REQUIRE_EQUAL(data.series.size(), 2u);
  for (size_t s = 0; s < 2; ++s) {
    const std::string model = s == 0 ? "cnn" : "mlp";
    BOOST_REQUIRE_EQUAL(data.series[s].points.size(), 4u);
    for (int step = 0; step < 4; ++step) {
      const Point& p = data.series[s].points[step];
      BOOST_TEST(p.x == step);
      BOOST_TEST(p.n == 3u);
      // mean over seeds 0, 1, 2 of base / (step + 1) + 0.1 * seed
      BOOST_TEST(p.y == loss(model, step, 0) + 0.1, tt::tolerance(1e-12));
      BOOST_TEST(p.hi - p.y == 0.1, tt::tolerance(1e-9));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_filter_narrows_the_runs_and_compares_numbers_as_numbers) {
  Workspace ws;
  PlotQuery q = accuracy_by_size();
  // Alone, a filter searches every experiment; train.lr is stored as 0.10000000000000001.
  q.runs = "params.train.model = 'cnn' and params.train.lr = 0.1";
  PlotData data = load_plot_data(ws.db, q);
  BOOST_REQUIRE_EQUAL(data.series.size(), 1u);
  BOOST_TEST(data.series[0].name == "cnn");
  BOOST_TEST(data.runs_used.size() == 9u);
  BOOST_TEST(data.source == "all runs, filtered");

  // With --experiment it narrows that experiment's runs.
  q.runs = "params.train.model != 'cnn'";
  q.experiment = "sizes";
  data = load_plot_data(ws.db, q);
  BOOST_REQUIRE_EQUAL(data.series.size(), 1u);
  BOOST_TEST(data.series[0].name == "mlp");
  BOOST_TEST(data.source == "experiment 'sizes', filtered");

  q.runs = "params.train.model = 'resnet'";
  BOOST_TEST(
      contains(load_error(ws.db, q),
               "--runs: no run matches params.train.model = 'resnet' (among experiment 'sizes')"));
  q.runs = "params.train.model = ";
  BOOST_CHECK_THROW(load_plot_data(ws.db, q), ConfigError);
}

BOOST_AUTO_TEST_CASE(explicit_ids_parent_and_experiment_select_runs) {
  Workspace ws;
  PlotQuery q = accuracy_by_size();
  // Explicit ids are taken whatever their status: the FAILED run's 99 shows up.
  // (A run named twice counts once.)
  q.runs = std::to_string(ws.failed) + ", " + std::to_string(ws.grid[{"cnn", 100, 0}]) + "," +
           std::to_string(ws.failed);
  PlotData data = load_plot_data(ws.db, q);
  BOOST_TEST(data.source == "2 listed runs");
  BOOST_REQUIRE_EQUAL(data.rows.size(), 1u);
  BOOST_TEST(data.rows[0].stats.max == 99.0);
  BOOST_TEST(data.rows[0].stats.n == 2u);
  q.experiment = "sizes";
  BOOST_TEST(contains(load_error(ws.db, q), "--runs: a list of run ids names the runs exactly"));
  q.experiment.clear();
  q.runs = "999";
  BOOST_TEST(contains(load_error(ws.db, q), "--runs: no run with id 999"));

  // --any-status brings in the FAILED run (with the others at cnn, 100).
  q = accuracy_by_size();
  q.any_status = true;
  data = load_plot_data(ws.db, q);
  BOOST_TEST(data.rows[0].stats.n == 4u);
  BOOST_TEST(data.runs_skipped.size() == 1u);  // the RUNNING run has no accuracy yet

  q = PlotQuery{};
  q.y = {"eval.accuracy"};
  q.x = "train.lr";
  q.parent = ws.sweep_parent;
  data = load_plot_data(ws.db, q);
  BOOST_TEST(data.source == "sweep run " + std::to_string(ws.sweep_parent));
  BOOST_REQUIRE_EQUAL(data.rows.size(), 2u);
  BOOST_TEST(data.rows[0].x == "0.01");  // numeric order, shortest text
  BOOST_TEST(data.rows[0].point.y == 0.7);
  BOOST_TEST(data.rows[1].x == "0.1");
  BOOST_TEST(data.rows[1].point.y == 0.8);

  // Selected by experiment, the sweep's parent (no results of its own) is left out.
  q.parent.reset();
  q.experiment = "sweep";
  data = load_plot_data(ws.db, q);
  BOOST_TEST(data.runs_used == ws.sweep_children, tt::per_element());
  BOOST_TEST(data.runs_skipped.empty());

  q.experiment.clear();
  q.parent = ws.old_run;
  BOOST_TEST(contains(load_error(ws.db, q), "has no child runs"));

  q = accuracy_by_size();
  q.experiment = "old";
  data = load_plot_data(ws.db, q);
  BOOST_TEST(data.runs_used == std::vector<int64_t>{ws.old_run}, tt::per_element());
  q.experiment = "sizez";
  const std::string e = load_error(ws.db, q);
  BOOST_TEST(contains(e, "--experiment: no runs in experiment 'sizez'"));
  BOOST_TEST(contains(e, "did you mean 'sizes'?"));

  BOOST_TEST(contains(load_error(ws.dir / "nothing.db", q), "no results database here yet"));
}

BOOST_AUTO_TEST_CASE(unknown_names_are_clear_errors_with_suggestions) {
  Workspace ws;
  PlotQuery q = accuracy_by_size();
  q.y = {"metrics.eval.acuracy"};
  std::string e = load_error(ws.db, q);
  BOOST_TEST(
      contains(e, "command line: error: --y: no metric 'eval.acuracy' in the 18 selected run(s)"));
  BOOST_TEST(contains(e, "did you mean 'metrics.eval.accuracy'?"));
  BOOST_TEST(contains(e, "metrics recorded: metrics.eval.accuracy, metrics.train.loss"));

  q = accuracy_by_size();
  q.group = {"train.modle"};
  e = load_error(ws.db, q);
  BOOST_TEST(contains(e, "--group: no param 'train.modle'"));
  BOOST_TEST(contains(e, "did you mean 'train.model'?"));

  q = accuracy_by_size();
  q.x = "data.limit_trian";
  BOOST_TEST(contains(load_error(ws.db, q), "did you mean 'data.limit_train'?"));

  // A shortened dotted name: the names ending in it.
  q = accuracy_by_size();
  q.group = {"model"};
  BOOST_TEST(contains(load_error(ws.db, q), "did you mean 'train.model'?"));
  q.y = {"accuracy"};
  BOOST_TEST(contains(load_error(ws.db, q), "did you mean 'eval.accuracy'?"));

  q = accuracy_by_size();
  q.y = {"params.seed"};
  BOOST_TEST(contains(load_error(ws.db, q), "--y: 'seed' is a param; --y takes a metric"));
}

BOOST_AUTO_TEST_CASE(non_numeric_x_is_categorical) {
  Workspace ws;
  PlotQuery q;
  q.y = {"eval.accuracy"};
  q.x = "train.model";
  q.runs = "params.data.limit_train = 100";
  q.experiment = "sizes";
  const PlotData data = load_plot_data(ws.db, q);
  BOOST_TEST(data.x_categories == (std::vector<std::string>{"cnn", "mlp"}), tt::per_element());
  BOOST_REQUIRE_EQUAL(data.series.size(), 1u);
  BOOST_REQUIRE_EQUAL(data.series[0].points.size(), 2u);
  BOOST_TEST(data.series[0].points[0].x == 0);
  BOOST_TEST(data.series[0].points[1].x == 1);
  BOOST_TEST(data.rows[1].x == "mlp");
}

BOOST_AUTO_TEST_CASE(spec_and_table_describe_the_aggregation) {
  Workspace ws;
  const PlotData data = load_plot_data(ws.db, accuracy_by_size());
  const PlotSpec spec = make_plot_spec(data, accuracy_by_size());
  BOOST_TEST(spec.title == "eval.accuracy vs data.limit_train");
  BOOST_TEST(spec.legend_title == "train.model");
  BOOST_TEST(spec.subtitle == "mean ± std over 3 runs per point · experiment 'sizes' · 18 runs");

  const Table t = plot_table(data);
  BOOST_REQUIRE_EQUAL(t.rows.size(), 6u);
  BOOST_TEST(t.columns[5] == "n");
  BOOST_TEST(t.rows[0][0] == "cnn");
  BOOST_TEST(t.rows[0][1] == "100");
  BOOST_TEST(t.rows[0][5] == "3");
}

BOOST_AUTO_TEST_CASE(run_ids_parse_lists_and_ranges) {
  BOOST_TEST(parse_run_ids("3,5,10-12") == (std::vector<int64_t>{3, 5, 10, 11, 12}),
             tt::per_element());
  BOOST_TEST(parse_run_ids("7, 8") == (std::vector<int64_t>{7, 8}), tt::per_element());
  BOOST_TEST(is_run_id_list("3,5,10-12"));
  BOOST_TEST(!is_run_id_list("params.seed = 1"));
  for (const char* bad : {"", "3,,4", "a", "5-3", "1-", "-2"})
    BOOST_CHECK_THROW(parse_run_ids(bad), ConfigError);
}

// Without -o the figure goes to the workspace's plots/ folder, not the current directory.
BOOST_AUTO_TEST_CASE(plot_command_writes_into_the_workspace_by_default) {
  Workspace ws;
  const fs::path cwd = fs::current_path();
  const std::string out =
      run_plot_command(ws.dir.path(), {"--y", "eval.accuracy", "--x", "data.limit_train"});
  const fs::path svg = ws.dir / "plots" / "eval.accuracy-vs-data.limit_train.svg";
  BOOST_TEST(fs::exists(svg), out);
  BOOST_TEST(!fs::exists(cwd / "eval.accuracy-vs-data.limit_train.svg"));
}

// The command itself, parsed by CLI11 as main() would: files written and the summary printed.
BOOST_AUTO_TEST_CASE(plot_command_writes_svg_data_and_summary) {
  Workspace ws;
  const fs::path svg = ws.dir / "out" / "acc.svg";
  const fs::path csv = ws.dir / "points.csv";
  std::vector<std::string> args = {"--y",        "eval.accuracy", "--x",       "data.limit_train",
                                   "--group",    "train.model",   "--logx",    "-o",
                                   svg.string(), "--data",        csv.string()};
  if (png_supported()) args.push_back("--png");
  const std::string captured = run_plot_command(ws.dir.path(), args);

  BOOST_TEST(fs::file_size(svg) > 1000u);
  BOOST_TEST(contains(captured, "wrote " + svg.string()));
  BOOST_TEST(contains(captured, "2 groups, 6 points, 18 runs (experiment 'sizes')"));
  std::ifstream in(csv);
  std::string header, first;
  std::getline(in, header);
  std::getline(in, first);
  BOOST_TEST(header == "series,x,y,lo,hi,n,mean,median,std,sem,min,max,runs");
  BOOST_TEST(contains(first, "cnn,100,"));
  if (png_supported()) {
    // A PNG starts with its 8-byte signature.
    std::ifstream png(ws.dir / "out" / "acc.png", std::ios::binary);
    std::string magic(8, '\0');
    png.read(magic.data(), 8);
    BOOST_TEST(magic == std::string("\x89PNG\r\n\x1a\n", 8));
  }
}

BOOST_AUTO_TEST_CASE(metric_family_plots_the_suffix_as_x_per_group_or_per_node) {
  testing::TempDir dir;
  const fs::path db = dir / "runs.db";
  {
    tracking::Store store(db);
    // Certified accuracy curves: two sigmas (a param), and two methods (nodes) in each run.
    for (const char* sigma : {"0.25", "0.5"}) {
      double s = std::stod(sigma);
      Workspace::add_run(store, "curves", {{"sigma", sigma}},
                         {{"cohen", "certified_accuracy@0", 0, 0.8 - s, 0},
                          {"cohen", "certified_accuracy@0.5", 0, 0.5 - s / 2, 0},
                          {"cohen", "acr", 0, 0.4, 0},
                          {"dual", "certified_accuracy@0", 0, 0.7, 0},
                          {"dual", "certified_accuracy@0.5", 0, 0.3, 0}});
    }
  }
  PlotQuery by_sigma;
  by_sigma.y = {"cohen.certified_accuracy@*"};
  by_sigma.group = {"sigma"};
  auto data = load_plot_data(db, by_sigma);
  BOOST_REQUIRE_EQUAL(data.series.size(), 2u);
  BOOST_TEST(data.y_name == "cohen.certified_accuracy");
  BOOST_TEST(data.x_name == "certified_accuracy@");
  BOOST_REQUIRE_EQUAL(data.series[0].points.size(), 2u);  // r = 0 and 0.5; acr is not in the family
  BOOST_TEST(data.series[0].points[0].x == 0.0);
  BOOST_TEST(data.series[0].points[1].x == 0.5);
  BOOST_TEST(data.series[0].points[1].y == 0.375,
             boost::test_tools::tolerance(1e-12));  // sigma 0.25

  PlotQuery by_node;
  by_node.y = {"*.certified_accuracy@*"};
  auto nodes = load_plot_data(db, by_node);
  BOOST_REQUIRE_EQUAL(nodes.series.size(), 2u);  // cohen and dual, each averaged over both runs
  BOOST_TEST(nodes.series[1].name == "dual");
  BOOST_TEST(nodes.series[1].points[0].y == 0.7, boost::test_tools::tolerance(1e-12));
}

// Fourier-robustness curves, as eval.fourier_robustness logs them: accuracy@<amplitude> per node.
//   run a (model s4d): legs @0 .9, @0.5 .7, @2 .3; ptd @0 .95, @0.5 .85, @2 .6; and names that
//                      are no members: legs accuracy@best, accuracy@nan, accuracy@, accuracy@2.5.1,
//                      and the plain legs accuracy (.9);
//   run b (model s4d): legs @0 .8, @0.5 .5, @2 .1; ptd @0 .85, @0.5 .75, @2 .5;
//   run c (model lstm): legs @0 .6, @1 .4 (no ptd node).
// So for s4d the legs means are .85, .6, .2 (sample std of a pair: |difference| / sqrt 2) and the
// ptd means .9, .8, .55.
struct RobustWorkspace {
  testing::TempDir dir;
  fs::path db = dir / "runs.db";
  int64_t a = 0, b = 0, c = 0;

  RobustWorkspace() {
    tracking::Store store(db);
    a = Workspace::add_run(store, "robust", {{"model", "s4d"}, {"seed", "0"}},
                           {{"robust_legs", "accuracy@0", 0, 0.9, 0},
                            {"robust_legs", "accuracy@0.5", 0, 0.7, 0},
                            {"robust_legs", "accuracy@2", 0, 0.3, 0},
                            {"robust_legs", "accuracy@best", 0, 0.99, 0},
                            {"robust_legs", "accuracy@nan", 0, 0.98, 0},
                            {"robust_legs", "accuracy@", 0, 0.97, 0},
                            {"robust_legs", "accuracy@2.5.1", 0, 0.96, 0},
                            {"robust_legs", "accuracy", 0, 0.9, 0},
                            {"robust_ptd", "accuracy@0", 0, 0.95, 0},
                            {"robust_ptd", "accuracy@0.5", 0, 0.85, 0},
                            {"robust_ptd", "accuracy@2", 0, 0.6, 0}});
    b = Workspace::add_run(store, "robust", {{"model", "s4d"}, {"seed", "1"}},
                           {{"robust_legs", "accuracy@0", 0, 0.8, 0},
                            {"robust_legs", "accuracy@0.5", 0, 0.5, 0},
                            {"robust_legs", "accuracy@2", 0, 0.1, 0},
                            {"robust_ptd", "accuracy@0", 0, 0.85, 0},
                            {"robust_ptd", "accuracy@0.5", 0, 0.75, 0},
                            {"robust_ptd", "accuracy@2", 0, 0.5, 0}});
    c = Workspace::add_run(
        store, "robust", {{"model", "lstm"}, {"seed", "0"}},
        {{"robust_legs", "accuracy@0", 0, 0.6, 0}, {"robust_legs", "accuracy@1", 0, 0.4, 0}});
  }
};

PlotQuery robust_s4d(std::vector<std::string> ys) {
  PlotQuery q;
  q.y = std::move(ys);
  q.experiment = "robust";
  q.runs = "params.model = 's4d'";
  return q;
}

// Expect one aggregated point: x, mean, n, the sample std and the runs behind it.
void check_point(const PlotRow& row, const std::string& x, double mean, double std_dev,
                 const std::vector<int64_t>& runs) {
  BOOST_TEST_CONTEXT("series '" << row.series << "' at x " << x) {
    BOOST_TEST(row.x == x);
    BOOST_TEST(row.point.x == std::stod(x));
    BOOST_TEST(row.point.y == mean, tt::tolerance(1e-12));
    BOOST_TEST(row.stats.n == runs.size());
    BOOST_TEST(row.stats.std == std_dev, tt::tolerance(1e-9));
    BOOST_TEST(row.point.lo == mean - std_dev, tt::tolerance(1e-9));
    BOOST_TEST(row.point.hi == mean + std_dev, tt::tolerance(1e-9));
    BOOST_TEST(row.run_ids == runs, tt::per_element());
  }
}

BOOST_AUTO_TEST_CASE(family_points_are_the_numbers_after_at_averaged_over_runs) {
  RobustWorkspace ws;
  const PlotData data = load_plot_data(ws.db, robust_s4d({"robust_legs.accuracy@*"}));
  BOOST_TEST(data.y_names == std::vector<std::string>{"robust_legs.accuracy"}, tt::per_element());
  BOOST_TEST(data.y_name == "robust_legs.accuracy");
  BOOST_TEST(data.x_name == "accuracy@");
  BOOST_TEST(data.x_is_suffix);
  BOOST_TEST(!data.x_is_step);
  BOOST_TEST(data.group_names.empty());
  BOOST_TEST(data.runs_used == (std::vector<int64_t>{ws.a, ws.b}), tt::per_element());
  BOOST_TEST(data.runs_skipped.empty());
  // Three amplitudes, ascending; @best, @nan, @ and @2.5.1 are no members, and the plain
  // robust_legs.accuracy is not one either.
  BOOST_REQUIRE_EQUAL(data.series.size(), 1u);
  BOOST_TEST(data.series[0].name == "");
  BOOST_REQUIRE_EQUAL(data.rows.size(), 3u);
  const double pair_std = 0.1 / std::sqrt(2.0);  // (.9, .8) and the others differ by .1 or .2
  check_point(data.rows[0], "0", 0.85, pair_std, {ws.a, ws.b});
  check_point(data.rows[1], "0.5", 0.6, 2 * pair_std, {ws.a, ws.b});
  check_point(data.rows[2], "2", 0.2, 2 * pair_std, {ws.a, ws.b});

  // The median of two is their mean too; min-max bars are the pair.
  PlotQuery q = robust_s4d({"metrics.robust_legs.accuracy@*"});  // the prefix is allowed
  q.agg = Agg::kMedian;
  q.error = ErrorBar::kMinMax;
  const PlotData median = load_plot_data(ws.db, q);
  BOOST_REQUIRE_EQUAL(median.rows.size(), 3u);
  BOOST_TEST(median.rows[2].point.y == 0.2, tt::tolerance(1e-12));
  BOOST_TEST(median.rows[2].point.lo == 0.1);
  BOOST_TEST(median.rows[2].point.hi == 0.3);

  // One run alone: its own values, n = 1.
  q = robust_s4d({"robust_legs.accuracy@*"});
  q.runs = std::to_string(ws.c);
  q.experiment.clear();
  const PlotData lstm = load_plot_data(ws.db, q);
  BOOST_REQUIRE_EQUAL(lstm.rows.size(), 2u);
  BOOST_TEST(lstm.rows[0].x == "0");
  BOOST_TEST(lstm.rows[0].point.y == 0.6);
  BOOST_TEST(lstm.rows[1].x == "1");
  BOOST_TEST(lstm.rows[1].point.y == 0.4);
  BOOST_TEST(lstm.rows[1].stats.n == 1u);
}

BOOST_AUTO_TEST_CASE(several_ys_are_one_series_each_and_per_group) {
  RobustWorkspace ws;
  const PlotQuery q = robust_s4d({"robust_legs.accuracy@*", "robust_ptd.accuracy@*"});
  const PlotData data = load_plot_data(ws.db, q);
  BOOST_TEST(
      data.y_names == (std::vector<std::string>{"robust_legs.accuracy", "robust_ptd.accuracy"}),
      tt::per_element());
  BOOST_TEST(data.x_name == "accuracy@");  // both families' key, once
  BOOST_REQUIRE_EQUAL(data.series.size(), 2u);
  BOOST_TEST(data.series[0].name == "robust_legs.accuracy");  // in the order of the --y's
  BOOST_TEST(data.series[1].name == "robust_ptd.accuracy");
  BOOST_REQUIRE_EQUAL(data.rows.size(), 6u);
  const double pair_std = 0.1 / std::sqrt(2.0);
  check_point(data.rows[0], "0", 0.85, pair_std, {ws.a, ws.b});
  check_point(data.rows[2], "2", 0.2, 2 * pair_std, {ws.a, ws.b});
  check_point(data.rows[3], "0", 0.9, pair_std, {ws.a, ws.b});
  check_point(data.rows[4], "0.5", 0.8, pair_std, {ws.a, ws.b});
  check_point(data.rows[5], "2", 0.55, pair_std, {ws.a, ws.b});
  BOOST_TEST(data.rows[5].series == "robust_ptd.accuracy");

  PlotSpec spec = make_plot_spec(data, q);
  BOOST_TEST(spec.title == "robust_legs.accuracy, robust_ptd.accuracy vs accuracy@");
  BOOST_TEST(spec.x_label == "accuracy@");
  BOOST_TEST(spec.legend_title == "metric");
  BOOST_TEST(spec.subtitle ==
             "mean ± std over 2 runs per point · experiment 'robust', filtered · 2 runs");

  // With --group: one series per y and group value, the y first. Run c has no ptd family, so
  // there is no "robust_ptd.accuracy, lstm".
  PlotQuery grouped = q;
  grouped.runs.clear();
  grouped.group = {"model"};
  const PlotData by_model = load_plot_data(ws.db, grouped);
  BOOST_TEST(by_model.group_names == std::vector<std::string>{"model"}, tt::per_element());
  BOOST_REQUIRE_EQUAL(by_model.series.size(), 3u);
  BOOST_TEST(by_model.series[0].name == "robust_legs.accuracy, lstm");
  BOOST_TEST(by_model.series[1].name == "robust_legs.accuracy, s4d");
  BOOST_TEST(by_model.series[2].name == "robust_ptd.accuracy, s4d");
  BOOST_REQUIRE_EQUAL(by_model.series[0].points.size(), 2u);
  BOOST_TEST(by_model.series[0].points[1].x == 1.0);
  BOOST_TEST(by_model.series[0].points[1].y == 0.4);
  BOOST_TEST(by_model.series[2].points[2].y == 0.55, tt::tolerance(1e-12));
  BOOST_TEST(by_model.runs_used.size() == 3u);
  BOOST_TEST(make_plot_spec(by_model, grouped).legend_title == "metric, model");

  // The table behind --data holds the family points like any others.
  const Table t = plot_table(data);
  BOOST_REQUIRE_EQUAL(t.rows.size(), 6u);
  BOOST_TEST(t.rows[4][0] == "robust_ptd.accuracy");
  BOOST_TEST(t.rows[4][1] == "0.5");
  BOOST_TEST(std::stod(t.rows[4][2]) == 0.8, tt::tolerance(1e-12));
  BOOST_TEST(t.rows[4][5] == "2");
  BOOST_TEST(t.rows[4][12] == std::to_string(ws.a) + " " + std::to_string(ws.b));
}

BOOST_AUTO_TEST_CASE(a_family_of_any_node_is_one_series_per_node) {
  RobustWorkspace ws;
  const PlotData data = load_plot_data(ws.db, robust_s4d({"accuracy@*"}));  // = "*.accuracy@*"
  BOOST_TEST(data.y_name == "*.accuracy");
  BOOST_TEST(data.group_names == std::vector<std::string>{"node"}, tt::per_element());
  BOOST_REQUIRE_EQUAL(data.series.size(), 2u);
  BOOST_TEST(data.series[0].name == "robust_legs");
  BOOST_TEST(data.series[1].name == "robust_ptd");
  BOOST_TEST(data.series[1].points[2].y == 0.55, tt::tolerance(1e-12));

  // Beside another y, the node stands in the y's name.
  const PlotData two =
      load_plot_data(ws.db, robust_s4d({"*.accuracy@*", "robust_legs.accuracy@*"}));
  BOOST_TEST(two.group_names.empty());
  BOOST_REQUIRE_EQUAL(two.series.size(), 3u);
  BOOST_TEST(two.series[0].name == "robust_legs.accuracy");
  BOOST_TEST(two.series[1].name == "robust_ptd.accuracy");
  BOOST_TEST(two.series[2].name == "robust_legs.accuracy");
}

BOOST_AUTO_TEST_CASE(several_plain_ys_share_the_x) {
  Workspace ws;
  PlotQuery q = accuracy_by_size();
  q.y = {"eval.accuracy", "train.loss"};  // final loss: step 3, 1/4 + 0.1 seed for cnn
  q.runs = "params.train.model = 'cnn'";
  q.experiment = "sizes";
  const PlotData data = load_plot_data(ws.db, q);
  BOOST_REQUIRE_EQUAL(data.series.size(), 2u);
  BOOST_TEST(data.series[0].name == "eval.accuracy, cnn");
  BOOST_TEST(data.series[1].name == "train.loss, cnn");
  BOOST_REQUIRE_EQUAL(data.series[1].points.size(), 3u);
  for (const Point& p : data.series[1].points) {
    BOOST_TEST(p.y == loss("cnn", 3, 0) + 0.1, tt::tolerance(1e-12));
    BOOST_TEST(p.n == 3u);
  }
  BOOST_TEST(data.series[0].points[2].y == base_accuracy("cnn", 10000) + 0.01,
             tt::tolerance(1e-12));

  // And against step: the loss per step and the accuracy, logged at step 0 only.
  q = PlotQuery{};
  q.y = {"train.loss", "eval.accuracy"};
  q.runs = "params.train.model = 'cnn' and params.data.limit_train = 100";
  q.experiment = "sizes";
  const PlotData steps = load_plot_data(ws.db, q);
  BOOST_TEST(steps.x_is_step);
  BOOST_REQUIRE_EQUAL(steps.series.size(), 2u);
  BOOST_TEST(steps.series[0].name == "train.loss");
  BOOST_TEST(steps.series[0].points.size() == 4u);
  BOOST_REQUIRE_EQUAL(steps.series[1].points.size(), 1u);
  BOOST_TEST(steps.series[1].points[0].y == base_accuracy("cnn", 100) + 0.01, tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(family_errors_are_clear) {
  RobustWorkspace ws;
  PlotQuery q = robust_s4d({"robust_legs.accuracy@*"});
  q.x = "model";
  std::string e = load_error(ws.db, q);
  BOOST_TEST(contains(e,
                      "--x: a metric family is drawn against the number after '@', not "
                      "against 'model'"));
  BOOST_TEST(contains(e, "leave --x out; --xlabel names the axis"));
  q.x = "step";  // said explicitly, it is another x too
  BOOST_TEST(contains(load_error(ws.db, q), "--x: a metric family is drawn against"));

  // A family no selected run has: did-you-mean and the families there are.
  q = robust_s4d({"robust_legs.acuracy@*"});
  e = load_error(ws.db, q);
  BOOST_TEST(contains(e, "--y: no metric family 'robust_legs.acuracy@*' in the 2 selected run(s)"));
  BOOST_TEST(contains(e, "did you mean 'robust_legs.accuracy@*'?"));
  BOOST_TEST(
      contains(e, "metric families recorded: robust_legs.accuracy@*, robust_ptd.accuracy@*"));
  q = robust_s4d({"acuracy@*"});  // any node: compared with the keys too
  e = load_error(ws.db, q);
  BOOST_TEST(contains(e, "no metric family 'acuracy@*'"));
  BOOST_TEST(contains(e, "did you mean 'accuracy@*'?"));
  q = robust_s4d({"robust_legs.best@*"});  // the node has families, not this one
  BOOST_TEST(contains(load_error(ws.db, q), "no metric family 'robust_legs.best@*'"));
  // Only the lstm run: it has no ptd node.
  q = robust_s4d({"robust_ptd.accuracy@*"});
  q.runs = "params.model = 'lstm'";
  BOOST_TEST(contains(load_error(ws.db, q),
                      "no metric family 'robust_ptd.accuracy@*' in the 1 selected run(s)"));
  {
    Workspace plain;
    PlotQuery none;
    none.y = {"eval.accuracy@*"};
    e = load_error(plain.db, none);
    BOOST_TEST(contains(e, "no metric family 'eval.accuracy@*' in the 18 selected run(s)"));
    BOOST_TEST(contains(e, "no selected run logged a metric family (metrics NODE.KEY@<number>)"));
  }

  // A family's name without "@*" points at the family.
  q = robust_s4d({"robust_ptd.accuracy"});
  e = load_error(ws.db, q);
  BOOST_TEST(contains(e,
                      "--y: no metric 'robust_ptd.accuracy' in the 2 selected run(s); "
                      "'robust_ptd.accuracy@*' is a metric family"));
  BOOST_TEST(contains(e, "plot it with --y 'robust_ptd.accuracy@*'"));

  // Families and single metrics do not mix; a y is not given twice.
  q = robust_s4d({"robust_ptd.accuracy@*", "robust_legs.accuracy"});
  BOOST_TEST(contains(load_error(ws.db, q),
                      "--y: 'robust_ptd.accuracy@*' is a metric family and "
                      "'robust_legs.accuracy' a single metric: they share no x axis"));
  q = robust_s4d({"robust_legs.accuracy@*", "metrics.robust_legs.accuracy@*"});
  BOOST_TEST(contains(load_error(ws.db, q), "--y: 'robust_legs.accuracy@*' is given twice"));
  q = robust_s4d({});
  BOOST_TEST(contains(load_error(ws.db, q), "--y: name a metric to plot"));
}

// The command with two --y's: one series each, the --xlabel on the axis, the points in --data.
BOOST_AUTO_TEST_CASE(plot_command_draws_two_families) {
  RobustWorkspace ws;
  const fs::path svg = ws.dir / "robust.svg";
  const fs::path csv = ws.dir / "robust.csv";
  auto run = [&](const std::vector<std::string>& args) {
    return run_plot_command(ws.dir.path(), args);
  };
  const std::string out =
      run({"--y", "robust_legs.accuracy@*", "--y", "robust_ptd.accuracy@*", "--xlabel", "amplitude",
           "--runs", "params.model = 's4d'", "-o", svg.string(), "--data", csv.string()});
  BOOST_TEST(contains(out, "2 groups, 6 points, 2 runs (all runs, filtered)"));
  std::ifstream svg_in(svg);
  const std::string svg_text((std::istreambuf_iterator<char>(svg_in)),
                             std::istreambuf_iterator<char>());
  BOOST_TEST(contains(svg_text, ">amplitude<"));
  BOOST_TEST(contains(svg_text, "robust_ptd.accuracy"));
  std::ifstream in(csv);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  BOOST_REQUIRE_EQUAL(lines.size(), 7u);
  BOOST_TEST(contains(lines[1], "robust_legs.accuracy,0,"));
  BOOST_TEST(contains(lines[6], "robust_ptd.accuracy,2,"));

  // Each --y takes one name: a second word is an error, not another y.
  BOOST_CHECK_THROW(run({"--y", "robust_legs.accuracy@*", "robust_ptd.accuracy@*"}),
                    CLI::ParseError);
  BOOST_CHECK_THROW(run({"--y", "robust_legs.accuracy@*", "--x", "model"}), ConfigError);
}

BOOST_AUTO_TEST_CASE(runs_that_reused_one_computation_are_one_point) {
  // Three seeds of a node that does not depend on the seed share its cache key: one observation
  // (0.7), not three repeats with std 0; a fourth run computed anew (0.9) is the second.
  testing::TempDir dir;
  const fs::path db = dir / "runs.db";
  tracking::Store store(db);
  std::vector<int64_t> ids;
  for (int seed : {0, 1, 2, 3}) {
    const int64_t id = Workspace::add_run(
        store, "cached", {{"data.limit_train", "100"}, {"seed", std::to_string(seed)}},
        {{"eval", "accuracy", 0, seed == 3 ? 0.9 : 0.7, 0}});
    store.record_node(id, {"eval", "eval.classifier", seed == 3 ? "k-new" : "k-shared", "FINISHED",
                           seed != 0, 0, 1, ""});
    ids.push_back(id);
  }
  PlotQuery q;
  q.y = {"eval.accuracy"};
  q.x = "data.limit_train";
  q.experiment = "cached";
  const PlotData data = load_plot_data(db, q);
  BOOST_TEST_REQUIRE(data.rows.size() == 1u);
  BOOST_TEST(data.rows[0].stats.n == 2u);
  BOOST_TEST(data.rows[0].stats.mean == 0.8, tt::tolerance(1e-12));
  BOOST_TEST(data.rows[0].run_ids.size() == 4u);  // every run is behind the point
}

BOOST_AUTO_TEST_SUITE_END()
