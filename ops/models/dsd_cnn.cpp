// dsd/cnn: one filter shared by all k patches: f = sum_j phi_b(<w, x_j>) (ops/dsd_models.h).
#include "ops/dsd_models.h"

namespace flowlab::ops {

void register_dsd_cnn(Registry& r) {
  add_model(r,
            dsd_model_def("cnn", "one filter shared by all k patches: f = sum_j phi_b(<w, x_j>)"));
}

}  // namespace flowlab::ops
