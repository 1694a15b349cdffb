#pragma once
// The one training loop every trainer runs: the step loop with its logging window, progress with
// ETA, the non-finite loss check, cancellation, and checkpoints that let `flowlab resume` continue
// a killed node to exactly the metrics of an uninterrupted run. A trainer supplies its step, its
// state (save/load) and what to log; the loop owns the rest.
//
// Checkpoints are taken at a loss log once `checkpoint_every` steps or `checkpoint_seconds` have
// passed, and at the end of every epoch but the last. The loop's own state (steps done, the
// logging window, seconds spent) travels in loop.json beside the trainer's files.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "graph/op.h"

namespace flowlab::ops::training {

/// What a trainer tells the loop about one step.
struct StepResult {
  double loss = 0.0;    // checked for NaN/inf by the loop
  int64_t samples = 0;  // examples the step used (for samples/s)
};

class Trainer {
 public:
  virtual ~Trainer() = default;
  /// Runs step `step` (1-based).
  virtual StepResult step(int64_t step) = 0;
  /// Called at each loss log, after the loop logged its own metrics (extra per-log metrics).
  virtual void on_log(OpContext& ctx, int64_t step) {}
  /// Called after the last step of epoch `epoch` (1-based) when the loop has epochs.
  virtual void on_epoch_end(OpContext& ctx, int64_t epoch) {}
  /// Writes everything the next step depends on (weights, optimizer, generators, counters) into
  /// the empty directory `dir`; load() restores it.
  virtual void save(const std::filesystem::path& dir) const = 0;
  virtual void load(const std::filesystem::path& dir) = 0;
  /// "epoch 2/3 step 10/469" for progress lines (default: "step 10/200").
  virtual std::string position(int64_t step) const;
};

struct LoopOptions {
  int64_t steps = 1;            // total steps
  int64_t steps_per_epoch = 0;  // 0: no epochs
  int64_t log_every = 50;
  /// true: log the mean loss over the steps since the last log (noisy minibatch losses);
  /// false: the loss of the logged step itself (full-batch training).
  bool window_mean_loss = true;
  bool log_samples_per_s = true;
  int64_t checkpoint_every = 0;     // steps; 0 = by time only
  double checkpoint_seconds = 0.0;  // 0 = by steps only; both 0: no checkpoints
  std::string label;                // prefix of progress lines ("cnn")
  std::string hint;                 // appended to the non-finite loss message
};

struct LoopResult {
  double train_seconds = 0.0;  // including time before a resume
  bool resumed = false;
};

/// "epoch 2/3 step 10/469": the position of 1-based `step` in training by epochs.
std::string epoch_position(int64_t step, int64_t steps_per_epoch, int64_t epochs);

/// The checkpoint params every trainer declares (checkpoint_every, checkpoint_seconds; not in
/// the cache key) and log_every (not in the key either).
std::vector<ParamSpec> loop_params(int64_t log_every_default, double checkpoint_seconds_default);
/// Reads those params into `o`.
void read_loop_params(const Params& p, LoopOptions& o);

/// Restores the last checkpoint (if any), then runs the remaining steps.
LoopResult run_training(OpContext& ctx, Trainer& trainer, const LoopOptions& options);

}  // namespace flowlab::ops::training
