#include "ops/kge/one_to_n_loss.h"

#include <torch/torch.h>

namespace flowlab::ops::kge {
namespace {

// The loss, mean over the batch of sum_e softplus((1 - 2 [e = t]) s_e), which is
// sum_e softplus(s_e) - s_t since softplus(-x) = softplus(x) - x. Its gradient with respect to
// the scores is (sigmoid(s) - [e = t]) / B: written here as one pass over the [B, E] scores
// instead of autograd's chain through a mask, a product, softplus and a sum.
struct OneToNCrossEntropy : torch::autograd::Function<OneToNCrossEntropy> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& scores,
                               const torch::Tensor& tails) {
    ctx->save_for_backward({scores, tails});
    const auto rows = static_cast<double>(scores.size(0));
    return (torch::nn::functional::softplus(scores).sum() -
            scores.gather(1, tails.unsqueeze(1)).sum()) /
           rows;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    const auto &scores = saved[0], &tails = saved[1];
    const auto scale = grad[0] / static_cast<double>(scores.size(0));
    auto g = torch::sigmoid(scores);
    g.scatter_add_(1, tails.unsqueeze(1), -torch::ones({scores.size(0), 1}, scores.options()));
    g.mul_(scale);
    return {g, torch::Tensor()};
  }
};

}  // namespace

at::Tensor one_to_n_cross_entropy(const at::Tensor& scores, const at::Tensor& tails) {
  return OneToNCrossEntropy::apply(scores, tails);
}

}  // namespace flowlab::ops::kge
