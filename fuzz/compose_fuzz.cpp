// Spec composition from YAML text: the input is a spec (up to the first NUL byte) and up to seven
// command-line overrides (the NUL-separated parts after it), composed against a small config-group
// tree written once to a scratch directory. A ConfigError is the expected answer to a bad spec;
// anything else escaping compose_text() is a bug. A spec that composes must also survive `--cfg`:
// its to_yaml() text composes again, to the same text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "fuzz/fuzz_support.h"
#include "graph/compose.h"

namespace {

namespace fs = std::filesystem;
using flowlab::fuzz::write_file;

// The groups and options the shipped specs name, small, plus the features a group file can use:
// `# @package`, a defaults list of its own, interpolations into the spec.
fs::path config_tree() {
  fs::path dir = flowlab::fuzz::scratch_dir() / "configs";
  write_file(dir / "model/cnn.yaml", "model: cnn\nwidth: 16\n");
  write_file(dir / "model/mlp.yaml", "model: mlp\nhidden: [64, 32]\nact: ${..act_default}\n");
  write_file(dir / "dataset/fashion_mnist.yaml",
             "path: /usr/share/datasets/fashion-mnist\nval_fraction: 0.1\nnormalize: true\n");
  write_file(dir / "dataset/fashion_mnist_small.yaml",
             "path: /usr/share/datasets/fashion-mnist\nlimit_train: 5000\n");
  write_file(dir / "optimizer/adam.yaml", "name: adam\nlr: 0.001\n");
  write_file(dir / "optimizer/sgd.yaml", "name: sgd\nlr: 0.1\nmomentum: 0.9\n");
  write_file(dir / "dsd_shape/k8_d8.yaml", "# @package nodes.data.params\nk: 8\nd: 8\n");
  write_file(dir / "extra/globals.yaml", "# @package _global_\nseed: 42\nname: x${seed}\n");
  write_file(dir / "extra/nested.yaml",
             "defaults:\n  - /optimizer@opt: sgd\n  - _self_\nopt:\n  lr: ${seed}\n");
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fs::path configs = config_tree();
  std::vector<std::string> parts = flowlab::fuzz::split_input(data, size);
  std::vector<std::string> overrides(parts.begin() + 1, parts.end());
  std::string cfg;
  try {
    cfg = flowlab::compose_text(parts[0], "spec.yaml", configs, overrides).to_yaml();
  } catch (const flowlab::ConfigError&) {
    return 0;
  }
  // Aliases make a short spec large once composed (up to kMaxSpecValues): composing costs ~20 us
  // a value in Release and ten times that under the sanitizers, so the round trip of a spec whose
  // --cfg text passes 64 KiB is skipped (it would only be a bigger input of the first step).
  if (cfg.size() > 65536) return 0;
  std::string again;
  try {
    again = flowlab::compose_text(cfg, "cfg.yaml", configs, {}).to_yaml();
  } catch (const flowlab::ConfigError& e) {
    flowlab::fuzz::property_failed(
        "the --cfg text does not compose again: " + std::string(e.what()) + "\n--- cfg:\n" + cfg);
  }
  // YAML text is Unicode: yaml-cpp reads bytes that are not UTF-8 as they are but writes them as
  // \x escapes (code points), so such a spec composes again to other bytes. Only well-formed
  // UTF-8 must give the same values.
  bool utf8 = true;
  for (const auto& p : parts) utf8 = utf8 && flowlab::fuzz::valid_utf8(p);
  if (utf8 && again != cfg)
    flowlab::fuzz::property_failed("the --cfg text composes to other values\n--- cfg:\n" + cfg +
                                   "\n--- again:\n" + again);
  return 0;
}
