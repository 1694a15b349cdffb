// Circuits end to end on Fashion-MNIST: independent pixels with a pseudocount of 256 (1 per value)
// are the Laplace-smoothed pixel frequencies and a Chow-Liu tree's bits are its smoothed pair
// counts (both computed here independently from the same images); a hidden Chow-Liu tree beats
// independent pixels; an interrupted EM training resumes to exactly the metrics of one left
// alone; a misconfigured one says what is wrong; a user compresses and decompresses images with
// the `flowlab` binary, and a damaged file or an unknown circuit is a clear error.
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <boost/test/unit_test.hpp>
#include <sys/wait.h>
#include <torch/torch.h>

#include "datasets/classification_data.h"
#include "graph/cache.h"
#include "ops/pc/circuit_model.h"
#include "ops/pc/image_files.h"
#include "tests/support/resume_check.h"
#include "tests/support/run_fixture.h"
#include "tests/support/shell_command.h"
#include "tests/support/temp_dir.h"
#include "tracking/store.h"

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

// The output folder of run `run`'s train node, found as `flowlab compress --circuit RUN` does.
std::filesystem::path circuit_folder(const RunFixture& f, int64_t run) {
  const flowlab::tracking::Store store(f.db(), flowlab::tracking::Store::Access::kReadOnly);
  for (const auto& e : store.node_executions(run))
    if (e.node == "train")
      return flowlab::NodeCache(f.workspace() / "cache").entry(e.cache_key) / "output";
  throw std::runtime_error("no train node");
}

// The real `flowlab` binary with `args` (already quoted where needed).
flowlab::testing::CommandResult run_flowlab_command(const std::string& args) {
  return flowlab::testing::run_shell_command(std::string(FLOWLAB_BINARY) + " " + args);
}

std::string file_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(experiments_pc)

