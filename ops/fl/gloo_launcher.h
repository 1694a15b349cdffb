#pragma once
// `launcher: gloo`: the clients of a federated run spread over worker processes that exchange
// through LibTorch's c10d Gloo process group. Rank 0 is the server (the flowlab process running
// the node); ranks 1..P are workers running `flowlab fl-worker --job DIR --rank R`, which the
// server starts on its own machine (`workers: spawn`) or waits for (`workers: external`: started
// by the user, e.g. on other machines that can read DIR and reach master_addr). Each round the
// server broadcasts the round number and the global weights; every worker runs its share of the
// sampled clients (position p of the sample goes to worker p mod P + 1) and writes each client's
// message row into a [K, d + 1] buffer that is zero elsewhere (the last column: its local loss);
// one all-reduce (sum) gives the server every row exactly, since adding zeros is exact, so the
// result does not depend on the number of processes.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "ops/fl/federated_job.h"
#include "ops/fl/fl_worker.h"

namespace flowlab {
class Registry;
}

namespace flowlab::ops::fl {

class GlooServer {
 public:
  /// Starts the rendezvous store, writes `job` (with the port it got) to job_dir/job.json, starts
  /// the workers when `spawn` (else they are started by someone else) and connects the process
  /// group, waiting up to job.timeout_s for every worker. Spawned workers run this process's own
  /// executable (/proc/self/exe) unless FLOWLAB_EXECUTABLE names another.
  GlooServer(FederatedJob job, const std::filesystem::path& job_dir, bool spawn = true);
  /// Stops workers that are still running (SIGKILL) and reaps them.
  ~GlooServer();
  GlooServer(const GlooServer&) = delete;
  GlooServer& operator=(const GlooServer&) = delete;

  /// One round: the rows [K, d + 1] (float64) of the sampled clients, computed by the workers.
  /// A worker that dies or a timeout is a RunError naming the worker, its pid and the round.
  at::Tensor round(int64_t round, const at::Tensor& global, int64_t sampled, int64_t dimension);
  /// Tells the workers to stop and waits for them to exit.
  void finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowlab::ops::fl
