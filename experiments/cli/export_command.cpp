// `flowlab export RUN [--node NODE] --to DIR`: a run's trained model as TorchScript with Python
// and C++ loaders (ops/models/export.h), for use outside flowlab.
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "experiments/cli/app.h"
#include "experiments/cli/builtin.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/engine_dispatch.h"
#include "experiments/cli/node_output.h"
#include "ops/models/export.h"

namespace flowlab::cli {

namespace fs = std::filesystem;

namespace {

struct ExportOptions {
  std::string run, node, to, format = "text";
  bool force = false;
};

void export_run(const ExportOptions& o, const fs::path& workspace, std::ostream& out) {
  const SourceLocation where{"command line"};
  if (o.format != "text" && o.format != "json")
    throw ConfigError(where, "--format",
                      fmt::format("expected text or json, got \"{}\"", o.format));
  const fs::path to = o.to;
  if (fs::exists(to) && !fs::is_directory(to))
    throw ConfigError(where, "--to", fmt::format("{} is a file, not a folder", to.string()));
  if (fs::is_directory(to) && !fs::is_empty(to) && !o.force)
    throw ConfigError(where, "--to",
                      fmt::format("{} is not empty (pass --force to replace what export writes "
                                  "there)",
                                  to.string()));
  const NodeChoice model_node{[](const tracking::NodeExecution&, const fs::path& dir) {
                                return ops::holds_saved_model(dir);
                              },
                              "node with a trained model", "nodes with a trained model",
                              "with --node NODE"};
  const NodeOutput found = find_node_output(workspace, o.run, o.node, model_node, "RUN");
  const tracking::Store store(existing_results_store(workspace),
                              tracking::Store::Access::kReadOnly);
  const auto run = store.get_run(found.run_id);
  ops::ExportProvenance provenance{std::to_string(found.run_id), run ? run->uuid : "",
                                   found.execution.node, found.execution.op};
  const ops::ExportSummary s =
      ops::export_saved_model(found.dir, to, make_builtin_registry(), provenance);
  if (o.format == "json") {
    nlohmann::json j = {{"run_id", found.run_id},
                        {"node", found.execution.node},
                        {"model", s.family + "/" + s.arch},
                        {"parameters", s.parameters},
                        {"input", s.input},
                        {"output", s.output},
                        {"max_difference", s.check_difference},
                        {"dir", fs::absolute(to).string()},
                        {"files", s.files}};
    out << j.dump(2) << "\n";
    return;
  }
  const std::vector<std::pair<std::string, std::string>> lines = {
      {"model", fmt::format("{}/{}, {} parameters (run {}, node {})", s.family, s.arch,
                            s.parameters, found.run_id, found.execution.node)},
      {"input", s.input},
      {"output", s.output},
      {"checked", fmt::format("the exported forward reproduces flowlab's on new batches (max "
                              "|difference| {:.3g})",
                              s.check_difference)},
      {"written", fmt::format("{}: {}", to.string(), fmt::join(s.files, ", "))},
      {"try it", fmt::format("python3 {}", (to / "load_model.py").string())}};
  for (const auto& [key, value] : lines) out << fmt::format("{:<9}{}\n", key, value);
}

}  // namespace

void add_export_command(CLI::App& app, GlobalOptions& global) {
  auto o = std::make_shared<ExportOptions>();
  auto* c = app.add_subcommand("export", std::string(engine_command_description("export")));
  c->footer(
      "Writes model.pt (TorchScript: the weights as named parameters and the forward as code, "
      "so torch.jit.load in Python or C++ needs no flowlab code), example.pt (an input batch "
      "and flowlab's output for it), load_model.py, load_model.cpp with its CMakeLists.txt, "
      "model.json and a README. A classifier's exported forward takes raw inputs: its "
      "standardization is part of it. Before writing, the exported model is loaded back and "
      "must reproduce flowlab's outputs on fresh batches of other sizes.\n\n"
      "Examples:\n"
      "  flowlab export last --to exported/\n"
      "  flowlab export 12 --node train --to cnn/ && python3 cnn/load_model.py");
  c->add_option("run", o->run, "the run: an id, a uuid or 'last'")->required();
  c->add_option("--node", o->node,
                "the node whose model to export (default: the run's only node with one)");
  c->add_option("--to", o->to, "the folder to write (created)")->required();
  c->add_flag("--force", o->force, "write into a folder that is not empty");
  c->add_option("--format", o->format, "text or json: the summary printed");
  c->callback([o, &global] {
    export_run(*o, global.workspace(), std::cout);
    global.exit_code = 0;
  });
}

}  // namespace flowlab::cli
