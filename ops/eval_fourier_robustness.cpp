// eval.fourier_robustness: the PTD paper's Fourier-mode test (Yu et al. 2024, robustness.py). At
// test time a single Fourier mode a cos(w l dt_h) is added to the input of every SSM layer, with
// dt_h the layer's step of channel h and a ~ amplitude * Uniform[0, 1) drawn per (image, channel);
// w defaults to the largest spike of the first layer's transfer function |G(i w)|, the frequency
// a diagonal model is most sensitive to. Logs accuracy@<amplitude> for each amplitude.
#include <cmath>

#include <fmt/format.h>
#include <torch/torch.h>

#include "common/error.h"
#include "datasets/classification_data.h"
#include "ops/classifier.h"
#include "ops/classifier_net.h"
#include "ops/metrics_table.h"
#include "ops/register.h"
#include "ops/ssm/backbone.h"

namespace flowlab::ops {
namespace {
using datasets::ClassificationData;

// The frequency in [lo, hi] where the first layer's mean |G_hh(i w)| peaks (a log grid of 4,000
// points).
double largest_spike(const ssm::SsmBackbone& backbone, double lo, double hi) {
  auto omegas = torch::logspace(std::log10(lo), std::log10(hi), 4000, 10.0,
                                torch::TensorOptions().dtype(torch::kFloat64));
  auto magnitude = backbone.first_layer_transfer_magnitude(omegas);
  return omegas[magnitude.argmax()].item<double>();
}

std::string amplitude_label(double a) { return fmt::format("{}", a); }

ArtifactPtr run_fourier_robustness(OpContext& ctx) {
  const Params& p = ctx.params();
  auto model = std::dynamic_pointer_cast<const Classifier>(ctx.input<ClassifierModel>("model"));
  auto data = ctx.input<ClassificationData>("data");
  if (!model) throw RunError("the model is not a registered architecture (classifier.network)");
  auto& net = model->net();
  auto* backbone = dynamic_cast<ssm::SsmBackbone*>(net.layers.get());
  if (!backbone)
    throw RunError(
        fmt::format("model '{}' has no state-space layers to perturb (use s4d, s4_ptd or s5_ptd)",
                    model->record().arch));
  const bool test = p.get_string("split") == "test";
  const auto& x = test ? data->test_x : data->val_x;
  const auto& y = test ? data->test_y : data->val_y;
  if (x.size(0) == 0) throw RunError("the " + p.get_string("split") + " split is empty");

  double omega = p.get_float("omega");
  if (omega == 0)
    omega =
        largest_spike(*backbone, p.get_float("omega_search_min"), p.get_float("omega_search_max"));
  auto table = std::make_shared<MetricsTable>();
  table->values["omega"] = omega;

  // Amplitude factors per (image, channel) and layer: drawn once, for every amplitude and batch,
  // so results do not depend on the batch size.
  auto gen = at::detail::createCPUGenerator(static_cast<uint64_t>(p.get_int("seed")));
  std::vector<torch::Tensor> factors;
  const int64_t channels = backbone->ssm_channels();
  for (size_t layer = 0; layer < backbone->num_ssm_layers(); ++layer)
    factors.push_back(at::rand({x.size(0), channels}, gen, torch::TensorOptions()));

  torch::Device device(model->device());
  torch::NoGradGuard no_grad;
  const int64_t batch = p.get_int("batch_size"), length = x.size(1);
  const auto steps = torch::arange(length, torch::TensorOptions().dtype(torch::kFloat32));
  const auto amplitudes = p.get_float_list("amplitudes");
  for (size_t k = 0; k < amplitudes.size(); ++k) {
    const double amplitude = amplitudes[k];
    int64_t correct = 0;
    for (int64_t start = 0; start < x.size(0); start += batch) {
      ctx.check_cancelled();
      const int64_t end = std::min(start + batch, x.size(0));
      auto xb = x.slice(0, start, end).to(device);
      xb = net.standardize(xb);
      ssm::LayerInputNoise noise = [&](size_t layer, const torch::Tensor& u,
                                       const torch::Tensor& dt) {
        // cos(w l dt_h) [H, L], scaled per (image, channel).
        auto wave = torch::cos(omega * dt.to(torch::kCPU).unsqueeze(1) * steps.unsqueeze(0));
        auto a = factors[layer].slice(0, start, end).mul(amplitude).unsqueeze(2);
        return (a * wave.unsqueeze(0)).to(u.device());
      };
      auto logits = backbone->forward_with_layer_noise(xb, noise).to(torch::kCPU);
      correct += logits.argmax(1).eq(y.slice(0, start, end)).sum().item<int64_t>();
      ctx.progress((k + double(end) / x.size(0)) / amplitudes.size(),
                   fmt::format("amplitude {}: {} / {} sequences", amplitude, end, x.size(0)));
    }
    table->values["accuracy@" + amplitude_label(amplitude)] =
        static_cast<double>(correct) / static_cast<double>(x.size(0));
  }
  for (const auto& [key, value] : table->values) ctx.log_metric(key, value);
  return table;
}

}  // namespace

void register_eval_fourier_robustness(Registry& r) {
  OpDef op;
  op.name = "eval.fourier_robustness";
  op.summary =
      "accuracy of a state-space classifier when a Fourier mode a cos(w l dt) is added to the "
      "input of every SSM layer (the PTD paper's robustness test)";
  op.version = 1;
  op.threads = 2;
  op.headline_metrics = {"omega"};
  op.params = {
      non_empty(float_list_param("amplitudes", {0, 0.05, 0.1, 0.2},
                                 "noise amplitudes: a ~ amplitude * Uniform[0,1) per (sequence, "
                                 "channel)",
                                 0.0)),
      float_param("omega", 0.0,
                  "frequency w of the mode (continuous time; 0 = the largest spike of the first "
                  "layer's |G(i w)|)",
                  0.0),
      float_param("omega_search_min", 1.0, "where the spike search starts", 0.0, 1e9, true),
      float_param("omega_search_max", 1e4, "where it ends", 0.0, 1e9, true),
      string_param("split", "test", "which split to evaluate", {"test", "val"}),
      int_param("batch_size", 500, "sequences per forward pass", 1.0),
      inherited(int_param("seed", 0, "seed of the amplitudes (default: the spec's seed)", 0.0)),
  };
  op.inputs = {{"model", ClassifierModel::kInterface, "a trained s4d or s4_ptd classifier"},
               {"data", datasets::ClassificationData::kInterface, "the dataset holding the split"}};
  op.output_type = MetricsTable::kType;
  op.run = run_fourier_robustness;
  r.add(std::move(op));
}

}  // namespace flowlab::ops
