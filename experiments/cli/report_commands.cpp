// `flowlab runs` and `show`: reading what is recorded (torch-free).
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "experiments/cli/app.h"
#include "experiments/cli/commands.h"

namespace flowlab::cli {

void add_report_commands(CLI::App& app, GlobalOptions& global) {
  auto listing = std::make_shared<RunListing>();
  auto format = std::make_shared<std::string>("table");
  auto* runs = app.add_subcommand(
      "runs", "recent runs, newest first (sweeps folded under their parent run)");
  runs->add_option("-n,--limit", listing->limit, "how many runs (default 20)")
      ->check(CLI::Range(1, 1000000));
  runs->add_option("--parent", listing->parent, "a sweep's runs (its parent run id)");
  runs->add_option("--status", listing->status, "only runs with this status")
      ->transform(CLI::IsMember({"RUNNING", "FINISHED", "FAILED", "KILLED", "SCHEDULED", "STALE"},
                                CLI::ignore_case));
  runs->add_option("--experiment", listing->experiment, "only this experiment's runs");
  runs->add_flag("--all", listing->all, "every run, sweeps' runs too");
  runs->add_option("--format", *format, "table, csv or json");
  auto view = std::make_shared<std::string>("active_only");
  runs->add_option("--view", *view,
                   "active_only (default: deleted runs hidden), deleted_only or all")
      ->check(CLI::IsMember({"active_only", "deleted_only", "all"}));
  runs->callback([=, &global] {
    RunListing l = *listing;
    l.view = tracking::run_view_from_string(*view);
    list_runs(global.workspace(), l, parse_format(*format), std::cout);
  });

  auto run_ref = std::make_shared<std::string>();
  auto* show = app.add_subcommand(
      "show", "one run: status, params, final metrics, node timings, composed spec");
  show->add_option("run", *run_ref, "run id, uuid or 'last' (after a sweep: the sweep)")
      ->required();
  show->add_option("--format", *format, "table, csv or json");
  auto by_node = std::make_shared<bool>(false);
  show->add_flag("--by-node", *by_node,
                 "final metrics side by side: one row per metric, one column per node");
  show->callback([=, &global] {
    show_run(global.workspace(), *run_ref, parse_format(*format), std::cout, *by_node);
  });
}

}  // namespace flowlab::cli
