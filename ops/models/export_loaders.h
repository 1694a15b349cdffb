#pragma once
// The small programs `flowlab export` writes beside model.pt: a Python loader, a C++ loader with
// its CMakeLists.txt, and a README. Each loads model.pt with plain LibTorch (no flowlab code), and
// run as a program checks the export: example.pt's input through model.pt must give the output
// flowlab computed for it. Torch-free text.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace flowlab::ops {

/// What the loaders and README say about the model.
struct LoaderFacts {
  std::string title;  // "classifier/cnn from flowlab run 12"
  std::string run_id, run_uuid, node, op;
  std::string architecture, params;  // "classifier/cnn", "channels=32, ..."
  std::string input, output;         // in words
  std::string example_input;         // the example batch's shape: "[4, 1, 28, 28]"
  int64_t parameters = 0;
  double relative_tolerance = 1e-4;  // |got - expected| <= tol * (1 + max |expected|)
};

/// (file name, contents): load_model.py, load_model.cpp, CMakeLists.txt, README.md.
std::vector<std::pair<std::string, std::string>> loader_files(const LoaderFacts& facts);

}  // namespace flowlab::ops
