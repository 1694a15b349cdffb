// `flowlab plot` (not written yet).
#include "experiments/cli/app.h"

namespace flowlab::cli {
void add_plot_command(CLI::App&, GlobalOptions&) {}
}  // namespace flowlab::cli
