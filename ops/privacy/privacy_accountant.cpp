// privacy.accountant: what a run of a mechanism spends. The exact per-coordinate Renyi-DP curve
// of the chosen mechanism (accountant.h), composed over `coordinates` per round and `rounds`,
// converted to (epsilon, delta); with target_epsilon > 0 it first calibrates the mechanism to
// spend exactly that. Writes the curve as rdp.csv. Cheap enough to sweep: the node logs the
// seconds it took.
#include <chrono>
#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include "common/file_io.h"
#include "ops/metrics_table.h"
#include "ops/privacy/mechanism.h"
#include "ops/privacy/privacy_ops.h"

namespace flowlab::ops::privacy {
namespace {

ArtifactPtr run_accountant(OpContext& ctx) {
  const Params& p = ctx.params();
  const auto start = std::chrono::steady_clock::now();
  LocalAccounting run;
  run.coordinates = p.get_int("coordinates");
  run.rounds = p.get_int("rounds");
  run.delta = p.get_float("delta");
  run.conversion =
      p.get_string("conversion") == "standard" ? RdpConversion::standard : RdpConversion::improved;
  MechanismSpec m = read_mechanism(p);
  if (m.name == "none")
    throw RunError("mechanism: `none` has no privacy to account for; choose rqm, pbm or gaussian");
  if (p.get_float("target_epsilon") > 0) m = calibrate(m, p.get_float("target_epsilon"), run);
  const RdpCurve curve = rdp_per_coordinate(m, run.orders);
  const RdpCurve composed = compose(curve, double(run.coordinates) * double(run.rounds));
  const DpGuarantee dp = rdp_to_dp(composed, run.delta, run.conversion);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  auto table = std::make_shared<MetricsTable>();
  auto record = [&](const std::string& key, double value) {
    table->values[key] = value;
    ctx.log_metric(key, value);
  };
  record("epsilon", dp.epsilon);
  record("delta", dp.delta);
  record("order", dp.order);
  record("bits_per_coordinate", bits_per_coordinate(m));
  if (m.name == "rqm") record("margin", m.rqm.margin);
  if (m.name == "pbm") record("theta", m.pbm.theta);
  if (m.name == "gaussian") record("sigma", m.sigma);
  ctx.log_metric("seconds", seconds);  // not in the table: it is not a result

  std::ostringstream csv;
  csv << "order,rdp_per_coordinate,rdp_run,epsilon\n";
  for (size_t i = 0; i < curve.orders.size(); ++i) {
    const double a = curve.orders[i];
    const DpGuarantee at = rdp_to_dp({{a}, {composed.epsilons[i]}}, run.delta, run.conversion);
    csv << fmt::format("{},{:.17g},{:.17g},{:.17g}\n", a, curve.epsilons[i], composed.epsilons[i],
                       at.epsilon);
  }
  write_text_file(ctx.output_dir() / "rdp.csv", csv.str());
  ctx.add_file(ctx.output_dir() / "rdp.csv", "table");
  return table;
}

}  // namespace

void register_accountant(Registry& r) {
  OpDef op;
  op.name = "privacy.accountant";
  op.summary =
      "(epsilon, delta) a mechanism spends over coordinates x rounds: exact Renyi-DP of its "
      "output pmf over the worst pair of inputs, composed, converted; optionally calibrated";
  op.version = 1;
  op.headline_metrics = {"epsilon", "order"};
  op.params = mechanism_params();
  op.params.push_back(int_param("coordinates", 1,
                                "coordinates each client sends per round (a model's parameter "
                                "count)",
                                1.0, 1e12));
  op.params.push_back(int_param("rounds", 1, "rounds each client takes part in", 1.0, 1e9));
  op.params.push_back(string_param("conversion", "improved",
                                   "RDP to (epsilon, delta): improved (Canonne, Kamath and "
                                   "Steinke 2020) or standard (Mironov 2017)",
                                   {"improved", "standard"}));
  op.output_type = MetricsTable::kType;
  op.run = run_accountant;
  r.add(std::move(op));
}

}  // namespace flowlab::ops::privacy
