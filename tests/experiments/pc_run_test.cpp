// Circuits end to end on Fashion-MNIST: independent pixels with a pseudocount of 1 are the
// Laplace-smoothed pixel frequencies (their bits per dimension computed here independently from
// the same images); a hidden Chow-Liu tree beats them; an interrupted EM training resumes to
// exactly the metrics of one left alone; a misconfigured one says what is wrong.
#include <atomic>
#include <cmath>
#include <map>

#include <boost/test/unit_test.hpp>
#include <torch/torch.h>

#include "datasets/classification_data.h"
#include "tests/support/resume_check.h"
#include "tests/support/run_fixture.h"
#include "tests/support/temp_dir.h"

using flowlab::testing::RunFixture;

namespace {

// dataset.fashion_mnist as pc.yaml configures it, run in process.
std::shared_ptr<const flowlab::datasets::ClassificationData> fashion_subset(
    const flowlab::Registry& registry) {
  const flowlab::OpDef* op = registry.find("dataset.fashion_mnist");
  std::map<std::string, flowlab::ParamValue> values;
  for (const auto& spec : op->params)
    if (spec.default_value) values[spec.name] = *spec.default_value;
  values["limit_train"] = int64_t{2000};
  values["limit_test"] = int64_t{500};
  const flowlab::Params params(values);
  struct Quiet : flowlab::RunObserver {
    void metric(const std::string&, const std::string&, int64_t, double) override {}
    void progress(const std::string&, double, const std::string&) override {}
    void artifact_file(const std::string&, const std::filesystem::path&,
                       const std::string&) override {}
  } quiet;
  std::atomic<bool> stop{false};
  flowlab::testing::TempDir out;
  flowlab::OpContext ctx("data", params, {}, 1, out.path(), quiet, stop, nullptr, &registry);
  return std::dynamic_pointer_cast<const flowlab::datasets::ClassificationData>(op->run(ctx));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(experiments_pc)

BOOST_AUTO_TEST_CASE(independent_pixels_are_smoothed_frequencies_and_a_tree_beats_them) {
  RunFixture f;
  const auto ind =
      f.run("pc.yaml", {"nodes.train.params.structure=independent", "nodes.train.params.epochs=0",
                        "nodes.train.params.final_pseudocount=1.0"});
  BOOST_TEST_MESSAGE(ind.err);
  BOOST_REQUIRE_EQUAL(ind.outcome.exit_code, 0);
  const double independent = f.final_metrics(ind.outcome.run_id, "train").at("val_bpd");
  const auto tree = f.run("pc.yaml");
  BOOST_REQUIRE_EQUAL(tree.outcome.exit_code, 0);
  const auto t = f.final_metrics(tree.outcome.run_id, "train");
  BOOST_TEST(t.at("val_bpd") < independent - 0.2, t.at("val_bpd") << " vs " << independent);
  BOOST_TEST(t.at("edges") > 784 * 16);
  // Independently: the same split from the dataset op, Laplace-smoothed pixel frequencies of
  // its 2,000 training images counted with torch, scored on its 400 validation images.
  const auto data = fashion_subset(f.registry());
  const auto train =
      data->train_x.reshape({data->train_x.size(0), -1}).mul(255).round().to(torch::kLong);
  const auto valid =
      data->val_x.reshape({data->val_x.size(0), -1}).mul(255).round().to(torch::kLong);
  const auto counts = torch::one_hot(train, 256).sum(0).to(torch::kDouble);  // [784, 256]
  const auto log_p = ((counts + 1) / (static_cast<double>(train.size(0)) + 256)).log2();
  const auto scored =
      log_p.unsqueeze(0).expand({valid.size(0), 784, 256}).gather(2, valid.unsqueeze(2)).mean();
  BOOST_TEST(std::abs(independent + scored.item<double>()) < 1e-9,
             independent << " vs " << -scored.item<double>());
}

BOOST_AUTO_TEST_CASE(the_codec_round_trips_every_image_within_the_state_overhead) {
  RunFixture f;
  const auto r = f.run("pc.yaml", {"+nodes.codec={op: codec.pc_rans, inputs: {circuit: train, "
                                   "data: data}, params: {limit: 100, naive_images: 5}}"});
  BOOST_TEST_MESSAGE(r.err);
  BOOST_REQUIRE_EQUAL(r.outcome.exit_code, 0);  // the op fails if any image decodes otherwise
  const auto m = f.final_metrics(r.outcome.run_id, "codec");
  BOOST_TEST(m.at("images") == 100);
  // Per image: at least the information plus 32 bits of final state, at most plus 96 bits and
  // the quantization of 784 distributions (2^-24 of each share: < 0.01 bits per image).
  BOOST_TEST(m.at("bpd_gap") >= 32.0 / 784);
  BOOST_TEST(m.at("bpd_gap") <= 96.0 / 784 + 1e-4);
  BOOST_TEST(m.at("incremental_speedup") > 1.0);
  for (const char* coder : {"zlib_bpd", "bzip2_bpd", "xz_bpd"}) {
    BOOST_TEST(m.at(coder) > 1.0);
    BOOST_TEST(m.at(coder) < 8.0);
  }
}

BOOST_AUTO_TEST_CASE(an_interrupted_em_training_resumes_to_the_same_metrics) {
  // 8 mini-batches per epoch, 2 epochs and the full-batch step: stopped after step 10 is
  // logged (steps 4 and 8 were checkpoints).
  const auto r = flowlab::testing::run_whole_and_resumed("pc.yaml", {}, 12);
  BOOST_REQUIRE(r.stopped);
  BOOST_REQUIRE(!r.whole.empty());
  BOOST_TEST((r.resumed == r.whole));
}

BOOST_AUTO_TEST_CASE(bins_that_do_not_divide_the_pixel_values_are_a_clear_error) {
  RunFixture f;
  const auto r = f.run("pc.yaml", {"nodes.train.params.mi_bins=24"});
  BOOST_TEST(r.outcome.exit_code == 1);
  BOOST_TEST(r.err.find("mi_bins 24 does not divide the 256 pixel values") != std::string::npos,
             r.err);
}

BOOST_AUTO_TEST_SUITE_END()
