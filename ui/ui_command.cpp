// `flowlab ui`: serves the dashboard until Ctrl-C.
#include "ui/ui_command.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "experiments/cli/app.h"
#include "experiments/cli/commands.h"
#include "tracking/reader.h"
#include "ui/server.h"

namespace flowlab::cli {

namespace {

constexpr const char* kUiHelp = R"(
Opens the results store read-only and serves, on http://HOST:PORT/:
  Runs       the runs table: MLflow filter box (as `flowlab query`), sort by any column, pages,
             sweeps folded under their parent, RUNNING runs refreshed every few seconds
  Run        composed spec, params, final metrics, node timeline, artifacts (download),
             the error of a failed node, metric curves; a sweep's chart over its children
  Compare    picked runs side by side, params that differ first, and their curves overlaid
The page, script and charts are served by this program: no internet is needed.
Only this machine can connect unless --host says otherwise (then anyone who can reach the port
can read every run). Stop with Ctrl-C.

Examples:
  flowlab ui                          http://127.0.0.1:8080/
  flowlab ui --port 0                 any free port (printed)
  flowlab ui --store postgresql://flowlab@db/results)";

}  // namespace

void add_ui_command(CLI::App& app, GlobalOptions& global) {
  auto options = std::make_shared<ui::ServerOptions>();
  auto roots = std::make_shared<std::vector<std::string>>();
  auto* c = app.add_subcommand("ui", "a web dashboard over the results store (read-only)");
  c->add_option("--port", options->port, "TCP port (0: any free one)")
      ->default_val(8080)
      ->check(CLI::Range(0, 65535));
  c->add_option("--host", options->host,
                "address to listen on; 127.0.0.1 (default) is this machine only, 0.0.0.0 is "
                "every network")
      ->default_val("127.0.0.1");
  c->add_option("--artifact-root", *roots,
                "a directory artifacts may be downloaded from besides the workspace (repeatable)");
  c->footer(kUiHelp);
  c->callback([options, roots, &global] {
    const auto workspace = global.workspace();
    const tracking::StoreLocation where = existing_results_store(workspace);
    tracking::ensure_current_schema(where);
    ui::ApiOptions api_options{where, {workspace}};
    for (const auto& r : *roots) api_options.artifact_roots.emplace_back(r);
    const ui::Api api(api_options);

    // Ctrl-C and TERM are taken by one thread that stops the server; the workers (started by
    // bind) inherit the blocked mask, so the signal never lands in the middle of a request.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    ui::Server server(api, *options);
    const int port = server.bind();
    if (!ui::is_loopback(options->host))
      std::cerr << fmt::format(
          "flowlab: warning: listening on {}: anyone who can reach this port can read every run "
          "(there is no login)\n",
          options->host);
    const std::string shown_host = options->host == "0.0.0.0" ? "127.0.0.1" : options->host;
    std::cout << fmt::format("flowlab ui: serving {} on http://{}:{}/ (Ctrl-C stops)",
                             where.display(), shown_host, port)
              << std::endl;
    std::atomic<bool> signalled{false};
    std::thread stopper([&] {
      int signal = 0;
      sigwait(&stop_signals, &signal);
      signalled = true;
      server.stop();
    });
    server.serve();
    // Wake the stopper (waiting for a signal) when serving ended some other way.
    if (!signalled) pthread_kill(stopper.native_handle(), SIGTERM);
    stopper.join();
    std::cout << "flowlab ui: stopped" << std::endl;
  });
}

}  // namespace flowlab::cli
