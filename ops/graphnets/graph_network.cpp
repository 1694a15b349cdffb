#include "ops/graphnets/graph_network.h"

#include <fmt/format.h>

namespace flowlab::ops::graphnets {

MlpHeadImpl::MlpHeadImpl(int64_t inputs, const std::vector<int64_t>& hidden, double dropout,
                         int64_t classes)
    : dropout(dropout) {
  for (size_t l = 0; l <= hidden.size(); ++l) {
    const int64_t out = l < hidden.size() ? hidden[l] : classes;
    layers.push_back(register_module(fmt::format("linear{}", l), torch::nn::Linear(inputs, out)));
    inputs = out;
  }
}

torch::Tensor MlpHeadImpl::forward(torch::Tensor x, const at::Generator& generator) {
  for (size_t l = 0; l < layers.size(); ++l) {
    x = layers[l]->forward(x);
    if (l + 1 == layers.size()) break;
    x = torch::relu(x);
    if (is_training() && dropout > 0) {
      // Drawn on the CPU (the generator's device), whatever device the network is on.
      const auto keep = torch::empty(x.sizes())
                            .bernoulli_(1.0 - dropout, generator.defined()
                                                           ? c10::optional<at::Generator>(generator)
                                                           : c10::nullopt)
                            .to(x.device());
      x = x * keep / (1.0 - dropout);
    }
  }
  return x;
}

}  // namespace flowlab::ops::graphnets
