// dsd/fcn: k units each seeing the whole kd input: f = sum_j phi_b(<w_j, x>) (ops/dsd_models.h).
#include "ops/dsd_models.h"

namespace flowlab::ops {

void register_dsd_fcn(Registry& r) {
  add_model(
      r, dsd_model_def("fcn", "k units each seeing the whole kd input: f = sum_j phi_b(<w_j, x>)"));
}

}  // namespace flowlab::ops
