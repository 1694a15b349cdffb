// analyze.transfer_function: how well each diagonal initialization reproduces HiPPO-LegS's
// transfer function, with no training (the PTD paper's Theorems 2 and 3 made visible).
//   full:      G(i w) = C (i w I - A)^-1 B with the full HiPPO-LegS A (dense solves)
//   s4d_legs:  the diagonalized normal part A_N = V diag(-1/2 + i w_n) V^H (S4D-LegS drops the
//              low-rank term), B and C carried into its eigenbasis
//   ptd:       the diagonalized perturbed matrix A - E = V diag(lambda) V^-1 (S4-PTD), real parts
//              forced negative as its initialization does
// Logs sup_w |G_x - G_full| for each, the perturbation's kappa(V) and ||E||/||A||, and the
// frequency of S4D-LegS's largest spike; writes the curves (CSV) and a log-log plot of |G|.
#include <cmath>
#include <sstream>

#include <fmt/format.h>
#include <torch/torch.h>

#include "common/file_io.h"
#include "ops/metrics_table.h"
#include "ops/register.h"
#include "ops/ssm/hippo.h"
#include "ops/ssm/ptd.h"
#include "ops/ssm/transfer.h"
#include "plot/plot.h"
#include "plot/svg_png.h"

namespace flowlab::ops::analyze {
namespace {

ArtifactPtr run_transfer_function(OpContext& ctx) {
  const Params& p = ctx.params();
  const int64_t n = p.get_int("state");
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const auto c128 = torch::kComplexDouble;
  auto omegas =
      torch::logspace(std::log10(p.get_float("omega_min")), std::log10(p.get_float("omega_max")),
                      p.get_int("points"), 10.0, f64);
  // B = HiPPO-LegS's B and a seeded Gaussian C, both of unit norm.
  auto b = ssm::hippo_legs_b(n);
  b = b / b.norm();
  auto gen = at::detail::createCPUGenerator(static_cast<uint64_t>(p.get_int("seed")));
  auto c = at::randn({n}, gen, f64);
  c = c / c.norm();

  auto full = ssm::transfer_dense(ssm::hippo_legs_a(n), b, c, omegas);

  ctx.progress(0.1, "S4D-LegS: eigen-decomposition of the normal part");
  auto [w_n, v_n] = torch::linalg::eig(ssm::hippo_legs_normal(n));
  auto legs = ssm::transfer_diagonal(w_n, at::linalg_solve(v_n, b.to(c128)),
                                     torch::matmul(c.to(c128), v_n), omegas);

  ctx.progress(0.2, fmt::format("PTD: searching the perturbation of the {0}x{0} HiPPO-LegS", n));
  ssm::PtdOptions o;
  o.size = n;
  o.lambda = p.get_float("ptd_lambda");
  o.iterations = p.get_int("ptd_iterations");
  const ssm::Perturbation e = ssm::perturb_then_diagonalize(o);
  const ssm::DiagonalInit init = ssm::ptd_init(e);
  auto ptd =
      ssm::transfer_diagonal(init.a, at::linalg_solve(e.eigenvectors, b.to(c128)),
                             torch::matmul(c.to(c128), e.eigenvectors), omegas);  // V^-1 b, c V

  auto gap_legs = (legs - full).abs(), gap_ptd = (ptd - full).abs();
  auto table = std::make_shared<MetricsTable>();
  auto log = [&](const std::string& key, double value) {
    table->values[key] = value;
    ctx.log_metric(key, value);
  };
  log("sup_gap_s4d_legs", gap_legs.max().item<double>());
  log("sup_gap_ptd", gap_ptd.max().item<double>());
  log("sup_abs_g_full", full.abs().max().item<double>());
  log("ptd_kappa_v", e.kappa);
  log("ptd_relative_norm_e", e.relative_norm);
  log("ptd_backward_error", e.backward_error);
  log("s4d_legs_spike_omega", omegas[legs.abs().argmax()].item<double>());

  // The curves, one row per frequency.
  std::ostringstream csv;
  csv << "omega,abs_g_full,abs_g_s4d_legs,abs_g_ptd\n";
  auto w = omegas.accessor<double, 1>();
  auto a_full = full.abs(), a_legs = legs.abs(), a_ptd = ptd.abs();
  auto af = a_full.accessor<double, 1>(), al = a_legs.accessor<double, 1>(),
       ap = a_ptd.accessor<double, 1>();
  for (int64_t k = 0; k < omegas.size(0); ++k)
    csv << fmt::format("{},{},{},{}\n", w[k], af[k], al[k], ap[k]);
  const auto csv_path = ctx.output_dir() / "transfer_function.csv";
  write_text_file(csv_path, csv.str());
  ctx.add_file(csv_path, "transfer_function");

  plot::PlotSpec spec;
  spec.title = fmt::format("Transfer function of HiPPO-LegS (N = {}) and its diagonal models", n);
  spec.subtitle = fmt::format(
      "sup |G - G_full|: S4D-LegS {:.3g}, PTD {:.3g} (||E||/||A|| = {:.3g}, kappa(V) = {:.3g})",
      table->values["sup_gap_s4d_legs"], table->values["sup_gap_ptd"], e.relative_norm, e.kappa);
  spec.x_label = "frequency w (G evaluated at s = i w)";
  spec.y_label = "|G(i w)|";
  spec.x_scale = spec.y_scale = plot::Scale::kLog;
  spec.width = 900;
  for (const auto& [name, values] : std::vector<std::pair<std::string, at::Tensor>>{
           {"HiPPO-LegS (full)", a_full}, {"S4D-LegS (normal part)", a_legs}, {"PTD", a_ptd}}) {
    plot::Series series;
    series.name = name;
    auto v = values.accessor<double, 1>();
    for (int64_t k = 0; k < omegas.size(0); ++k)
      if (v[k] > 0) series.points.push_back({w[k], v[k], v[k], v[k], 1});
    spec.series.push_back(std::move(series));
  }
  const auto svg_path = ctx.output_dir() / "transfer_function.svg";
  const std::string svg = plot::render_svg(spec);
  write_text_file(svg_path, svg);
  ctx.add_file(svg_path, "plot");
  if (plot::png_supported()) {
    const auto png = ctx.output_dir() / "transfer_function.png";
    plot::write_png(svg, png);
    ctx.add_file(png, "plot");
  }
  return table;
}

}  // namespace

void register_transfer_function(Registry& r) {
  OpDef op;
  op.name = "analyze.transfer_function";
  op.summary =
      "G(i w) of HiPPO-LegS against its S4D-LegS and PTD diagonalizations: sup-norm gaps, the "
      "curves and a plot (no training)";
  op.version = 1;
  op.threads = 1;
  op.params = {
      int_param("state", 64, "N: the size of the HiPPO-LegS matrix", 2.0, 512.0),
      float_param("ptd_lambda", 0.2, "PTD's weight of ||E||_F against kappa(V)^2", 0.0, 1e6, true),
      int_param("ptd_iterations", 3000, "Adam steps of PTD's perturbation search", 1.0, 1e6),
      float_param("omega_min", 0.01, "lowest frequency", 0.0, 1e9, true),
      float_param("omega_max", 1e4, "highest frequency", 0.0, 1e9, true),
      int_param("points", 2000, "frequencies, log-spaced", 2.0, 1e6),
      int_param("seed", 0, "seed of the read-out vector C", 0.0),
  };
  op.output_type = MetricsTable::kType;
  op.headline_metrics = {"sup_gap_s4d_legs", "sup_gap_ptd"};
  op.run = run_transfer_function;
  r.add(std::move(op));
}

}  // namespace flowlab::ops::analyze
