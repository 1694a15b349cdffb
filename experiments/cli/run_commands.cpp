// `flowlab run` (and, later, sweep and resume): the commands that execute specs.
#include <semaphore.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "experiments/cli/app.h"
#include "experiments/cli/builtin.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/engine_dispatch.h"
#include "experiments/cli/record.h"
#include "experiments/cli/runner.h"
#include "experiments/cli/slurm_launcher.h"
#include "ops/fl/fl_worker.h"
#include "tracking/store.h"

namespace flowlab::cli {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_interrupts{0};
sem_t g_quit;                  // posted by the second Ctrl-C (sem_post is async-signal-safe)
tracking::StoreLocation g_db;  // the results store, for the quitting thread

extern "C" void on_interrupt(int) {
  // First Ctrl-C: stop cleanly (nodes see the flag, the run is marked KILLED). Second: quit now,
  // after a thread has marked this process's runs KILLED. Third: quit without waiting for it.
  const int n = ++g_interrupts;
  if (n == 1) {
    g_stop = true;
    const char msg[] =
        "\ninterrupt: stopping after the current step (Ctrl-C again to quit at once)\n";
    [[maybe_unused]] auto w = write(STDERR_FILENO, msg, sizeof msg - 1);
  } else if (n == 2) {
    sem_post(&g_quit);
  } else {
    _exit(130);
  }
}

void install_interrupt_handlers(const std::filesystem::path& workspace) {
  static std::once_flag once;
  std::call_once(once, [&] {
    g_db = results_store(workspace);
    sem_init(&g_quit, 0, 0);
    std::thread([] {
      while (sem_wait(&g_quit) != 0) {
      }
      try {
        if (!g_db.is_sqlite() || std::filesystem::exists(g_db.sqlite_path))
          tracking::Store(g_db).kill_runs_of_process(host_name(), getpid(),
                                                     "interrupted (Ctrl-C twice)");
      } catch (const std::exception&) {
        // Quitting matters more: the run then shows as STALE.
      }
      _exit(130);
    }).detach();
  });
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
}

// What `run`/`sweep --format json` print on stdout (the tables go to stderr): the run's id, uuid,
// status, exit code and final metrics ("node.key": value; NaN as null); for a sweep, each child.
nlohmann::json outcome_json(const RunOptions& options, const RunOutcome& outcome) {
  nlohmann::json out{{"run_id", outcome.run_id}, {"exit_code", outcome.exit_code}};
  if (outcome.run_id == 0) return out;
  const tracking::Store store(store_of(options), tracking::Store::Access::kReadOnly);
  auto describe = [&](const tracking::RunRow& row) {
    nlohmann::json metrics = nlohmann::json::object();
    for (const auto& m : store.final_metrics(row.id))
      metrics[m.node + "." + m.key] =
          std::isfinite(m.value) ? nlohmann::json(m.value) : nlohmann::json();
    return nlohmann::json{{"run_id", row.id},
                          {"uuid", row.uuid},
                          {"name", row.name},
                          {"status", tracking::to_string(row.status)},
                          {"metrics", metrics}};
  };
  const auto row = store.get_run(outcome.run_id);
  if (!row) return out;
  out.update(describe(*row));
  out["exit_code"] = outcome.exit_code;
  const auto children = store.children(row->id);
  if (!children.empty()) {
    out["children"] = nlohmann::json::array();
    for (const auto& c : children) out["children"].push_back(describe(c));
  }
  return out;
}

// What run and sweep do alike: the spec's project gives the workspace (the root of its config
// groups), Ctrl-C records the run KILLED, and the human-readable report goes to stdout (table) or
// to stderr, followed by the outcome as JSON on stdout (json).
using SpecRunner = RunOutcome (*)(const RunOptions&, const Registry&, std::ostream&, std::ostream&,
                                  const std::atomic<bool>&);
int run_in_project(RunOptions& options, const std::string& config_dir, const std::string& format,
                   const GlobalOptions& global, SpecRunner runner) {
  options.config_dir = config_dir;
  options.workspace = global.workspace_for_spec(options.spec, options.config_dir);
  install_interrupt_handlers(options.workspace);
  const Registry registry = make_builtin_registry();
  const bool json = parse_format(format) == Format::kJson;
  const RunOutcome outcome =
      runner(options, registry, json ? std::cerr : std::cout, std::cerr, g_stop);
  if (json)
    std::cout << outcome_json(options, outcome)
                     .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << std::endl;
  return outcome.exit_code;
}

}  // namespace

