// What the model registry and typed ports promise, end to end: an architecture registered by this
// test binary alone (flowlab's code does not know it) is trained, evaluated, cached, loaded back
// and certified by the unchanged ops; a dataset of the wrong kind is refused at validation with
// both types named.
#include <fstream>

#include <boost/test/unit_test.hpp>
#include <torch/torch.h>

#include "common/error.h"
#include "datasets/classification_data.h"
#include "ops/models/model.h"
#include "ops/models/sequential.h"
#include "tests/support/raw_db.h"
#include "tests/support/run_fixture.h"

namespace fs = std::filesystem;
using flowlab::testing::RunFixture;

namespace {

// A linear classifier whose only param scales its initial weights: nothing flowlab ships.
void register_test_linear(flowlab::Registry& r) {
  flowlab::ops::ModelDef m;
  m.family = "classifier";
  m.name = "test_linear";
  m.summary = "a linear map from the flattened input to the logits (tests only)";
  m.params = {flowlab::float_param("scale", 1.0, "initial weight scale", 0.0, 10.0, true)};
  m.build = [](const flowlab::Params& p, const flowlab::ops::ModelInput& in) {
    int64_t inputs = 1;
    for (int64_t s : in.shape) inputs *= s;
    auto linear = torch::nn::Linear(inputs, in.outputs);
    {
      torch::NoGradGuard no_grad;
      linear->weight.mul_(p.get_float("scale"));
    }
    return std::make_shared<flowlab::ops::SequentialNetwork>(
        torch::nn::Sequential(torch::nn::Flatten(), linear));
  };
  flowlab::ops::add_model(r, std::move(m));
}

std::map<std::string, double> final_metrics(RunFixture& f, int64_t run) {
  flowlab::testing::RawDb db(f.db());
  std::map<std::string, double> out;
  for (const auto& row :
       db.rows("SELECT node || '.' || key, value FROM final_metrics WHERE run_id = " +
               std::to_string(run)))
    out[row[0]] = std::stod(row[1]);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(registry_run)

BOOST_AUTO_TEST_CASE(a_throwaway_architecture_is_trained_cached_and_certified_by_unchanged_ops) {
  RunFixture f;
  register_test_linear(f.registry());
  BOOST_CHECK_NO_THROW(f.registry().check());
  auto r = f.run("certify_any_model.yaml");
  BOOST_REQUIRE_MESSAGE(r.outcome.exit_code == 0, r.err);
  auto m = final_metrics(f, r.outcome.run_id);
  // A linear model on Fashion-MNIST after one noisy epoch: well above chance (0.1).
  BOOST_TEST(m.at("eval.accuracy") > 0.6);
  BOOST_TEST(m.at("certify.images") == 10.0);
  BOOST_TEST(m.at("certify.certified_accuracy@0") >= m.at("certify.certified_accuracy@0.25"));
  BOOST_TEST(m.at("certify.certified_accuracy@0.25") >= m.at("certify.certified_accuracy@0.5"));
  // The recorded params hold the architecture's own param, and it is part of the node's key.
  flowlab::testing::RawDb db(f.db());
  auto scale =
      db.rows("SELECT value FROM params WHERE run_id = " + std::to_string(r.outcome.run_id) +
              " AND key = 'train.scale'");
  BOOST_REQUIRE(scale.size() == 1u);
  BOOST_TEST(scale[0][0] == "0.5");

  // Certifying again with more samples loads the trained model from the cache: the architecture
  // is rebuilt from its saved record through the registry, with no code of its own.
  auto again = f.run("certify_any_model.yaml", {"certify.n=600"});
  BOOST_REQUIRE_MESSAGE(again.outcome.exit_code == 0, again.err);
  auto statuses = db.rows("SELECT node, status, cache_hit FROM node_executions WHERE run_id = " +
                          std::to_string(again.outcome.run_id) + " ORDER BY node");
  BOOST_REQUIRE(statuses.size() == 4u);
  BOOST_TEST(statuses[0][1] == "FINISHED");  // certify: recomputed on the loaded model
  BOOST_TEST(statuses[3][1] == "CACHED");    // train
  auto m2 = final_metrics(f, again.outcome.run_id);
  BOOST_TEST(m2.at("eval.accuracy") == m.at("eval.accuracy"));
}

BOOST_AUTO_TEST_CASE(an_unknown_architecture_or_its_param_is_a_located_error) {
  RunFixture f;
  try {
    f.run("certify_any_model.yaml");  // test_linear is not registered in this fixture
    BOOST_FAIL("expected a ConfigError");
  } catch (const flowlab::ConfigError& e) {
    std::string what = e.what();
    BOOST_TEST(what.find("certify_any_model.yaml:15:") != std::string::npos, what);
    BOOST_TEST(what.find("nodes.train.params.model: unknown classifier 'test_linear' (expected one "
                         "of cnn, linear, mlp, rrcm, s4_ptd, s4d, s5_ptd)") != std::string::npos,
               what);
  }
}

BOOST_AUTO_TEST_CASE(a_sequence_dataset_is_refused_by_an_image_port_naming_both_types) {
  RunFixture f;
  flowlab::OpDef op;
  op.name = "test.sequences";
  op.summary = "a tiny dataset of token sequences";
  op.output_type = flowlab::datasets::ClassificationData::kSequenceType;
  op.run = [](flowlab::OpContext&) -> flowlab::ArtifactPtr {
    auto d = std::make_shared<flowlab::datasets::ClassificationData>();
    d->kind = flowlab::datasets::ClassificationData::Kind::kSequence;
    return d;
  };
  f.registry().add(std::move(op));
  // An op that reads images only (as certify.dual's checkerboard halves do); train.classifier
  // takes any labelled data.
  flowlab::OpDef sink;
  sink.name = "test.image_sink";
  sink.summary = "reads images only";
  sink.inputs = {{"data", flowlab::datasets::ClassificationData::kType, "images"}};
  sink.output_type = flowlab::datasets::ClassificationData::kType;
  sink.run = [](flowlab::OpContext&) -> flowlab::ArtifactPtr { return nullptr; };
  f.registry().add(std::move(sink));
  flowlab::testing::TempDir dir;
  auto spec = dir / "seq.yaml";
  std::ofstream(spec) << "nodes:\n"
                         "  seq: {op: test.sequences}\n"
                         "  train:\n"
                         "    op: test.image_sink\n"
                         "    inputs: {data: seq}\n";
  try {
    f.run(spec.string());
    BOOST_FAIL("expected a ConfigError");
  } catch (const flowlab::ConfigError& e) {
    std::string what = e.what();
    BOOST_TEST(what.find("seq.yaml:5:") != std::string::npos, what);
    BOOST_TEST(what.find("nodes.train.inputs: input 'data' expects a dataset.image, but node 'seq' "
                         "(op test.sequences) produces a dataset.sequence") != std::string::npos,
               what);
  }
  BOOST_TEST(!fs::exists(f.db()));  // refused before anything was recorded
}

BOOST_AUTO_TEST_SUITE_END()
