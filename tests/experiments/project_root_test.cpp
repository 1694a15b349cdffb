// Where a command's config groups and workspace come from: one project root (the nearest folder
// holding configs/), found from the spec's folder for run and sweep and from the current
// directory otherwise, so that a run started in a subfolder and `flowlab runs` anywhere in the
// project use the same workspace. Flags and FLOWLAB_HOME still win; outside a project it is
// ./.flowlab.
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include <boost/test/unit_test.hpp>

#include "experiments/cli/app.h"
#include "experiments/cli/commands.h"
#include "graph/compose.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using flowlab::testing::TempDir;

// Runs the test body in another current directory and with FLOWLAB_HOME unset, restoring both.
class ProjectRootScope {
 public:
  explicit ProjectRootScope(const fs::path& cwd) : cwd_(fs::current_path()) {
    if (const char* home = std::getenv("FLOWLAB_HOME")) home_ = home;
    unsetenv("FLOWLAB_HOME");
    fs::current_path(cwd);
  }
  ~ProjectRootScope() {
    fs::current_path(cwd_);
    if (home_) setenv("FLOWLAB_HOME", home_->c_str(), 1);
  }

 private:
  fs::path cwd_;
  std::optional<std::string> home_;
};

// tmp/project/{configs/model, experiments/deep/}, tmp/elsewhere/.
struct ProjectTree {
  TempDir tmp;
  fs::path project, experiments, deep, elsewhere;
  ProjectTree() {
    project = fs::canonical(tmp.path()) / "project";
    experiments = project / "experiments";
    deep = experiments / "deep";
    elsewhere = fs::canonical(tmp.path()) / "elsewhere";
    fs::create_directories(project / "configs" / "model");
    fs::create_directories(deep);
    fs::create_directories(elsewhere);
    flowlab::testing::write_file(experiments / "spec.yaml", "experiment: x\n");
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(project_root)

BOOST_AUTO_TEST_CASE(the_root_is_the_nearest_folder_holding_configs) {
  ProjectTree t;
  BOOST_TEST(flowlab::find_project_root(t.deep) == t.project);
  BOOST_TEST(flowlab::find_project_root(t.experiments) == t.project);
  BOOST_TEST(flowlab::find_project_root(t.project) == t.project);
  BOOST_TEST(flowlab::find_project_root(t.project / "configs" / "model") == t.project);
  BOOST_TEST(flowlab::find_project_root(t.experiments / "") == t.project);  // a trailing slash
  BOOST_TEST(flowlab::find_project_root(t.elsewhere).empty());
  // The config groups come from the same root.
  BOOST_TEST(flowlab::find_config_dir(t.experiments / "spec.yaml") == t.project / "configs");
  BOOST_TEST(flowlab::find_config_dir(t.elsewhere / "spec.yaml").empty());
}

BOOST_AUTO_TEST_CASE(run_and_database_commands_find_one_workspace_anywhere_in_the_project) {
  ProjectTree t;
  flowlab::cli::GlobalOptions global;
  {
    ProjectRootScope in(t.deep);  // `cd experiments/deep && flowlab runs`
    BOOST_TEST(global.workspace() == t.project / ".flowlab");
    // `flowlab run ../spec.yaml` from there: the spec's project, the same folder.
    BOOST_TEST(global.workspace_for_spec("../spec.yaml", "") == t.project / ".flowlab");
  }
  {
    // From outside the project, a spec inside it still records into the project; the database
    // commands there use ./.flowlab (the run's header names the workspace it used).
    ProjectRootScope in(t.elsewhere);
    BOOST_TEST(global.workspace_for_spec(t.experiments / "spec.yaml", "") ==
               t.project / ".flowlab");
    BOOST_TEST(global.workspace() == t.elsewhere / ".flowlab");
  }
  {
    // Inside the project: --config-dir makes its parent the project (whatever the folder is
    // called), and a spec outside every project records where `flowlab runs` here looks.
    ProjectRootScope in(t.deep);
    fs::create_directories(t.elsewhere / "groups");
    flowlab::testing::write_file(t.elsewhere / "loose.yaml", "experiment: y\n");
    BOOST_TEST(global.workspace_for_spec(t.experiments / "spec.yaml", t.elsewhere / "groups") ==
               t.elsewhere / ".flowlab");
    BOOST_TEST(global.workspace_for_spec(t.elsewhere / "loose.yaml", "") == t.project / ".flowlab");
    BOOST_TEST(global.workspace() == t.project / ".flowlab");
  }
}

BOOST_AUTO_TEST_CASE(the_flag_and_flowlab_home_win_over_the_project) {
  ProjectTree t;
  ProjectRootScope in(t.experiments);
  flowlab::cli::GlobalOptions global;
  setenv("FLOWLAB_HOME", (t.elsewhere / "home").c_str(), 1);
  BOOST_TEST(global.workspace() == t.elsewhere / "home");
  BOOST_TEST(global.workspace_for_spec("spec.yaml", "") == t.elsewhere / "home");
  global.workspace_flag = (t.elsewhere / "flag").string();
  BOOST_TEST(global.workspace() == t.elsewhere / "flag");
  BOOST_TEST(global.workspace_for_spec("spec.yaml", "") == t.elsewhere / "flag");
  unsetenv("FLOWLAB_HOME");  // the scope restores the caller's value
}

BOOST_AUTO_TEST_SUITE_END()
