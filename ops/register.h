#pragma once
#include "graph/op.h"

namespace flowlab::ops {

/// Registers every model, trainer and evaluator op, and their artifact types.
void register_ops(Registry& registry);

// One function per op file.
void register_train_classifier(Registry& registry);
void register_eval_classifier(Registry& registry);
void register_eval_fourier_robustness(Registry& registry);
void register_train_dsd(Registry& registry);
namespace analyze {
void register_sample_complexity(Registry& registry);
void register_transfer_function(Registry& registry);
}  // namespace analyze
namespace fl {
void register_federated(Registry& registry);
}  // namespace fl
namespace rrcm {
void register_train_rrcm_pretrain(Registry& registry);
void register_train_rrcm(Registry& registry);
}  // namespace rrcm
namespace certify {
void register_certify_smoothing(Registry& registry);
void register_certify_lvm(Registry& registry);
void register_certify_dual(Registry& registry);
}  // namespace certify

}  // namespace flowlab::ops
