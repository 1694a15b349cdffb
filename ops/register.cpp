#include "ops/register.h"

#include "ops/classifier.h"
#include "ops/metrics_table.h"

namespace flowlab::ops {

void register_ops(Registry& r) {
  r.add_type({Classifier::kType, "a trained image classifier: architecture and weights", &Classifier::load});
  r.add_type({MetricsTable::kType, "named numbers produced by an evaluator", &MetricsTable::load});
  register_train_classifier(r);
  register_eval_classifier(r);
}

}  // namespace flowlab::ops
