// Every registered architecture of this build, one line each (one file each in ops/models/).
#include "ops/graphnets/graph_models.h"
#include "ops/kge/kge_model.h"
#include "ops/models/model.h"

namespace flowlab::ops {

void register_cnn(Registry& r);
void register_mlp(Registry& r);
void register_linear(Registry& r);
void register_dsd_cnn(Registry& r);
void register_dsd_lcn(Registry& r);
void register_dsd_fcn(Registry& r);
void register_s4d(Registry& r);
void register_s4_ptd(Registry& r);
void register_s5_ptd(Registry& r);
namespace rrcm {
void register_rrcm_model(Registry& r);
}

void register_models(Registry& r) {
  register_cnn(r);
  register_mlp(r);
  register_linear(r);
  register_dsd_cnn(r);
  register_dsd_lcn(r);
  register_dsd_fcn(r);
  register_s4d(r);
  register_s4_ptd(r);
  register_s5_ptd(r);
  kge::register_nfe(r);
  kge::register_transe(r);
  kge::register_distmult(r);
  graphnets::register_spen(r);
  graphnets::register_ign(r);
  graphnets::register_gin(r);
  rrcm::register_rrcm_model(r);
}

}  // namespace flowlab::ops
