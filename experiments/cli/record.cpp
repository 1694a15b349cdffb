#include "experiments/cli/record.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#ifndef FLOWLAB_VERSION
#define FLOWLAB_VERSION "0.0.0"
#endif

namespace flowlab::cli {
namespace fs = std::filesystem;

CommandResult run_command(const std::vector<std::string>& argv, bool capture_stderr) {
  int fds[2];
  if (argv.empty() || pipe(fds) != 0) return {-1, "cannot start a command"};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    if (capture_stderr) {
      dup2(fds[1], STDERR_FILENO);
    } else if (const int null_fd = open("/dev/null", O_WRONLY); null_fd >= 0) {
      dup2(null_fd, STDERR_FILENO);
    }
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "cannot run %s: not found\n", args[0]);
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buffer[512];
  ssize_t got;
  while ((got = read(fds[0], buffer, sizeof buffer)) > 0)
    out.append(buffer, static_cast<size_t>(got));
  close(fds[0]);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) < 0) return {-1, "cannot start a command"};
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128, out};
}

// `git rev-parse HEAD` in the spec's directory, run without a shell (paths may hold quotes).
std::string git_commit_of(const fs::path& spec) {
  const std::string dir = fs::absolute(spec).parent_path().string();
  auto [rc, out] = run_command({"git", "-C", dir, "rev-parse", "HEAD"}, /*capture_stderr=*/false);
  if (rc != 0) return "";
  out.erase(out.find_last_not_of("\n\r ") + 1);
  return out;
}

std::string host_name() {
  char name[256] = {0};
  gethostname(name, sizeof name - 1);
  return name;
}

tracking::RunStart run_start(const RunOptions& options, const std::string& git_commit) {
  tracking::RunStart start;
  start.spec_file = fs::absolute(options.spec).string();
  start.git_commit = git_commit;
  start.host = host_name();
  start.pid = getpid();
  start.flowlab_version = FLOWLAB_VERSION;
  return start;
}

std::map<std::string, std::string> run_params(const Plan& plan, const ComposedSpec& spec) {
  std::map<std::string, std::string> params;
  params["seed"] = std::to_string(plan.seed);
  params["threads"] = plan.threads == 0 ? "auto" : std::to_string(plan.threads);
  params["device"] = plan.device;
  for (const auto& [group, option] : spec.group_choices) params["defaults." + group] = option;
  // Top-level scalars are the spec's own knobs (sigma: 0.25, interpolated into several nodes).
  for (const auto& kv : spec.root) {
    std::string key = kv.first.as<std::string>();
    if (kv.second.IsScalar() && key != "experiment" && !params.count(key))
      params[key] = kv.second.Scalar();
  }
  for (const auto& node : plan.nodes) {
    params[node.name + ".op"] = node.op->name;
    for (const auto& [name, value] : node.params.values())
      params[node.name + "." + name] = display_text(value);
  }
  return params;
}

std::string overrides_json(const std::vector<std::string>& overrides) {
  return nlohmann::json(overrides).dump();
}

int64_t record_child(tracking::Store& store, const RunOptions& options, Child& c,
                     std::optional<int64_t> parent, const std::string& name,
                     const std::string& git_commit) {
  tracking::RunStart start = run_start(options, git_commit);
  start.experiment = c.plan.experiment;
  start.name = name;
  start.parent_id = parent;
  start.composed_yaml = c.spec.to_yaml();
  start.overrides = overrides_json(c.overrides);
  start.seed = c.plan.seed;
  c.run_id = store.begin_run(start);
  store.log_params(c.run_id, run_params(c.plan, c.spec));
  store.set_tags(c.run_id, c.plan.tags);  // the spec's `tags:` map
  return c.run_id;
}

}  // namespace flowlab::cli
