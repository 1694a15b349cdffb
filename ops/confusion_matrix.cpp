#include "ops/confusion_matrix.h"

#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/file_io.h"
#include "common/text.h"
#include "ops/metrics_table.h"

namespace flowlab::ops {

ConfusionMatrix::ConfusionMatrix(std::vector<std::string> names)
    : class_names(std::move(names)),
      counts(class_names.size(), std::vector<int64_t>(class_names.size(), 0)) {}

int64_t ConfusionMatrix::total() const {
  int64_t n = 0;
  for (const auto& row : counts)
    for (int64_t c : row) n += c;
  return n;
}

double ConfusionMatrix::accuracy() const {
  int64_t right = 0;
  for (size_t c = 0; c < counts.size(); ++c) right += counts[c][c];
  const int64_t n = total();
  return n == 0 ? 0.0 : static_cast<double>(right) / static_cast<double>(n);
}

std::map<std::string, double> ConfusionMatrix::class_accuracies() const {
  std::map<std::string, double> out;
  for (size_t c = 0; c < counts.size(); ++c) {
    int64_t n = 0;
    for (int64_t k : counts[c]) n += k;
    if (n > 0)
      out[fmt::format("class_accuracy.{}", c)] =
          static_cast<double>(counts[c][c]) / static_cast<double>(n);
  }
  return out;
}

void ConfusionMatrix::write(const std::filesystem::path& dir) const {
  std::ostringstream csv;
  csv << "true\\predicted";
  for (const auto& n : class_names) csv << "," << csv_field(n);
  csv << "\n";
  for (size_t i = 0; i < counts.size(); ++i) {
    csv << csv_field(class_names[i]);
    for (int64_t c : counts[i]) csv << "," << c;
    csv << "\n";
  }
  write_text_file(dir / "confusion_matrix.csv", csv.str());
  write_text_file(
      dir / "confusion_matrix.json",
      nlohmann::json{{"classes", class_names}, {"rows_true_cols_predicted", counts}}.dump(1));
}

ArtifactPtr report_classification(OpContext& ctx, const ConfusionMatrix& confusion,
                                  double mean_loss) {
  auto table = std::make_shared<MetricsTable>();
  table->values = confusion.class_accuracies();
  table->values["accuracy"] = confusion.accuracy();
  table->values["loss"] = mean_loss;
  for (const auto& [key, value] : table->values) ctx.log_metric(key, value);
  confusion.write(ctx.output_dir());
  ctx.add_file(ctx.output_dir() / "confusion_matrix.csv", "confusion_matrix");
  ctx.add_file(ctx.output_dir() / "confusion_matrix.json", "confusion_matrix");
  return table;
}

}  // namespace flowlab::ops
