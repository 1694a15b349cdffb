#include "ops/register.h"

#include "ops/analyze/summary.h"
#include "ops/certify/certification.h"
#include "ops/classifier.h"
#include "ops/dsd_models.h"
#include "ops/metrics_table.h"

namespace flowlab::ops {

void register_ops(Registry& r) {
  r.add_type({Classifier::kType, "a trained image classifier: architecture and weights", &Classifier::load});
  r.add_type({MetricsTable::kType, "named numbers produced by an evaluator", &MetricsTable::load});
  register_train_classifier(r);
  r.add_type({certify::Certification::kType, "per-image certificates: prediction, radius, correctness",
              &certify::Certification::load});
  register_eval_classifier(r);
  analyze::register_sample_complexity(r);
  analyze::register_summary(r);
  certify::register_certify_smoothing(r);
  certify::register_certify_lvm(r);
  certify::register_certify_dual(r);
  r.add_type({DsdModel::kType, "a trained CNN, LCN or FCN for the DSD task: architecture, threshold and weights",
              &DsdModel::load});
  register_train_dsd(r);
}

}  // namespace flowlab::ops
