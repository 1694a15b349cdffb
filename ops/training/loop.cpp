#include "ops/training/loop.h"

#include <chrono>
#include <cmath>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/error.h"
#include "common/file_io.h"

namespace flowlab::ops::training {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string Trainer::position(int64_t step) const { return fmt::format("step {}", step); }

std::string epoch_position(int64_t step, int64_t steps_per_epoch, int64_t epochs) {
  return fmt::format("epoch {}/{} step {}/{}", (step - 1) / steps_per_epoch + 1, epochs,
                     (step - 1) % steps_per_epoch + 1, steps_per_epoch);
}

std::vector<ParamSpec> loop_params(int64_t log_every_default, double checkpoint_seconds_default) {
  return {
      not_in_key(int_param("log_every", log_every_default,
                           "log the loss (and samples/s) every this many steps", 1.0)),
      not_in_key(int_param(
          "checkpoint_every", 0,
          "also checkpoint every this many steps (at a loss log; 0 = by time only)", 0.0)),
      not_in_key(
          float_param("checkpoint_seconds", checkpoint_seconds_default,
                      "checkpoint at the first loss log this many seconds after the last one "
                      "(0 = by steps only); `flowlab resume` restarts from it",
                      0.0)),
  };
}

void read_loop_params(const Params& p, LoopOptions& o) {
  o.log_every = p.get_int("log_every");
  o.checkpoint_every = p.get_int("checkpoint_every");
  o.checkpoint_seconds = p.get_float("checkpoint_seconds");
}

namespace {

// The loop's part of a checkpoint.
struct LoopState {
  int64_t step = 0;  // steps done
  double window_loss = 0, seconds_before = 0;
  int64_t window_steps = 0, window_samples = 0;
};

void write_state(const fs::path& file, const LoopState& st, double seconds) {
  nlohmann::json j = {{"step", st.step},
                      {"window_loss", st.window_loss},
                      {"window_steps", st.window_steps},
                      {"window_samples", st.window_samples},
                      {"seconds", seconds}};
  write_text_file(file, j.dump());
}

// An integer field of loop.json. A float there (1e300) would be converted to int64_t with
// undefined behaviour, as fuzz/cache_record_fuzz.cpp found for the same pattern in cache records.
int64_t integer_at(const nlohmann::json& j, const char* key) {
  const nlohmann::json& v = j.at(key);
  if (!v.is_number_integer()) throw RunError(fmt::format("{} is not an integer", key));
  return v.get<int64_t>();
}

LoopState read_state(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw RunError("cannot read " + file.string());
  auto j = nlohmann::json::parse(in);
  LoopState st;
  st.step = integer_at(j, "step"), st.window_loss = j.at("window_loss");
  st.window_steps = integer_at(j, "window_steps");
  st.window_samples = integer_at(j, "window_samples");
  st.seconds_before = j.at("seconds");
  return st;
}

}  // namespace

LoopResult run_training(OpContext& ctx, Trainer& trainer, const LoopOptions& o) {
  LoopState st;
  LoopResult result;
  if (auto dir = ctx.restore_checkpoint()) {
    try {
      st = read_state(*dir / "loop.json");
      trainer.load(*dir);
    } catch (const std::exception& e) {
      throw RunError(
          fmt::format("the checkpoint in {} is damaged ({}); run again with --no-cache "
                      "to train from scratch",
                      dir->string(), e.what()));
    }
    result.resumed = true;
    ctx.progress(static_cast<double>(st.step) / o.steps,
                 fmt::format("{}resumed from checkpoint at {}",
                             o.label.empty() ? "" : o.label + " ", trainer.position(st.step + 1)));
  }
  const bool checkpointing = o.checkpoint_every > 0 || o.checkpoint_seconds > 0;
  const auto start = Clock::now();
  auto last_checkpoint = start, window_start = start;
  int64_t last_checkpoint_step = st.step;
  const int64_t first_step = st.step;
  constexpr int64_t kStepsBeforeEta = 3;
  auto rate_start = start;
  auto save = [&] {
    ctx.save_checkpoint([&](const fs::path& dir) {
      trainer.save(dir);
      write_state(dir / "loop.json", st, st.seconds_before + seconds_since(start));
    });
    last_checkpoint = Clock::now();
    last_checkpoint_step = st.step;
  };

  while (st.step < o.steps) {
    ctx.check_cancelled();
    const int64_t step = st.step + 1;
    StepResult r = trainer.step(step);
    if (!std::isfinite(r.loss))
      throw RunError(fmt::format("loss became {} at {}{}", std::isnan(r.loss) ? "NaN" : "infinite",
                                 trainer.position(step), o.hint.empty() ? "" : "; " + o.hint));
    st.step = step;
    ++st.window_steps;
    st.window_loss += r.loss;
    st.window_samples += r.samples;
    const bool epoch_end = o.steps_per_epoch > 0 && step % o.steps_per_epoch == 0;
    if (step % o.log_every == 0 || step == o.steps) {
      double elapsed = seconds_since(window_start);
      ctx.log_metric("loss", o.window_mean_loss ? st.window_loss / st.window_steps : r.loss, step);
      if (o.log_samples_per_s)
        ctx.log_metric("samples_per_s", st.window_samples / std::max(elapsed, 1e-9), step);
      trainer.on_log(ctx, step);
      window_start = Clock::now(), st.window_loss = 0, st.window_steps = 0, st.window_samples = 0;
      bool due =
          (o.checkpoint_every > 0 && step - last_checkpoint_step >= o.checkpoint_every) ||
          (o.checkpoint_seconds > 0 && seconds_since(last_checkpoint) >= o.checkpoint_seconds);
      // At an epoch's end the checkpoint comes after the epoch's evaluation, below.
      if (due && !epoch_end && step < o.steps) save();
    }
    if (epoch_end) {
      trainer.on_epoch_end(ctx, step / o.steps_per_epoch);
      if (checkpointing && step < o.steps) save();
    }
    // The first steps pay for warm-up (allocations, kernel selection, a cold cache): the rate
    // is measured from the end of the first step, and only shown once three more have run.
    if (step == first_step + 1) rate_start = Clock::now();
    const int64_t timed = step - (first_step + 1);
    const std::string eta =
        timed >= kStepsBeforeEta
            ? format_duration(seconds_since(rate_start) / timed * (o.steps - step))
            : std::string("…");
    ctx.progress(static_cast<double>(step) / o.steps,
                 fmt::format("{}{} loss {:.4f} ETA {}", o.label.empty() ? "" : o.label + " ",
                             trainer.position(step), r.loss, eta));
  }
  result.train_seconds = st.seconds_before + seconds_since(start);
  return result;
}

}  // namespace flowlab::ops::training
