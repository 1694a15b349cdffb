#include "ops/pc/chow_liu.h"

#include <cmath>
#include <limits>
#include <queue>
#include <stdexcept>

namespace flowlab::ops::pc {

std::vector<double> mutual_information(const uint8_t* data, int64_t n, int32_t d, int32_t values,
                                       int32_t bins, double pseudocount) {
  if (values % bins != 0)
    throw std::invalid_argument("mutual_information: bins must divide values");
  const int32_t width = values / bins;
  const size_t cells = static_cast<size_t>(bins) * bins;
  // Joint counts of every pair i < j, one bins x bins table each.
  std::vector<uint32_t> joint(static_cast<size_t>(d) * (d - 1) / 2 * cells, 0);
  std::vector<int32_t> b(d);
  for (int64_t s = 0; s < n; ++s) {
    const uint8_t* row = data + s * d;
    for (int32_t i = 0; i < d; ++i) b[i] = row[i] / width;
    size_t pair = 0;
    for (int32_t i = 0; i < d; ++i)
      for (int32_t j = i + 1; j < d; ++j, ++pair) ++joint[pair * cells + b[i] * bins + b[j]];
  }
  std::vector<double> mi(static_cast<size_t>(d) * d, 0.0);
  std::vector<double> pi(bins), pj(bins);
  const double total = static_cast<double>(n) + pseudocount * static_cast<double>(cells);
  size_t pair = 0;
  for (int32_t i = 0; i < d; ++i)
    for (int32_t j = i + 1; j < d; ++j, ++pair) {
      const uint32_t* t = &joint[pair * cells];
      std::fill(pi.begin(), pi.end(), 0.0);
      std::fill(pj.begin(), pj.end(), 0.0);
      for (int32_t x = 0; x < bins; ++x)
        for (int32_t y = 0; y < bins; ++y) {
          const double p = (t[x * bins + y] + pseudocount) / total;
          pi[x] += p, pj[y] += p;
        }
      double sum = 0;
      for (int32_t x = 0; x < bins; ++x)
        for (int32_t y = 0; y < bins; ++y) {
          const double p = (t[x * bins + y] + pseudocount) / total;
          if (p > 0) sum += p * std::log(p / (pi[x] * pj[y]));
        }
      mi[static_cast<size_t>(i) * d + j] = mi[static_cast<size_t>(j) * d + i] = sum;
    }
  return mi;
}

std::vector<int32_t> max_spanning_tree(const std::vector<double>& weight, int32_t d) {
  if (d < 1 || weight.size() != static_cast<size_t>(d) * d)
    throw std::invalid_argument("max_spanning_tree: weight must be d x d");
  // Prim from node 0: the tree's edges, then rooted afresh at a centre.
  std::vector<std::vector<int32_t>> adjacent(d);
  std::vector<double> best(d, -std::numeric_limits<double>::infinity());
  std::vector<int32_t> link(d, -1);
  std::vector<bool> in(d, false);
  best[0] = 0;
  for (int32_t step = 0; step < d; ++step) {
    int32_t u = -1;
    for (int32_t v = 0; v < d; ++v)
      if (!in[v] && (u < 0 || best[v] > best[u])) u = v;
    in[u] = true;
    if (link[u] >= 0) adjacent[u].push_back(link[u]), adjacent[link[u]].push_back(u);
    for (int32_t v = 0; v < d; ++v)
      if (!in[v] && weight[static_cast<size_t>(u) * d + v] > best[v])
        best[v] = weight[static_cast<size_t>(u) * d + v], link[v] = u;
  }
  // A centre: the middle of a longest path (two breadth-first sweeps).
  auto farthest = [&](int32_t from, std::vector<int32_t>& parent) {
    std::vector<int32_t> dist(d, -1);
    parent.assign(d, -1);
    std::queue<int32_t> q;
    q.push(from), dist[from] = 0;
    int32_t last = from;
    while (!q.empty()) {
      const int32_t u = q.front();
      q.pop(), last = u;
      for (int32_t v : adjacent[u])
        if (dist[v] < 0) dist[v] = dist[u] + 1, parent[v] = u, q.push(v);
    }
    return std::pair{last, dist[last]};
  };
  std::vector<int32_t> parent;
  const auto [end_a, unused] = farthest(0, parent);
  const auto [end_b, length] = farthest(end_a, parent);
  int32_t centre = end_b;
  for (int32_t k = 0; k < length / 2; ++k) centre = parent[centre];
  farthest(centre, parent);  // parents toward the centre
  return parent;
}

std::vector<int32_t> depth_first_order(const std::vector<int32_t>& parent) {
  const auto d = static_cast<int32_t>(parent.size());
  std::vector<std::vector<int32_t>> children(d);
  std::vector<int32_t> order, stack;
  for (int32_t v = d; v-- > 0;) {  // reversed, so the stack pops lower indices first
    if (parent[v] < -1 || parent[v] >= d)
      throw std::invalid_argument("depth_first_order: a parent is not a node");
    if (parent[v] < 0)
      stack.push_back(v);
    else
      children[parent[v]].push_back(v);
  }
  while (!stack.empty()) {
    const int32_t u = stack.back();
    stack.pop_back();
    order.push_back(u);
    stack.insert(stack.end(), children[u].begin(), children[u].end());
    if (static_cast<int32_t>(order.size()) > d) break;  // a cycle: caught below
  }
  if (static_cast<int32_t>(order.size()) != d)
    throw std::invalid_argument("depth_first_order: the parents do not form a forest");
  return order;
}

}  // namespace flowlab::ops::pc
