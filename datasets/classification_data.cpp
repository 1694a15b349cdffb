#include "datasets/classification_data.h"

#include <fstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "common/file_io.h"

namespace flowlab::datasets {

namespace {
torch::Tensor pack(const torch::Tensor& x, bool eight_bit) {
  return eight_bit ? x.mul(255.0).round_().to(torch::kUInt8) : x;
}
torch::Tensor unpack(const torch::Tensor& x, bool eight_bit) {
  return eight_bit ? x.to(torch::kFloat32).div_(255.0) : x;
}
}  // namespace

void ClassificationData::save(const std::filesystem::path& dir) const {
  const std::vector<torch::Tensor> tensors{pack(train_x, eight_bit), train_y,
                                           pack(val_x, eight_bit),   val_y,
                                           pack(test_x, eight_bit),  test_y};
  write_file_with(dir / "tensors.pt", [&](const ByteSink& s) { torch::save(tensors, s); });
  nlohmann::json meta = {
      {"class_names", class_names}, {"mean", mean},   {"std", std},
      {"eight_bit", eight_bit},     {"kind", type()}, {"vocab_size", vocab_size}};
  write_text_file(dir / "meta.json", meta.dump(1));
}

ArtifactPtr ClassificationData::load(const std::filesystem::path& dir) {
  auto data = std::make_shared<ClassificationData>();
  std::vector<torch::Tensor> t;
  torch::load(t, (dir / "tensors.pt").string());
  std::ifstream in(dir / "meta.json");
  auto meta = nlohmann::json::parse(in);
  data->eight_bit = meta.at("eight_bit");
  data->train_x = unpack(t.at(0), data->eight_bit), data->train_y = t.at(1);
  data->val_x = unpack(t.at(2), data->eight_bit), data->val_y = t.at(3);
  data->test_x = unpack(t.at(4), data->eight_bit), data->test_y = t.at(5);
  data->class_names = meta.at("class_names").get<std::vector<std::string>>();
  data->mean = meta.at("mean"), data->std = meta.at("std");
  data->kind = meta.value("kind", kType) == kType ? Kind::kImage : Kind::kSequence;
  data->vocab_size = meta.value("vocab_size", int64_t{0});
  return data;
}

}  // namespace flowlab::datasets
