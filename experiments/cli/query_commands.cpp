// `flowlab query`, `sql` and `compare` (not written yet).
#include "experiments/cli/app.h"

namespace flowlab::cli {
void add_query_commands(CLI::App&, GlobalOptions&) {}
}  // namespace flowlab::cli
