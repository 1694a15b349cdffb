#include "ops/graphnets/segment_sum.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

namespace flowlab::ops::graphnets {
namespace {

at::Tensor sum_kernel(const at::Tensor& x, const SegmentIndex& s) {
  if (!x.is_cpu())
    return torch::zeros({s.segments, x.size(1)}, x.options()).index_add_(0, s.target, x);
  const auto src = x.contiguous();
  auto out = torch::empty({s.segments, x.size(1)}, x.options());
  const int64_t channels = x.size(1);
  const int64_t* ptr = s.row_ptr.data_ptr<int64_t>();
  const int64_t* order = s.order.data_ptr<int64_t>();
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "segment_sum", [&] {
    const scalar_t* in = src.data_ptr<scalar_t>();
    scalar_t* result = out.data_ptr<scalar_t>();
    at::parallel_for(0, s.segments, 64, [&](int64_t begin, int64_t end) {
      for (int64_t seg = begin; seg < end; ++seg) {
        scalar_t* __restrict o = result + seg * channels;
        std::fill(o, o + channels, scalar_t(0));
        for (int64_t k = ptr[seg]; k < ptr[seg + 1]; ++k) {
          const scalar_t* __restrict row = in + order[k] * channels;
          for (int64_t c = 0; c < channels; ++c) o[c] += row[c];
        }
      }
    });
  });
  return out;
}

at::Tensor gather_kernel(const at::Tensor& t, const SegmentIndex& s) {
  return t.index_select(0, s.target);
}

// The index travels with the autograd graph as tensors (it must outlive forward_graphs' locals).
void save(torch::autograd::AutogradContext* ctx, const SegmentIndex& index) {
  ctx->saved_data["target"] = index.target;
  ctx->saved_data["row_ptr"] = index.row_ptr;
  ctx->saved_data["order"] = index.order;
  ctx->saved_data["segments"] = index.segments;
}
SegmentIndex restore(torch::autograd::AutogradContext* ctx) {
  SegmentIndex index;
  index.target = ctx->saved_data["target"].toTensor();
  index.row_ptr = ctx->saved_data["row_ptr"].toTensor();
  index.order = ctx->saved_data["order"].toTensor();
  index.segments = ctx->saved_data["segments"].toInt();
  return index;
}

struct SegmentSum : torch::autograd::Function<SegmentSum> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x,
                            const SegmentIndex& index) {
    save(ctx, index);
    return sum_kernel(x, index);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    return {gather_kernel(grad[0], restore(ctx)), at::Tensor()};
  }
};

struct GatherRows : torch::autograd::Function<GatherRows> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& t,
                            const SegmentIndex& index) {
    save(ctx, index);
    return gather_kernel(t, index);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    return {sum_kernel(grad[0], restore(ctx)), at::Tensor()};
  }
};

}  // namespace

SegmentIndex::SegmentIndex(const std::vector<int64_t>& targets, int64_t count, c10::Device device)
    : segments(count) {
  // Counting sort by segment, stable, so each segment sums its rows in their original order.
  std::vector<int64_t> ptr(count + 1, 0), sorted(targets.size());
  for (int64_t t : targets) ++ptr[t + 1];
  for (int64_t s = 0; s < count; ++s) ptr[s + 1] += ptr[s];
  std::vector<int64_t> next(ptr.begin(), ptr.end() - 1);
  for (size_t i = 0; i < targets.size(); ++i) sorted[next[targets[i]]++] = static_cast<int64_t>(i);
  target = torch::tensor(targets, torch::kInt64).to(device);
  row_ptr = torch::tensor(ptr, torch::kInt64);  // read on the CPU by the kernel
  order = torch::tensor(sorted, torch::kInt64);
  std::vector<float> size(count);
  for (int64_t s = 0; s < count; ++s)
    size[s] = static_cast<float>(std::max<int64_t>(1, ptr[s + 1] - ptr[s]));
  sizes = torch::tensor(size).unsqueeze(1).to(device);
}

at::Tensor segment_mean(const at::Tensor& x, const SegmentIndex& index) {
  return segment_sum(x, index) / index.sizes.to(x.scalar_type());
}

at::Tensor segment_sum(const at::Tensor& x, const SegmentIndex& index) {
  return SegmentSum::apply(x, index);
}

at::Tensor gather_rows(const at::Tensor& t, const SegmentIndex& index) {
  return GatherRows::apply(t, index);
}

}  // namespace flowlab::ops::graphnets
