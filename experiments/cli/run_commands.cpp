// `flowlab run` (and, later, sweep and resume): the commands that execute specs.
#include <csignal>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <unistd.h>

#include "experiments/cli/app.h"
#include "experiments/cli/builtin.h"
#include "experiments/cli/runner.h"

namespace flowlab::cli {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_interrupt(int) {
  // First Ctrl-C: stop cleanly (nodes see the flag, the run is marked KILLED). Second: leave now.
  if (g_stop.exchange(true)) _exit(130);
  const char msg[] = "\ninterrupt: stopping after the current step (Ctrl-C again to quit at once)\n";
  [[maybe_unused]] auto n = write(STDERR_FILENO, msg, sizeof msg - 1);
}

void install_interrupt_handlers() {
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
}

}  // namespace

void add_run_commands(CLI::App& app, GlobalOptions& global) {
  auto run = std::make_shared<RunOptions>();
  auto config_dir = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("run", "compose a spec, run its graph, record everything");
  cmd->add_option("spec", run->spec, "experiment spec (YAML)")->required();
  cmd->add_option("overrides", run->overrides,
                  "Hydra-style overrides: a.b=1, +new.key=x, ~a.b, group=option");
  cmd->add_flag("--cfg", run->print_config, "print the composed, interpolated spec and exit");
  cmd->add_flag("--no-cache", run->no_cache, "recompute every node (refreshes the cache)");
  cmd->add_option("--threads", run->threads,
                  "thread budget (default: the spec's threads, auto = all cores)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--config-dir", *config_dir, "config groups directory (default: nearest configs/)");
  cmd->add_flag("-q,--quiet", run->quiet, "no progress lines");
  cmd->callback([run, config_dir, &global] {
    install_interrupt_handlers();
    run->workspace = global.workspace();
    run->config_dir = *config_dir;
    Registry registry = make_builtin_registry();
    global.exit_code = run_spec(*run, registry, std::cout, std::cerr, g_stop).exit_code;
  });
}

}  // namespace flowlab::cli
