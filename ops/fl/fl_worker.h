#pragma once
// The entry point of `flowlab fl-worker` (gloo_launcher.h), in a header without LibTorch so the
// CLI can call it cheaply.
#include <filesystem>
#include <string>

namespace flowlab {
class Registry;
}

namespace flowlab::ops::fl {

/// Joins the process group of the job in `job_dir` as `rank` and serves rounds until the server
/// says stop. `host`: the address this worker's Gloo transport binds to (empty: the job's
/// master_addr, right when the worker runs on the server's machine). Returns the exit code.
int run_fl_worker(const std::filesystem::path& job_dir, int rank, const Registry& registry,
                  const std::string& host = "");

}  // namespace flowlab::ops::fl
