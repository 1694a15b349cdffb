// `flowlab compress` and `flowlab decompress`: your own images through a trained circuit
// (a pc.circuit artifact: a run's train.pc node, found through the results database, or any
// folder holding circuit.json and params.bin) and the rANS codec of ops/pc/. Reads IDX (gzipped
// or not) or PGM; writes a .flpc file, and back IDX or PGMs.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "common/error.h"
#include "common/file_io.h"
#include "experiments/cli/app.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/node_output.h"
#include "ops/pc/circuit_model.h"
#include "ops/pc/container.h"

namespace flowlab::cli {
namespace fs = std::filesystem;

namespace {

struct CompressOptions {
  std::string circuit, input, output;
  int precision = 24;
  bool naive = false;
};

// CIRCUIT is a folder with circuit.json, or RUN[:NODE] (a run id, uuid or "last"; NODE defaults
// to the run's train.pc node): the node's entry in the workspace's cache.
fs::path locate_circuit(const std::string& circuit, const fs::path& workspace) {
  if (fs::is_directory(circuit)) return circuit;
  const auto colon = circuit.find(':');
  const std::string run = circuit.substr(0, colon);
  const std::string node = colon == std::string::npos ? "" : circuit.substr(colon + 1);
  const bool run_like =
      run == "last" || (!run.empty() && std::all_of(run.begin(), run.end(), [](char ch) {
        return std::isdigit(static_cast<unsigned char>(ch));
      }));
  if (!run_like)
    throw ConfigError(SourceLocation{"command line"}, "--circuit",
                      fmt::format("\"{}\" is not a folder (with circuit.json and params.bin) nor "
                                  "RUN[:NODE]",
                                  circuit));
  const NodeChoice train_pc{[&node](const tracking::NodeExecution& e, const fs::path&) {
                              return !node.empty() || e.op == "train.pc";
                            },
                            "train.pc node", "train.pc nodes", fmt::format("as {}:NODE", run)};
  return find_node_output(workspace, run, node, train_pc, "--circuit").dir;
}

std::shared_ptr<const ops::pc::CircuitModel> load_circuit(const std::string& circuit,
                                                          const fs::path& workspace) {
  return std::dynamic_pointer_cast<const ops::pc::CircuitModel>(
      ops::pc::CircuitModel::load(locate_circuit(circuit, workspace)));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RunError("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

void add_compress_commands(CLI::App& app, GlobalOptions& global) {
  auto o = std::make_shared<CompressOptions>();
  auto* c = app.add_subcommand(
      "compress", "losslessly compress 8-bit images (IDX or PGM) with a trained circuit and rANS");
  c->add_option("input", o->input, "an IDX file of images (.gz too) or a PGM image")->required();
  c->add_option("--circuit", o->circuit,
                "the circuit: RUN[:NODE] (a run id or 'last'; NODE: its train.pc node by "
                "default) or a folder with circuit.json and params.bin")
      ->required();
  c->add_option("-o,--output", o->output, "the compressed file to write (.flpc)")->required();
  c->add_option("--precision", o->precision, "bits of the quantized distributions")
      ->check(CLI::Range(12, 28))
      ->capture_default_str();
  c->add_flag("--naive", o->naive, "naive conditionals (the slow reference; same size)");
  c->callback([o, &global] {
    const auto model = load_circuit(o->circuit, global.workspace());
    const auto images = ops::pc::read_images(o->input);
    ops::pc::CodecOptions codec;
    codec.precision = o->precision;
    codec.incremental = !o->naive;
    const auto t0 = std::chrono::steady_clock::now();
    const auto bytes = ops::pc::compress_images(model->model(), images, codec);
    const double seconds = seconds_since(t0);
    write_text_file(o->output, bytes);
    const double dims = static_cast<double>(images.pixels.size());
    std::cout << fmt::format(
        "{} images of {} x {} -> {} bytes, {:.3f} bits per pixel ({} bytes raw), {:.1f} "
        "images/s\n",
        images.count(), images.height, images.width, bytes.size(), 8.0 * bytes.size() / dims,
        images.pixels.size(), static_cast<double>(images.count()) / seconds);
    global.exit_code = 0;
  });

  auto d = std::make_shared<CompressOptions>();
  auto* x = app.add_subcommand("decompress",
                               "decompress a .flpc file back to exactly the images compressed");
  x->add_option("input", d->input, "the compressed file (.flpc)")->required();
  x->add_option("--circuit", d->circuit,
                "the circuit it was compressed with (RUN[:NODE] or a folder, as for compress)")
      ->required();
  x->add_option("-o,--output", d->output,
                "an .idx file to write, or a folder for one PGM per image")
      ->required();
  x->callback([d, &global] {
    const auto model = load_circuit(d->circuit, global.workspace());
    const auto bytes = read_file(d->input);
    const auto t0 = std::chrono::steady_clock::now();
    const auto images = ops::pc::decompress_images(model->model(), bytes, d->input);
    const double seconds = seconds_since(t0);
    if (fs::path(d->output).extension() == ".idx")
      ops::pc::write_idx(d->output, images);
    else
      ops::pc::write_pgms(d->output, images);
    std::cout << fmt::format("{} images of {} x {} checked and written to {}, {:.1f} images/s\n",
                             images.count(), images.height, images.width, d->output,
                             static_cast<double>(images.count()) / seconds);
    global.exit_code = 0;
  });
}

}  // namespace flowlab::cli
