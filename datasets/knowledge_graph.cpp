#include "datasets/knowledge_graph.h"

#include <algorithm>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "common/error.h"
#include "common/file_io.h"
#include "common/text.h"

namespace flowlab::datasets {
namespace fs = std::filesystem;

namespace {

// The cached form: names one per line, triples as "h r t" index lines (fast to read back).
void write_names(const fs::path& path, const std::vector<std::string>& names) {
  std::string text;
  for (const auto& n : names) text += n + "\n";
  write_text_file(path, text);
}

std::vector<std::string> read_names(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw RunError("cannot read " + path.string());
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) names.push_back(line);
  return names;
}

void write_triples(const fs::path& path, const std::vector<Triple>& triples) {
  std::string text;
  text.reserve(triples.size() * 20);
  for (const auto& t : triples) text += fmt::format("{} {} {}\n", t.head, t.relation, t.tail);
  write_text_file(path, text);
}

std::vector<Triple> read_triples(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw RunError("cannot read " + path.string());
  std::vector<Triple> out;
  Triple t;
  while (in >> t.head >> t.relation >> t.tail) out.push_back(t);
  if (!in.eof()) throw RunError("malformed triple in " + path.string());
  return out;
}

}  // namespace

void KnowledgeGraph::save(const fs::path& dir) const {
  write_names(dir / "entities.txt", entities);
  write_names(dir / "entity_labels.txt", entity_labels);
  write_names(dir / "relations.txt", relations);
  write_triples(dir / "train.txt", train);
  write_triples(dir / "valid.txt", valid);
  write_triples(dir / "test.txt", test);
}

ArtifactPtr KnowledgeGraph::load(const fs::path& dir) {
  auto g = std::make_shared<KnowledgeGraph>();
  g->entities = read_names(dir / "entities.txt");
  g->entity_labels = read_names(dir / "entity_labels.txt");
  g->relations = read_names(dir / "relations.txt");
  g->train = read_triples(dir / "train.txt");
  g->valid = read_triples(dir / "valid.txt");
  g->test = read_triples(dir / "test.txt");
  g->check();
  return g;
}

const std::vector<Triple>& KnowledgeGraph::split(const std::string& name) const {
  if (name == "train") return train;
  if (name == "valid") return valid;
  if (name == "test") return test;
  throw RunError("no split '" + name + "' (train, valid or test)");
}

std::string KnowledgeGraph::label(int32_t entity) const {
  if (entity >= 0 && static_cast<size_t>(entity) < entity_labels.size() &&
      !entity_labels[entity].empty())
    return entity_labels[entity];
  return entities.at(entity);
}

void KnowledgeGraph::check() const {
  for (const auto* set : {&train, &valid, &test})
    for (const auto& t : *set)
      if (t.head < 0 || t.head >= num_entities() || t.tail < 0 || t.tail >= num_entities() ||
          t.relation < 0 || t.relation >= num_relations())
        throw RunError(fmt::format("triple ({}, {}, {}) is out of range: {} entities, {} relations",
                                   t.head, t.relation, t.tail, num_entities(), num_relations()));
}

std::vector<Triple> with_inverses(const std::vector<Triple>& triples, int32_t num_relations) {
  std::vector<Triple> out;
  out.reserve(triples.size() * 2);
  for (const auto& t : triples) {
    out.push_back(t);
    out.push_back({t.tail, t.relation + num_relations, t.head});
  }
  return out;
}

KnownTails::KnownTails(const std::vector<const std::vector<Triple>*>& sets,
                       int32_t num_query_relations)
    : relations_(num_query_relations) {
  for (const auto* set : sets)
    for (const auto& t : *set) tails_[key(t.head, t.relation)].push_back(t.tail);
  for (auto& [k, v] : tails_) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  }
}

const std::vector<int32_t>& KnownTails::of(int32_t head, int32_t relation) const {
  auto it = tails_.find(key(head, relation));
  return it == tails_.end() ? none_ : it->second;
}

