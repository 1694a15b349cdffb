#pragma once
// The resume check every trainer's tests make: run a spec's graph once whole, then once stopped
// right after the training node logs its loss at a given step, then resumed from that run's
// checkpoints; the resumed run must log exactly the training node's metrics (keys, steps and
// values, bit for bit) of the whole one.
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

namespace flowlab::testing {

/// One logged metric of the training node: key, step, value.
using MetricRow = std::tuple<std::string, int64_t, double>;

struct ResumeRecords {
  std::vector<MetricRow> whole, resumed;
  bool stopped = false;  // the interrupted run really stopped (killed) before finishing
};

/// Runs `spec` (tests/data/specs/<spec> or a path) with `overrides`, node `train_node` being the
/// trainer: whole, then stopped once it logs "loss" at `stop_step`, then resumed. Timing metrics
/// (train_time_s, samples_per_s) are left out of the rows.
ResumeRecords run_whole_and_resumed(const std::string& spec,
                                    const std::vector<std::string>& overrides, int64_t stop_step,
                                    const std::string& train_node = "train");

}  // namespace flowlab::testing
