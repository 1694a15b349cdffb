// dataset.as_sequence: images as pixel sequences (sequential / permuted-sequential MNIST-style
// tasks, as in the S4 and S4D papers): each image [C, H, W] becomes a sequence of H*W steps of C
// features in raster order (row by row), optionally reordered by one fixed seeded permutation of
// the positions (psFMNIST). It takes a decoded image dataset as input, so the decode is shared
// and cached with every image experiment of the same data.
#include <fmt/format.h>
#include <torch/torch.h>

#include "datasets/classification_data.h"
#include "datasets/register.h"

namespace flowlab::datasets {
namespace {

at::Tensor to_sequence(const at::Tensor& images, const at::Tensor& order) {
  // [N, C, H, W] -> [N, H*W, C]
  auto x = images.flatten(2).transpose(1, 2);
  if (order.defined()) x = x.index_select(1, order);
  return x.contiguous();
}

ArtifactPtr run_as_sequence(OpContext& ctx) {
  const Params& p = ctx.params();
  auto images = ctx.input<ClassificationData>("data");
  at::Tensor order;  // undefined: raster order
  const int64_t length = images->train_x.size(2) * images->train_x.size(3);
  if (p.get_bool("permute")) {
    auto gen = at::detail::createCPUGenerator(static_cast<uint64_t>(p.get_int("permutation_seed")));
    order = torch::randperm(length, gen, torch::kInt64);
  }
  auto data = std::make_shared<ClassificationData>(*images);
  data->kind = ClassificationData::Kind::kSequence;
  data->train_x = to_sequence(images->train_x, order);
  data->val_x = to_sequence(images->val_x, order);
  data->test_x = to_sequence(images->test_x, order);
  ctx.log_metric("length", static_cast<double>(length));
  ctx.log_metric("features", static_cast<double>(images->train_x.size(1)));
  return data;
}

}  // namespace

void register_as_sequence(Registry& r) {
  OpDef op;
  op.name = "dataset.as_sequence";
  op.summary =
      "images as pixel sequences [N, H*W, C] in raster order, or one fixed seeded permutation of "
      "it (sequential / permuted-sequential Fashion-MNIST)";
  op.version = 1;
  op.threads = 1;
  op.params = {
      bool_param("permute", false, "reorder the positions by one fixed random permutation"),
      int_param("permutation_seed", 0, "seed of that permutation (the same for every split)", 0.0),
  };
  op.inputs = {{"data", ClassificationData::kType, "the decoded images"}};
  op.output_type = ClassificationData::kSequenceType;
  op.run = run_as_sequence;
  r.add(std::move(op));
}

}  // namespace flowlab::datasets
