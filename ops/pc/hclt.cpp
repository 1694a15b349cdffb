#include "ops/pc/hclt.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "ops/pc/chow_liu.h"

// Training and scoring (log_marginal, accumulate_counts) are compiled twice, for x86-64-v3 (AVX2,
// FMA) and the baseline, and the CPU picks at load time: about twice the throughput where AVX2 is
// there. Not the codec: its quantized distributions must come out bit for bit the same on every
// machine that decodes a file, whatever its CPU.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define FLOWLAB_PC_CPU_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define FLOWLAB_PC_CPU_CLONES
#endif

namespace flowlab::ops::pc {
namespace {

// Divides v by its sum and returns the sum (the scale taken out).
double normalize(double* v, int32_t n) {
  double s = 0;
  for (int32_t i = 0; i < n; ++i) s += v[i];
  if (s > 0)
    for (int32_t i = 0; i < n; ++i) v[i] /= s;
  return s;
}

// message[a] = Σ_b T[a][b] up[b] for the transition T of a non-root variable.
void to_parent(const double* t, const double* up, int32_t m, double* message) {
  for (int32_t a = 0; a < m; ++a) {
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int32_t b = 0; b < m; ++b) s += t[a * m + b] * up[b];
    message[a] = s;
  }
}

// down[b] = Σ_a outside[a] T[a][b]: rows scaled and added, so the inner loop vectorizes.
void to_child(const double* t, const double* outside, int32_t m, double* down) {
  std::fill(down, down + m, 0.0);
  for (int32_t a = 0; a < m; ++a) {
    const double w = outside[a];
    const double* row = t + static_cast<size_t>(a) * m;
#pragma omp simd
    for (int32_t b = 0; b < m; ++b) down[b] += w * row[b];
  }
}

}  // namespace

std::vector<std::vector<int32_t>> Hclt::children() const {
  std::vector<std::vector<int32_t>> c(variables);
  for (int32_t v = 0; v < variables; ++v)
    if (parent[v] >= 0) c[parent[v]].push_back(v);
  return c;
}

size_t Hclt::edges() const {
  size_t e = 0;
  for (int32_t v = 0; v < variables; ++v)
    e += static_cast<size_t>(states) * (parent[v] >= 0 ? states : 1) + states;
  return e;
}

Hclt Hclt::random(const std::vector<int32_t>& parent, int32_t states, int32_t values,
                  uint64_t seed) {
  Hclt c;
  c.variables = static_cast<int32_t>(parent.size());
  c.values = values;
  c.states = states;
  c.parent = parent;
  c.order = depth_first_order(parent);  // throws unless the parents form a forest
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.5, 1.5);
  auto fill = [&](std::vector<double>& p, size_t rows, int32_t width) {
    p.resize(rows * width);
    for (auto& x : p) x = u(rng);
    for (size_t r = 0; r < rows; ++r) normalize(&p[r * width], width);
  };
  fill(c.prior, c.variables, states);
  fill(c.transition, static_cast<size_t>(c.variables) * states, states);
  fill(c.emission, static_cast<size_t>(c.variables) * states, values);
  return c;
}

