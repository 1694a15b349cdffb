// dataset.listops: the ListOps task (datasets/listops.h) as token sequences [N, max_length]
// padded with a pad token, 10 classes; each split drawn from its own seeded generator.
#include <fmt/format.h>
#include <torch/torch.h>

#include "datasets/classification_data.h"
#include "datasets/listops.h"
#include "datasets/register.h"

namespace flowlab::datasets {
namespace {

struct Split {
  at::Tensor x, y;
  double mean_length = 0, majority = 0;
};

Split draw(const listops::Options& o, int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Split s;
  s.x = torch::full({n, o.max_length}, listops::kPad, torch::kInt64);
  s.y = torch::empty({n}, torch::kInt64);
  auto xa = s.x.accessor<int64_t, 2>();
  auto ya = s.y.accessor<int64_t, 1>();
  std::vector<int64_t> counts(10, 0);
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    const listops::Example e = listops::generate(o, rng);
    for (size_t t = 0; t < e.tokens.size(); ++t) xa[i][t] = e.tokens[t];
    ya[i] = e.value;
    ++counts[e.value];
    total += static_cast<double>(e.tokens.size());
  }
  if (n > 0) {
    s.mean_length = total / static_cast<double>(n);
    s.majority = static_cast<double>(*std::max_element(counts.begin(), counts.end())) / n;
  }
  return s;
}

ArtifactPtr run_listops(OpContext& ctx) {
  const Params& p = ctx.params();
  listops::Options o;
  o.max_depth = p.get_int("max_depth");
  o.max_args = p.get_int("max_args");
  o.min_length = p.get_int("min_length");
  o.max_length = p.get_int("max_length");
  if (o.min_length > o.max_length)
    throw RunError(
        fmt::format("min_length ({}) is above max_length ({})", o.min_length, o.max_length));
  const auto seed = static_cast<uint64_t>(p.get_int("seed"));
  auto data = std::make_shared<ClassificationData>();
  data->kind = ClassificationData::Kind::kSequence;
  data->vocab_size = listops::kVocabSize;
  for (int d = 0; d < 10; ++d) data->class_names.push_back(std::to_string(d));
  const char* names[] = {"train", "val", "test"};
  const int64_t sizes[] = {p.get_int("n_train"), p.get_int("n_val"), p.get_int("n_test")};
  at::Tensor* xs[] = {&data->train_x, &data->val_x, &data->test_x};
  at::Tensor* ys[] = {&data->train_y, &data->val_y, &data->test_y};
  for (int k = 0; k < 3; ++k) {
    ctx.check_cancelled();
    ctx.progress(k / 3.0, fmt::format("drawing the {} split", names[k]));
    // Split k's generator: the seed and the split, mixed so neighbouring seeds do not overlap.
    Split s = draw(o, sizes[k], seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(k) + 1);
    *xs[k] = s.x;
    *ys[k] = s.y;
    ctx.log_metric(fmt::format("n_{}", names[k]), static_cast<double>(sizes[k]));
    ctx.log_metric(fmt::format("mean_length_{}", names[k]), s.mean_length);
    ctx.log_metric(fmt::format("majority_{}", names[k]), s.majority);
  }
  return data;
}

}  // namespace

void register_listops(Registry& r) {
  OpDef op;
  op.name = "dataset.listops";
  op.summary =
      "ListOps (LRA's generator): prefix expressions over MAX, MIN, MED, SM on digits, labelled "
      "with their value (10 classes), as padded token sequences";
  op.version = 1;
  op.threads = 1;
  op.params = {
      int_param("n_train", 10000, "training expressions", 1.0, 10'000'000.0),
      int_param("n_val", 1000, "validation expressions", 0.0, 10'000'000.0),
      int_param("n_test", 1000, "test expressions", 1.0, 10'000'000.0),
      int_param("max_depth", 10, "deepest operator nesting (LRA: 10)", 1.0, 100.0),
      int_param("max_args", 10, "most arguments of an operator (LRA: 10)", 2.0, 100.0),
      int_param("min_length", 1, "fewest tokens (LRA: 500)", 1.0, 1'000'000.0),
      int_param("max_length", 500, "most tokens, also the padded length (LRA: 2000)", 1.0,
                1'000'000.0),
      inherited(int_param("seed", 0, "seed of the expressions (default: the spec's seed)", 0.0)),
  };
  op.output_type = ClassificationData::kSequenceType;
  op.run = run_listops;
  r.add(std::move(op));
}

}  // namespace flowlab::datasets
