// Which commands `flowlab` hands to flowlab-engine (the argument scan, torch-free).
#include "experiments/cli/engine_dispatch.h"

#include <optional>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

namespace {

std::optional<std::string> engine_command_of(std::vector<const char*> args) {
  args.insert(args.begin(), "flowlab");
  return flowlab::cli::engine_command_in(static_cast<int>(args.size()), args.data());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(engine_dispatch)

BOOST_AUTO_TEST_CASE(commands_that_load_ops_go_to_the_engine_and_database_commands_stay) {
  for (const char* name : {"run", "sweep", "resume", "ops", "models", "fl-worker"})
    BOOST_TEST(engine_command_of({name, "x"}).value_or("") == name);
  for (const char* name : {"runs", "show", "query", "sql", "compare", "plot", "compress",
                           "decompress", "cache", "delete", "restore", "tag"})
    BOOST_TEST(!engine_command_of({name}).has_value(), name);
  BOOST_TEST(!engine_command_of({}).has_value());
  BOOST_TEST(!engine_command_of({"--help"}).has_value());
  BOOST_TEST(!engine_command_of({"--version"}).has_value());
  BOOST_TEST(!engine_command_of({"rnu", "spec.yaml"}).has_value());  // CLI11 names the typo
}

BOOST_AUTO_TEST_CASE(the_command_is_the_first_word_that_is_not_an_option_or_the_workspace) {
  // --workspace takes a value: a workspace directory named `run` is not the command.
  BOOST_TEST(!engine_command_of({"--workspace", "run", "runs"}).has_value());
  BOOST_TEST(engine_command_of({"--workspace", "runs", "run", "a.yaml"}).value_or("") == "run");
  BOOST_TEST(engine_command_of({"--workspace=ws", "sweep", "a.yaml"}).value_or("") == "sweep");
  // Only the first word counts: a spec or an override named like a command is an argument.
  BOOST_TEST(!engine_command_of({"show", "run"}).has_value());
  BOOST_TEST(engine_command_of({"run", "show"}).value_or("") == "run");
}

BOOST_AUTO_TEST_CASE(only_the_listing_commands_do_not_compute) {
  for (const char* name : {"run", "sweep", "resume", "fl-worker"})
    BOOST_TEST(flowlab::cli::engine_command_computes(name), name);
  BOOST_TEST(!flowlab::cli::engine_command_computes("ops"));
  BOOST_TEST(!flowlab::cli::engine_command_computes("models"));
}

BOOST_AUTO_TEST_CASE(every_engine_command_has_its_help_line) {
  for (const auto& c : flowlab::cli::engine_commands()) {
    BOOST_TEST(!c.description.empty());
    BOOST_TEST(flowlab::cli::engine_command_description(c.name) == c.description);
  }
  BOOST_CHECK_THROW(flowlab::cli::engine_command_description("runs"), std::out_of_range);
}

BOOST_AUTO_TEST_SUITE_END()
