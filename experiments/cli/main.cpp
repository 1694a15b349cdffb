// The `flowlab` command. main() is the only catch-all: configuration and usage errors exit 2,
// results-database failures (tracking::StoreError) 3, run failures 1, an interrupted run 130.
#include <algorithm>
#include <cstring>
#include <iostream>

#include <CLI/CLI.hpp>

#include "common/error.h"
#include "experiments/cli/app.h"
#include "ops/torch_runtime.h"
#include "tracking/store.h"

#ifndef FLOWLAB_VERSION
#define FLOWLAB_VERSION "0.0.0"
#endif

namespace {

constexpr const char* kFooter = R"(
Examples:
  flowlab run experiments/quickstart.yaml                 train and evaluate, record in .flowlab/
  flowlab run experiments/quickstart.yaml nodes.train.params.epochs=1 model=mlp
  flowlab run experiments/quickstart.yaml --cfg           print the composed spec only
  flowlab sweep experiments/quickstart.yaml train.lr=0.01,0.001 seed='range(0,3)'
  flowlab resume 12                                       finish a killed run or sweep
  flowlab runs                                            recent runs as a table
  flowlab show last --format json                         one run: config, metrics, timings
  flowlab query "metrics.eval.accuracy > 0.85" --sort=-metrics.eval.accuracy
  flowlab plot --y eval.accuracy --x data.limit_train --group train.model --png
  flowlab ops train.classifier                            an op's params and docs
  flowlab cache du                                        cache size by op and age
  flowlab cache gc --dry-run                              what cleaning the cache would remove
  flowlab delete 12 / restore 12 / tag 12 owner=ana       runs housekeeping

Workspace: --workspace DIR, else $FLOWLAB_HOME, else ./.flowlab (runs.db, cache/).
Exit codes: 0 ok, 1 a node failed, 2 bad spec or command line, 3 results database unusable
(read-only workspace for run/sweep/resume, corrupt, locked past the timeout), 130 interrupted.)";

}  // namespace

int main(int argc, char** argv) {
  using namespace flowlab;
  // Commands that compute re-execute once with passive OpenMP waits (before anything else); the
  // others (runs, show, plot, ...) need not load the program twice.
  const bool computes = std::any_of(argv + 1, argv + argc, [](const char* arg) {
    return std::strcmp(arg, "run") == 0 || std::strcmp(arg, "sweep") == 0 ||
           std::strcmp(arg, "resume") == 0;
  });
  if (computes) ops::use_passive_openmp_waits(argv);
  ops::keep_freed_memory_for_reuse();  // before the first tensor: batches reuse freed activations
  CLI::App app{"flowlab: declarative ML experiments on a dataflow graph, recorded in SQLite"};
  app.footer(kFooter);
  app.require_subcommand(1);
  app.fallthrough();  // `flowlab run SPEC --workspace DIR` as well as `flowlab --workspace DIR run
                      // SPEC`
  app.set_version_flag("--version", std::string("flowlab ") + FLOWLAB_VERSION);
  cli::GlobalOptions global;
  app.add_option("--workspace", global.workspace_flag, "results database and cache directory")
      ->envname("FLOWLAB_HOME");
  cli::add_run_commands(app, global);
  cli::add_report_commands(app, global);
  cli::add_query_commands(app, global);
  cli::add_plot_command(app, global);
  cli::add_compress_commands(app, global);
  cli::add_housekeeping_commands(app, global);

  try {
    app.parse(argc, argv);
    return global.exit_code;
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  } catch (const tracking::StoreError& e) {
    std::cerr << "flowlab: error: " << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "flowlab: error: " << e.what() << "\n";
    return 1;
  }
}
