// dsd/lcn: a filter per patch, no weight sharing: f = sum_j phi_b(<w_j, x_j>) (ops/dsd_models.h).
#include "ops/dsd_models.h"

namespace flowlab::ops {

void register_dsd_lcn(Registry& r) {
  add_model(r, dsd_model_def("lcn",
                             "a filter per patch, no weight sharing: f = sum_j phi_b(<w_j, x_j>)"));
}

}  // namespace flowlab::ops
