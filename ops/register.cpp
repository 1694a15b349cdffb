#include "ops/register.h"

#include "graph/sweep_results.h"
#include "ops/analyze/summary.h"
#include "ops/certify/certification.h"
#include "ops/classifier.h"
#include "ops/dsd_models.h"
#include "ops/graphnets/graph_models.h"
#include "ops/kge/kge_model.h"
#include "ops/metrics_table.h"
#include "ops/models/model.h"
#include "ops/pc/circuit_model.h"
#include "ops/privacy/privacy_ops.h"
#include "ops/torch_runtime.h"

namespace flowlab::ops {

void register_ops(Registry& r) {
  // The runtime the executor and planner use without linking LibTorch themselves.
  r.set_runtime({set_torch_threads, resolve_device});

  // Architectures (ops/models/), chosen by the trainers' `model` param.
  register_models(r);

  // Interfaces: what a port can ask for without naming a concrete type.
  r.add_interface({ClassifierModel::kInterface,
                   "any classifier: logits for a batch of raw inputs, its classes, input shape "
                   "and standardization (what evaluation and every certify op need)"});

  // Types.
  r.add_type({Classifier::kType,
              "a registered classifier architecture with its input standardization and weights",
              &Classifier::load,
              {ClassifierModel::kInterface}});
  r.add_type(
      {MetricsTable::kType, "named numbers produced by an evaluator", loader(&MetricsTable::load)});
  r.add_type({certify::Certification::kType,
              "per-image certificates: prediction, radius, correctness",
              loader(&certify::Certification::load)});
  r.add_type({DsdModel::kType,
              "a trained CNN, LCN or FCN for the DSD task: architecture, threshold and weights",
              &DsdModel::load});

  // Ops, one line each.
  register_train_classifier(r);
  register_eval_classifier(r);
  register_eval_fourier_robustness(r);
  register_train_dsd(r);
  rrcm::register_train_rrcm_pretrain(r);  // rRCM: pre-training, then fine-tuning at a sigma
  rrcm::register_train_rrcm(r);
  certify::register_certify_smoothing(r);
  certify::register_certify_lvm(r);
  certify::register_certify_dual(r);
  register_sweep_results(r);  // what the analyses below read
  analyze::register_sample_complexity(r);
  analyze::register_summary(r);
  analyze::register_transfer_function(r);
  privacy::register_privacy(r);
  kge::register_kge(r);  // the kge.model type, train.kge, eval.link_prediction
  graphnets::register_graph_classification(r);  // graph.model, train.graph_classifier, eval.*
  pc::register_train_pc(r);                     // the pc.circuit type and train.pc
  pc::register_codec_pc_rans(r);
  fl::register_federated(r);  // the mechanism group, privacy.accountant, .mean_estimation
}

}  // namespace flowlab::ops
