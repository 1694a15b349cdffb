#include "ops/pc/chow_liu_tree.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "ops/pc/chow_liu.h"

namespace flowlab::ops::pc {
namespace {

// The conditionals in the tree's order: each one is the row of the parent's value.
class TreeConditionals : public Conditionals {
 public:
  explicit TreeConditionals(const ChowLiuTree& t)
      : t_(t), known_(t.variables, -1), pmf_(t.values) {}

  const std::vector<double>& next() override {
    if (position_ >= t_.variables) throw std::out_of_range("every variable was observed");
    const int32_t v = t_.order[position_], p = t_.parent[v];
    if (p >= 0 && known_[p] < 0)
      throw std::logic_error("ChowLiuTree: a pixel comes before its parent in the coding order");
    t_.conditional_row(v, p >= 0 ? known_[p] : 0, pmf_.data());
    return pmf_;
  }

  void observe(uint8_t value) override {
    if (position_ >= t_.variables) throw std::out_of_range("every variable was observed");
    known_[t_.order[position_++]] = value;
  }

 private:
  const ChowLiuTree& t_;
  std::vector<int32_t> known_;  // each variable's value once observed, else -1
  std::vector<double> pmf_;
  int32_t position_ = 0;
};

}  // namespace

ChowLiuTree ChowLiuTree::fit(const std::vector<int32_t>& parent, const uint8_t* data, int64_t n,
                             int32_t values, double smoothing) {
  ChowLiuTree t;
  t.variables = static_cast<int32_t>(parent.size());
  t.values = values;
  t.smoothing = smoothing;
  t.samples = n;
  t.parent = parent;
  t.order = depth_first_order(parent);
  const int32_t d = t.variables;
  const auto row = [&](int32_t v, int32_t a) { return static_cast<size_t>(v) * values + a; };
  t.marginal.assign(static_cast<size_t>(d) * values, 1.0);  // Laplace's +1
  t.parent_count.assign(static_cast<size_t>(d) * values, 0);
  for (int64_t s = 0; s < n; ++s)
    for (int32_t v = 0; v < d; ++v) t.marginal[row(v, data[s * d + v])] += 1;
  for (auto& m : t.marginal) m /= static_cast<double>(n + values);
  // Pair counts one variable at a time in a dense table, kept where non-zero.
  std::vector<uint32_t> table(static_cast<size_t>(values) * values);
  t.row_start.assign(1, 0);
  for (int32_t v = 0; v < d; ++v) {
    const int32_t p = parent[v];
    if (p >= 0) {
      std::fill(table.begin(), table.end(), 0);
      for (int64_t s = 0; s < n; ++s)
        ++table[static_cast<size_t>(data[s * d + p]) * values + data[s * d + v]];
    }
    for (int32_t a = 0; a < values; ++a) {
      for (int32_t b = 0; p >= 0 && b < values; ++b)
        if (const uint32_t c = table[static_cast<size_t>(a) * values + b]; c > 0) {
          t.pair_value.push_back(static_cast<uint8_t>(b));
          t.pair_count.push_back(c);
          t.parent_count[row(v, a)] += c;
        }
      t.row_start.push_back(t.pair_value.size());
    }
  }
  return t;
}

void ChowLiuTree::conditional_row(int32_t v, int32_t a, double* out) const {
  const double* pv = &marginal[static_cast<size_t>(v) * values];
  if (parent[v] < 0) {
    std::copy_n(pv, values, out);
    return;
  }
  const size_t r = static_cast<size_t>(v) * values + a;
  const double scale = 1.0 / (parent_count[r] + smoothing);
  for (int32_t b = 0; b < values; ++b) out[b] = smoothing * pv[b] * scale;
  for (uint64_t k = row_start[r]; k < row_start[r + 1]; ++k)
    out[pair_value[k]] += pair_count[k] * scale;
}

double ChowLiuTree::log_likelihood(const uint8_t* x) const {
  double log_p = 0;
  for (int32_t v = 0; v < variables; ++v) {
    const double pv = marginal[static_cast<size_t>(v) * values + x[v]];
    if (parent[v] < 0) {
      log_p += std::log(pv);
      continue;
    }
    const size_t r = static_cast<size_t>(v) * values + x[parent[v]];
    const auto first = pair_value.begin() + static_cast<ptrdiff_t>(row_start[r]);
    const auto last = pair_value.begin() + static_cast<ptrdiff_t>(row_start[r + 1]);
    const auto it = std::lower_bound(first, last, x[v]);
    const double n_ab = it != last && *it == x[v] ? pair_count[it - pair_value.begin()] : 0.0;
    log_p += std::log((n_ab + smoothing * pv) / (parent_count[r] + smoothing));
  }
  return log_p;
}

void ChowLiuTree::check() const {
  const auto d = static_cast<size_t>(variables), rows = d * values;
  const auto fail = [](const std::string& what) {
    throw std::invalid_argument("Chow-Liu tree: " + what);
  };
  if (variables <= 0 || values <= 0 || values > 256 || !(smoothing > 0))
    fail("its sizes or smoothing are out of range");
  if (parent.size() != d || order != depth_first_order(parent))
    fail("the coding order is not the depth-first order of the tree");
  if (marginal.size() != rows || parent_count.size() != rows || row_start.size() != rows + 1 ||
      row_start.front() != 0 || row_start.back() != pair_value.size() ||
      pair_count.size() != pair_value.size())
    fail("its tables do not have the sizes of the tree");
  for (size_t r = 0; r < rows; ++r) {
    if (row_start[r] > row_start[r + 1]) fail("its pair rows are out of order");
    uint64_t sum = 0;
    for (uint64_t k = row_start[r]; k < row_start[r + 1]; ++k) {
      if (pair_value[k] >= values || (k > row_start[r] && pair_value[k] <= pair_value[k - 1]))
        fail("a pair row's values are not increasing");
      sum += pair_count[k];
    }
    if (sum != parent_count[r]) fail("a parent count is not the sum of its pairs");
  }
}

std::unique_ptr<Conditionals> ChowLiuTree::conditionals(bool /*incremental*/) const {
  return std::make_unique<TreeConditionals>(*this);
}

uint64_t ChowLiuTree::fingerprint() const {
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  const int32_t dims[2] = {variables, values};
  XXH3_64bits_update(state, dims, sizeof(dims));
  XXH3_64bits_update(state, &smoothing, sizeof(smoothing));
  XXH3_64bits_update(state, parent.data(), parent.size() * sizeof(int32_t));
  XXH3_64bits_update(state, marginal.data(), marginal.size() * sizeof(double));
  XXH3_64bits_update(state, row_start.data(), row_start.size() * sizeof(uint64_t));
  XXH3_64bits_update(state, pair_value.data(), pair_value.size());
  XXH3_64bits_update(state, pair_count.data(), pair_count.size() * sizeof(uint32_t));
  const uint64_t h = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return h;
}

}  // namespace flowlab::ops::pc
