#include "datasets/classification_data.h"

#include <fstream>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

namespace flowlab::datasets {

void ClassificationData::save(const std::filesystem::path& dir) const {
  torch::save(std::vector<torch::Tensor>{train_x, train_y, val_x, val_y, test_x, test_y},
              (dir / "tensors.pt").string());
  nlohmann::json meta = {{"class_names", class_names}, {"mean", mean}, {"std", std}};
  std::ofstream(dir / "meta.json") << meta.dump(1);
}

ArtifactPtr ClassificationData::load(const std::filesystem::path& dir) {
  auto data = std::make_shared<ClassificationData>();
  std::vector<torch::Tensor> t;
  torch::load(t, (dir / "tensors.pt").string());
  data->train_x = t.at(0), data->train_y = t.at(1), data->val_x = t.at(2);
  data->val_y = t.at(3), data->test_x = t.at(4), data->test_y = t.at(5);
  std::ifstream in(dir / "meta.json");
  auto meta = nlohmann::json::parse(in);
  data->class_names = meta.at("class_names").get<std::vector<std::string>>();
  data->mean = meta.at("mean"), data->std = meta.at("std");
  return data;
}

}  // namespace flowlab::datasets
