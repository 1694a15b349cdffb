#pragma once
#include "graph/op.h"

namespace flowlab::datasets {

/// Registers every dataset op and the `dataset` artifact type.
void register_datasets(Registry& registry);

// One function per dataset file.
void register_fashion_mnist(Registry& registry);

}  // namespace flowlab::datasets