Hclt Hclt::quantized(const std::vector<int32_t>& parent, int32_t states, int32_t values,
                     const uint8_t* data, int64_t n, uint64_t seed) {
  Hclt c = random(parent, states, values, seed);  // sizes and order; every table refilled below
  const int32_t d = c.variables, m = states;
  std::vector<double> hist(static_cast<size_t>(d) * values, 0.0);
  for (int64_t s = 0; s < n; ++s)
    for (int32_t v = 0; v < d; ++v) hist[static_cast<size_t>(v) * values + data[s * d + v]] += 1;
  // level[v][x]: the level whose mass interval holds the middle of x's cumulative frequency.
  std::vector<int32_t> level(static_cast<size_t>(d) * values);
  for (int32_t v = 0; v < d; ++v) {
    double below = 0;
    for (int32_t x = 0; x < values; ++x) {
      const double h = hist[static_cast<size_t>(v) * values + x];
      const double middle = n > 0 ? (below + h / 2) / static_cast<double>(n) : 0.0;
      level[static_cast<size_t>(v) * values + x] =
          std::min(m - 1, static_cast<int32_t>(middle * m));
      below += h;
    }
  }
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  std::uniform_real_distribution<double> jitter(0.95, 1.05);
  const auto finish = [&](double* row, int32_t width) {
    for (int32_t i = 0; i < width; ++i) row[i] *= jitter(rng);
    normalize(row, width);
  };
  for (int32_t v = 0; v < d; ++v) {
    const double* h = &hist[static_cast<size_t>(v) * values];
    const int32_t* lv = &level[static_cast<size_t>(v) * values];
    for (int32_t z = 0; z < m; ++z) {
      double* e = &c.emission[(static_cast<size_t>(v) * m + z) * values];
      double mass = 0;
      for (int32_t x = 0; x < values; ++x) mass += e[x] = lv[x] == z ? h[x] : 0.0;
      for (int32_t x = 0; x < values; ++x)  // the marginal, Laplace-smoothed
        e[x] = (mass > 0 ? 0.9 * e[x] / mass : 0.0) +
               (mass > 0 ? 0.1 : 1.0) * (h[x] + 1) / (static_cast<double>(n) + values);
      finish(e, values);
    }
  }
  std::fill(c.transition.begin(), c.transition.end(), 1.0);
  std::fill(c.prior.begin(), c.prior.end(), 1.0);
  for (int64_t s = 0; s < n; ++s)
    for (int32_t v = 0; v < d; ++v) {
      const int32_t b = level[static_cast<size_t>(v) * values + data[s * d + v]];
      if (parent[v] < 0) {
        c.prior[static_cast<size_t>(v) * m + b] += 1;
      } else {
        const int32_t p = parent[v];
        const int32_t a = level[static_cast<size_t>(p) * values + data[s * d + p]];
        c.transition[(static_cast<size_t>(v) * m + a) * m + b] += 1;
      }
    }
  for (size_t r = 0; r < c.transition.size() / m; ++r) finish(&c.transition[r * m], m);
  for (int32_t v = 0; v < d; ++v) finish(&c.prior[static_cast<size_t>(v) * m], m);
  return c;
}

double Hclt::log_likelihood(const uint8_t* x) const {
  return log_marginal(x, std::vector<bool>(variables, true));
}

FLOWLAB_PC_CPU_CLONES
double Hclt::log_marginal(const uint8_t* x, const std::vector<bool>& observed) const {
  const int32_t m = states;
  // One upward pass, children before parents: acc[v] gathers p(x_v | z_v) (1 when unobserved)
  // and the messages of v's children.
  std::vector<double> acc(static_cast<size_t>(variables) * m, 1.0), msg(m);
  double log_p = 0;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const int32_t v = *it;
    double* a = &acc[static_cast<size_t>(v) * m];
    if (observed[v])
      for (int32_t z = 0; z < m; ++z)
        a[z] *= emission[(static_cast<size_t>(v) * m + z) * values + x[v]];
    if (parent[v] >= 0) {
      to_parent(&transition[static_cast<size_t>(v) * m * m], a, m, msg.data());
      log_p += std::log(normalize(msg.data(), m));
      double* up = &acc[static_cast<size_t>(parent[v]) * m];
      for (int32_t z = 0; z < m; ++z) up[z] *= msg[z];
    } else {
      double s = 0;
      for (int32_t z = 0; z < m; ++z) s += prior[static_cast<size_t>(v) * m + z] * a[z];
      log_p += std::log(s);
    }
  }
  return log_p;
}

EmCounts::EmCounts(const Hclt& c)
    : prior(c.prior.size(), 0.0),
      transition(c.transition.size(), 0.0),
      emission(c.emission.size(), 0.0) {}

