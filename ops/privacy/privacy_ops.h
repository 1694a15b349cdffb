#pragma once
// The privacy ops (one per file) and the mechanism group they share; torch-free.
#include "graph/op.h"

namespace flowlab::ops::privacy {

/// The mechanism group (mechanism.h) and every privacy op.
void register_privacy(Registry& registry);

void register_accountant(Registry& registry);
void register_mean_estimation(Registry& registry);

}  // namespace flowlab::ops::privacy
