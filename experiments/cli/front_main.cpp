// `flowlab`: torch-free. Database commands (runs, show, query, sql, compare, plot, compress,
// cache, delete, restore, tag) run here in milliseconds; run, sweep, resume, ops, models and
// fl-worker are handed to flowlab-engine by exec (engine_dispatch.h).
#include <iostream>

#include <CLI/CLI.hpp>

#include "experiments/cli/app.h"
#include "experiments/cli/engine_dispatch.h"
#include "ui/ui_command.h"

int main(int argc, char** argv) {
  using namespace flowlab;
  if (auto command = cli::engine_command_in(argc, argv)) {
    try {
      cli::exec_engine(*command, argv);  // returns only by throwing
    } catch (const std::exception& e) {
      std::cerr << "flowlab: error: " << e.what() << "\n";
      return 1;
    }
  }
  CLI::App app;
  cli::GlobalOptions global;
  cli::configure_app(app, global);
  cli::add_engine_forwarders(app, argv);  // listed by --help; exec the engine if ever reached
  cli::add_database_commands(app, global);
  cli::add_ui_command(app, global);
  return cli::run_app(app, global, argc, argv);
}
