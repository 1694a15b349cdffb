// classifier/linear: multinomial logistic regression, one affine layer on the flattened input
// (the model of federated-learning baselines, and the smallest classifier to privatize).
#include "ops/models/model.h"
#include "ops/models/sequential.h"

namespace flowlab::ops {

void register_linear(Registry& r) {
  namespace nn = torch::nn;
  ModelDef m;
  m.family = "classifier";
  m.name = "linear";
  m.summary = "logistic regression: one affine layer on the flattened input";
  m.build = [](const Params&, const ModelInput& in) -> std::shared_ptr<Network> {
    int64_t inputs = 1;
    for (int64_t s : in.shape) inputs *= s;
    return std::make_shared<SequentialNetwork>(
        nn::Sequential(nn::Flatten(), nn::Linear(inputs, in.outputs)));
  };
  add_model(r, std::move(m));
}

}  // namespace flowlab::ops
