#include "ops/fl/gloo_launcher.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include <fmt/format.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/torch.h>

#include "common/error.h"
#include "common/file_io.h"
#include "common/text.h"
#include "datasets/classification_data.h"
#include "graph/op.h"
#include "ops/classifier.h"
#include "ops/fl/client_pool.h"
#include "ops/torch_runtime.h"

namespace flowlab::ops::fl {
namespace fs = std::filesystem;

namespace {

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

// `host`: the address this process's Gloo transport binds to (the server's is master_addr).
c10::intrusive_ptr<c10d::ProcessGroupGloo> connect(const c10::intrusive_ptr<c10d::Store>& store,
                                                   int rank, int world, const FederatedJob& job,
                                                   const std::string& host) {
  auto options = c10d::ProcessGroupGloo::Options::create(millis(job.timeout_s));
  options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(host));
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, options);
}

// The round header: {round, go}; go = 0 tells the workers to stop.
void broadcast(c10d::ProcessGroupGloo& group, at::Tensor tensor, double timeout_s) {
  std::vector<at::Tensor> tensors{std::move(tensor)};
  group.broadcast(tensors, c10d::BroadcastOptions{})->wait(millis(timeout_s));
}

void all_reduce_sum(c10d::ProcessGroupGloo& group, at::Tensor tensor, double timeout_s) {
  std::vector<at::Tensor> tensors{std::move(tensor)};
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::SUM;
  group.allreduce(tensors, options)->wait(millis(timeout_s));
}

std::string executable() {
  if (const char* exe = std::getenv("FLOWLAB_EXECUTABLE"); exe && *exe) return exe;
  return fs::read_symlink("/proc/self/exe").string();
}

std::string describe_exit(int status) {
  if (WIFSIGNALED(status))
    return fmt::format("was killed by signal {} ({})", WTERMSIG(status),
                       strsignal(WTERMSIG(status)));
  return fmt::format("exited with status {}", WEXITSTATUS(status));
}

}  // namespace

struct GlooServer::Impl {
  FederatedJob job;
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
  std::vector<pid_t> workers;  // index r - 1 for rank r; 0 once reaped

  // Which worker died, if one did (reaps it). Empty when all are alive.
  std::string dead_worker() {
    for (size_t i = 0; i < workers.size(); ++i) {
      if (workers[i] <= 0) continue;
      int status = 0;
      if (waitpid(workers[i], &status, WNOHANG) == workers[i]) {
        std::string what = fmt::format("Gloo worker rank {} of {} (pid {}) {}", i + 1,
                                       workers.size(), workers[i], describe_exit(status));
        workers[i] = 0;
        return what;
      }
    }
    return "";
  }

  [[noreturn]] void fail(const std::string& during, const std::exception& e) {
    // A dead worker is the usual cause: give it a moment to be reaped, then name it.
    for (int i = 0; i < 20; ++i) {
      std::string dead = dead_worker();
      if (!dead.empty())
        throw RunError(
            fmt::format("{} {}; the exchange failed with: {}", dead, during, first_line(e.what())));
      usleep(50'000);
    }
    throw RunError(fmt::format("the Gloo exchange failed {} (timeout_s = {}): {}", during,
                               job.timeout_s, first_line(e.what())));
  }
};

GlooServer::GlooServer(FederatedJob job, const fs::path& job_dir, bool spawn)
    : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  if (job.processes < 1) throw RunError("launcher gloo needs processes >= 1");
  const int world = static_cast<int>(job.processes) + 1;
  c10d::TCPStoreOptions options;
  options.port = static_cast<uint16_t>(job.master_port);
  options.isServer = true;
  options.numWorkers = world;
  options.waitWorkers = false;
  options.timeout = millis(job.timeout_s);
  try {
    s.store = c10::make_intrusive<c10d::TCPStore>(job.master_addr, options);
  } catch (const std::exception& e) {
    throw RunError(fmt::format("cannot start the Gloo rendezvous on {}:{}: {}", job.master_addr,
                               job.master_port, first_line(e.what())));
  }
  job.master_port = s.store->getPort();
  s.job = job;
  fs::create_directories(job_dir);
  write_text_file(job_dir / "job.json", job.to_json());