void EmCounts::add(const EmCounts& o) {
  for (size_t i = 0; i < prior.size(); ++i) prior[i] += o.prior[i];
  for (size_t i = 0; i < transition.size(); ++i) transition[i] += o.transition[i];
  for (size_t i = 0; i < emission.size(); ++i) emission[i] += o.emission[i];
  log_likelihood += o.log_likelihood;
  samples += o.samples;
}

FLOWLAB_PC_CPU_CLONES
void accumulate_counts(const Hclt& c, const uint8_t* data, int64_t begin, int64_t end,
                       EmCounts& counts) {
  const int32_t m = c.states, d = c.variables;
  const auto kids = c.children();
  std::vector<double> message(static_cast<size_t>(d) * m), up(static_cast<size_t>(d) * m),
      down(static_cast<size_t>(d) * m), outside(m), post(m), pair(static_cast<size_t>(m) * m);
  for (int64_t s = begin; s < end; ++s) {
    const uint8_t* x = data + s * d;
    auto ev = [&](int32_t v, int32_t z) {
      return c.emission[(static_cast<size_t>(v) * m + z) * c.values + x[v]];
    };
    // Upward: up[v] = p(x in v's subtree | z_v) up to scale; messages to parents.
    double log_p = 0;
    for (auto it = c.order.rbegin(); it != c.order.rend(); ++it) {
      const int32_t v = *it;
      double* u = &up[static_cast<size_t>(v) * m];
      for (int32_t z = 0; z < m; ++z) {
        double e = ev(v, z);
        for (int32_t k : kids[v]) e *= message[static_cast<size_t>(k) * m + z];
        u[z] = e;
      }
      log_p += std::log(normalize(u, m));
      if (c.parent[v] >= 0) {
        double* msg = &message[static_cast<size_t>(v) * m];
        to_parent(&c.transition[static_cast<size_t>(v) * m * m], u, m, msg);
        log_p += std::log(normalize(msg, m));
      } else {
        double t = 0;
        for (int32_t z = 0; z < m; ++z) t += c.prior[static_cast<size_t>(v) * m + z] * u[z];
        log_p += std::log(t);
      }
    }
    counts.log_likelihood += log_p;
    ++counts.samples;
    // Downward, parents first: down[v] = p(z_v, x outside v's subtree) up to scale.
    for (int32_t v : c.order) {
      double* dv = &down[static_cast<size_t>(v) * m];
      const double* uv = &up[static_cast<size_t>(v) * m];
      if (c.parent[v] < 0) {
        for (int32_t z = 0; z < m; ++z) dv[z] = c.prior[static_cast<size_t>(v) * m + z];
      } else {
        const int32_t p = c.parent[v];
        const double* dp = &down[static_cast<size_t>(p) * m];
        for (int32_t a = 0; a < m; ++a) {
          double o = dp[a] * ev(p, a);
          for (int32_t k : kids[p])
            if (k != v) o *= message[static_cast<size_t>(k) * m + a];
          outside[a] = o;
        }
        const double* t = &c.transition[static_cast<size_t>(v) * m * m];
        // The edge's posterior p(z_p = a, z_v = b | x) ∝ outside(a) T[a][b] up_v(b).
        double total = 0;
        for (int32_t a = 0; a < m; ++a) {
          const double o = outside[a];
          const double* row = t + static_cast<size_t>(a) * m;
          double* out = &pair[static_cast<size_t>(a) * m];
#pragma omp simd reduction(+ : total)
          for (int32_t b = 0; b < m; ++b) total += out[b] = o * row[b] * uv[b];
        }
        double* tc = &counts.transition[static_cast<size_t>(v) * m * m];
        const double scale = 1.0 / total;
#pragma omp simd
        for (int32_t i = 0; i < m * m; ++i) tc[i] += pair[i] * scale;
        to_child(t, outside.data(), m, dv);
      }
      normalize(dv, m);
      for (int32_t z = 0; z < m; ++z) post[z] = dv[z] * uv[z];
      normalize(post.data(), m);
      for (int32_t z = 0; z < m; ++z) {
        counts.emission[(static_cast<size_t>(v) * m + z) * c.values + x[v]] += post[z];
        if (c.parent[v] < 0) counts.prior[static_cast<size_t>(v) * m + z] += post[z];
      }
    }
  }
}

