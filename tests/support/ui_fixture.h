#pragma once
// A workspace whose store holds runs with answers known by construction, for the dashboard's
// tests (API, HTTP and browser). Every value is written here; tests derive expectations from the
// constants below, not from what the dashboard shows.
//
//   baseline   experiment fmnist, FINISHED, lr 0.1; train.loss = 1 / (1 + step) for steps
//              0..999; eval.accuracy 0.81; nodes data (cached) and train; artifacts (see below)
//   sweep      "sizes (sweep)", FINISHED, parent of 6 children: data.limit_train in {100, 1000,
//              10000} x seed {0, 1}; each child's eval.accuracy = 0.5 + 0.1 log10(limit) +
//              0.01 seed, and eval.certified_accuracy@r = accuracy - r / 4 for r in {0, 0.5, 1}
//   hostile    FAILED, name/param/tag/error full of HTML and script
//   stale      RUNNING, recorded by a process of this host that no longer exists
//   bad_utf8   FINISHED, a name that is not valid UTF-8
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"
#include "tracking/connection.h"

namespace flowlab::testing {

struct UiFixture {
  TempDir dir;
  std::filesystem::path workspace;  // dir/ws: runs.db and cache/
  tracking::StoreLocation store;
  int64_t baseline = 0, sweep = 0, hostile = 0, stale = 0, bad_utf8 = 0;
  std::vector<int64_t> children;  // the sweep's, by id
  static constexpr int kLossSteps = 1000;
  static constexpr const char* kHostileName =
      "<script>document.title='pwned'</script><b id=\"injected\">bold</b>";

  // Artifacts of `baseline`, all registered for it:
  std::filesystem::path model;         // a regular file in the workspace: served
  std::string model_bytes;             // its content
  std::filesystem::path link_out;      // a symbolic link in the workspace to a file outside it
  std::filesystem::path dotdot;        // a path through ".." (to the model file)
  std::filesystem::path outside;       // a regular file outside the workspace
  std::filesystem::path through_link;  // a file reached through a linked directory
  std::filesystem::path secret;        // the file outside the workspace the links point at

  UiFixture();
  /// The run ids `flowlab query FILTER` lists, in its order (newest first): what the dashboard's
  /// runs table must show for the same filter.
  std::vector<int64_t> query_ids(const std::string& filter) const;
};

}  // namespace flowlab::testing
