// The sweep grammar (graph/sweep.h): the input is a spec file's text (up to the first NUL byte),
// read as `flowlab sweep` reads it (load_yaml_file), whose `sweep:` block is expanded together
// with up to seven command-line arguments (the NUL-separated parts after it), against a small
// config-group tree for glob(). A ConfigError is the expected answer to a bad sweep.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "fuzz/fuzz_support.h"
#include "graph/compose.h"
#include "graph/sweep.h"

namespace {

namespace fs = std::filesystem;

fs::path config_tree() {
  fs::path dir = flowlab::fuzz::scratch_dir() / "configs";
  for (const char* option : {"cnn", "mlp", "resnet", "s4d"})
    flowlab::fuzz::write_file(dir / "model" / (std::string(option) + ".yaml"), "width: 1\n");
  flowlab::fuzz::write_file(dir / "optimizer/adam.yaml", "lr: 0.1\n");
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fs::path configs = config_tree();
  static const fs::path spec = flowlab::fuzz::scratch_dir() / "spec.yaml";
  std::vector<std::string> parts = flowlab::fuzz::split_input(data, size);
  flowlab::fuzz::write_file(spec, parts[0]);
  std::vector<std::string> arguments(parts.begin() + 1, parts.end());
  try {
    for (const auto& a : arguments) {
      flowlab::split_top_level(a);
      flowlab::parse_sweep_argument(a, configs);
    }
    YAML::Node primary = flowlab::load_yaml_file(spec);
    YAML::Node block =
        primary.IsMap() ? static_cast<const YAML::Node&>(primary)["sweep"] : YAML::Node();
    flowlab::expand_sweep(block, spec.string(), arguments, configs);
  } catch (const flowlab::ConfigError&) {
  }
  return 0;
}