BOOST_AUTO_TEST_CASE(independent_pixels_are_smoothed_frequencies_and_a_tree_beats_them) {
  RunFixture f;
  const auto ind =
      f.run("pc.yaml", {"nodes.train.params.structure=independent", "nodes.train.params.epochs=0",
                        "nodes.train.params.final_pseudocount=256"});
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

BOOST_AUTO_TEST_CASE(the_codec_round_trips_the_whole_test_set_within_the_state_overhead) {
  // All 10,000 Fashion-MNIST test images, each decoded and compared bit for bit by the op (it
  // fails on any difference), through the small circuit of pc.yaml.
  RunFixture f;
  const auto r = f.run("pc.yaml", {"nodes.data.params.limit_test=0",
                                   "+nodes.codec={op: codec.pc_rans, inputs: {circuit: train, "
                                   "data: data}, params: {naive_images: 5}}"});
  BOOST_TEST_MESSAGE(r.err);
  BOOST_REQUIRE_EQUAL(r.outcome.exit_code, 0);  // the op fails if any image decodes otherwise
  const auto m = f.final_metrics(r.outcome.run_id, "codec");
  BOOST_TEST(m.at("images") == 10000);
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

BOOST_AUTO_TEST_CASE(a_chow_liu_trees_bits_are_its_smoothed_pair_counts) {
  RunFixture f;
  const auto r = f.run(
      "pc.yaml", {"nodes.train.params.structure=chow_liu", "+nodes.train.params.smoothing=16"});
  BOOST_TEST_MESSAGE(r.err);
  BOOST_REQUIRE_EQUAL(r.outcome.exit_code, 0);
  const double val_bpd = f.final_metrics(r.outcome.run_id, "train").at("val_bpd");
  const auto model = std::dynamic_pointer_cast<const flowlab::ops::pc::CircuitModel>(
      flowlab::ops::pc::CircuitModel::load(circuit_folder(f, r.outcome.run_id)));
  const auto& parent = model->tree.parent;
  // Independently, with torch, from the tree's edges only: pair counts per edge, Laplace
  // marginals, (n_ab + 16 p_v(b)) / (n_a + 16), scored on the validation images.
  const auto data = fashion_subset(f.registry());
  const auto train =
      data->train_x.reshape({data->train_x.size(0), -1}).mul(255).round().to(torch::kLong);
  const auto valid =
      data->val_x.reshape({data->val_x.size(0), -1}).mul(255).round().to(torch::kLong);
  const double n = static_cast<double>(train.size(0));
  double bits = 0;
  for (int64_t v = 0; v < 784; ++v) {
    const auto marginal = (train.select(1, v).bincount({}, 256).to(torch::kDouble) + 1) / (n + 256);
    if (parent[v] < 0) {
      bits -= marginal.index_select(0, valid.select(1, v)).log2().sum().item<double>();
      continue;
    }
    const auto pairs = (train.select(1, parent[v]) * 256 + train.select(1, v))
                           .bincount({}, 65536)
                           .to(torch::kDouble)
                           .reshape({256, 256});
    const auto table = (pairs + 16 * marginal.unsqueeze(0)) / (pairs.sum(1, true) + 16);
    const auto cells = valid.select(1, parent[v]) * 256 + valid.select(1, v);
    bits -= table.reshape({-1}).index_select(0, cells).log2().sum().item<double>();
  }
  const double expected = bits / (static_cast<double>(valid.size(0)) * 784);
  BOOST_TEST(std::abs(val_bpd - expected) < 1e-9, val_bpd << " vs " << expected);
  // Every pixel once, each after its parent: a tree over all 784.
  BOOST_TEST(std::count(parent.begin(), parent.end(), -1) == 1);
}

BOOST_AUTO_TEST_CASE(a_user_compresses_and_decompresses_images_with_the_binary) {
  RunFixture f;
  const auto r = f.run("pc.yaml", {"nodes.train.params.epochs=1"});
  BOOST_REQUIRE_EQUAL(r.outcome.exit_code, 0);
  flowlab::testing::TempDir dir;
  auto images =
      flowlab::ops::pc::read_images("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
  images.pixels.resize(20 * 784);
  const auto in = dir.path() / "in.idx", packed = dir.path() / "in.flpc";
  flowlab::ops::pc::write_idx(in, images);
  const std::string ws = " --workspace " + f.workspace().string();
  const auto c =
      run_flowlab_command("compress " + in.string() + " --circuit " +
                          std::to_string(r.outcome.run_id) + " -o " + packed.string() + ws);
  BOOST_TEST(c.code == 0, c.output);
  BOOST_TEST(c.output.find("20 images of 28 x 28") != std::string::npos, c.output);
  // About 4.1 bits per pixel from this small circuit: well under the 8 of the raw bytes.
  BOOST_TEST(std::filesystem::file_size(packed) < std::filesystem::file_size(in) * 6 / 10);
  // Back to IDX: the same bytes; to PGMs: the same pixels (the circuit named as a folder).
  const auto d = run_flowlab_command("decompress " + packed.string() + " --circuit last -o " +
                                     (dir.path() / "back.idx").string() + ws);
  BOOST_TEST(d.code == 0, d.output);
  BOOST_TEST((file_bytes(dir.path() / "back.idx") == file_bytes(in)));
  const auto g = run_flowlab_command("decompress " + packed.string() + " --circuit " +
                                     circuit_folder(f, r.outcome.run_id).string() + " -o " +
                                     (dir.path() / "pgms").string());
  BOOST_TEST(g.code == 0, g.output);
  const auto seventh = flowlab::ops::pc::read_images(dir.path() / "pgms" / "image_00007.pgm");
  BOOST_TEST((seventh.pixels == std::vector<uint8_t>(images.pixels.begin() + 7 * 784,
                                                     images.pixels.begin() + 8 * 784)));
  // A truncated file, and a circuit that does not exist: errors, not images.
  std::filesystem::resize_file(packed, std::filesystem::file_size(packed) - 3);
  const auto t = run_flowlab_command("decompress " + packed.string() + " --circuit last -o " +
                                     (dir.path() / "cut.idx").string() + ws);
  BOOST_TEST(t.code == 1, t.output);
  BOOST_TEST(t.output.find("the file ends inside image 19's message") != std::string::npos,
             t.output);
  BOOST_TEST(!std::filesystem::exists(dir.path() / "cut.idx"));
  const auto u = run_flowlab_command("compress " + in.string() + " --circuit 999 -o " +
                                     (dir.path() / "x.flpc").string() + ws);
  BOOST_TEST(u.code == 2, u.output);
  BOOST_TEST(u.output.find("no run with id 999") != std::string::npos, u.output);
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
