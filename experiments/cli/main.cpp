// The `flowlab` command. main() is the only catch-all: configuration and usage errors exit 2,
// run failures 1, an interrupted run 130.
#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>
#include <unistd.h>

#include "experiments/cli/builtin.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/runner.h"
#include "graph/error.h"

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_interrupt(int) {
  // First Ctrl-C: stop cleanly (nodes see the flag, the run is marked KILLED). Second: leave now.
  if (g_stop.exchange(true)) _exit(130);
  const char msg[] = "\ninterrupt: stopping after the current step (Ctrl-C again to quit at once)\n";
  [[maybe_unused]] auto n = write(STDERR_FILENO, msg, sizeof msg - 1);
}

constexpr const char* kFooter = R"(
Examples:
  flowlab run experiments/quickstart.yaml                 train and evaluate, record in .flowlab/
  flowlab run experiments/quickstart.yaml nodes.train.params.epochs=1 model=mlp
  flowlab run experiments/quickstart.yaml --cfg           print the composed spec only
  flowlab runs                                            recent runs as a table
  flowlab show last --format json                         one run: config, metrics, timings
  flowlab ops train.classifier                            an op's params and docs

Workspace: --workspace DIR, else $FLOWLAB_HOME, else ./.flowlab (runs.db, cache/).
Exit codes: 0 ok, 1 a node failed, 2 bad spec or command line, 130 interrupted.)";

}  // namespace

int main(int argc, char** argv) {
  using namespace flowlab;
  CLI::App app{"flowlab: declarative ML experiments on a dataflow graph, recorded in SQLite"};
  app.footer(kFooter);
  app.require_subcommand(1);
  app.fallthrough();  // `flowlab run SPEC --workspace DIR` as well as `flowlab --workspace DIR run SPEC`
  app.set_version_flag("--version", std::string("flowlab ") + FLOWLAB_VERSION);
  std::string workspace_flag;
  app.add_option("--workspace", workspace_flag, "results database and cache directory")
      ->envname("FLOWLAB_HOME");

  cli::RunOptions run;
  std::string config_dir;
  auto* run_cmd = app.add_subcommand("run", "compose a spec, run its graph, record everything");
  run_cmd->add_option("spec", run.spec, "experiment spec (YAML)")->required();
  run_cmd->add_option("overrides", run.overrides,
                      "Hydra-style overrides: a.b=1, +new.key=x, ~a.b, group=option");
  run_cmd->add_flag("--cfg", run.print_config, "print the composed, interpolated spec and exit");
  run_cmd->add_flag("--no-cache", run.no_cache, "recompute every node (refreshes the cache)");
  run_cmd->add_option("--threads", run.threads, "thread budget (default: the spec's threads, auto = all cores)")
      ->check(CLI::Range(1, 1024));
  run_cmd->add_option("--config-dir", config_dir, "config groups directory (default: nearest configs/)");
  run_cmd->add_flag("-q,--quiet", run.quiet, "no progress lines");

  int limit = 20;
  std::string format_name = "table";
  auto* runs_cmd = app.add_subcommand("runs", "recent runs, newest first");
  runs_cmd->add_option("-n,--limit", limit, "how many runs")->check(CLI::Range(1, 1000000));
  runs_cmd->add_option("--format", format_name, "table, csv or json");

  std::string run_ref;
  auto* show_cmd = app.add_subcommand("show", "one run: status, params, final metrics, node timings, composed spec");
  show_cmd->add_option("run", run_ref, "run id or 'last'")->required();
  show_cmd->add_option("--format", format_name, "table, csv or json");

  std::string op_name;
  auto* ops_cmd = app.add_subcommand("ops", "list the ops, or show one op's params and docs");
  ops_cmd->add_option("name", op_name, "op name, e.g. train.classifier");
  ops_cmd->add_option("--format", format_name, "table, csv or json");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  try {
    auto workspace = cli::resolve_workspace(workspace_flag);
    auto format = cli::parse_format(format_name);
    if (*run_cmd) {
      std::signal(SIGINT, on_interrupt);
      std::signal(SIGTERM, on_interrupt);
      run.workspace = workspace;
      run.config_dir = config_dir;
      Registry registry = cli::make_builtin_registry();
      return cli::run_spec(run, registry, std::cout, std::cerr, g_stop).exit_code;
    }
    if (*runs_cmd) cli::list_runs(workspace, limit, format, std::cout);
    if (*show_cmd) cli::show_run(workspace, run_ref, format, std::cout);
    if (*ops_cmd) cli::show_ops(cli::make_builtin_registry(), op_name, format, std::cout);
    return 0;
  } catch (const ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "flowlab: error: " << e.what() << "\n";
    return 1;
  }
}
