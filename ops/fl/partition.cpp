#include "ops/fl/partition.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include <fmt/format.h>

#include "common/error.h"

namespace flowlab::ops::fl {

uint64_t mix_seed(std::initializer_list<uint64_t> parts) {
  uint64_t state = 0x9e3779b97f4a7c15ULL;
  for (uint64_t part : parts) {
    state ^= part + 0x9e3779b97f4a7c15ULL + (state << 6) + (state >> 2);
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);  // splitmix64
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    state = z ^ (z >> 31);
  }
  return state;
}

namespace {

// Fisher-Yates with std::mt19937_64 and a modulo-free bounded draw, so the permutation is the
// same on every standard library (std::shuffle's use of the engine is unspecified).
uint64_t bounded(std::mt19937_64& rng, uint64_t n) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t v;
  do v = rng();
  while (v >= limit);
  return v % n;
}

template <class T>
void shuffle(std::vector<T>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[bounded(rng, i)]);
}

}  // namespace

std::vector<std::vector<int64_t>> partition_clients(const std::vector<int64_t>& labels,
                                                    int64_t clients, const std::string& scheme,
                                                    double alpha, uint64_t seed) {
  if (clients < 1) throw RunError(fmt::format("clients must be >= 1, got {}", clients));
  std::mt19937_64 rng(mix_seed({seed, 0x7061727469ULL}));
  std::vector<std::vector<int64_t>> shards(clients);
  if (scheme == "iid") {
    std::vector<int64_t> order(labels.size());
    std::iota(order.begin(), order.end(), 0);
    shuffle(order, rng);
    const int64_t n = static_cast<int64_t>(order.size());
    for (int64_t c = 0; c < clients; ++c)
      shards[c].assign(order.begin() + c * n / clients, order.begin() + (c + 1) * n / clients);
  } else if (scheme == "dirichlet") {
    if (!(alpha > 0)) throw RunError(fmt::format("dirichlet alpha must be > 0, got {}", alpha));
    std::map<int64_t, std::vector<int64_t>> by_class;
    for (size_t i = 0; i < labels.size(); ++i) by_class[labels[i]].push_back(int64_t(i));
    std::gamma_distribution<double> gamma(alpha, 1.0);
    for (auto& [label, members] : by_class) {
      shuffle(members, rng);
      std::vector<double> share(clients);
      double total = 0;
      for (auto& s : share) total += (s = gamma(rng));
      if (!(total > 0)) std::fill(share.begin(), share.end(), total = 1.0);  // all underflowed
      double cumulative = 0;
      size_t begin = 0;
      for (int64_t c = 0; c < clients; ++c) {
        cumulative += share[c] / total;
        const size_t end =
            c + 1 == clients ? members.size()
                             : std::min(members.size(),
                                        size_t(std::llround(cumulative * double(members.size()))));
        if (end > begin)
          shards[c].insert(shards[c].end(), members.begin() + begin, members.begin() + end);
        begin = std::max(begin, end);
      }
    }
  } else {
    throw RunError(fmt::format("unknown partition '{}': expected iid or dirichlet", scheme));
  }
  for (auto& s : shards) std::sort(s.begin(), s.end());
  return shards;
}

std::vector<int64_t> sample_clients(int64_t clients, int64_t per_round, uint64_t seed,
                                    int64_t round) {
  if (per_round < 1 || per_round > clients)
    throw RunError(
        fmt::format("clients_per_round must be in [1, clients = {}], got {}", clients, per_round));
  std::mt19937_64 rng(mix_seed({seed, 0x726f756e64ULL, uint64_t(round)}));
  std::vector<int64_t> all(clients);
  std::iota(all.begin(), all.end(), 0);
  // A partial Fisher-Yates: the first per_round positions are a uniform sample.
  for (int64_t i = 0; i < per_round; ++i)
    std::swap(all[i], all[i + int64_t(bounded(rng, uint64_t(clients - i)))]);
  all.resize(per_round);
  std::sort(all.begin(), all.end());
  return all;
}

}  // namespace flowlab::ops::fl