void add_run_commands(CLI::App& app, GlobalOptions& global) {
  auto run = std::make_shared<RunOptions>();
  auto config_dir = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("run", std::string(engine_command_description("run")));
  cmd->add_option("spec", run->spec, "experiment spec (YAML)")->required();
  cmd->add_option("overrides", run->overrides,
                  "Hydra-style overrides: a.b=1, +new.key=x, ~a.b, group=option");
  cmd->add_flag("--cfg", run->print_config, "print the composed, interpolated spec and exit");
  cmd->add_flag("--no-cache", run->no_cache, "recompute every node (refreshes the cache)");
  cmd->add_option("--threads", run->threads,
                  "thread budget shared by the nodes that run side by side (default: the spec's "
                  "threads, auto = all cores); a node's own LibTorch threads come from its op or "
                  "its `threads:`, so results do not depend on this")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("-j,--jobs", run->jobs,
                  "most nodes running at once (default: as the budget allows)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option(
      "--config-dir", *config_dir,
      "config groups directory (default: configs/ at the spec's project root); its parent "
      "is then the project");
  cmd->add_flag("-q,--quiet", run->quiet, "no progress lines");
  auto run_format = std::make_shared<std::string>("table");
  cmd->add_option("--format", *run_format,
                  "table (default) or json: the run id, status and final metrics as JSON on "
                  "stdout (the report goes to stderr)")
      ->check(CLI::IsMember({"table", "json"}));
  cmd->callback([run, config_dir, run_format, &global] {
    global.exit_code = run_in_project(*run, *config_dir, *run_format, global, run_spec);
  });

  auto sweep = std::make_shared<RunOptions>();
  auto sweep_config_dir = std::make_shared<std::string>();
  auto* sw = app.add_subcommand("sweep", std::string(engine_command_description("sweep")));
  sw->footer(R"(
Sweep values (Hydra's grammar): a=1,2,3   a=range(0,10,2)   model=glob(*,exclude=fcn)   a='x,y' (one value).
Plain overrides apply to every child. A `sweep: {params: {key: values}}` block in the spec adds axes;
the command line wins on the same key. All children form ONE graph: nodes whose cache keys are equal
(the shared dataset) are computed once, and independent trainings run side by side.
Example: flowlab sweep experiments/quickstart.yaml model=cnn,mlp nodes.train.params.lr=0.01,0.001 seed=range(0,3))");
  sw->add_option("spec", sweep->spec, "experiment spec (YAML)")->required();
  sw->add_option("overrides", sweep->overrides, "sweep axes and plain overrides");
  sw->add_flag("--dry-run", sweep->dry_run, "list the child configurations without running them");
  sw->add_flag("--no-cache", sweep->no_cache, "recompute every node (refreshes the cache)");
  sw->add_option("--threads", sweep->threads, "thread budget (default: the spec's threads)")
      ->check(CLI::Range(1, 1024));
  sw->add_option("-j,--jobs", sweep->jobs,
                 "most nodes running at once (default: as many as the thread budget holds)")
      ->check(CLI::Range(1, 1024));
  sw->add_option(
      "--config-dir", *sweep_config_dir,
      "config groups directory (default: configs/ at the spec's project root); its parent "
      "is then the project");
  sw->add_flag("-q,--quiet", sweep->quiet, "no progress lines");
  sw->add_option("--launcher", sweep->launcher,
                 "local (default: every child in this process) or slurm (a job array; see "
                 "`launcher:` in the README's \"Running on a cluster\"); default: the spec's "
                 "launcher:, else local");
  auto sweep_format = std::make_shared<std::string>("table");
  sw->add_option("--format", *sweep_format,
                 "table (default) or json: the parent's and each child's id, status and final "
                 "metrics as JSON on stdout (the report goes to stderr)")
      ->check(CLI::IsMember({"table", "json"}));
  sw->callback([sweep, sweep_config_dir, sweep_format, &global] {
    global.exit_code = run_in_project(*sweep, *sweep_config_dir, *sweep_format, global, run_sweep);
  });

  auto resume = std::make_shared<RunOptions>();
  auto run_id = std::make_shared<int64_t>(0);
  auto* rs = app.add_subcommand("resume", std::string(engine_command_description("resume")));
  rs->add_option("run", *run_id, "run id (a run, or a sweep's parent run)")->required();
  rs->add_option("--threads", resume->threads, "thread budget (default: the recorded spec's)")
      ->check(CLI::Range(1, 1024));
  rs->add_option("-j,--jobs", resume->jobs, "most nodes running at once")
      ->check(CLI::Range(1, 1024));
  rs->add_flag("-q,--quiet", resume->quiet, "no progress lines");
  rs->add_option("--launcher", resume->launcher,
                 "slurm: resubmit a sweep's unfinished children (from their checkpoints) and its "
                 "aggregates as Slurm jobs; local (default): finish them here");
  rs->callback([resume, run_id, &global] {
    resume->workspace = global.workspace();
    install_interrupt_handlers(resume->workspace);
    Registry registry = make_builtin_registry();
    global.exit_code =
        resume_run(*run_id, *resume, registry, std::cout, std::cerr, g_stop).exit_code;
  });

  // One stage of a sweep submitted with --launcher slurm: what its sbatch scripts run.
  auto task = std::make_shared<RunOptions>();
  auto task_sweep = std::make_shared<int64_t>(0);
  auto task_stage = std::make_shared<std::string>();
  auto task_index = std::make_shared<int64_t>(-1);
  auto* st =
      app.add_subcommand("slurm-task", std::string(engine_command_description("slurm-task")));
  st->add_option("--sweep", *task_sweep, "the sweep's parent run id")->required();
  st->add_option("--stage", *task_stage, "shared, child or aggregate")->required();
  st->add_option("--index", *task_index, "child stage: the child's position (Slurm's array index)");
  st->add_flag("-q,--quiet", task->quiet, "no progress lines");
  st->callback([task, task_sweep, task_stage, task_index, &global] {
    task->workspace = global.workspace();
    install_interrupt_handlers(task->workspace);
    Registry registry = make_builtin_registry();
    global.exit_code = run_slurm_task(*task_sweep, *task_stage, *task_index, *task, registry,
                                      std::cout, std::cerr, g_stop);
  });

  // Started by fl.federated with `launcher: gloo` (ops/fl/gloo_launcher.h), or by the user for
  // `workers: external`.
  auto job_dir = std::make_shared<std::string>();
  auto rank = std::make_shared<int>(0);
  auto* worker =
      app.add_subcommand("fl-worker", std::string(engine_command_description("fl-worker")));
  worker->add_option("--job", *job_dir, "the job directory the server wrote")->required();
  worker->add_option("--rank", *rank, "this worker's rank (1..processes)")->required();
  auto host = std::make_shared<std::string>();
  worker->add_option("--host", *host,
                     "the address this worker listens on (default: the job's master_addr, for a "
                     "worker on the server's machine)");
  worker->callback([job_dir, rank, host, &global] {
    Registry registry = make_builtin_registry();
    global.exit_code = ops::fl::run_fl_worker(*job_dir, *rank, registry, *host);
  });
}

}  // namespace flowlab::cli
