#include "ops/models/export_loaders.h"

#include <algorithm>

#include <fmt/format.h>

namespace flowlab::ops {

namespace {

// Templates use @NAME@ placeholders rather than fmt's braces, which Python and C++ are full of.
// One pass over the template: a value that itself holds "@OP@" is written as it is.
std::string fill(const std::string& text,
                 const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t at = text.find('@', i);
    if (at == std::string::npos) break;
    out.append(text, i, at - i);
    const size_t end = text.find('@', at + 1);
    const auto value = end == std::string::npos
                           ? values.end()
                           : std::find_if(values.begin(), values.end(), [&](const auto& v) {
                               return text.compare(at + 1, end - at - 1, v.first) == 0 &&
                                      v.first.size() == end - at - 1;
                             });
    if (value == values.end()) {
      out += '@';
      i = at + 1;
    } else {
      out += value->second;
      i = end + 1;
    }
  }
  out.append(text, std::min(i, text.size()), std::string::npos);
  return out;
}

constexpr const char* kPython = R"PY(r"""@TITLE@

Exported by `flowlab export` from run @RUN@ (@UUID@), node "@NODE@" (op @OP@).
Architecture: @ARCH@ (@PARAMS@), @PARAMETERS@ parameters.
Input:  @INPUT@
Output: @OUTPUT@

model.pt is TorchScript: the weights as named parameters and the forward as code (print
`model.code` to read it), so it needs only PyTorch:

