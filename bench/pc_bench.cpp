// Hidden Chow-Liu tree circuit throughput in flowlab's torch-free circuit library, the side of
// bench/run_pc_bench.sh that bench/pc_bench.py is the peer of:
//   pc_bench export DIR STATES IMAGES   a circuit on the Chow-Liu tree of 2,000 Fashion-MNIST
//                                        training images (random parameters, seed 1) and the
//                                        first IMAGES test images, written to DIR
//   pc_bench ll DIR THREADS             log-likelihood of the images: images/s and Σ log p(x)
//   pc_bench em DIR THREADS             EM's expected counts of the images (one batch's flows):
//                                        images/s and a weighted checksum of the counts
//   pc_bench codec DIR                  encode then decode every image, 1 thread: images/s
// Both sides print the same sums, so the table also checks that the two implementations agree.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include "ops/pc/chow_liu.h"
#include "ops/pc/circuit_model.h"
#include "ops/pc/codec.h"
#include "ops/pc/image_files.h"

namespace pc = flowlab::ops::pc;
namespace fs = std::filesystem;

namespace {

const fs::path kFashion = "/usr/share/datasets/fashion-mnist";

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<uint8_t> load_pixels(const fs::path& dir) {
  std::ifstream in(dir / "pixels.bin", std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const pc::Hclt& load_circuit(const fs::path& dir, std::shared_ptr<const pc::CircuitModel>& keep) {
  keep = std::dynamic_pointer_cast<const pc::CircuitModel>(pc::CircuitModel::load(dir));
  return keep->hclt;
}

// A weight per count index, the same in pc_bench.py.
double weight(size_t i) { return static_cast<double>((i * 2654435761ULL) % 1000) / 1000.0; }

int export_circuit(const fs::path& dir, int32_t states, int64_t images) {
  const auto train = pc::read_images(kFashion / "train-images-idx3-ubyte.gz");
  const auto test = pc::read_images(kFashion / "t10k-images-idx3-ubyte.gz");
  const int32_t d = train.height * train.width;
  const auto mi = pc::mutual_information(train.pixels.data(), 2000, d, 256, 16, 0.0);
  pc::CircuitModel m;
  m.structure = "hclt", m.height = train.height, m.width = train.width;
  m.hclt = pc::Hclt::random(pc::max_spanning_tree(mi, d), states, 256, 1);
  fs::create_directories(dir);
  m.save(dir);
  std::ofstream(dir / "pixels.bin", std::ios::binary)
      .write(reinterpret_cast<const char*>(test.pixels.data()), images * d);
  return 0;
}

int log_likelihood(const fs::path& dir, int threads) {
  std::shared_ptr<const pc::CircuitModel> keep;
  const auto& c = load_circuit(dir, keep);
  const auto pixels = load_pixels(dir);
  const auto n = static_cast<int64_t>(pixels.size() / c.variables);
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  std::vector<double> ll(n);
  const auto t0 = std::chrono::steady_clock::now();
  tbb::parallel_for(int64_t{0}, n,
                    [&](int64_t i) { ll[i] = c.log_likelihood(&pixels[i * c.variables]); });
  const double s = seconds_since(t0);
  double sum = 0;
  for (double x : ll) sum += x;
  std::printf("%.2f %.10e\n", static_cast<double>(n) / s, sum);
  return 0;
}

int em_counts(const fs::path& dir, int threads) {
  std::shared_ptr<const pc::CircuitModel> keep;
  const auto& c = load_circuit(dir, keep);
  const auto pixels = load_pixels(dir);
  const auto n = static_cast<int64_t>(pixels.size() / c.variables);
  // As train.pc: one part per thread, summed in order.
  std::vector<pc::EmCounts> parts(threads, pc::EmCounts(c));
  const auto t0 = std::chrono::steady_clock::now();
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  tbb::parallel_for(0, threads, [&](int k) {
    pc::accumulate_counts(c, pixels.data(), n * k / threads, n * (k + 1) / threads, parts[k]);
  });
  for (int k = 1; k < threads; ++k) parts[0].add(parts[k]);
  const double s = seconds_since(t0);
  double checksum = 0;
  size_t i = 0;
  for (const auto* v : {&parts[0].prior, &parts[0].transition, &parts[0].emission})
    for (double x : *v) checksum += weight(i++) * x;
  std::printf("%.2f %.10e\n", static_cast<double>(n) / s, checksum);
  return 0;
}

int codec(const fs::path& dir) {
  std::shared_ptr<const pc::CircuitModel> keep;
  const auto& c = load_circuit(dir, keep);
  const auto pixels = load_pixels(dir);
  const auto n = static_cast<int64_t>(pixels.size() / c.variables);
  std::vector<uint8_t> back(c.variables);
  size_t words = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < n; ++i) {
    const auto message = pc::encode_image(c, &pixels[i * c.variables], {});
    pc::decode_image(c, message.data(), message.size(), back.data(), {});
    words += message.size();
  }
  std::printf("%.2f %.4f\n", static_cast<double>(n) / seconds_since(t0),
              32.0 * static_cast<double>(words) / static_cast<double>(n * c.variables));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 2 ? argv[1] : "";
  if (mode == "export" && argc == 5)
    return export_circuit(argv[2], std::stoi(argv[3]), std::stoll(argv[4]));
  if (mode == "ll" && argc == 4) return log_likelihood(argv[2], std::stoi(argv[3]));
  if (mode == "em" && argc == 4) return em_counts(argv[2], std::stoi(argv[3]));
  if (mode == "codec" && argc == 3) return codec(argv[2]);
  std::fprintf(
      stderr,
      "usage: pc_bench export DIR STATES IMAGES | ll DIR THREADS | em DIR THREADS | codec DIR\n");
  return 2;
}
