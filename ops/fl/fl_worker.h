#pragma once
// The entry point of `flowlab fl-worker` (gloo_launcher.h), in a header without LibTorch so the
// CLI can call it cheaply.
#include <filesystem>

namespace flowlab {
class Registry;
}

namespace flowlab::ops::fl {

/// Joins the process group of the job in `job_dir` as `rank` and serves rounds until the server
/// says stop. Returns the process exit code.
int run_fl_worker(const std::filesystem::path& job_dir, int rank, const Registry& registry);

}  // namespace flowlab::ops::fl
