// `flowlab runs` and `show`: reading what is recorded (torch-free).
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "experiments/cli/app.h"
#include "experiments/cli/commands.h"

namespace flowlab::cli {

void add_report_commands(CLI::App& app, GlobalOptions& global) {
  auto limit = std::make_shared<int>(20);
  auto format = std::make_shared<std::string>("table");
  auto* runs = app.add_subcommand("runs", "recent runs, newest first");
  runs->add_option("-n,--limit", *limit, "how many runs")->check(CLI::Range(1, 1000000));
  runs->add_option("--format", *format, "table, csv or json");
  auto view = std::make_shared<std::string>("active_only");
  runs->add_option("--view", *view,
                   "active_only (default: deleted runs hidden), deleted_only or all")
      ->check(CLI::IsMember({"active_only", "deleted_only", "all"}));
  runs->callback([=, &global] {
    list_runs(global.workspace(), *limit, parse_format(*format), std::cout,
              tracking::run_view_from_string(*view));
  });

  auto run_ref = std::make_shared<std::string>();
  auto* show = app.add_subcommand(
      "show", "one run: status, params, final metrics, node timings, composed spec");
  show->add_option("run", *run_ref, "run id or 'last'")->required();
  show->add_option("--format", *format, "table, csv or json");
  auto by_node = std::make_shared<bool>(false);
  show->add_flag("--by-node", *by_node,
                 "final metrics side by side: one row per metric, one column per node");
  show->callback([=, &global] {
    show_run(global.workspace(), *run_ref, parse_format(*format), std::cout, *by_node);
  });
}

}  // namespace flowlab::cli