void em_update(Hclt& c, const EmCounts& counts, double step, double pseudocount) {
  auto update = [&](std::vector<double>& p, const std::vector<double>& n, int32_t width) {
    std::vector<double> row(width);
    const double share = pseudocount / width;  // the distribution's pseudocount, spread evenly
    for (size_t r = 0; r < p.size() / width; ++r) {
      double s = 0;
      for (int32_t i = 0; i < width; ++i) s += row[i] = n[r * width + i] + share;
      if (!(s > 0)) continue;  // no evidence and no pseudocount: keep the old distribution
      for (int32_t i = 0; i < width; ++i)
        p[r * width + i] = (1 - step) * p[r * width + i] + step * row[i] / s;
    }
  };
  update(c.prior, counts.prior, c.states);
  update(c.transition, counts.transition, c.states);
  update(c.emission, counts.emission, c.values);
}

std::unique_ptr<Conditionals> Hclt::conditionals(bool incremental) const {
  return std::make_unique<PrefixConditionals>(*this, incremental);
}

uint64_t Hclt::fingerprint() const {
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  const int32_t dims[3] = {variables, values, states};
  XXH3_64bits_update(state, dims, sizeof(dims));
  XXH3_64bits_update(state, parent.data(), parent.size() * sizeof(int32_t));
  XXH3_64bits_update(state, order.data(), order.size() * sizeof(int32_t));
  for (const auto* p : {&prior, &transition, &emission})
    XXH3_64bits_update(state, p->data(), p->size() * sizeof(double));
  const uint64_t h = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return h;
}

PrefixConditionals::PrefixConditionals(const Hclt& c, bool incremental)
    : c_(c),
      incremental_(incremental),
      children_(c.children()),
      evidence_(static_cast<size_t>(c.variables) * c.states, 1.0),
      message_(static_cast<size_t>(c.variables) * c.states, 1.0),
      down_(static_cast<size_t>(c.variables) * c.states, 0.0),
      acc_(incremental ? static_cast<size_t>(c.variables) * c.states : 0, 1.0),
      pmf_(c.values),
      scratch_(c.states) {}

void PrefixConditionals::message_to_parent(int32_t v, const double* up, double* message) {
  const int32_t m = c_.states;
  to_parent(&c_.transition[static_cast<size_t>(v) * m * m], up, m, message);
  normalize(message, m);
}

void PrefixConditionals::finish_subtrees_before(int32_t v) {
  const int32_t m = c_.states, p = c_.parent[v];
  while (!open_.empty() && open_.back() != p) {
    const int32_t w = open_.back(), q = c_.parent[w];
    open_.pop_back();
    if (q < 0) continue;  // a finished tree of the forest
    message_to_parent(w, &acc_[static_cast<size_t>(w) * m], scratch_.data());
    double* acc = &acc_[static_cast<size_t>(q) * m];
    for (int32_t a = 0; a < m; ++a) acc[a] *= scratch_[a];
    normalize(acc, m);
  }
  if (p >= 0 && open_.empty())
    throw std::logic_error(
        "PrefixConditionals: the circuit's coding order is not a depth-first order of its tree");
}

