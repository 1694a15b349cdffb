// `flowlab ops` and `models`: what this build registers (they load every op, so flowlab-engine
// runs them).
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "experiments/cli/app.h"
#include "experiments/cli/builtin.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/engine_dispatch.h"

namespace flowlab::cli {

void add_registry_commands(CLI::App& app) {
  auto format = std::make_shared<std::string>("table");
  auto op_name = std::make_shared<std::string>();
  auto* ops = app.add_subcommand("ops", std::string(engine_command_description("ops")));
  ops->add_option("name", *op_name, "op name, e.g. train.classifier");
  ops->add_option("--format", *format, "table, csv or json");
  ops->callback(
      [=] { show_ops(make_builtin_registry(), *op_name, parse_format(*format), std::cout); });

  auto model_name = std::make_shared<std::string>();
  auto* models = app.add_subcommand("models", std::string(engine_command_description("models")));
  models->add_option("name", *model_name,
                     "a family (classifier, dsd), FAMILY/NAME or a model name");
  models->add_option("--format", *format, "table, csv or json");
  models->callback(
      [=] { show_models(make_builtin_registry(), *model_name, parse_format(*format), std::cout); });
}

}  // namespace flowlab::cli
