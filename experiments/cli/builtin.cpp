#include "experiments/cli/builtin.h"

#include "datasets/register.h"
#include "ops/register.h"

namespace flowlab::cli {
Registry make_builtin_registry() {
  Registry r;
  datasets::register_datasets(r);
  ops::register_ops(r);
  return r;
}
}  // namespace flowlab::cli