    import torch
    model = torch.jit.load("model.pt").eval()
    with torch.no_grad():
        y = model(x)

Run this file to check the export: example.pt holds an input batch @EXAMPLE@ and the output flowlab
computed for it; the loaded model must reproduce it.
"""
import pathlib
import sys

import torch

HERE = pathlib.Path(__file__).resolve().parent
RELATIVE_TOLERANCE = @TOLERANCE@


def load(device="cpu"):
    """The exported model on `device`, in inference mode."""
    return torch.jit.load(str(HERE / "model.pt"), map_location=device).eval()


def check():
    """Feeds example.pt's input through model.pt; 0 when it gives flowlab's output."""
    model = load()
    example = torch.jit.load(str(HERE / "example.pt"))
    expected = example.outputs
    with torch.no_grad():
        got = model(example.inputs)
    if got.shape != expected.shape:
        print(f"MISMATCH: output shape {tuple(got.shape)}, flowlab's {tuple(expected.shape)}")
        return 1
    difference = (got - expected).abs().max().item()
    tolerance = RELATIVE_TOLERANCE * (1 + expected.abs().max().item())
    verdict = "ok" if difference <= tolerance else "MISMATCH"
    print(f"{verdict}: {tuple(example.inputs.shape)} -> {tuple(got.shape)}, "
          f"max |difference| from flowlab {difference:.3g} (tolerance {tolerance:.3g})")
    return 0 if difference <= tolerance else 1


if __name__ == "__main__":
    sys.exit(check())
)PY";

// Not delimited "CPP": clang-format would format a raw string so delimited as C++ code.
constexpr const char* kCpp = R"SOURCE(// @TITLE@
//
// Exported by `flowlab export` from run @RUN@ (@UUID@), node "@NODE@" (op @OP@).
// Architecture: @ARCH@ (@PARAMS@), @PARAMETERS@ parameters.
// Input:  @INPUT@
// Output: @OUTPUT@
//
// model.pt is TorchScript (weights and forward), so this needs only LibTorch:
//   cmake -S . -B build -DCMAKE_PREFIX_PATH=/path/to/libtorch   (Debian's libtorch-dev: no prefix)
//   cmake --build build && ./build/load_model [EXPORT_FOLDER]
// Run as it is, it checks the export: example.pt's input batch @EXAMPLE@ through model.pt must give
// the output flowlab computed for it.
#include <torch/script.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : EXPORT_DIR;  // EXPORT_DIR: set by CMakeLists.txt
  torch::jit::Module model, example;
  try {
    model = torch::jit::load(dir + "/model.pt");
    example = torch::jit::load(dir + "/example.pt");
  } catch (const std::exception& e) {
    const std::string what = e.what();
    std::fprintf(stderr, "cannot load %s/model.pt or example.pt: %s\n", dir.c_str(),
                 what.substr(0, what.find('\n')).c_str());
    return 2;
  }
  model.eval();
  const torch::Tensor inputs = example.attr("inputs").toTensor();
  const torch::Tensor expected = example.attr("outputs").toTensor();

  torch::NoGradGuard no_grad;
  const torch::Tensor got = model.forward({inputs}).toTensor();
  if (got.sizes() != expected.sizes()) {
    std::printf("MISMATCH: output shape differs from flowlab's\n");
    return 1;
  }
  const double difference = (got - expected).abs().max().item<double>();
  const double tolerance = @TOLERANCE@ * (1 + expected.abs().max().item<double>());
  const bool ok = difference <= tolerance;
  std::printf("%s: %lld examples -> %lld outputs each, max |difference| from flowlab %.3g "
              "(tolerance %.3g)\n",
              ok ? "ok" : "MISMATCH", static_cast<long long>(inputs.size(0)),
              static_cast<long long>(got.numel() / got.size(0)), difference, tolerance);
  return ok ? 0 : 1;
}
)SOURCE";

constexpr const char* kCmake =
    R"CMAKE(# Builds load_model.cpp against LibTorch: -DCMAKE_PREFIX_PATH=/path/to/libtorch for a downloaded
# one; Debian's libtorch-dev is found without it.
cmake_minimum_required(VERSION 3.18)
project(load_model CXX)
find_package(Torch REQUIRED)
add_executable(load_model load_model.cpp)
target_link_libraries(load_model PRIVATE ${TORCH_LIBRARIES})
target_compile_features(load_model PRIVATE cxx_std_17)
target_compile_definitions(load_model PRIVATE EXPORT_DIR="${CMAKE_CURRENT_SOURCE_DIR}")
)CMAKE";

constexpr const char* kReadme = R"MD(# @TITLE@

Exported by `flowlab export` from run @RUN@ (`@UUID@`), node `@NODE@` (op `@OP@`).

| | |
| --- | --- |
| architecture | @ARCH@ (@PARAMS@) |
| parameters | @PARAMETERS@ |
| input | @INPUT@ |
| output | @OUTPUT@ |

## Files
- `model.pt`: TorchScript, the weights as named parameters and the forward as code. It needs only
  PyTorch or LibTorch; `print(model.code)` shows the forward.
- `example.pt`: an input batch @EXAMPLE@ (`inputs`) and the output flowlab computed for it (`outputs`).
- `load_model.py`: `load()` for your code; run it to check the export against `example.pt`.
- `load_model.cpp`, `CMakeLists.txt`: the same in C++.
- `model.json`: flowlab's record of the architecture (what `flowlab models` documents).

## Python
```python
import torch
model = torch.jit.load("model.pt").eval()
with torch.no_grad():
    y = model(x)
```
`python3 load_model.py` prints `ok` when the loaded model reproduces flowlab's output.

## C++
```sh
cmake -S . -B build            # a downloaded LibTorch: -DCMAKE_PREFIX_PATH=/path/to/libtorch
cmake --build build && ./build/load_model
```
)MD";

}  // namespace

std::vector<std::pair<std::string, std::string>> loader_files(const LoaderFacts& f) {
  // Stored names and params are free text (a database can hold anything): one line each, and
  // nothing that could end a string or comment of the generated code, so no quote or backslash.
  const auto safe = [](std::string text) {
    for (char& c : text) {
      if (c == '\n' || c == '\r') c = ' ';
      if (c == '"') c = '\'';
      if (c == '\\') c = '/';
    }
    return text;
  };
  std::vector<std::pair<std::string, std::string>> values = {
      {"TITLE", f.title},
      {"RUN", f.run_id},
      {"UUID", f.run_uuid},
      {"NODE", f.node},
      {"OP", f.op},
      {"ARCH", f.architecture},
      {"PARAMS", f.params},
      {"PARAMETERS", fmt::format("{}", f.parameters)},
      {"INPUT", f.input},
      {"OUTPUT", f.output},
      {"EXAMPLE", f.example_input},
      {"TOLERANCE", fmt::format("{:g}", f.relative_tolerance)},
  };
  for (auto& [name, value] : values) value = safe(value);
  return {{"load_model.py", fill(kPython, values)},
          {"load_model.cpp", fill(kCpp, values)},
          {"CMakeLists.txt", kCmake},
          {"README.md", fill(kReadme, values)}};
}

}  // namespace flowlab::ops
