#include "ops/models/inference_plan.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#include <torch/torch.h>

#include "ops/models/network.h"

namespace flowlab::ops {
namespace {

// One step of the prepared forward. A step works in place only on a tensor an earlier step made
// (`fresh` below), never on the caller's input.
using Step = std::function<at::Tensor(const at::Tensor&)>;

// Conv options hold variants: c10::variant in LibTorch 1.13, std::variant in 2.x. Declaring some
// template named get_if here makes `get_if<T>(&v)` parse as a template call; argument-dependent
// lookup then finds the get_if of whichever namespace the variant lives in.
struct NoVariant {};
template <typename T>
void get_if(NoVariant);

std::vector<int64_t> as_vector(at::IntArrayRef values) { return values.vec(); }

at::Tensor dense(const at::Tensor& x) { return x.is_mkldnn() ? x.to_dense() : x; }

bool on_cpu_float(const torch::nn::Module& m) {
  for (const auto& p : m.parameters())
    if (!p.device().is_cpu() || p.scalar_type() != at::kFloat) return false;
  return true;
}

}  // namespace

InferenceFn prepare_inference(Network& net) {
  const char* eager = std::getenv("FLOWLAB_EAGER_INFERENCE");
  if (eager != nullptr && std::strcmp(eager, "1") == 0) return {};
  return net.prepare_inference();
}

InferenceFn prepare_sequential_inference(const torch::nn::Sequential& layers) {
  if (!on_cpu_float(*layers)) return {};
  torch::NoGradGuard no_grad;
  std::vector<Step> steps;
  bool fresh = false;  // whether the current tensor was made by a step (safe to modify in place)
  for (const auto& child : layers->children()) {
    if (auto* conv = child->as<torch::nn::Conv2d>()) {
      const auto& o = conv->options;
      const auto* explicit_padding = get_if<torch::ExpandingArray<2>>(&o.padding());
      const bool zeros = get_if<torch::enumtype::kZeros>(&o.padding_mode()) != nullptr;
      if (!at::hasMKLDNN() || explicit_padding == nullptr || !zeros || o.transposed()) return {};
      const auto padding = as_vector(*explicit_padding);
      const auto stride = as_vector(o.stride()), dilation = as_vector(o.dilation());
      const int64_t groups = o.groups();
      auto weight = at::mkldnn_reorder_conv2d_weight(conv->weight.detach().to_mkldnn(), padding,
                                                     stride, dilation, groups);
      auto bias = conv->bias.defined() ? conv->bias.detach().to_mkldnn() : at::Tensor();
      steps.push_back([=](const at::Tensor& x) {
        auto in = x.is_mkldnn() ? x : x.contiguous().to_mkldnn();
        return at::mkldnn_convolution(in, weight, bias, padding, stride, dilation, groups);
      });
      fresh = true;
    } else if (child->as<torch::nn::ReLU>()) {
      if (fresh)
        steps.push_back([](const at::Tensor& x) { return x.relu_(); });
      else
        steps.push_back([](const at::Tensor& x) { return x.relu(); });
      fresh = true;
    } else if (auto* pool = child->as<torch::nn::MaxPool2d>()) {
      const auto& o = pool->options;
      const auto kernel = as_vector(o.kernel_size()), stride = as_vector(o.stride()),
                 padding = as_vector(o.padding()), dilation = as_vector(o.dilation());
      const bool ceil = o.ceil_mode();
      for (int64_t d : dilation)
        if (d != 1) return {};  // oneDNN's pooling has no dilation
      steps.push_back([=](const at::Tensor& x) {
        return at::max_pool2d(x, kernel, stride, padding, dilation, ceil);
      });
      fresh = true;
    } else if (auto* flatten = child->as<torch::nn::Flatten>()) {
      const int64_t start = flatten->options.start_dim(), end = flatten->options.end_dim();
      steps.push_back([=](const at::Tensor& x) { return dense(x).flatten(start, end); });
      // A flatten of the caller's own input is a view of it: not fresh.
    } else if (auto* linear = child->as<torch::nn::Linear>()) {
      auto weight_t = linear->weight.detach().t().clone(at::MemoryFormat::Contiguous);
      auto bias = linear->bias.defined() ? linear->bias.detach().clone() : at::Tensor();
      steps.push_back([=](const at::Tensor& x) {
        auto in = dense(x);
        return bias.defined() ? at::addmm(bias, in, weight_t) : at::mm(in, weight_t);
      });
      fresh = true;
    } else {
      return {};  // a layer without a prepared form: the eager forward serves
    }
  }
  if (steps.empty()) return {};
  return [steps = std::move(steps)](const at::Tensor& x) {
    at::Tensor z = x;
    for (const auto& step : steps) z = step(z);
    return dense(z);
  };
}

}  // namespace flowlab::ops
