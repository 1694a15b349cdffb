#pragma once
// The `flowlab` command is two programs. `flowlab` itself is torch-free: it answers the commands
// that only read or tidy the results database (runs, show, query, sql, compare, plot, cache,
// delete, ...) without loading LibTorch, which alone costs ~0.4 s and ~150 MiB per start.
// Commands that need the ops (run, sweep, resume, ops, models, fl-worker) are handed to
// `flowlab-engine`, installed next to it, by exec with the same arguments (same pid, so signals,
// exit codes and the terminal behave as if flowlab had run them itself).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace flowlab::cli {

struct EngineCommand {
  std::string_view name;
  std::string_view description;  // the subcommand's one-line help, shown by both programs
};

/// The commands flowlab-engine runs, in the order `flowlab --help` lists them.
const std::vector<EngineCommand>& engine_commands();
/// The description of one of them (throws std::out_of_range for any other name).
std::string_view engine_command_description(std::string_view name);

/// The subcommand an argument list names (its first word that is neither an option nor the value
/// of --workspace) when it is one flowlab-engine runs; nullopt for the others and for none.
std::optional<std::string> engine_command_in(int argc, const char* const* argv);

/// Whether an engine command computes (run, sweep, resume, fl-worker: LibTorch's threads work
/// and should sleep when idle) rather than list what is registered (ops, models).
bool engine_command_computes(std::string_view name);

/// Where flowlab-engine is: $FLOWLAB_ENGINE when set, else next to the running program.
std::string engine_path();

/// Replaces this process by flowlab-engine with the same arguments. Commands that compute
/// (run, sweep, resume, fl-worker) get OMP_WAIT_POLICY=PASSIVE unless the user set a policy: the
/// engine would otherwise re-execute itself once to set it (ops/torch_runtime.h). Returns only
/// on failure, throwing RunError naming the path and the reason.
void exec_engine(const std::string& command, char** argv);

/// Subcommands in `flowlab`'s --help for the engine's commands. engine_command_in() sends those
/// to the engine before parsing; if one is reached anyway, its callback execs the engine too.
void add_engine_forwarders(CLI::App& app, char** argv);

}  // namespace flowlab::cli
