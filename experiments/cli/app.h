#pragma once
// How subcommands plug into the `flowlab` command: each command family lives in its own file and
// installs its subcommands with a callback that runs when the user picked it.
#include <filesystem>
#include <string>

namespace CLI {
class App;
}

namespace flowlab::cli {

struct GlobalOptions {
  std::string workspace_flag;  // --workspace (or FLOWLAB_HOME through CLI11's envname)
  std::string store_flag;  // --store (or FLOWLAB_STORE); commands read it through results_store()
  /// Resolved: the flag, $FLOWLAB_HOME, else the project's .flowlab (the project root found from
  /// the current directory, as git finds a repository), else ./.flowlab.
  std::filesystem::path workspace() const;
  /// The same for run and sweep, whose project is the spec's (found from the spec's folder, or
  /// --config-dir's parent): its config groups and its workspace come from one root.
  std::filesystem::path workspace_for_spec(const std::filesystem::path& spec,
                                           const std::filesystem::path& config_dir) const;
  int exit_code = 0;  // a command's callback sets it
};

// Installers, one per command family. Callbacks throw ConfigError for bad input (exit 2) and
// other exceptions for failures (exit 1); main() reports them.
void add_run_commands(CLI::App& app, GlobalOptions& global);       // run, sweep, resume
void add_report_commands(CLI::App& app, GlobalOptions& global);    // runs, show
void add_query_commands(CLI::App& app, GlobalOptions& global);     // query, sql, compare
void add_plot_command(CLI::App& app, GlobalOptions& global);       // plot
void add_compress_commands(CLI::App& app, GlobalOptions& global);  // compress, decompress
// cache du|gc, delete, restore, tag
void add_housekeeping_commands(CLI::App& app, GlobalOptions& global);
void add_store_commands(CLI::App& app, GlobalOptions& global);  // store info|copy|import
// The torch-free commands above, all of them (what both programs answer).
void add_database_commands(CLI::App& app, GlobalOptions& global);
void add_registry_commands(CLI::App& app);  // ops, models (flowlab-engine only: they load ops)
// export (flowlab-engine only: it loads and traces a model)
void add_export_command(CLI::App& app, GlobalOptions& global);

// What both programs share around their commands: the description, examples, version flag and
// --workspace; then parsing, and every exception mapped to its exit code (main()'s only
// catch-all: configuration and usage errors exit 2, results-database failures 3, run failures 1).
void configure_app(CLI::App& app, GlobalOptions& global);
int run_app(CLI::App& app, GlobalOptions& global, int argc, char** argv);

}  // namespace flowlab::cli
