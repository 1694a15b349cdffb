// rRCM through the runner: pre-training, fine-tuning and certification on a small slice; a killed
// pre-training and a killed fine-tuning resume to the same metrics bit for bit; the ablation's
// objective logs only its own loss; a wrong architecture or input stops with a clear message.
#include <fstream>

#include <boost/test/unit_test.hpp>

#include "tests/support/resume_check.h"
#include "tests/support/run_fixture.h"
#include "tests/support/temp_dir.h"

using flowlab::testing::RunFixture;

BOOST_AUTO_TEST_SUITE(experiments_rrcm)

BOOST_AUTO_TEST_CASE(pretrain_finetune_and_certify_run_end_to_end) {
  RunFixture f;
  const auto r = f.run("rrcm.yaml");
  BOOST_REQUIRE_EQUAL(r.outcome.exit_code, 0);
  const auto pretrain = f.final_metrics(r.outcome.run_id, "pretrain");
  BOOST_TEST(pretrain.count("loss_instance") == 1u);
  BOOST_TEST(pretrain.count("loss_trajectory") == 1u);
  BOOST_TEST(pretrain.at("grid_points") == 8);  // grown from 2 to the model's grid_points
  BOOST_TEST(pretrain.at("ema_rate") == 0.999, boost::test_tools::tolerance(1e-9));
  const auto train = f.final_metrics(r.outcome.run_id, "train");
  BOOST_TEST(train.at("final_val_acc") > 0.3);  // ten classes under noise 0.5: far above chance
  const auto certify = f.final_metrics(r.outcome.run_id, "certify");
  BOOST_TEST(certify.at("images") == 10);
  BOOST_TEST(certify.at("certified_accuracy@0") > 0.2);
}

BOOST_AUTO_TEST_CASE(the_shipped_quick_experiment_certifies_both_models_within_the_cap) {
  RunFixture f;
  const auto r = f.run((flowlab::testing::source_dir() / "experiments/rrcm_quick.yaml").string());
  BOOST_REQUIRE_EQUAL(r.outcome.exit_code, 0);
  // sigma Phi^-1(alpha^(1/n)) at sigma 0.25, alpha 0.001, n 1,000: Python's
  // statistics.NormalDist().inv_cdf(exp(ln(0.001) / 1000)) * 0.25.
  const double cap = 0.6158156536952025;
  for (const char* node : {"certify_rrcm", "certify_gaussian"}) {
    const auto m = f.final_metrics(r.outcome.run_id, node);
    BOOST_TEST(m.at("images") == 20, node);
    BOOST_TEST(m.at("max_radius") == cap, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(m.at("certified_accuracy@0") > 0.3, node);   // far above chance (0.1)
    BOOST_TEST(m.at("certified_accuracy@1") == 0.0, node);  // beyond the cap
    BOOST_TEST(m.at("acr") <= cap * m.at("certified_accuracy@0") + 1e-12, node);
  }
}

BOOST_AUTO_TEST_CASE(the_ablations_log_only_their_losses) {
  RunFixture f;
  auto r = f.run("rrcm.yaml", {"nodes.pretrain.params.objective=instance", "~nodes.certify",
                               "nodes.train.params.epochs=1"});
  BOOST_REQUIRE_EQUAL(r.outcome.exit_code, 0);
  auto pretrain = f.final_metrics(r.outcome.run_id, "pretrain");
  BOOST_TEST(pretrain.count("loss_instance") == 1u);
  BOOST_TEST(pretrain.count("loss_trajectory") == 0u);
  // No pre-training: the initialized encoder, fine-tuned from scratch.
  r = f.run("rrcm.yaml", {"nodes.pretrain.params.objective=none", "~nodes.certify",
                          "nodes.train.params.epochs=1"});
  BOOST_REQUIRE_EQUAL(r.outcome.exit_code, 0);
  pretrain = f.final_metrics(r.outcome.run_id, "pretrain");
  BOOST_TEST(pretrain.count("loss") == 0u);
  BOOST_TEST(pretrain.at("train_time_s") == 0.0);
  BOOST_TEST(f.final_metrics(r.outcome.run_id, "train").count("final_val_acc") == 1u);
}

BOOST_AUTO_TEST_CASE(killed_pretraining_and_finetuning_resume_to_the_same_metrics) {
  // 19 steps per epoch (batch 64); stopped after step 8's loss log, the last checkpoint being
  // step 4's.
  for (const char* node : {"pretrain", "train"}) {
    const auto r = flowlab::testing::run_whole_and_resumed(
        "rrcm.yaml",
        {"~nodes.certify", std::string("+nodes.") + node + ".params.checkpoint_every=4"}, 8, node);
    BOOST_REQUIRE(r.stopped);
    BOOST_REQUIRE(!r.whole.empty());
    BOOST_TEST((r.resumed == r.whole), node);
  }
}

BOOST_AUTO_TEST_CASE(wrong_architectures_and_inputs_are_refused_with_a_message) {
  RunFixture f;
  flowlab::testing::TempDir dir;
  const auto spec = dir.path() / "cnn_encoder.yaml";
  std::ofstream(spec)
      << "experiment: rrcm_wrong\nthreads: 2\ndevice: cpu\nnodes:\n"
         "  data: {op: dataset.fashion_mnist, params: {limit_train: 300}}\n"
         "  cnn: {op: train.classifier, inputs: {data: data}, params: {epochs: 1}}\n"
         "  train: {op: train.rrcm, inputs: {data: data, encoder: cnn}}\n";
  // Pre-training a plain CNN: refused before any step.
  auto r = f.run(spec.string(), {"nodes.cnn.op=train.rrcm_pretrain", "~nodes.train",
                                 "+nodes.cnn.params.model=cnn"});
  BOOST_TEST(r.outcome.exit_code != 0);
  BOOST_TEST(r.err.find("(model: rrcm), got model: cnn") != std::string::npos, r.err);
  // Fine-tuning a plain CNN: the encoder input must be an rrcm model.
  r = f.run(spec.string());
  BOOST_TEST(r.outcome.exit_code != 0);
  BOOST_TEST(r.err.find("input 'encoder' must be an rrcm model") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_SUITE_END()
