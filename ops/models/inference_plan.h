#pragma once
// A trained network's forward prepared once for many calls (certification runs one network
// ~10^4 times per image). On CPU, a torch::nn::Sequential of conv / ReLU / max-pool / flatten /
// linear layers runs as LibTorch's TorchScript optimize_for_inference would run it: the conv
// stack in oneDNN's blocked layout end to end (weights reordered once, activations converted in
// once and out once), ReLUs in place, linear layers as one addmm on pre-transposed weights.
// Measured in python3-torch on the certify CNN (16/32 channels, batch 1,000, 2 threads): ~2x
// eager. Logits equal eager's up to floating-point reassociation.
#include <functional>

#include <ATen/core/Tensor.h>

namespace torch::nn {
class Sequential;
}

namespace flowlab::ops {

struct Network;

/// Inputs (already standardized) -> outputs, like Network::forward, without autograd.
using InferenceFn = std::function<at::Tensor(const at::Tensor&)>;

/// The prepared forward of `net` as its weights are now (later changes are not seen), or an
/// empty function when there is no faster path: the network prepares none
/// (Network::prepare_inference: a SequentialNetwork does when all its layers have a prepared
/// form), or FLOWLAB_EAGER_INFERENCE=1 is set (for comparisons).
InferenceFn prepare_inference(Network& net);

/// The prepared forward of `layers`, or an empty function when a layer has no prepared form
/// (above), its weights are not float32 on the CPU, or LibTorch lacks oneDNN for a conv stack.
InferenceFn prepare_sequential_inference(const torch::nn::Sequential& layers);

}  // namespace flowlab::ops
