// kge/distmult: DistMult (Yang et al. 2015): score(h, r, t) = <h * r, t>, entities and relations
// of 2 * dim dimensions as in the NFE reference code. The score is symmetric in h and t for every
// relation, so DistMult cannot tell a hypernym from its inverse.
#include "ops/kge/kge_network.h"
#include "ops/models/model.h"

namespace flowlab::ops::kge {
namespace {

class DistMult : public KgeNetwork {
 public:
  DistMult(int64_t entities, int64_t relations, int64_t width) {
    entity_ = register_parameter("entity", torch::empty({entities, width}).uniform_(-0.1, 0.1));
    relation_ =
        register_parameter("relation", torch::empty({relations, width}).uniform_(-0.1, 0.1));
  }
  torch::Tensor entity_table() override { return entity_; }
  torch::Tensor relation_table() override { return relation_; }

  QueryFactors query_factors(const torch::Tensor& heads, const torch::Tensor& relations) override {
    const auto q = entity_.index_select(0, heads) * relation_.index_select(0, relations);
    return {q, torch::zeros_like(q.select(1, 0))};  // any batch size when traced
  }
  EntityFactors entity_factors() override {
    return {entity_, torch::zeros({entity_.size(0)}, entity_.options())};
  }
  torch::Tensor score(const torch::Tensor& heads, const torch::Tensor& relations,
                      const torch::Tensor& tails) override {
    return (entity_.index_select(0, heads) * relation_.index_select(0, relations) *
            entity_.index_select(0, tails))
        .sum(-1);
  }

 private:
  torch::Tensor entity_, relation_;
};

}  // namespace

void register_distmult(Registry& r) {
  ModelDef m;
  m.family = "kge";
  m.name = "distmult";
  m.summary = "DistMult: <h * r, t> (symmetric in head and tail)";
  m.params = {int_param(
      "dim", 64, "half the embedding width (embeddings have 2 * dim numbers, as NFE's)", 1.0, 1e5)};
  m.build = [](const Params& p, const ModelInput& in) -> std::shared_ptr<Network> {
    return std::make_shared<DistMult>(in.entities, in.relations, 2 * p.get_int("dim"));
  };
  add_model(r, std::move(m));
}

}  // namespace flowlab::ops::kge
