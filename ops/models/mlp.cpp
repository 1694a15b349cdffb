// classifier/mlp: two hidden layers of `width` ReLU units on the flattened input.
#include "ops/models/model.h"
#include "ops/models/sequential.h"

namespace flowlab::ops {

void register_mlp(Registry& r) {
  namespace nn = torch::nn;
  ModelDef m;
  m.family = "classifier";
  m.name = "mlp";
  m.summary = "two hidden layers of ReLU units on the flattened input (any input shape)";
  m.params = {int_param("width", 32, "hidden units per layer", 1.0, 4096.0)};
  m.build = [](const Params& p, const ModelInput& in) -> std::shared_ptr<Network> {
    int64_t inputs = 1;
    for (int64_t s : in.shape) inputs *= s;
    const int64_t w = p.get_int("width");
    return std::make_shared<SequentialNetwork>(
        nn::Sequential(nn::Flatten(), nn::Linear(inputs, w), nn::ReLU(), nn::Linear(w, w),
                       nn::ReLU(), nn::Linear(w, in.outputs)));
  };
  add_model(r, std::move(m));
}

}  // namespace flowlab::ops
