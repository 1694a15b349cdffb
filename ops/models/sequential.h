#pragma once
// A Network that is a torch::nn::Sequential: the shape most small architectures take.
#include "ops/models/network.h"

namespace flowlab::ops {

struct SequentialNetwork : Network {
  explicit SequentialNetwork(torch::nn::Sequential seq) {
    layers = register_module("layers", std::move(seq));
  }
  torch::Tensor forward(const torch::Tensor& x) override { return layers->forward(x); }
  InferenceFn prepare_inference() override { return prepare_sequential_inference(layers); }
  torch::nn::Sequential layers{nullptr};
};

}  // namespace flowlab::ops
