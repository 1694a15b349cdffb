#include "ops/training/best_epoch.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "common/file_io.h"
#include "ops/training/checkpoint_files.h"

namespace flowlab::ops::training {

void BestEpoch::offer(double score, int64_t epoch, const std::vector<torch::Tensor>& weights) {
  if (scored() && score <= score_) return;
  score_ = score, epoch_ = epoch;
  torch::NoGradGuard no_grad;
  kept_.clear();
  for (const auto& w : weights) kept_.push_back(w.detach().clone());
}

void BestEpoch::restore(const std::vector<torch::Tensor>& weights) const {
  if (kept_.empty()) return;
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < weights.size(); ++i) weights[i].copy_(kept_.at(i));
}

void BestEpoch::save(const std::filesystem::path& dir) const {
  if (!kept_.empty()) save_tensors(dir / "best.pt", kept_);
  write_text_file(dir / "best.json", nlohmann::json{{"score", score_}, {"epoch", epoch_}}.dump());
}

void BestEpoch::load(const std::filesystem::path& dir, torch::Device device) {
  kept_.clear();
  if (std::filesystem::exists(dir / "best.pt"))
    for (auto& t : load_tensors(dir / "best.pt")) kept_.push_back(t.to(device));
  std::ifstream in(dir / "best.json");
  const auto j = nlohmann::json::parse(in);
  score_ = j.at("score"), epoch_ = j.at("epoch");
}

}  // namespace flowlab::ops::training
