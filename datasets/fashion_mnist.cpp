// dataset.fashion_mnist: Zalando's Fashion-MNIST (28x28 grey images, 10 classes) from the IDX
// files that Debian's dataset-fashion-mnist package installs.
#include <fmt/format.h>
#include <torch/torch.h>

#include "common/error.h"
#include "datasets/classification_data.h"
#include "datasets/idx.h"
#include "datasets/register.h"

namespace flowlab::datasets {
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kFashionClasses = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                  "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                  "Bag",         "Ankle boot"};

fs::path find_split_file(const fs::path& dir, const std::string& stem) {
  for (const char* ext : {".gz", ""}) {
    fs::path p = dir / (stem + ext);
    if (fs::exists(p)) return p;
  }
  throw RunError(fmt::format(
      "{}: no {}.gz; install Debian's dataset-fashion-mnist package or set params.path to a "
      "directory holding the four IDX files",
      dir.string(), stem));
}

at::Tensor to_float_images(const at::Tensor& images_u8) {
  return images_u8.to(torch::kFloat32).div_(255.0).unsqueeze(1);  // [N, 1, 28, 28] in [0, 1]
}

ArtifactPtr run_fashion_mnist(OpContext& ctx) {
  const Params& p = ctx.params();
  fs::path dir = p.get_string("path");
  if (!fs::is_directory(dir))
    throw RunError(
        fmt::format("{}: not a directory; install Debian's dataset-fashion-mnist "
                    "package or set params.path",
                    dir.string()));
  auto train_images = read_idx_images(find_split_file(dir, "train-images-idx3-ubyte"));
  auto train_labels = read_idx_labels(find_split_file(dir, "train-labels-idx1-ubyte"));
  auto test_images = read_idx_images(find_split_file(dir, "t10k-images-idx3-ubyte"));
  auto test_labels = read_idx_labels(find_split_file(dir, "t10k-labels-idx1-ubyte"));
  if (train_images.size(0) != train_labels.size(0) || test_images.size(0) != test_labels.size(0))
    throw RunError(
        fmt::format("{}: image and label files disagree on the number of examples "
                    "({} vs {} train, {} vs {} test)",
                    dir.string(), train_images.size(0), train_labels.size(0), test_images.size(0),
                    test_labels.size(0)));
  if (train_labels.max().item<int64_t>() >= 10 || train_labels.min().item<int64_t>() < 0)
    throw RunError(dir.string() + ": labels outside 0..9");

  // Validation split: a seeded permutation of the training set, so it never overlaps training.
  auto gen = at::detail::createCPUGenerator(static_cast<uint64_t>(p.get_int("split_seed")));
  int64_t n = train_images.size(0);
  auto perm = torch::randperm(n, gen, torch::kInt64);
  int64_t n_val = static_cast<int64_t>(std::llround(p.get_float("val_fraction") * n));
  auto val_idx = perm.slice(0, 0, n_val), train_idx = perm.slice(0, n_val);
  int64_t limit_train = p.get_int("limit_train"), limit_test = p.get_int("limit_test");
  if (limit_train > 0) {
    train_idx = train_idx.slice(0, 0, std::min(limit_train, train_idx.size(0)));
    val_idx = val_idx.slice(0, 0, std::min(std::max<int64_t>(limit_train / 5, 1), val_idx.size(0)));
  }

  auto data = std::make_shared<ClassificationData>();
  data->class_names = kFashionClasses;
  data->eight_bit = true;
  data->train_x = to_float_images(train_images.index_select(0, train_idx));
  data->train_y = train_labels.index_select(0, train_idx);
  data->val_x = to_float_images(train_images.index_select(0, val_idx));
  data->val_y = train_labels.index_select(0, val_idx);
  int64_t n_test = limit_test > 0 ? std::min(limit_test, test_images.size(0)) : test_images.size(0);
  data->test_x = to_float_images(test_images.slice(0, 0, n_test));
  data->test_y = test_labels.slice(0, 0, n_test);
  if (p.get_bool("normalize")) {
    // Statistics of the training split only: the test set must not leak into preprocessing.
    data->mean = data->train_x.mean().item<double>();
    data->std = data->train_x.std().item<double>();
  }
  ctx.log_metric("n_train", static_cast<double>(data->train_y.size(0)));
  ctx.log_metric("n_val", static_cast<double>(data->val_y.size(0)));
  ctx.log_metric("n_test", static_cast<double>(data->test_y.size(0)));
  return data;
}

}  // namespace

void register_fashion_mnist(Registry& r) {
  OpDef op;
  op.name = "dataset.fashion_mnist";
  op.summary =
      "Fashion-MNIST (28x28 grey, 10 classes) from IDX files, with a seeded validation split";
  op.version = 1;
  op.threads = 1;  // the split and statistics reduce in parallel: fixed for reproducibility
  op.params = {
      string_param(
          "path", "/usr/share/datasets/fashion-mnist",
          "directory with the four IDX files (.gz or raw), as installed by dataset-fashion-mnist"),
      float_param("val_fraction", 0.1,
                  "share of the 60,000 training images held out for validation", 0.0, 0.5),
      int_param("split_seed", 0, "seed of the train/validation permutation", 0.0),
      bool_param("normalize", true,
                 "let models standardize pixels with the training split's mean/std"),
      int_param("limit_train", 0, "keep only this many training images (0 = all); for quick runs",
                0.0),
      int_param("limit_test", 0, "keep only the first this many test images (0 = all)", 0.0),
  };
  op.output_type = ClassificationData::kType;
  op.run = run_fashion_mnist;
  r.add(std::move(op));
}

}  // namespace flowlab::datasets
