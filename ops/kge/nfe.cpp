// kge/nfe1, nfe2, nfe3, nfe1_mean_only, nfe1_sigma_only: "Knowledge Graph Embedding by
// Normalizing Flows" (Xiao, Zhang, Cao; reference code changyi7231/NFE, model.py).
//
// An entity is a random variable X_e = f_e(Z), Z ~ N(0, I): a Gaussian N(mu_e, sigma_e^2) (NFE-1,
// NFE-3) or an equal-mass two-piece normal mu + sigmaL * min(Z, 0) + sigmaR * max(Z, 0) (NFE-2).
// A relation is the affine flow f_r(X) = a_r * X + b_r. A triple scores gamma minus a distance
// between f_r(X_h) and X_t, summed over the d dimensions:
//   NFE-1  squared 2-Wasserstein of Gaussians: |a mu_h + b - mu_t|^2 + | |a sigma_h| - |sigma_t|
//   |^2 NFE-2  squared 2-Wasserstein of two-piece normals (quantile coupling; with Dmu, DL, DR the
//          differences of means and left/right scales): Dmu^2 + DL^2/2 + DR^2/2
//          + sqrt(2/pi) Dmu (DR - DL); like the reference it does not swap the two scales when a <
//          0
//   NFE-3  KL(N(a mu_h + b, s1^2) || N(mu_t, s2^2)), s1 = softplus(a) softplus(sigma_h),
//          s2 = softplus(sigma_t)
//   mean only (NFE without uncertainty) and sigma only: the two terms of NFE-1 alone.
// Tables: entities [E, 2d] (mu, sigma) or [E, 3d] (mu, sigmaL, sigmaR), relations [R, 2d] (b, a),
// initialized uniform in [-0.1, 0.1] as in the reference.
#include <cmath>

#include "ops/kge/kge_network.h"
#include "ops/models/model.h"

namespace flowlab::ops::kge {

double AffineFlow::involution_residual() const {
  torch::NoGradGuard no_grad;
  auto aa = a.to(torch::kFloat64), bb = b.to(torch::kFloat64);
  return ((aa * aa - 1).pow(2) + ((aa + 1) * bb).pow(2)).mean().sqrt().item<double>();
}

namespace {

enum class Variant { kNfe1, kNfe2, kNfe3, kMeanOnly, kSigmaOnly };

// 2 E[max(Z, 0)] = E|Z| = sqrt(2 / pi): NFE-2's cross term between means and scales.
const double kTwoPieceMean = std::sqrt(2.0 / M_PI);

class Nfe : public KgeNetwork {
 public:
  Nfe(Variant v, int64_t entities, int64_t relations, int64_t dim, double gamma)
      : variant_(v), d_(dim), gamma_(gamma) {
    const int64_t parts = v == Variant::kNfe2 ? 3 : 2;
    entity_ =
        register_parameter("entity", torch::empty({entities, parts * dim}).uniform_(-0.1, 0.1));
    relation_ =
        register_parameter("relation", torch::empty({relations, 2 * dim}).uniform_(-0.1, 0.1));
  }

  torch::Tensor entity_table() override { return entity_; }
  torch::Tensor relation_table() override { return relation_; }

  std::optional<AffineFlow> relation_flow(int64_t r) override {
    auto rel = relation_[r].detach();
    return AffineFlow{rel.slice(0, d_, 2 * d_), rel.slice(0, 0, d_)};
  }
  void set_relation_flow(int64_t r, const AffineFlow& f) override {
    torch::NoGradGuard no_grad;
    relation_[r].slice(0, 0, d_).copy_(f.b);
    relation_[r].slice(0, d_, 2 * d_).copy_(f.a);
  }

  // The distance expanded into the factors of one matrix product (kge_network.h): squares of
  // the query side go into bias_q, squares of the entity side into bias_e, cross terms into u.v.
  QueryFactors query_factors(const torch::Tensor& heads, const torch::Tensor& relations) override {
    const Query q = query(heads, relations);
    auto sq = [](const torch::Tensor& x) { return x.pow(2).sum(-1); };
    switch (variant_) {
      case Variant::kNfe1:  // gamma - |m1|^2 - |s1|^2 + 2 (m1.mu_t + s1.|sigma_t|) - ...
        return {torch::cat({2 * q.mu, 2 * q.sigma}, 1), gamma_ - sq(q.mu) - sq(q.sigma)};
      case Variant::kMeanOnly:
        return {2 * q.mu, gamma_ - sq(q.mu)};
      case Variant::kSigmaOnly:
        return {2 * q.sigma, gamma_ - sq(q.sigma)};
      case Variant::kNfe2: {
        // Cross terms 2 mu1.mu_t + s1.s3 + s2.s4 - c mu1.(s3 - s4) + c (s2 - s1).mu_t
        const auto ds = q.sigma_right - q.sigma;
        return {torch::cat({q.mu, q.sigma, q.sigma_right, ds}, 1),
                gamma_ - sq(q.mu) - 0.5 * sq(q.sigma) - 0.5 * sq(q.sigma_right) -
                    kTwoPieceMean * (q.mu * ds).sum(-1)};
      }
      case Variant::kNfe3:  // cross terms -(s1^2 + m1^2).w / 2 + m1.(mu_t w), w = 1 / s2^2
        return {torch::cat({-0.5 * (q.sigma.pow(2) + q.mu.pow(2)), q.mu}, 1),
                gamma_ + q.sigma.log().sum(-1) + 0.5 * static_cast<double>(d_)};
    }
    throw std::logic_error("unknown NFE variant");
  }

