#pragma once
// WordNet 3.0 as a knowledge graph, the way WN18 and WN18RR were built: entities are synsets,
// triples are the pointers between them, and WN18RR's 11 relations are 11 pointer symbols (the
// inverse symbols, e.g. hyponym for hypernym, are left out: WN18RR removed them from WN18 so
// that test triples cannot be answered by reversing a training triple). Torch-free.
//
// Reads the database files Debian's `wordnet-base` installs (/usr/share/wordnet/data.noun, .verb,
// .adj, .adv; format: wndb(5)): one synset per line,
//   offset lex_filenum ss_type w_cnt (word lex_id)* p_cnt (symbol offset pos source/target)* ...
// A synset's id is its offset with its part of speech ("02084071-n"); adjective satellites (s)
// are adjectives (a), as in pointers.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "datasets/knowledge_graph.h"

namespace flowlab::datasets::wordnet {

struct Pointer {
  std::string symbol;  // "@", "%m", ...
  std::string target;  // synset id
};

struct Synset {
  std::string id;     // "02084071-n"
  char pos = 'n';     // n, v, a (satellites folded in), r
  std::string lemma;  // its first word ("dog")
  std::vector<Pointer> pointers;
};

/// Parses one data-file line (the license header's lines, which start with spaces, are not data
/// lines). Throws RunError "FILE:LINE: ..." naming what was expected where it is malformed.
Synset parse_data_line(const std::string& line, const std::string& file, int line_number);

/// Every synset of the data files for the parts of speech in `pos` (letters n, v, a, r) under
/// `dir`. A missing file is an error that says which package installs it.
std::vector<Synset> read_synsets(const std::filesystem::path& dir, const std::vector<char>& pos);

/// One WN18RR relation and the pointer symbol it is read from (h's line points to t).
struct Relation {
  std::string name;    // "_hypernym"
  std::string symbol;  // "@"
  bool symmetric;      // the relation holds both ways in WordNet (verb group, also see, ...)
};
/// WN18RR's 11 relations, in the order of its relation2id.txt.
const std::vector<Relation>& wn18rr_relations();
/// The 7 inverse symbols WN18 has besides those (hyponym "~", ...): counted for connectivity.
const std::vector<std::string>& wn18_inverse_symbols();

struct GraphOptions {
  std::vector<std::string> relations;  // names from wn18rr_relations(); empty: all 11
  /// Keep synsets that occur in at least this many WN18 triples (the 11 relations and the 7
  /// inverse symbols, among synsets of the chosen parts of speech).
  int64_t min_degree = 1;
  int64_t max_entities = 0;  // keep only the most connected ones (ties: lower id); 0: no cap
  double valid_fraction = 0.05, test_fraction = 0.05;
  uint64_t seed = 0;
};

/// The WN18RR-style graph: synsets filtered by connectivity, the typed triples of the chosen
/// relations among them (unique, self-loops dropped), synsets left without a triple dropped, and
/// a seeded split in which no valid/test triple mentions an entity unseen in train
/// (datasets::split_triples).
KnowledgeGraph build_graph(const std::vector<Synset>& synsets, const GraphOptions& options);

}  // namespace flowlab::datasets::wordnet
