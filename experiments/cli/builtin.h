#pragma once
#include "graph/op.h"

namespace flowlab::cli {
/// Every op this build ships: calls each folder's register_*() function.
Registry make_builtin_registry();
}  // namespace flowlab::cli