  EntityFactors entity_factors() override {
    const auto t = entity_.chunk(variant_ == Variant::kNfe2 ? 3 : 2, -1);
    const torch::Tensor& mu = t[0];
    auto sq = [](const torch::Tensor& x) { return x.pow(2).sum(-1); };
    switch (variant_) {
      case Variant::kNfe1: {
        const auto sigma = t[1].abs();
        return {torch::cat({mu, sigma}, 1), -sq(mu) - sq(sigma)};
      }
      case Variant::kMeanOnly:
        return {mu, -sq(mu)};
      case Variant::kSigmaOnly: {
        const auto sigma = t[1].abs();
        return {sigma, -sq(sigma)};
      }
      case Variant::kNfe2: {
        const auto s3 = t[1].abs(), s4 = t[2].abs(), ds = s3 - s4;
        return {torch::cat({2 * mu - kTwoPieceMean * ds, s3, s4, kTwoPieceMean * mu}, 1),
                -sq(mu) - 0.5 * sq(s3) - 0.5 * sq(s4) + kTwoPieceMean * (mu * ds).sum(-1)};
      }
      case Variant::kNfe3: {
        const auto s2 = torch::nn::functional::softplus(t[1]);
        const auto w = s2.pow(-2);
        return {torch::cat({w, mu * w}, 1), -s2.log().sum(-1) - 0.5 * (mu.pow(2) * w).sum(-1)};
      }
    }
    throw std::logic_error("unknown NFE variant");
  }

  // The definitions, triple by triple.
  torch::Tensor score(const torch::Tensor& heads, const torch::Tensor& relations,
                      const torch::Tensor& tails) override {
    const Query q = query(heads, relations);
    const auto t = entity_.index_select(0, tails).chunk(variant_ == Variant::kNfe2 ? 3 : 2, -1);
    const auto dmu = q.mu - t[0];
    torch::Tensor dist;
    switch (variant_) {
      case Variant::kNfe1:
        dist = (dmu.pow(2) + (q.sigma - t[1].abs()).pow(2)).sum(-1);
        break;
      case Variant::kMeanOnly:
        dist = dmu.pow(2).sum(-1);
        break;
      case Variant::kSigmaOnly:
        dist = (q.sigma - t[1].abs()).pow(2).sum(-1);
        break;
      case Variant::kNfe2: {
        const auto dl = q.sigma - t[1].abs(), dr = q.sigma_right - t[2].abs();
        dist = (dmu.pow(2) + 0.5 * dl.pow(2) + 0.5 * dr.pow(2) + kTwoPieceMean * dmu * (dr - dl))
                   .sum(-1);
        break;
      }
      case Variant::kNfe3: {
        const auto s1 = q.sigma, s2 = torch::nn::functional::softplus(t[1]);
        dist =
            (s1.pow(2) / (2 * s2.pow(2)) - s1.log() + s2.log() - 0.5 + dmu.pow(2) / (2 * s2.pow(2)))
                .sum(-1);
        break;
      }
    }
    return gamma_ - dist;
  }

 private:
  // f_r applied to the head: the mean a * mu_h + b and the scale(s) of f_r(X_h).
  struct Query {
    torch::Tensor mu, sigma, sigma_right;
  };
  Query query(const torch::Tensor& heads, const torch::Tensor& relations) const {
    const auto h = entity_.index_select(0, heads).chunk(variant_ == Variant::kNfe2 ? 3 : 2, -1);
    const auto r = relation_.index_select(0, relations).chunk(2, -1);
    const torch::Tensor &b = r[0], &a = r[1];
    Query q;
    q.mu = a * h[0] + b;
    if (variant_ == Variant::kNfe3) {
      q.sigma = torch::nn::functional::softplus(a) * torch::nn::functional::softplus(h[1]);
    } else {
      q.sigma = (a * h[1]).abs();
      if (variant_ == Variant::kNfe2) q.sigma_right = (a * h[2]).abs();
    }
    return q;
  }

  Variant variant_;
  int64_t d_;
  double gamma_;
  torch::Tensor entity_, relation_;
};

void add_nfe(Registry& r, const char* name, Variant v, double gamma, const char* summary) {
  ModelDef m;
  m.family = "kge";
  m.name = name;
  m.summary = summary;
  m.params = {
      int_param("dim", 64, "dimensions of each part (mean, scale) of an embedding", 1.0, 1e5),
      float_param("gamma", gamma, "margin: a triple scores gamma minus its distance"),
  };
  m.build = [v](const Params& p, const ModelInput& in) -> std::shared_ptr<Network> {
    return std::make_shared<Nfe>(v, in.entities, in.relations, p.get_int("dim"),
                                 p.get_float("gamma"));
  };
  add_model(r, std::move(m));
}

}  // namespace

// Margins: the reference's WN18RR settings.
void register_nfe(Registry& r) {
  add_nfe(r, "nfe1", Variant::kNfe1, 1.0,
          "NFE-1: Gaussian entities, affine relation flows, squared 2-Wasserstein distance");
  add_nfe(r, "nfe2", Variant::kNfe2, 0.0,
          "NFE-2: two-piece normal entities, squared 2-Wasserstein distance");
  add_nfe(r, "nfe3", Variant::kNfe3, 14.0, "NFE-3: Gaussian entities, KL divergence");
  add_nfe(r, "nfe1_mean_only", Variant::kMeanOnly, 0.0,
          "NFE without uncertainty: NFE-1's mean term only (points under affine flows)");
  add_nfe(r, "nfe1_sigma_only", Variant::kSigmaOnly, 4.0, "NFE-sigma: NFE-1's scale term only");
}

}  // namespace flowlab::ops::kge
