#include "experiments/cli/engine_dispatch.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "common/error.h"

namespace fs = std::filesystem;

namespace flowlab::cli {

const std::vector<EngineCommand>& engine_commands() {
  static const std::vector<EngineCommand> commands{
      {"run", "compose a spec, run its graph, record everything"},
      {"sweep", "run every combination of the given values as child runs of one parent run"},
      {"resume",
       "finish a killed or failed run or sweep: cached nodes are reused, trainers restart from "
       "their last checkpoint, finished sweep children are left alone"},
      {"ops", "list the ops, or show one op's params and docs"},
      {"models",
       "list the registered model architectures (what a trainer's `model` param picks), or show "
       "one's params"},
      {"export",
       "write a run's trained model as TorchScript (weights and forward) with Python and C++ "
       "loaders, for use outside flowlab"},
      {"slurm-task",
       "run one stage (shared, child or aggregate) of a sweep submitted with --launcher slurm "
       "(its sbatch scripts call this)"},
      {"fl-worker",
       "serve fl.federated clients for a run with launcher gloo and workers external (the node "
       "prints this command with its job directory)"},
  };
  return commands;
}

std::string_view engine_command_description(std::string_view name) {
  for (const auto& c : engine_commands())
    if (c.name == name) return c.description;
  throw std::out_of_range(fmt::format("'{}' is not a flowlab-engine command", name));
}

bool engine_command_computes(std::string_view name) { return name != "ops" && name != "models"; }

std::optional<std::string> engine_command_in(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--workspace" || arg == "--store") {  // the global options that take a value
      ++i;
      continue;
    }
    if (arg.empty() || arg.front() == '-') continue;
    for (const auto& c : engine_commands())
      if (c.name == arg) return std::string(arg);
    return std::nullopt;  // the first word is another command (or a typo CLI11 will name)
  }
  return std::nullopt;
}

std::string engine_path() {
  if (const char* set = std::getenv("FLOWLAB_ENGINE"); set && *set) return set;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "flowlab-engine";  // not Linux's /proc: rely on PATH
  return (self.parent_path() / "flowlab-engine").string();
}

void exec_engine(const std::string& command, char** argv) {
  if (engine_command_computes(command)) setenv("OMP_WAIT_POLICY", "PASSIVE", /*overwrite=*/0);
  const std::string path = engine_path();
  // argv[0] stays the user's `flowlab`: usage lines and messages name the command they typed.
  if (path.find('/') == std::string::npos)
    execvp(path.c_str(), argv);
  else
    execv(path.c_str(), argv);
  throw RunError(fmt::format(
      "cannot start {} for `flowlab {}`: {} (it is built and installed next to flowlab; "
      "FLOWLAB_ENGINE names another)",
      path, command, std::strerror(errno)));
}

void add_engine_forwarders(CLI::App& app, char** argv) {
  for (const auto& c : engine_commands()) {
    auto* sub = app.add_subcommand(std::string(c.name), std::string(c.description));
    sub->allow_extras();
    sub->prefix_command();  // everything after the name is the engine's to parse
    sub->callback([name = std::string(c.name), argv] { exec_engine(name, argv); });
  }
}

}  // namespace flowlab::cli
