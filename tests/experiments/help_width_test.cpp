// Every --help of the torch-free program fits 100 columns when it is not printed on a terminal
// (CLI11 2.1 would print each description on one line; app_main.cpp wraps them).
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>
#include <boost/test/unit_test.hpp>

#include "common/text.h"
#include "experiments/cli/app.h"
#include "ui/ui_command.h"

BOOST_AUTO_TEST_SUITE(cli_help)

BOOST_AUTO_TEST_CASE(every_help_fits_100_columns) {
  CLI::App app;
  flowlab::cli::GlobalOptions global;
  flowlab::cli::configure_app(app, global);
  flowlab::cli::add_database_commands(app, global);
  flowlab::cli::add_ui_command(app, global);
  std::vector<const CLI::App*> apps{&app};
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    apps.push_back(sub);
  BOOST_TEST(apps.size() > 10u);
  for (const auto* a : apps) {
    std::istringstream lines(a->help());
    std::string line;
    while (std::getline(lines, line))
      BOOST_TEST(flowlab::display_width(line) <= 100u, a->get_name() << ": " << line);
  }
}

BOOST_AUTO_TEST_SUITE_END()
