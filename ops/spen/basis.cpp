#include "ops/spen/basis.h"

#include <torch/torch.h>

namespace flowlab::ops::spen {
namespace {

// [B, C, m] placed on the diagonal of [B, C, m, m].
torch::Tensor on_diagonal(const torch::Tensor& v) { return torch::diag_embed(v); }
// out[i, j] = v[i] (every row i constant) and out[i, j] = v[j] (every column j constant).
torch::Tensor along_rows(const torch::Tensor& v, int64_t m) {
  return v.unsqueeze(-1).expand({v.size(0), v.size(1), m, m});
}
torch::Tensor along_columns(const torch::Tensor& v, int64_t m) {
  return v.unsqueeze(-2).expand({v.size(0), v.size(1), m, m});
}
// [B, C] broadcast to every entry of [B, C, m, m] / [B, C, m].
torch::Tensor everywhere(const torch::Tensor& s, int64_t m) {
  return s.unsqueeze(-1).unsqueeze(-1).expand({s.size(0), s.size(1), m, m});
}
torch::Tensor every_node(const torch::Tensor& s, int64_t m) {
  return s.unsqueeze(-1).expand({s.size(0), s.size(1), m});
}

}  // namespace

torch::Tensor basis_2_to_2(const torch::Tensor& t) {
  const int64_t m = t.size(-1);
  const auto diag = t.diagonal(0, -2, -1);  // [B, C, m]
  const auto diag_mean = diag.mean(-1);     // [B, C]
  const auto row_mean = t.mean(-1);         // [B, C, m]: row i averaged over j
  const auto col_mean = t.mean(-2);         // [B, C, m]: column j averaged over i
  const auto all_mean = t.mean({-2, -1});   // [B, C]
  const auto eye = torch::eye(m, t.options());
  return torch::stack(
      {
          on_diagonal(diag),               // 1  the diagonal kept
          everywhere(diag_mean, m) * eye,  // 2  its mean on the diagonal
          on_diagonal(row_mean),           // 3  row means on the diagonal
          on_diagonal(col_mean),           // 4  column means on the diagonal
          everywhere(all_mean, m) * eye,   // 5  the total mean on the diagonal
          t,                               // 6  identity
          t.transpose(-2, -1),             // 7  transpose
          along_rows(diag, m),             // 8  diagonal along rows
          along_columns(diag, m),          // 9  diagonal along columns
          along_rows(row_mean, m),         // 10 row means along rows
          along_columns(row_mean, m),      // 11 row means along columns
          along_rows(col_mean, m),         // 12 column means along rows
          along_columns(col_mean, m),      // 13 column means along columns
          everywhere(diag_mean, m),        // 14 the diagonal's mean everywhere
          everywhere(all_mean, m),         // 15 the total mean everywhere
      },
      2);
}

torch::Tensor basis_2_to_1(const torch::Tensor& t) {
  const int64_t m = t.size(-1);
  const auto diag = t.diagonal(0, -2, -1);
  return torch::stack(
      {diag, every_node(diag.mean(-1), m), t.mean(-1), t.mean(-2), every_node(t.mean({-2, -1}), m)},
      2);
}

torch::Tensor basis_1_to_2(const torch::Tensor& v) {
  const int64_t m = v.size(-1);
  const auto mean = v.mean(-1);
  return torch::stack({on_diagonal(v), everywhere(mean, m) * torch::eye(m, v.options()),
                       along_rows(v, m), along_columns(v, m), everywhere(mean, m)},
                      2);
}

torch::Tensor basis_1_to_1(const torch::Tensor& v) {
  return torch::stack({v, every_node(v.mean(-1), v.size(-1))}, 2);
}

torch::Tensor basis_2_to_0(const torch::Tensor& t) {
  return torch::stack({t.diagonal(0, -2, -1).mean(-1), t.mean({-2, -1})}, 2);
}

torch::Tensor basis_1_to_0(const torch::Tensor& v) { return v.mean(-1).unsqueeze(2); }

}  // namespace flowlab::ops::spen
