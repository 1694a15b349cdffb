#include "ops/spen/equivariant_maps.h"

#include <torch/torch.h>

namespace flowlab::ops::spen {
namespace {

// The stacked rows of w named by `elements`: [k * C, D], to mix a concatenation of k features.
torch::Tensor rows(const torch::Tensor& w, std::initializer_list<int64_t> elements) {
  std::vector<torch::Tensor> parts;
  for (int64_t e : elements) parts.push_back(w[e]);
  return torch::cat(parts, 0);
}

// Adds [N, m, D] to the diagonal of [N, m, m, D] in place.
void add_to_diagonal(torch::Tensor& out, const torch::Tensor& v) {
  out.diagonal(0, 1, 2).add_(v.transpose(1, 2));
}

}  // namespace

torch::Tensor map_2_to_2(const torch::Tensor& x, const torch::Tensor& w,
                         const torch::Tensor& bias_all, const torch::Tensor& bias_diag) {
  const auto diag = x.diagonal(0, 1, 2).transpose(1, 2);                // [N, m, C]
  const auto row_mean = x.mean(2), col_mean = x.mean(1);                // [N, m, C]
  const auto scalars = torch::cat({diag.mean(1), x.mean({1, 2})}, -1);  // [N, 2C]
  const auto vectors = torch::cat({diag, row_mean, col_mean}, -1);      // [N, m, 3C]
  // Basis elements (0-based, basis.h's order) by where their result goes:
  //   on the diagonal: 0 diag, 2 row means, 3 column means (vectors); 1 diag mean, 4 total mean
  //   along rows (out[i, j] = v[i]): 7 diag, 9 row means, 11 column means
  //   along columns (out[i, j] = v[j]): 8 diag, 10 row means, 12 column means
  //   everywhere: 13 diag mean, 14 total mean; 5 identity and 6 transpose over all entries.
  const auto on_diag = vectors.matmul(rows(w, {0, 2, 3})) +
                       (scalars.matmul(rows(w, {1, 4})) + bias_diag).unsqueeze(1);
  const auto along_rows = vectors.matmul(rows(w, {7, 9, 11})) +
                          (scalars.matmul(rows(w, {13, 14})) + bias_all).unsqueeze(1);
  const auto along_cols = vectors.matmul(rows(w, {8, 10, 12}));
  auto out = x.matmul(w[5]) + x.transpose(1, 2).matmul(w[6]);
  out = out + along_rows.unsqueeze(2) + along_cols.unsqueeze(1);
  add_to_diagonal(out, on_diag);
  return out;
}

torch::Tensor map_2_to_1(const torch::Tensor& x, const torch::Tensor& w,
                         const torch::Tensor& bias) {
  const auto diag = x.diagonal(0, 1, 2).transpose(1, 2);
  const auto vectors = torch::cat({diag, x.mean(2), x.mean(1)}, -1);
  const auto scalars = torch::cat({diag.mean(1), x.mean({1, 2})}, -1);
  // 0 diag, 2 row means, 3 column means; 1 diag mean, 4 total mean broadcast to every node.
  return vectors.matmul(rows(w, {0, 2, 3})) + (scalars.matmul(rows(w, {1, 4})) + bias).unsqueeze(1);
}

torch::Tensor map_1_to_2(const torch::Tensor& v, const torch::Tensor& w,
                         const torch::Tensor& bias) {
  const auto mean = v.mean(1);  // [N, C]
  // 0 v on the diagonal, 1 its mean on the diagonal, 2 v along rows, 3 v along columns, 4 mean
  // everywhere.
  auto out = (v.matmul(w[2]) + (mean.matmul(w[4]) + bias).unsqueeze(1)).unsqueeze(2) +
             v.matmul(w[3]).unsqueeze(1);
  add_to_diagonal(out, v.matmul(w[0]) + mean.matmul(w[1]).unsqueeze(1));
  return out;
}

torch::Tensor map_1_to_1(const torch::Tensor& v, const torch::Tensor& w,
                         const torch::Tensor& bias) {
  return v.matmul(w[0]) + (v.mean(1).matmul(w[1]) + bias).unsqueeze(1);
}

torch::Tensor map_2_to_0(const torch::Tensor& x, const torch::Tensor& w,
                         const torch::Tensor& bias) {
  const auto scalars = torch::cat({x.diagonal(0, 1, 2).mean(-1), x.mean({1, 2})}, -1);
  return scalars.matmul(rows(w, {0, 1})) + bias;
}

torch::Tensor map_1_to_0(const torch::Tensor& v, const torch::Tensor& w,
                         const torch::Tensor& bias) {
  return v.mean(1).matmul(w[0]) + bias;
}

}  // namespace flowlab::ops::spen
