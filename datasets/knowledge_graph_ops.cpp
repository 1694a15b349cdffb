// The knowledge-graph datasets: dataset.wordnet_kg (a WN18RR-style graph built from the WordNet
// 3.0 database) and dataset.kg_files (the user's own triples). Both report their entity,
// relation and triple counts per split and per relation, and write them as relations.csv.
#include <fmt/format.h>

#include "common/error.h"
#include "common/file_io.h"
#include "datasets/knowledge_graph.h"
#include "datasets/register.h"
#include "datasets/split_files.h"
#include "datasets/wordnet.h"

namespace flowlab::datasets {
namespace {

void report(OpContext& ctx, const KnowledgeGraph& g) {
  ctx.log_metric("entities", static_cast<double>(g.num_entities()));
  ctx.log_metric("relations", static_cast<double>(g.num_relations()));
  const char* names[] = {"train", "valid", "test"};
  std::vector<std::vector<int64_t>> counts;
  for (const char* split : names) {
    ctx.log_metric(fmt::format("{}_triples", split), static_cast<double>(g.split(split).size()));
    counts.push_back(relation_counts(g.split(split), g.num_relations()));
  }
  std::string csv = "relation,train,valid,test\n";
  for (int64_t r = 0; r < g.num_relations(); ++r) {
    csv += fmt::format("{},{},{},{}\n", g.relations[r], counts[0][r], counts[1][r], counts[2][r]);
    ctx.log_metric("train_triples/" + g.relations[r], static_cast<double>(counts[0][r]));
    ctx.log_metric("test_triples/" + g.relations[r], static_cast<double>(counts[2][r]));
  }
  const auto path = ctx.output_dir() / "relations.csv";
  write_text_file(path, csv);
  ctx.add_file(path, "table");
}

ArtifactPtr run_wordnet_kg(OpContext& ctx) {
  const Params& p = ctx.params();
  std::vector<char> pos;
  for (const auto& s : p.get_string_list("pos")) {
    if (s.size() != 1 || std::string("nvar").find(s[0]) == std::string::npos)
      throw RunError(fmt::format("pos: '{}' is not a part of speech (n, v, a or r)", s));
    pos.push_back(s[0]);
  }
  ctx.progress(0.0, "reading the WordNet database");
  const auto synsets = wordnet::read_synsets(p.get_string("path"), pos);
  ctx.check_cancelled();
  wordnet::GraphOptions o;
  o.relations = p.get_string_list("relations");
  o.min_degree = p.get_int("min_degree");
  o.max_entities = p.get_int("max_entities");
  o.valid_fraction = p.get_float("valid_fraction");
  o.test_fraction = p.get_float("test_fraction");
  o.seed = static_cast<uint64_t>(p.get_int("seed"));
  ctx.progress(0.5, fmt::format("building the graph over {} synsets", synsets.size()));
  auto g = std::make_shared<KnowledgeGraph>(wordnet::build_graph(synsets, o));
  report(ctx, *g);
  return g;
}

ArtifactPtr run_kg_files(OpContext& ctx) {
  const Params& p = ctx.params();
  const std::filesystem::path dir = p.get_string("path");
  auto g = std::make_shared<KnowledgeGraph>(read_triple_files(
      dir / p.get_string("train"), dir / p.get_string("valid"), dir / p.get_string("test")));
  // Held-out triples whose entities never occur in train are kept (WN18RR has 384 such
  // entities) and counted, since no model can rank them better than chance.
  std::vector<char> seen(static_cast<size_t>(g->num_entities()), 0);
  for (const auto& t : g->train) seen[t.head] = seen[t.tail] = 1;
  int64_t unseen = 0;
  for (const auto* set : {&g->valid, &g->test})
    for (const auto& t : *set) unseen += !seen[t.head] || !seen[t.tail];
  ctx.log_metric("heldout_triples_with_unseen_entities", static_cast<double>(unseen));
  report(ctx, *g);
  return g;
}

std::vector<std::string> relation_names() {
  std::vector<std::string> names;
  for (const auto& r : wordnet::wn18rr_relations()) names.push_back(r.name);
  return names;
}

}  // namespace

void register_knowledge_graphs(Registry& r) {
  r.add_type({KnowledgeGraph::kType,
              "a knowledge graph: named entities and relations, (head, relation, tail) triples "
              "split into train / valid / test",
              loader(&KnowledgeGraph::load)});
  {
    OpDef op;
    op.name = "dataset.wordnet_kg";
    op.summary =
        "a WN18RR-style knowledge graph built from WordNet 3.0: synsets, 11 pointer relations "
        "(inverses removed), filtered by connectivity, seeded train/valid/test split";
    op.version = 1;
    op.params = {
        string_param("path", "/usr/share/wordnet",
                     "directory of the WordNet 3.0 database files data.noun, data.verb, data.adj, "
                     "data.adv (Debian: wordnet-base)"),
        non_empty(string_list_param("pos", {"n", "v", "a", "r"},
                                    "parts of speech of the synsets kept: n, v, a (with "
                                    "satellites), r")),
        string_list_param("relations", relation_names(),
                          "WN18RR relations kept (pointer symbols: _hypernym @, "
                          "_derivationally_related_form +, _instance_hypernym @i, _also_see ^, "
                          "_member_meronym %m, _synset_domain_topic_of ;c, _has_part %p, "
                          "_member_of_domain_usage -u, _member_of_domain_region -r, _verb_group "
                          "$, _similar_to &)"),
        int_param("min_degree", 5,
                  "keep synsets in at least this many WN18 triples (its 18 relations: the 11 and "
                  "their inverses); 5 gives a graph of WN18RR's size",
                  1.0, 1e9),
        int_param("max_entities", 0,
                  "keep at most this many synsets, the most connected (0: no cap)", 0.0, 1e9),
        float_param("valid_fraction", 0.05, "share of the triples held out for validation", 0.0,
                    0.5),
        float_param("test_fraction", 0.05, "share of the triples held out for testing", 0.0, 0.5),
        inherited(int_param("seed", 0, "seed of the split (default: the spec's seed)", 0.0)),
    };
    op.output_type = KnowledgeGraph::kType;
    op.headline_metrics = {"entities", "train_triples", "valid_triples", "test_triples"};
    op.run = run_wordnet_kg;
    r.add(std::move(op));
  }
  {
    OpDef op;
    op.name = "dataset.kg_files";
    op.summary = "a knowledge graph from your own files: head<TAB>relation<TAB>tail per line";
    op.version = 1;
    op.params = split_file_params("triples");
    op.output_type = KnowledgeGraph::kType;
    op.headline_metrics = {"entities", "train_triples", "valid_triples", "test_triples"};
    op.run = run_kg_files;
    r.add(std::move(op));
  }
}

}  // namespace flowlab::datasets
