#pragma once
// Moving rows between a graph batch's items and what they belong to (a subgraph entry and its
// pair, a node and its graph), the two indexing steps every SPEN layer repeats: gathering each
// subgraph's entries from the pairs they belong to, and summing the subgraphs' outputs back into
// those pairs (the merge). The map from rows to targets is fixed for a batch, so it is sorted once
// (a CSR layout: each target's rows in a run) and both directions run as parallel loops over
// targets with no atomics, in a fixed order (deterministic whatever the threads). The gradient of a
// gather is a segment sum over the same map and the other way round, so both are autograd functions
// sharing one index. LibTorch 1.13's index_add_ (the gather's backward, and the natural merge) was
// the largest non-GEMM cost of a SPEN step (bench/run_spen_bench.sh). Tensors off the CPU fall back
// to index_select / index_add_.
#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace flowlab::ops::graphnets {

struct SegmentIndex {
  SegmentIndex() = default;
  /// target[i]: the segment row i belongs to, each in [0, segments).
  SegmentIndex(const std::vector<int64_t>& target, int64_t segments, c10::Device device);
  int64_t segments = 0;
  at::Tensor target;  // [rows] int64
  at::Tensor
      row_ptr;       // [segments + 1] int64: segment s's rows are order[row_ptr[s] .. row_ptr[s+1])
  at::Tensor order;  // [rows] int64: rows sorted by segment, stably
  at::Tensor sizes;  // [segments, 1] float: rows per segment (at least 1), for means
};

/// out[s] = the mean of the rows of segment s (0 for an empty one). Differentiable.
at::Tensor segment_mean(const at::Tensor& x, const SegmentIndex& index);

/// out[s] = Σ_{i : target[i] = s} x[i]: [rows, C] -> [segments, C]. Differentiable.
at::Tensor segment_sum(const at::Tensor& x, const SegmentIndex& index);
/// out[i] = t[target[i]]: [segments, C] -> [rows, C]. Differentiable.
at::Tensor gather_rows(const at::Tensor& t, const SegmentIndex& index);

}  // namespace flowlab::ops::graphnets