Split split_triples(std::vector<Triple> triples, double valid_fraction, double test_fraction,
                    uint64_t seed) {
  if (valid_fraction < 0 || test_fraction < 0 || valid_fraction + test_fraction >= 1)
    throw RunError(fmt::format("valid_fraction ({}) + test_fraction ({}) must be below 1",
                               valid_fraction, test_fraction));
  // Fisher-Yates with our own index draws: std::shuffle's sequence differs between libraries.
  std::mt19937_64 rng(seed);
  for (size_t i = triples.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(rng() % i);
    std::swap(triples[i - 1], triples[j]);
  }
  const auto n = static_cast<double>(triples.size());
  const auto n_valid = static_cast<size_t>(std::llround(n * valid_fraction));
  const auto n_test = static_cast<size_t>(std::llround(n * test_fraction));
  Split s;
  s.valid.assign(triples.begin(), triples.begin() + n_valid);
  s.test.assign(triples.begin() + n_valid, triples.begin() + n_valid + n_test);
  s.train.assign(triples.begin() + n_valid + n_test, triples.end());

  // Move held-out triples that mention something unseen in train; moving one can make others
  // seen, so repeat until nothing moves (each pass only grows train).
  std::set<int32_t> entities, relations;
  for (const auto& t : s.train) entities.insert({t.head, t.tail}), relations.insert(t.relation);
  for (bool moved = true; moved;) {
    moved = false;
    for (auto* held : {&s.valid, &s.test}) {
      std::vector<Triple> keep;
      for (const auto& t : *held) {
        if (entities.count(t.head) && entities.count(t.tail) && relations.count(t.relation)) {
          keep.push_back(t);
        } else {
          s.train.push_back(t);
          entities.insert({t.head, t.tail}), relations.insert(t.relation);
          moved = true;
        }
      }
      *held = std::move(keep);
    }
  }
  return s;
}

std::vector<int64_t> relation_counts(const std::vector<Triple>& triples, int64_t num_relations) {
  std::vector<int64_t> counts(static_cast<size_t>(num_relations), 0);
  for (const auto& t : triples) ++counts.at(static_cast<size_t>(t.relation));
  return counts;
}

KnowledgeGraph read_triple_files(const fs::path& train, const fs::path& valid,
                                 const fs::path& test) {
  KnowledgeGraph g;
  std::unordered_map<std::string, int32_t> entity_ids, relation_ids;
  auto id = [](std::unordered_map<std::string, int32_t>& ids, std::vector<std::string>& names,
               const std::string& name) {
    auto [it, added] = ids.emplace(name, static_cast<int32_t>(names.size()));
    if (added) names.push_back(name);
    return it->second;
  };
  auto read = [&](const fs::path& path, std::vector<Triple>& out) {
    std::ifstream in(path);
    if (!in) throw RunError("cannot read " + path.string() + ": " + std::strerror(errno));
    std::set<Triple> seen;
    int line_number = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (trim(line).empty() || line[0] == '#') continue;
      std::vector<std::string> fields;
      std::stringstream ss(line);
      for (std::string f; std::getline(ss, f, '\t');) fields.push_back(f);
      if (fields.size() != 3 || fields[0].empty() || fields[1].empty() || fields[2].empty())
        throw RunError(fmt::format(
            "{}:{}: expected three tab-separated fields (head, relation, tail), got {}",
            path.string(), line_number,
            fields.size() == 1 ? std::string("one field") : std::to_string(fields.size())));
      Triple t{id(entity_ids, g.entities, fields[0]), id(relation_ids, g.relations, fields[1]),
               id(entity_ids, g.entities, fields[2])};
      if (seen.insert(t).second) out.push_back(t);  // a repeated line is one triple
    }
  };
  read(train, g.train);
  read(valid, g.valid);
  read(test, g.test);
  if (g.train.empty()) throw RunError(train.string() + " holds no triples");
  return g;
}

}  // namespace flowlab::datasets
