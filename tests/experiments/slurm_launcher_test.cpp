// The Slurm launcher's pieces that need no cluster: which launcher a sweep uses, the `launcher:`
// settings and their errors, the sbatch scripts, and the shared-node plan. (tests/cluster/ runs a
// real sweep through a one-node Slurm.)
#include "experiments/cli/slurm_launcher.h"

#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "common/error.h"
#include "experiments/cli/builtin.h"
#include "graph/compose.h"
#include "graph/plan.h"

using namespace flowlab;
using namespace flowlab::cli;

namespace {

ComposedSpec launcher_spec(const std::string& yaml,
                           const std::vector<std::string>& overrides = {}) {
  return compose_text(yaml, "spec.yaml", "", overrides);
}

bool text_has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A ConfigError whose text contains every part.
auto launcher_error_with(std::vector<std::string> parts) {
  return [parts](const ConfigError& e) {
    for (const auto& p : parts)
      if (!text_has(e.what(), p)) {
        BOOST_TEST_MESSAGE("missing '" << p << "' in: " << e.what());
        return false;
      }
    return true;
  };
}

const char* const kLauncherSpec = R"(experiment: t
nodes:
  data:
    op: dataset.fashion_mnist
    params: {limit_train: 500}
  train:
    op: train.classifier
    inputs: {data: data}
    params: {epochs: 1, lr: 0.01}
  eval:
    op: eval.classifier
    inputs: {model: train, data: data}
)";

}  // namespace

BOOST_AUTO_TEST_SUITE(slurm_launcher)

BOOST_AUTO_TEST_CASE(the_flag_wins_then_the_spec_then_local) {
  BOOST_TEST(launcher_of("", launcher_spec("a: 1\n")) == "local");
  BOOST_TEST(launcher_of("", launcher_spec("launcher: slurm\n")) == "slurm");
  BOOST_TEST(launcher_of("", launcher_spec("launcher: {name: slurm, time: '10'}\n")) == "slurm");
  BOOST_TEST(launcher_of("local", launcher_spec("launcher: slurm\n")) == "local");
  BOOST_CHECK_EXCEPTION(launcher_of("slrum", launcher_spec("a: 1\n")), ConfigError,
                        launcher_error_with({"--launcher", "expected local or slurm", "slurm"}));
  BOOST_CHECK_EXCEPTION(launcher_of("", launcher_spec("launcher: {name: ray}\n")), ConfigError,
                        launcher_error_with({"spec.yaml:1:", "launcher.name", "\"ray\""}));
  BOOST_CHECK_EXCEPTION(launcher_of("", launcher_spec("launcher: [slurm]\n")), ConfigError,
                        launcher_error_with({"launcher", "a launcher name or a mapping"}));
}

BOOST_AUTO_TEST_CASE(settings_are_read_and_checked_key_by_key) {
  const SlurmSettings s = slurm_settings(launcher_spec(
      "launcher: {name: slurm, partition: gpu, time: '1:00:00', cpus_per_task: 4, mem: 8G, "
      "array_parallelism: 3, extra: [--qos=short, --account=lab]}\n"));
  BOOST_TEST(s.partition == "gpu");
  BOOST_TEST(s.time == "1:00:00");
  BOOST_TEST(s.cpus_per_task == 4);
  BOOST_TEST(s.mem == "8G");
  BOOST_TEST(s.array_parallelism == 3);
  BOOST_TEST(s.extra == (std::vector<std::string>{"--qos=short", "--account=lab"}),
             boost::test_tools::per_element());
  // Recorded with the sweep and read back on resume: the same settings.
  const SlurmSettings back = slurm_settings_from_record(to_yaml(s));
  BOOST_TEST(back.partition == s.partition);
  BOOST_TEST(back.cpus_per_task == s.cpus_per_task);
  BOOST_TEST(back.extra == s.extra, boost::test_tools::per_element());
  BOOST_CHECK_EXCEPTION(slurm_settings(launcher_spec("launcher: {name: slurm, partiton: gpu}\n")),
                        ConfigError,
                        launcher_error_with({"launcher.partiton", "unknown launcher key"}));
  BOOST_CHECK_EXCEPTION(
      slurm_settings(launcher_spec("launcher: {name: slurm, cpus_per_task: two}\n")), ConfigError,
      launcher_error_with({"launcher.cpus_per_task", "whole number"}));
  BOOST_CHECK_EXCEPTION(
      slurm_settings(launcher_spec("launcher: {name: slurm, extra: [qos=short]}\n")), ConfigError,
      launcher_error_with({"launcher.extra", "starting with --"}));
  // The shipped config group composes into valid settings.
  ComposeOptions o{std::string(FLOWLAB_SOURCE_DIR) + "/experiments/quickstart.yaml",
                   std::string(FLOWLAB_SOURCE_DIR) + "/configs",
                   {"+launcher=slurm", "launcher.time=5"}};
  const ComposedSpec composed = compose(o);
  BOOST_TEST(launcher_of("", composed) == "slurm");
  BOOST_TEST(slurm_settings(composed).time == "5");
  BOOST_TEST(slurm_settings(composed).cpus_per_task == 2);
}

