#pragma once
// Who holds what in federated learning, and who takes part in a round. Torch-free, and a pure
// function of its seed, so that every process of a multi-process run derives the same shards and
// the same client sample without exchanging them.
#include <cstdint>
#include <string>
#include <vector>

namespace flowlab::ops::fl {

/// Splits example indices 0..labels.size()-1 into `clients` disjoint shards covering them all.
///   iid:       a seeded permutation cut into shards whose sizes differ by at most one;
///   dirichlet: label skew as in Hsu, Qi and Brown 2019: for each class, proportions over the
///              clients drawn from Dirichlet(alpha, ..., alpha) and that class's (shuffled)
///              examples cut accordingly. Small alpha: each client sees few classes.
/// Each shard is sorted. Throws RunError for an unknown scheme, clients < 1 or alpha <= 0.
std::vector<std::vector<int64_t>> partition_clients(const std::vector<int64_t>& labels,
                                                    int64_t clients, const std::string& scheme,
                                                    double alpha, uint64_t seed);

/// The `per_round` distinct clients of round `round` (1-based), sorted, drawn uniformly without
/// replacement from 0..clients-1 by a generator seeded with (seed, round) only.
std::vector<int64_t> sample_clients(int64_t clients, int64_t per_round, uint64_t seed,
                                    int64_t round);

/// A 64-bit seed mixed from several integers (splitmix64 steps), for per-round and per-client
/// generators that do not depend on the order in which clients are processed.
uint64_t mix_seed(std::initializer_list<uint64_t> parts);

}  // namespace flowlab::ops::fl
