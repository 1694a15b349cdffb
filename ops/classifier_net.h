#pragma once
// The torch::nn module behind Classifier. Include only from .cpp files that train or run it:
// it pulls in <torch/torch.h>.
#include <torch/torch.h>

#include "common/error.h"
#include "ops/classifier.h"

namespace flowlab::ops {

// A plain module holding the layers; the normalization is a fixed first layer (buffers, not
// parameters) so that saved weights and robustness radii both refer to raw pixels.
struct Classifier::Net : torch::nn::Module {
  explicit Net(const ClassifierConfig& c) {
    mean = register_buffer("mean", torch::full({1}, c.mean));
    stdev = register_buffer("stdev", torch::full({1}, c.std));
    mask = register_buffer("mask", checkerboard_mask(c.input_mask, c.height, c.width_px));
    masked = c.input_mask != "all";
    if (c.arch == "cnn") {
      // Two 3x3 conv blocks with 2x2 max pooling, then a hidden layer: a LeNet-style CNN.
      int64_t w = c.width;
      int64_t flat = 2 * w * (c.height / 4) * (c.width_px / 4);
      layers = register_module(
          "layers", torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(c.channels, w, 3).padding(1)),
                                   torch::nn::Functional(torch::relu), torch::nn::MaxPool2d(2),
                                   torch::nn::Conv2d(torch::nn::Conv2dOptions(w, 2 * w, 3).padding(1)),
                                   torch::nn::Functional(torch::relu), torch::nn::MaxPool2d(2), torch::nn::Flatten(),
                                   torch::nn::Linear(flat, 128), torch::nn::Functional(torch::relu),
                                   torch::nn::Linear(128, c.classes)));
    } else if (c.arch == "mlp") {
      int64_t in = c.channels * c.height * c.width_px;
      layers = register_module(
          "layers", torch::nn::Sequential(torch::nn::Flatten(), torch::nn::Linear(in, c.width), torch::nn::Functional(torch::relu),
                                   torch::nn::Linear(c.width, c.width), torch::nn::Functional(torch::relu),
                                   torch::nn::Linear(c.width, c.classes)));
    } else {
      throw RunError("unknown classifier architecture '" + c.arch + "' (expected cnn or mlp)");
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    // A full-image model skips the all-ones mask: one pass less over every input.
    return layers->forward(((masked ? x * mask : x) - mean) / stdev);
  }

  torch::Tensor mean, stdev, mask;
  bool masked = false;
  torch::nn::Sequential layers{nullptr};
};

}  // namespace flowlab::ops
