#include "ops/fl/federated_job.h"

#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace flowlab::ops::fl {

std::string FederatedJob::to_json() const {
  const auto& m = mechanism;
  nlohmann::json j = {
      {"clients", clients},
      {"clients_per_round", clients_per_round},
      {"partition", partition},
      {"alpha", alpha},
      {"local_epochs", local_epochs},
      {"local_batch_size", local_batch_size},
      {"local_lr", local_lr},
      {"seed", seed},
      {"threads", threads},
      {"mechanism",
       {{"name", m.name},
        {"clip", m.clip},
        {"levels", m.rqm.levels},
        {"keep", m.rqm.keep},
        {"margin", m.rqm.margin},
        {"trials", m.pbm.trials},
        {"theta", m.pbm.theta},
        {"sigma", m.sigma}}},
      {"processes", processes},
      {"master_addr", master_addr},
      {"master_port", master_port},
      {"timeout_s", timeout_s},
  };
  return j.dump(1);
}

FederatedJob FederatedJob::from_json_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw RunError(fmt::format("{}: cannot read the federated job", file.string()));
  try {
    const auto j = nlohmann::json::parse(in);
    FederatedJob job;
    job.clients = j.at("clients");
    job.clients_per_round = j.at("clients_per_round");
    job.partition = j.at("partition");
    job.alpha = j.at("alpha");
    job.local_epochs = j.at("local_epochs");
    job.local_batch_size = j.at("local_batch_size");
    job.local_lr = j.at("local_lr");
    job.seed = j.at("seed");
    job.threads = j.at("threads");
    const auto& m = j.at("mechanism");
    auto& spec = job.mechanism;
    spec.name = m.at("name");
    spec.clip = m.at("clip");
    spec.rqm = {spec.clip, m.at("margin").get<double>(), m.at("levels").get<int>(),
                m.at("keep").get<double>()};
    spec.pbm = {spec.clip, m.at("theta").get<double>(), m.at("trials").get<int>()};
    spec.sigma = m.at("sigma");
    job.processes = j.at("processes");
    job.master_addr = j.at("master_addr");
    job.master_port = j.at("master_port");
    job.timeout_s = j.at("timeout_s");
    privacy::validate(spec);
    return job;
  } catch (const nlohmann::json::exception& e) {
    throw RunError(fmt::format("{}: malformed federated job: {}", file.string(), e.what()));
  }
}

FederatedJob read_job(const Params& p) {
  FederatedJob job;
  job.clients = p.get_int("clients");
  job.clients_per_round = p.get_int("clients_per_round");
  job.partition = p.get_string("partition");
  job.alpha = p.get_float("alpha");
  job.local_epochs = p.get_int("local_epochs");
  job.local_batch_size = p.get_int("local_batch_size");
  job.local_lr = p.get_float("local_lr");
  job.seed = static_cast<uint64_t>(p.get_int("seed"));
  job.mechanism = privacy::read_mechanism(p);
  job.processes = p.get_string("launcher") == "gloo" ? p.get_int("processes") : 0;
  job.master_addr = p.get_string("master_addr");
  job.master_port = p.get_int("master_port");
  job.timeout_s = p.get_float("timeout_s");
  if (job.clients_per_round > job.clients)
    throw RunError(fmt::format("clients_per_round ({}) must be at most clients ({})",
                               job.clients_per_round, job.clients));
  return job;
}

}  // namespace flowlab::ops::fl