BOOST_AUTO_TEST_CASE(scripts_carry_the_settings_the_array_and_the_store) {
  SlurmSettings s;
  s.partition = "debug";
  s.cpus_per_task = 2;
  s.array_parallelism = 2;
  s.extra = {"--qos=short"};
  RunOptions options;
  options.workspace = "/shared/it's here";
  options.store = tracking::StoreLocation::parse("postgresql://ana@db/lab");
  const std::string child = sbatch_script("child", 12, "sweep", {0, 1, 2, 3}, s, options);
  for (const char* line :
       {"#SBATCH --partition=debug\n", "#SBATCH --cpus-per-task=2\n", "#SBATCH --qos=short\n",
        "#SBATCH --array=0-3%2\n", "#SBATCH --job-name=flowlab-12-child\n",
        "#SBATCH --output=/shared/it's here/slurm/sweep-12/child-%A_%a.out\n",
        "export FLOWLAB_STORE='postgresql://ana@db/lab'\n",
        " --workspace '/shared/it'\\''s here' slurm-task --sweep 12 --stage child --index "
        "\"$SLURM_ARRAY_TASK_ID\""})
    BOOST_TEST(text_has(child, line), line);
  // A resubmission of some children lists them; the other stages have no array.
  BOOST_TEST(
      text_has(sbatch_script("child", 12, "sweep", {1, 4, 5}, s, options), "--array=1,4,5%2\n"));
  const std::string aggregate = sbatch_script("aggregate", 12, "sweep", {0}, s, options);
  BOOST_TEST(!text_has(aggregate, "--array"));
  BOOST_TEST(text_has(aggregate, "--stage aggregate\n"));
}

BOOST_AUTO_TEST_CASE(the_shared_plan_is_what_several_children_share) {
  const Registry registry = make_builtin_registry();
  std::vector<Child> children(3);
  for (size_t i = 0; i < children.size(); ++i) {
    children[i].spec =
        launcher_spec(kLauncherSpec, {"nodes.train.params.lr=0.00" + std::to_string(i + 1)});
    children[i].plan = make_plan(children[i].spec, registry);
  }
  const Plan shared = shared_plan(children);
  BOOST_REQUIRE_EQUAL(shared.nodes.size(), 1u);
  BOOST_TEST(shared.nodes[0].name == "data");
  BOOST_TEST(shared.nodes[0].key == children[0].plan.find("data")->key);
  BOOST_TEST(shared.nodes[0].inputs.empty());
  // Children that share the training too share it and what it reads; one child shares nothing.
  children[1].spec = launcher_spec(kLauncherSpec, {"nodes.train.params.lr=0.001"});
  children[1].plan = make_plan(children[1].spec, registry);
  const Plan two = shared_plan({children[0], children[1]});
  BOOST_REQUIRE_EQUAL(two.nodes.size(), 3u);
  BOOST_TEST(two.nodes[1].name == "train");
  BOOST_TEST(two.nodes[1].inputs.at("data") == 0u);
  BOOST_TEST(two.nodes[0].consumers.size() == 2u);
  BOOST_TEST(shared_plan({children[0]}).nodes.empty());
}

BOOST_AUTO_TEST_SUITE_END()