  const std::string exe = spawn ? executable() : "";
  for (int rank = 1; spawn && rank < world; ++rank) {
    std::vector<std::string> args = {exe,      "fl-worker",         "--job", job_dir.string(),
                                     "--rank", std::to_string(rank)};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) throw RunError(fmt::format("cannot start a Gloo worker: {}", strerror(errno)));
    if (pid == 0) {
      // A worker must not outlive the server (a killed run leaves no orphans behind).
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(1);
      execv(argv[0], argv.data());
      _exit(127);
    }
    s.workers.push_back(pid);
  }
  try {
    s.group = connect(s.store, 0, world, job, job.master_addr);
  } catch (const std::exception& e) {
    s.fail("while the workers connected", e);
  }
}

GlooServer::~GlooServer() {
  for (pid_t& pid : impl_->workers) {
    if (pid <= 0) continue;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    pid = 0;
  }
}

at::Tensor GlooServer::round(int64_t round, const at::Tensor& global, int64_t sampled,
                             int64_t dimension) {
  Impl& s = *impl_;
  const std::string during = fmt::format("during round {}", round);
  auto rows = torch::zeros({sampled, dimension + 1}, torch::kFloat64);
  try {
    broadcast(*s.group, torch::tensor({round, int64_t{1}}, torch::kInt64), s.job.timeout_s);
    broadcast(*s.group, global.contiguous(), s.job.timeout_s);  // the root only sends
    all_reduce_sum(*s.group, rows, s.job.timeout_s);
  } catch (const std::exception& e) {
    s.fail(during, e);
  }
  return rows;
}

void GlooServer::finish() {
  Impl& s = *impl_;
  try {
    broadcast(*s.group, torch::tensor({int64_t{0}, int64_t{0}}, torch::kInt64), s.job.timeout_s);
  } catch (const std::exception& e) {
    s.fail("while stopping", e);
  }
  for (size_t i = 0; i < s.workers.size(); ++i) {
    if (s.workers[i] <= 0) continue;
    int status = 0;
    waitpid(s.workers[i], &status, 0);
    const pid_t pid = s.workers[i];
    s.workers[i] = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw RunError(fmt::format("Gloo worker rank {} (pid {}) {} after the last round", i + 1, pid,
                                 describe_exit(status)));
  }
}

int run_fl_worker(const fs::path& job_dir, int rank, const Registry& registry,
                  const std::string& host) {
  // A worker started by hand may come before its server has written the job: wait a minute.
  for (int i = 0; i < 600 && !fs::exists(job_dir / "job.json"); ++i) usleep(100'000);
  const FederatedJob job = FederatedJob::from_json_file(job_dir / "job.json");
  const int world = static_cast<int>(job.processes) + 1;
  if (rank < 1 || rank >= world)
    throw RunError(fmt::format("--rank must be in [1, {}], got {}", world - 1, rank));
  set_torch_threads(job.threads);
  auto data = std::dynamic_pointer_cast<const datasets::ClassificationData>(
      datasets::ClassificationData::load(job_dir / "data"));
  auto model = std::const_pointer_cast<Classifier>(
      std::dynamic_pointer_cast<const Classifier>(Classifier::load(job_dir / "model", registry)));
  if (!data || !model)
    throw RunError(fmt::format("{}: incomplete federated job", job_dir.string()));
  ClientPool pool(job, data, model);

  c10d::TCPStoreOptions options;
  options.port = static_cast<uint16_t>(job.master_port);
  options.isServer = false;
  options.numWorkers = world;
  options.timeout = millis(job.timeout_s);
  auto store = c10::make_intrusive<c10d::TCPStore>(job.master_addr, options);
  // A worker on the server's machine binds where the server does; elsewhere it names its own
  // address (--host).
  auto group = connect(store, rank, world, job, host.empty() ? job.master_addr : host);
  const int64_t d = pool.dimension(), processes = job.processes;
  for (;;) {
    auto header = torch::zeros({2}, torch::kInt64);
    broadcast(*group, header, job.timeout_s);
    if (header[1].item<int64_t>() == 0) break;
    const int64_t round = header[0].item<int64_t>();
    auto global = torch::empty({d}, torch::kFloat32);
    broadcast(*group, global, job.timeout_s);
    const std::vector<int64_t> sampled = pool.sample(round);
    auto rows = torch::zeros({int64_t(sampled.size()), d + 1}, torch::kFloat64);
    double* base = rows.data_ptr<double>();
    for (int64_t p = 0; p < int64_t(sampled.size()); ++p) {
      if (p % processes + 1 != rank) continue;
      double* row = base + p * (d + 1);
      row[d] = pool.client_round(round, sampled[p], global, row);
    }
    all_reduce_sum(*group, rows, job.timeout_s);
  }
  return 0;
}

}  // namespace flowlab::ops::fl
