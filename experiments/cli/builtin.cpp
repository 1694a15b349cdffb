#include "experiments/cli/builtin.h"

#include "datasets/register.h"
#include "ops/register.h"

namespace flowlab::cli {
Registry make_builtin_registry() {
  Registry r;
  datasets::register_datasets(r);
  ops::register_ops(r);
  r.check();  // a typo in an op's schema (a port type, a model param clash) fails every test
  return r;
}
}  // namespace flowlab::cli
