// `flowlab-engine`: every flowlab command, with the ops linked in. Users type `flowlab`, which
// answers the database commands itself and execs this program for the rest (engine_dispatch.h).
#include <CLI/CLI.hpp>

#include "experiments/cli/app.h"
#include "experiments/cli/engine_dispatch.h"
#include "ops/torch_runtime.h"
#include "ui/ui_command.h"

int main(int argc, char** argv) {
  using namespace flowlab;
  // Commands that compute re-execute once with passive OpenMP waits (before anything else),
  // unless `flowlab` set the policy already when it handed them over.
  const auto command = cli::engine_command_in(argc, argv);
  const bool computes = command && cli::engine_command_computes(*command);
  if (computes) ops::use_passive_openmp_waits(argv);
  ops::keep_freed_memory_for_reuse();  // before the first tensor: batches reuse freed activations
  CLI::App app;
  cli::GlobalOptions global;
  cli::configure_app(app, global);
  cli::add_run_commands(app, global);
  cli::add_database_commands(app, global);
  cli::add_ui_command(app, global);
  cli::add_registry_commands(app);
  cli::add_export_command(app, global);
  return cli::run_app(app, global, argc, argv);
}
