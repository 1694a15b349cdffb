// Knowledge-graph embedding (NFE and its baselines): the model type and the ops.
#include "ops/kge/kge_model.h"

namespace flowlab::ops::kge {

void register_kge(Registry& r) {
  r.add_type({KgeModel::kType,
              "a trained knowledge-graph embedding: scoring function, params and weights",
              &KgeModel::load});
  register_train_kge(r);
  register_link_prediction(r);
}

}  // namespace flowlab::ops::kge
