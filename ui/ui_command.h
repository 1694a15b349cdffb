#pragma once
// `flowlab ui`: installs the command (both programs answer it; see experiments/cli/app.h).
namespace CLI {
class App;
}

namespace flowlab::cli {
struct GlobalOptions;
void add_ui_command(CLI::App& app, GlobalOptions& global);
}  // namespace flowlab::cli
