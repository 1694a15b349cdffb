#pragma once
// What every process of a federated run must agree on: the clients' shards, the round's sample,
// local training and the mechanism. The op fills it from its params; with `launcher: gloo` it is
// written to job.json for the worker processes, which rebuild exactly the same clients from it.
// Torch-free.
#include <cstdint>
#include <filesystem>
#include <string>

#include "graph/params.h"
#include "ops/privacy/mechanism.h"

namespace flowlab::ops::fl {

struct FederatedJob {
  int64_t clients = 100;
  int64_t clients_per_round = 10;
  std::string partition = "iid";  // iid | dirichlet
  double alpha = 0.5;             // Dirichlet concentration
  int64_t local_epochs = 1;
  int64_t local_batch_size = 32;
  double local_lr = 0.1;
  uint64_t seed = 0;
  int threads = 1;                   // LibTorch intra-op threads for local training
  privacy::MechanismSpec mechanism;  // calibrated already
  // Multi-process runs (launcher: gloo).
  int64_t processes = 0;  // worker processes (world size = processes + 1)
  std::string master_addr = "127.0.0.1";
  int64_t master_port = 0;
  double timeout_s = 300;

  /// Every field, as JSON text, and back (RunError naming the file on a malformed job).
  std::string to_json() const;
  static FederatedJob from_json_file(const std::filesystem::path& file);
};

/// The client-side fields of an fl.federated node's params (mechanism not calibrated).
FederatedJob read_job(const Params& params);

}  // namespace flowlab::ops::fl
