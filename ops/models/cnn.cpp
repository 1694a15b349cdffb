// classifier/cnn: two 3x3 conv blocks (width, 2 width channels) with 2x2 max pooling, then a
// 128-unit hidden layer: a LeNet-style CNN for small images.
#include <fmt/format.h>

#include "common/error.h"
#include "ops/models/model.h"
#include "ops/models/sequential.h"

namespace flowlab::ops {

void register_cnn(Registry& r) {
  namespace nn = torch::nn;
  ModelDef m;
  m.family = "classifier";
  m.name = "cnn";
  m.summary = "two 3x3 conv blocks with max pooling and a 128-unit hidden layer (images)";
  m.params = {int_param(
      "width", 32, "channels of the first conv layer (the second has twice as many)", 1.0, 4096.0)};
  m.build = [](const Params& p, const ModelInput& in) -> std::shared_ptr<Network> {
    if (in.shape.size() != 3)
      throw RunError(fmt::format("cnn needs images [C, H, W], got inputs of shape [{}]",
                                 fmt::join(in.shape, ", ")));
    const int64_t w = p.get_int("width"), c = in.shape[0], h = in.shape[1], wd = in.shape[2];
    const int64_t flat = 2 * w * (h / 4) * (wd / 4);
    return std::make_shared<SequentialNetwork>(nn::Sequential(
        nn::Conv2d(nn::Conv2dOptions(c, w, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(2),
        nn::Conv2d(nn::Conv2dOptions(w, 2 * w, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(2),
        nn::Flatten(), nn::Linear(flat, 128), nn::ReLU(), nn::Linear(128, in.outputs)));
  };
  add_model(r, std::move(m));
}

}  // namespace flowlab::ops
