#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>

#include "common/error.h"
#include "common/text.h"
#include "experiments/cli/app.h"
#include "experiments/cli/table.h"
#include "tracking/store.h"

#ifndef FLOWLAB_VERSION
#define FLOWLAB_VERSION "0.0.0"
#endif

namespace flowlab::cli {
namespace {

constexpr const char* kFooter = R"(
Examples:
  flowlab run experiments/quickstart.yaml                 train and evaluate, record in .flowlab/
  flowlab run experiments/quickstart.yaml nodes.train.params.epochs=1 model=mlp
  flowlab run experiments/quickstart.yaml --cfg           print the composed spec only
  flowlab sweep experiments/quickstart.yaml train.lr=0.01,0.001 seed='range(0,3)'
  flowlab resume 12                                       finish a killed run or sweep
  flowlab runs                                            recent runs as a table (sweeps folded)
  flowlab show last --format json                         one run: config, metrics, timings
  flowlab query "metrics.eval.accuracy > 0.85" --sort=-metrics.eval.accuracy
  flowlab plot --y eval.accuracy --x data.limit_train --group train.model --png
  flowlab ui                                              the web dashboard: http://127.0.0.1:8080
  flowlab ops train.classifier                            an op's params and docs
  flowlab cache du                                        cache size by op and age
  flowlab cache gc --dry-run                              what cleaning the cache would remove
  flowlab delete 12 / restore 12 / tag 12 owner=ana       runs housekeeping

Workspace: --workspace DIR, else $FLOWLAB_HOME, else ./.flowlab (runs.db, cache/).
Results store: --store URI, else $FLOWLAB_STORE, else WORKSPACE/runs.db; a PostgreSQL store
(postgresql://USER@HOST/DB) is shared by many machines (`flowlab store --help`).
Exit codes: 0 ok, 1 a node failed, 2 bad spec or command line, 3 results database unusable
(read-only workspace for run/sweep/resume, corrupt, locked past the timeout), 130 interrupted.)";

// CLI11 2.1 prints each description on one line (178 columns for `flowlab run --help`): these
// are wrapped to the terminal, at most 100 columns, continuation lines under the first.
class WrappingFormatter : public CLI::Formatter {
 public:
  std::string make_option_desc(const CLI::Option* option) const override {
    return wrap(CLI::Formatter::make_option_desc(option), column_width_);
  }
  std::string make_description(const CLI::App* app) const override {
    std::string text = CLI::Formatter::make_description(app);
    const bool newline = !text.empty() && text.back() == '\n';
    return wrap(text, 0) + (newline ? "\n" : "");
  }
  std::string make_subcommand(const CLI::App* sub) const override {
    std::stringstream out;
    CLI::detail::format_help(out, sub->get_display_name(true),
                             wrap(sub->get_description(), column_width_), column_width_);
    return out.str();
  }

 private:
  // `text` in lines that fit beside an `indent`-column name column.
  static std::string wrap(const std::string& text, size_t indent) {
    const size_t terminal = terminal_columns();
    const size_t columns = terminal == 0 ? 100 : std::min<size_t>(terminal, 100);
    const size_t room = columns > indent + 20 ? columns - indent : 20;
    std::string out, line;
    std::istringstream words(text);
    std::string word;
    while (words >> word) {
      if (!line.empty() && display_width(line) + 1 + display_width(word) > room) {
        out += line + "\n";
        line.clear();
      }
      line += (line.empty() ? "" : " ") + word;
    }
    return out + line;
  }
};

}  // namespace

void add_database_commands(CLI::App& app, GlobalOptions& global) {
  add_report_commands(app, global);
  add_query_commands(app, global);
  add_plot_command(app, global);
  add_compress_commands(app, global);
  add_housekeeping_commands(app, global);
  add_store_commands(app, global);
}

void configure_app(CLI::App& app, GlobalOptions& global) {
  app.description(
      "flowlab: declarative ML experiments on a dataflow graph, recorded in SQLite or PostgreSQL");
  app.formatter(std::make_shared<WrappingFormatter>());  // subcommands inherit it
  app.footer(kFooter);
  app.require_subcommand(1);
  app.fallthrough();  // `flowlab run SPEC --workspace DIR` as well as `flowlab --workspace DIR run
                      // SPEC`
  app.set_version_flag("--version", std::string("flowlab ") + FLOWLAB_VERSION);
  app.add_flag_function(
      "--wide", [](int64_t) { set_wide_output(true); },
      "tables at full width (by default a table printed on a terminal is cut to its width)");
  app.add_option("--workspace", global.workspace_flag,
                 "results database and cache directory (default: .flowlab at the project's root, "
                 "the folder holding configs/ found upward from the spec for run and sweep "
                 "(--config-dir's parent when given), from the current directory otherwise; "
                 "./.flowlab outside a project)")
      ->envname("FLOWLAB_HOME");
  // Exported, so that flowlab-engine and every job a launcher starts use the same store.
  app.add_option("--store", global.store_flag,
                 "results store URI: sqlite:///PATH or postgresql://USER@HOST/DB (default: "
                 "WORKSPACE/runs.db; see `flowlab store --help`)")
      ->envname("FLOWLAB_STORE")
      ->check([](const std::string& uri) {
        try {
          tracking::StoreLocation::parse(uri);
        } catch (const tracking::StoreError& e) {
          return std::string(e.what());
        }
        setenv("FLOWLAB_STORE", uri.c_str(), /*overwrite=*/1);
        return std::string();
      });
}

int run_app(CLI::App& app, GlobalOptions& global, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return global.exit_code;
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  } catch (const tracking::StoreError& e) {
    std::cerr << "flowlab: error: " << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "flowlab: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace flowlab::cli
