// kge/transe: TransE (Bordes et al. 2013) as the NFE paper compares it: score(h, r, t) =
// gamma - |h + r - t|^2 (squared distance, as in the NFE reference code), entities and relations
// of 2 * dim dimensions (the reference gives every model two parts of `dimension`). A relation is
// the flow x -> x + r (NFE's affine flow with a = 1), so it can be symmetric only with r = 0.
#include "ops/kge/kge_network.h"
#include "ops/models/model.h"

namespace flowlab::ops::kge {
namespace {

class TransE : public KgeNetwork {
 public:
  TransE(int64_t entities, int64_t relations, int64_t width, double gamma) : gamma_(gamma) {
    entity_ = register_parameter("entity", torch::empty({entities, width}).uniform_(-0.1, 0.1));
    relation_ =
        register_parameter("relation", torch::empty({relations, width}).uniform_(-0.1, 0.1));
  }
  torch::Tensor entity_table() override { return entity_; }
  torch::Tensor relation_table() override { return relation_; }

  // gamma - |q|^2 - |t|^2 + 2 q.t with q = h + r
  QueryFactors query_factors(const torch::Tensor& heads, const torch::Tensor& relations) override {
    const auto q = entity_.index_select(0, heads) + relation_.index_select(0, relations);
    return {2 * q, gamma_ - q.pow(2).sum(-1)};
  }
  EntityFactors entity_factors() override { return {entity_, -entity_.pow(2).sum(-1)}; }
  torch::Tensor score(const torch::Tensor& heads, const torch::Tensor& relations,
                      const torch::Tensor& tails) override {
    const auto diff = entity_.index_select(0, heads) + relation_.index_select(0, relations) -
                      entity_.index_select(0, tails);
    return gamma_ - diff.pow(2).sum(-1);
  }
  std::optional<AffineFlow> relation_flow(int64_t r) override {
    auto b = relation_[r].detach();
    return AffineFlow{torch::ones_like(b), b};
  }

 private:
  double gamma_;
  torch::Tensor entity_, relation_;
};

}  // namespace

void register_transe(Registry& r) {
  ModelDef m;
  m.family = "kge";
  m.name = "transe";
  m.summary = "TransE: gamma - |h + r - t|^2 (relations as translations)";
  m.params = {
      int_param("dim", 64, "half the embedding width (embeddings have 2 * dim numbers, as NFE's)",
                1.0, 1e5),
      float_param("gamma", 2.0, "margin: a triple scores gamma minus its distance"),
  };
  m.build = [](const Params& p, const ModelInput& in) -> std::shared_ptr<Network> {
    return std::make_shared<TransE>(in.entities, in.relations, 2 * p.get_int("dim"),
                                    p.get_float("gamma"));
  };
  add_model(r, std::move(m));
}

}  // namespace flowlab::ops::kge