// The reference: every message afresh from the evidence so far, then p(z, evidence outside v's
// subtree) down the path from v's root.
void PrefixConditionals::naive_down(int32_t v) {
  const int32_t m = c_.states;
  for (auto it = c_.order.rbegin(); it != c_.order.rend(); ++it) {
    const int32_t w = *it;
    if (c_.parent[w] < 0) continue;
    for (int32_t z = 0; z < m; ++z) {
      double e = evidence_[static_cast<size_t>(w) * m + z];
      for (int32_t k : children_[w]) e *= message_[static_cast<size_t>(k) * m + z];
      scratch_[z] = e;
    }
    message_to_parent(w, scratch_.data(), &message_[static_cast<size_t>(w) * m]);
  }
  std::vector<int32_t> path;
  for (int32_t w = v; w >= 0; w = c_.parent[w]) path.push_back(w);
  const int32_t root = path.back();
  std::copy_n(&c_.prior[static_cast<size_t>(root) * m], m, &down_[static_cast<size_t>(root) * m]);
  for (size_t k = path.size() - 1; k > 0; --k) {
    const int32_t p = path[k], w = path[k - 1];
    for (int32_t a = 0; a < m; ++a) {
      double o = down_[static_cast<size_t>(p) * m + a] * evidence_[static_cast<size_t>(p) * m + a];
      for (int32_t s : children_[p])
        if (s != w) o *= message_[static_cast<size_t>(s) * m + a];
      scratch_[a] = o;
    }
    double* dw = &down_[static_cast<size_t>(w) * m];
    to_child(&c_.transition[static_cast<size_t>(w) * m * m], scratch_.data(), m, dw);
    normalize(dw, m);
  }
  for (int32_t s : children_[v])
    for (int32_t z = 0; z < m; ++z)
      down_[static_cast<size_t>(v) * m + z] *= message_[static_cast<size_t>(s) * m + z];
}

const std::vector<double>& PrefixConditionals::next() {
  if (position_ >= c_.variables) throw std::out_of_range("every variable was observed");
  const int32_t m = c_.states, v = c_.order[position_], p = c_.parent[v];
  double* dv = &down_[static_cast<size_t>(v) * m];
  if (!incremental_) {
    naive_down(v);
  } else {
    finish_subtrees_before(v);
    if (p < 0) {
      std::copy_n(&c_.prior[static_cast<size_t>(v) * m], m, dv);
    } else {
      for (int32_t a = 0; a < m; ++a)
        scratch_[a] = down_[static_cast<size_t>(p) * m + a] * acc_[static_cast<size_t>(p) * m + a];
      to_child(&c_.transition[static_cast<size_t>(v) * m * m], scratch_.data(), m, dv);
      normalize(dv, m);
    }
    // v's children are unobserved: their messages are constant.
  }
  std::fill(pmf_.begin(), pmf_.end(), 0.0);
  for (int32_t z = 0; z < m; ++z) {
    const double w = dv[z];
    const double* e = &c_.emission[(static_cast<size_t>(v) * m + z) * c_.values];
#pragma omp simd
    for (int32_t x = 0; x < c_.values; ++x) pmf_[x] += w * e[x];
  }
  normalize(pmf_.data(), c_.values);
  prepared_ = position_;
  return pmf_;
}

void PrefixConditionals::observe(uint8_t value) {
  if (position_ >= c_.variables) throw std::out_of_range("every variable was observed");
  const int32_t m = c_.states, v = c_.order[position_];
  if (incremental_) {
    if (prepared_ != position_) next();  // v's down message, which its children start from
    double* acc = &acc_[static_cast<size_t>(v) * m];
    for (int32_t z = 0; z < m; ++z)
      acc[z] = c_.emission[(static_cast<size_t>(v) * m + z) * c_.values + value];
    normalize(acc, m);
    open_.push_back(v);
  }
  for (int32_t z = 0; z < m; ++z)
    evidence_[static_cast<size_t>(v) * m + z] =
        c_.emission[(static_cast<size_t>(v) * m + z) * c_.values + value];
  ++position_;
}

}  // namespace flowlab::ops::pc
