#include "tests/support/run_fixture.h"

#include <chrono>

#include "experiments/cli/builtin.h"
#include "tracking/store.h"

namespace flowlab::testing {

std::filesystem::path source_dir() { return FLOWLAB_SOURCE_DIR; }

RunFixture::RunFixture() : registry_(cli::make_builtin_registry()) {}

cli::RunOptions RunFixture::options(const std::string& spec,
                                    const std::vector<std::string>& overrides) const {
  cli::RunOptions options;
  options.spec =
      spec.front() == '/' ? std::filesystem::path(spec) : source_dir() / "tests/data/specs" / spec;
  options.overrides = overrides;
  options.workspace = workspace();
  options.config_dir = source_dir() / "configs";
  options.quiet = true;
  return options;
}

namespace {
template <typename Runner>
RunResult timed(Runner runner) {
  std::ostringstream out, err;
  auto t0 = std::chrono::steady_clock::now();
  RunResult r;
  r.outcome = runner(out, err);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.out = out.str(), r.err = err.str();
  return r;
}
}  // namespace

RunResult RunFixture::run(const std::string& spec, const std::vector<std::string>& overrides,
                          bool no_cache, int threads) {
  cli::RunOptions o = options(spec, overrides);
  o.no_cache = no_cache;
  o.threads = threads;
  return timed([&](std::ostream& out, std::ostream& err) {
    return cli::run_spec(o, registry_, out, err, stop_);
  });
}

RunResult RunFixture::sweep(const std::string& spec, const std::vector<std::string>& overrides,
                            SweepFlags flags) {
  cli::RunOptions o = options(spec, overrides);
  o.jobs = flags.jobs;
  o.dry_run = flags.dry_run;
  return timed([&](std::ostream& out, std::ostream& err) {
    return cli::run_sweep(o, registry_, out, err, stop_);
  });
}

std::map<std::string, double> RunFixture::final_metrics(int64_t run,
                                                        const std::string& node) const {
  tracking::Store store(db());
  std::map<std::string, double> m;
  for (const auto& row : store.final_metrics(run))
    if (row.node == node) m[row.key] = row.value;
  return m;
}

}  // namespace flowlab::testing
