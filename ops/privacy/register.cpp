// The privacy layer's registrations, one line each.
#include "ops/privacy/mechanism.h"
#include "ops/privacy/privacy_ops.h"

namespace flowlab::ops::privacy {

void register_privacy(Registry& r) {
  register_mechanisms(r);  // the `mechanism` param group: rqm, pbm, gaussian, none
  register_accountant(r);
  register_mean_estimation(r);
}

}  // namespace flowlab::ops::privacy
