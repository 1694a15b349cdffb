#include "datasets/wordnet.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>

#include "common/error.h"
#include "common/text.h"

namespace flowlab::datasets::wordnet {
namespace fs = std::filesystem;

namespace {

char fold_satellite(char pos) { return pos == 's' ? 'a' : pos; }

bool is_offset(const std::string& s) {
  return s.size() == 8 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

const char* file_of(char pos) {
  switch (pos) {
    case 'n':
      return "data.noun";
    case 'v':
      return "data.verb";
    case 'a':
      return "data.adj";
    case 'r':
      return "data.adv";
  }
  throw RunError(fmt::format("unknown part of speech '{}' (n, v, a or r)", pos));
}

}  // namespace

Synset parse_data_line(const std::string& line, const std::string& file, int line_number) {
  // The gloss after '|' is free text; everything before it is space-separated fields.
  const std::string fields_text = line.substr(0, line.find('|'));
  std::istringstream in(fields_text);
  std::vector<std::string> f;
  for (std::string w; in >> w;) f.push_back(w);
  size_t i = 0;
  auto fail = [&](const std::string& what) -> RunError {
    return RunError(
        fmt::format("{}:{}: {} (field {}); expected a WordNet data line: offset "
                    "lex_filenum ss_type w_cnt word lex_id ... p_cnt pointers ...",
                    file, line_number, what, i + 1));
  };
  auto next = [&](const char* what) -> const std::string& {
    if (i >= f.size()) throw fail(fmt::format("the line ends before {}", what));
    return f[i++];
  };
  Synset s;
  const std::string offset = next("the synset offset");
  if (!is_offset(offset)) throw fail("'" + offset + "' is not an 8-digit synset offset");
  next("lex_filenum");
  const std::string ss_type = next("ss_type");
  if (ss_type.size() != 1 || std::string("nvasr").find(ss_type[0]) == std::string::npos)
    throw fail("ss_type '" + ss_type + "' is not one of n, v, a, s, r");
  s.pos = fold_satellite(ss_type[0]);
  s.id = offset + "-" + s.pos;
  const std::string w_cnt = next("w_cnt");
  char* end = nullptr;
  const long words = std::strtol(w_cnt.c_str(), &end, 16);  // two hexadecimal digits
  if (*end != '\0' || words < 1) throw fail("w_cnt '" + w_cnt + "' is not a hexadecimal count");
  for (long w = 0; w < words; ++w) {
    const std::string& word = next("a word");
    if (w == 0) s.lemma = word;
    next("a lex_id");
  }
  const std::string p_cnt = next("p_cnt");
  const auto pointers = parse_int64(p_cnt);
  if (!pointers || *pointers < 0) throw fail("p_cnt '" + p_cnt + "' is not a count");
  for (int64_t k = 0; k < *pointers; ++k) {
    Pointer p;
    p.symbol = next("a pointer symbol");
    const std::string target = next("a pointer's offset");
    if (!is_offset(target)) throw fail("'" + target + "' is not an 8-digit synset offset");
    const std::string pos = next("a pointer's part of speech");
    if (pos.size() != 1 || std::string("nvasr").find(pos[0]) == std::string::npos)
      throw fail("pointer part of speech '" + pos + "' is not one of n, v, a, s, r");
    next("a pointer's source/target");
    p.target = target + "-" + fold_satellite(pos[0]);
    s.pointers.push_back(std::move(p));
  }
  return s;
}

std::vector<Synset> read_synsets(const fs::path& dir, const std::vector<char>& pos) {
  std::vector<Synset> out;
  for (char p : pos) {
    const fs::path path = dir / file_of(p);
    std::ifstream in(path);
    if (!in)
      throw RunError(fmt::format(
          "cannot read {}: the WordNet 3.0 database is not there (Debian: apt install "
          "wordnet-base; or set params.path to a directory holding data.noun, data.verb, ...)",
          path.string()));
    int line_number = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_number;
      if (line.empty() || line[0] == ' ') continue;  // the license header
      out.push_back(parse_data_line(line, path.string(), line_number));
    }
  }
  return out;
}

const std::vector<Relation>& wn18rr_relations() {
  static const std::vector<Relation> relations = {
      {"_hypernym", "@", false},
      {"_derivationally_related_form", "+", true},
      {"_instance_hypernym", "@i", false},
      {"_also_see", "^", true},
      {"_member_meronym", "%m", false},
      {"_synset_domain_topic_of", ";c", false},
      {"_has_part", "%p", false},
      {"_member_of_domain_usage", "-u", false},
      {"_member_of_domain_region", "-r", false},
      {"_verb_group", "$", true},
      {"_similar_to", "&", true},
  };
  return relations;
}

const std::vector<std::string>& wn18_inverse_symbols() {
  static const std::vector<std::string> symbols = {"~", "~i", "#m", "#p", "-c", ";u", ";r"};
  return symbols;
}

KnowledgeGraph build_graph(const std::vector<Synset>& synsets, const GraphOptions& o) {
  // The chosen relations (by name, in the given order).
  std::vector<const Relation*> chosen;
  std::vector<std::string> names;
  for (const auto& r : wn18rr_relations()) names.push_back(r.name);
  for (const auto& name : o.relations.empty() ? names : o.relations) {
    auto it = std::find_if(wn18rr_relations().begin(), wn18rr_relations().end(),
                           [&](const Relation& r) { return r.name == name; });
    if (it == wn18rr_relations().end())
      throw RunError(
          fmt::format("unknown WN18RR relation '{}' (one of: {})", name, join(names, ", ")));
    chosen.push_back(&*it);
  }
  std::map<std::string, int32_t> relation_of;  // symbol -> index among the chosen
  for (size_t k = 0; k < chosen.size(); ++k)
    relation_of[chosen[k]->symbol] = static_cast<int32_t>(k);

  // Connectivity over WN18's 18 relations, among the synsets read.
  std::unordered_map<std::string, size_t> index;
  for (size_t k = 0; k < synsets.size(); ++k) index.emplace(synsets[k].id, k);
  std::set<std::string> wn18;
  for (const auto& r : wn18rr_relations()) wn18.insert(r.symbol);
  for (const auto& s : wn18_inverse_symbols()) wn18.insert(s);
  std::set<std::tuple<size_t, std::string, size_t>> wn18_triples;
  for (size_t k = 0; k < synsets.size(); ++k)
    for (const auto& p : synsets[k].pointers) {
      auto t = index.find(p.target);
      if (wn18.count(p.symbol) && t != index.end()) wn18_triples.emplace(k, p.symbol, t->second);
    }
  std::vector<int64_t> degree(synsets.size(), 0);
  for (const auto& [h, symbol, t] : wn18_triples) ++degree[h], ++degree[t];
  std::vector<size_t> kept;
  for (size_t k = 0; k < synsets.size(); ++k)
    if (degree[k] >= o.min_degree) kept.push_back(k);
  if (o.max_entities > 0 && static_cast<int64_t>(kept.size()) > o.max_entities) {
    std::stable_sort(kept.begin(), kept.end(), [&](size_t a, size_t b) {
      return degree[a] != degree[b] ? degree[a] > degree[b] : synsets[a].id < synsets[b].id;
    });
    kept.resize(static_cast<size_t>(o.max_entities));
  }
  std::vector<char> keep(synsets.size(), 0);
  for (size_t k : kept) keep[k] = 1;

  // The typed triples among kept synsets, then entities numbered in id order.
  std::set<std::tuple<size_t, int32_t, size_t>> typed;
  for (size_t k = 0; k < synsets.size(); ++k) {
    if (!keep[k]) continue;
    for (const auto& p : synsets[k].pointers) {
      auto r = relation_of.find(p.symbol);
      auto t = index.find(p.target);
      if (r != relation_of.end() && t != index.end() && keep[t->second] && t->second != k)
        typed.emplace(k, r->second, t->second);
    }
  }
  std::set<size_t> used;
  for (const auto& [h, r, t] : typed) used.insert(h), used.insert(t);
  std::vector<size_t> order(used.begin(), used.end());
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return synsets[a].id < synsets[b].id; });
  std::unordered_map<size_t, int32_t> entity_of;
  KnowledgeGraph g;
  for (size_t k : order) {
    entity_of[k] = static_cast<int32_t>(g.entities.size());
    g.entities.push_back(synsets[k].id);
    g.entity_labels.push_back(synsets[k].lemma);
  }
  for (const auto* r : chosen) g.relations.push_back(r->name);
  std::vector<Triple> triples;
  for (const auto& [h, r, t] : typed) triples.push_back({entity_of[h], r, entity_of[t]});
  std::sort(triples.begin(), triples.end());
  if (triples.empty())
    throw RunError(
        "no triples left: the filters (min_degree, max_entities, pos, relations) "
        "removed every synset or relation");
  Split s = split_triples(std::move(triples), o.valid_fraction, o.test_fraction, o.seed);
  g.train = std::move(s.train), g.valid = std::move(s.valid), g.test = std::move(s.test);
  return g;
}

}  // namespace flowlab::datasets::wordnet
