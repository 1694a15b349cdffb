// eval.link_prediction: filtered link prediction of a trained knowledge-graph embedding on the
// graph's test (or validation) triples, both directions (each triple's tail, and its head as the
// tail of the inverse query): MRR, MR, Hits@1/3/10 overall, per direction and per relation; the
// exact expectation of the same metrics under random scoring (the floor every model must clear);
// how symmetric each learned relation is (the correlation of score(h, r, t) with score(t, r, h)
// over pairs of 1,000 entities: 1 for a symmetric relation); and, for models whose relations are
// affine flows, how close each flow is to a symmetric one (f o f = id). Writes per_relation.csv
// and ranks.csv (every query's rank).
#include <fmt/format.h>
#include <torch/torch.h>

#include "common/error.h"
#include "common/file_io.h"
#include "common/text.h"
#include "datasets/knowledge_graph.h"
#include "ops/kge/kge_model.h"
#include "ops/kge/kge_network.h"
#include "ops/kge/ranking.h"
#include "ops/metrics_table.h"
#include "ops/torch_runtime.h"

namespace flowlab::ops::kge {
namespace {

using datasets::KnowledgeGraph;
using datasets::Triple;

// Pearson correlation of score(h, r, t) with score(t, r, h) over all ordered pairs h != t of up
// to 1,000 entities (a fixed seeded sample, the same for every model).
double score_symmetry(KgeNetwork& net, int64_t relation, int64_t entities) {
  torch::NoGradGuard no_grad;
  const auto device = net.entity_table().device();
  auto gen = at::detail::createCPUGenerator(0);
  const auto sample =
      torch::randperm(entities, gen, torch::kInt64).slice(0, 0, std::min<int64_t>(entities, 1000));
  const int64_t n = sample.size(0);
  const auto on_device = sample.to(device);
  const auto s =
      net.score_all(on_device, torch::full({n}, relation, torch::kInt64).to(device), on_device)
          .to(torch::kFloat64)
          .cpu();
  const auto off = torch::ones({n, n}, torch::kBool).logical_xor(torch::eye(n, torch::kBool));
  const auto x = s.masked_select(off), y = s.t().contiguous().masked_select(off);
  const auto xc = x - x.mean(), yc = y - y.mean();
  const double denominator = (xc.pow(2).sum() * yc.pow(2).sum()).sqrt().item<double>();
  return denominator > 0 ? (xc * yc).sum().item<double>() / denominator : 1.0;
}

ArtifactPtr run_link_prediction(OpContext& ctx) {
  const Params& p = ctx.params();
  auto model = ctx.input<KgeModel>("model");
  auto graph = ctx.input<KnowledgeGraph>("graph");
  const int64_t entities = graph->num_entities(), relations = graph->num_relations();
  if (model->record.input.entities != entities || model->base_relations != relations)
    throw RunError(fmt::format(
        "the model embeds {} entities and {} relations but the graph has {} and {}: it was "
        "trained on another graph",
        model->record.input.entities, model->base_relations, entities, relations));
  const std::string split = p.get_string("split");
  const auto R = static_cast<int32_t>(relations);
  const auto train = datasets::with_inverses(graph->train, R),
             valid = datasets::with_inverses(graph->valid, R),
             test = datasets::with_inverses(graph->test, R);
  const auto& queries = split == "test" ? test : valid;
  if (queries.empty()) throw RunError("the " + split + " split has no triples");
  const datasets::KnownTails known({&train, &valid, &test}, 2 * R);

  KgeNetwork& net = *model->network;
  net.to(torch::Device(resolve_device(p.get_string("device"))));
  net.eval();
  const auto ranks = filtered_ranks(net, queries, known, p.get_int("batch_size"), [&](size_t done) {
    ctx.check_cancelled();
    ctx.progress(static_cast<double>(done) / static_cast<double>(queries.size()),
                 fmt::format("ranked {}/{} queries", done, queries.size()));
  });

  auto table = std::make_shared<MetricsTable>();
  auto put = [&](const std::string& key, double value) {
    table->values[key] = value;
    ctx.log_metric(key, value);
  };
  auto put_summary = [&](const std::string& suffix, const RankSummary& s) {
    put("mrr" + suffix, s.mrr);
    put("mr" + suffix, s.mr);
    put("hits@1" + suffix, s.hits1);
    put("hits@3" + suffix, s.hits3);
    put("hits@10" + suffix, s.hits10);
  };
  put_summary("", summarize(ranks));
  const RankSummary chance = random_scoring(queries, known, entities);
  put("random_mrr", chance.mrr);
  put("random_hits@10", chance.hits10);
  put("queries", static_cast<double>(queries.size()));
  // Queries alternate: the triple's own tail (even index), then its head via the inverse.
  std::vector<size_t> tails, heads;
  for (size_t i = 0; i < queries.size(); ++i) (i % 2 == 0 ? tails : heads).push_back(i);
  put("mrr_tail", summarize(ranks, tails).mrr);
  put("mrr_head", summarize(ranks, heads).mrr);

  std::string csv =
      "relation,queries,mrr,hits@1,hits@3,hits@10,random_mrr,involution_residual,"
      "mean_scale\n";
  for (int32_t r = 0; r < R; ++r) {
    std::vector<size_t> of_r;
    std::vector<Triple> queries_r;
    for (size_t i = 0; i < queries.size(); ++i)
      if (queries[i].relation % R == r) of_r.push_back(i), queries_r.push_back(queries[i]);
    const std::string& name = graph->relations[r];
    const double symmetry = score_symmetry(net, r, entities);
    put("symmetry/" + name, symmetry);
    std::string involution, scale;
    if (auto flow = net.relation_flow(r)) {
      const double residual = flow->involution_residual();
      const double mean_a = flow->a.to(torch::kFloat64).mean().item<double>();
      put("involution/" + name, residual);
      put("mean_scale/" + name, mean_a);
      involution = fmt::format("{:.6g}", residual), scale = fmt::format("{:.6g}", mean_a);
    }
    if (of_r.empty()) {
      csv += fmt::format("{},0,,,,,,{:.6g},{},{}\n", csv_field(name), symmetry, involution, scale);
      continue;
    }
    const RankSummary s = summarize(ranks, of_r);
    put("mrr/" + name, s.mrr);
    put("hits@10/" + name, s.hits10);
    const double random_r = random_scoring(queries_r, known, entities).mrr;
    csv += fmt::format("{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{},{}\n", csv_field(name),
                       of_r.size(), s.mrr, s.hits1, s.hits3, s.hits10, random_r, involution, scale);
  }
  const auto per_relation = ctx.output_dir() / "per_relation.csv";
  write_text_file(per_relation, csv);
  ctx.add_file(per_relation, "table");

  std::string ranks_csv = "head,relation,tail,direction,rank\n";
  for (size_t i = 0; i < queries.size(); ++i) {
    // The original triple in both rows: the head row asks for queries[i].tail = the head.
    const Triple& q = queries[i];
    const bool inverse = q.relation >= R;
    const int32_t head = inverse ? q.tail : q.head, tail = inverse ? q.head : q.tail;
    ranks_csv += fmt::format("{},{},{},{},{}\n", csv_field(graph->entities[head]),
                             csv_field(graph->relations[q.relation % R]),
                             csv_field(graph->entities[tail]), inverse ? "head" : "tail", ranks[i]);
  }
  const auto ranks_path = ctx.output_dir() / "ranks.csv";
  write_text_file(ranks_path, ranks_csv);
  ctx.add_file(ranks_path, "table");
  return table;
}

}  // namespace

void register_link_prediction(Registry& r) {
  OpDef op;
  op.name = "eval.link_prediction";
  op.summary =
      "filtered link prediction (MRR, MR, Hits@1/3/10; overall, per direction, per relation) "
      "of a knowledge-graph embedding, with the random-scoring floor";
  op.version = 1;
  op.threads = 2;
  op.headline_metrics = {"mrr", "hits@1", "hits@3", "hits@10", "mr", "random_mrr"};
  op.params = {
      string_param("split", "test", "the triples to rank", {"test", "valid"}),
      int_param("batch_size", 512, "queries scored at once", 1.0, 1'000'000.0),
      inherited(string_param("device", "auto",
                             "auto picks cuda when available (default: the spec's device)",
                             {"auto", "cpu", "cuda"})),
  };
  op.inputs = {{"model", KgeModel::kType, "a trained knowledge-graph embedding"},
               {"graph", datasets::KnowledgeGraph::kType,
                "the graph it was trained on (its known triples are filtered out)"}};
  op.output_type = MetricsTable::kType;
  op.run = run_link_prediction;
  r.add(std::move(op));
}

}  // namespace flowlab::ops::kge
