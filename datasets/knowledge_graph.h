#pragma once
// The `dataset.triples` artifact: a knowledge graph of (head, relation, tail) triples over named
// entities and relations, split into train / valid / test. Torch-free, so the WordNet builder,
// the file reader and the split are tested in unit_core.
//
// Link prediction follows the NFE reference code (and most 1-N scoring models since ConvE): every
// triple (h, r, t) is also read as the query (t, r + R, h) with an inverse relation, and only
// tails are predicted. The helpers below give those queries and the filter of known true tails.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "graph/artifact.h"

namespace flowlab::datasets {

struct Triple {
  int32_t head = 0, relation = 0, tail = 0;
  bool operator==(const Triple& o) const {
    return head == o.head && relation == o.relation && tail == o.tail;
  }
  bool operator<(const Triple& o) const {
    if (head != o.head) return head < o.head;
    if (relation != o.relation) return relation < o.relation;
    return tail < o.tail;
  }
};

struct KnowledgeGraph : Artifact {
  std::vector<std::string> entities;       // ids ("00001740-n": a WordNet synset)
  std::vector<std::string> entity_labels;  // readable names ("entity"); empty: the ids
  std::vector<std::string> relations;      // base relations, without the inverses
  std::vector<Triple> train, valid, test;

  static constexpr const char* kType = "dataset.triples";
  std::string type() const override { return kType; }
  void save(const std::filesystem::path& dir) const override;
  static ArtifactPtr load(const std::filesystem::path& dir);

  int64_t num_entities() const { return static_cast<int64_t>(entities.size()); }
  int64_t num_relations() const { return static_cast<int64_t>(relations.size()); }
  const std::vector<Triple>& split(const std::string& name) const;  // "train", "valid", "test"
  std::string label(int32_t entity) const;
  /// Throws RunError when a triple names an entity or relation out of range.
  void check() const;
};

/// Each triple as two tail queries: (h, r, t) and (t, r + num_relations, h), interleaved as in
/// the NFE reference code.
std::vector<Triple> with_inverses(const std::vector<Triple>& triples, int32_t num_relations);

/// Every true tail of each query (h, r) over the given triples (already with inverses): the
/// filter of filtered ranking. Tails are sorted and unique.
class KnownTails {
 public:
  KnownTails(const std::vector<const std::vector<Triple>*>& sets, int32_t num_query_relations);
  const std::vector<int32_t>& of(int32_t head, int32_t relation) const;

 private:
  int64_t key(int32_t head, int32_t relation) const {
    return static_cast<int64_t>(head) * relations_ + relation;
  }
  int32_t relations_;
  std::unordered_map<int64_t, std::vector<int32_t>> tails_;
  std::vector<int32_t> none_;
};

/// A seeded random split of `triples` (which must be unique) into train / valid / test with the
/// given fractions of the total. A valid or test triple whose head, tail or relation does not
/// occur in train moves to train (repeated until none does), so no entity is evaluated without
/// having been trained: the split is slightly more train-heavy than asked for.
struct Split {
  std::vector<Triple> train, valid, test;
};
Split split_triples(std::vector<Triple> triples, double valid_fraction, double test_fraction,
                    uint64_t seed);

/// Triples per relation in one split (relation index -> count).
std::vector<int64_t> relation_counts(const std::vector<Triple>& triples, int64_t num_relations);

/// The user's own graph in the usual text format (WN18RR's and FB15k-237's train.txt): one triple
/// per line, `head<TAB>relation<TAB>tail` with any names; blank lines and lines starting with '#'
/// are skipped. Entities and relations are numbered in order of first appearance, train first.
/// A line without exactly three tab-separated fields is an error naming the file and line.
KnowledgeGraph read_triple_files(const std::filesystem::path& train,
                                 const std::filesystem::path& valid,
                                 const std::filesystem::path& test);

}  // namespace flowlab::datasets
