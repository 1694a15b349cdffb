// IDX reading is checked against files written here byte by byte, gzip-compressed or raw, and
// against the real Fashion-MNIST files' documented sizes and first labels.
#include "datasets/idx.h"

#include <zlib.h>

#include <fstream>

#include <boost/test/unit_test.hpp>
#include <torch/torch.h>

#include "common/error.h"
#include "tests/support/temp_dir.h"

namespace {

using flowlab::testing::TempDir;

std::vector<unsigned char> be32(uint32_t v) {
  return {static_cast<unsigned char>(v >> 24), static_cast<unsigned char>(v >> 16),
          static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
}

void write_gz(const std::filesystem::path& p, const std::vector<unsigned char>& bytes) {
  gzFile f = gzopen(p.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

std::vector<unsigned char> image_file(uint32_t n, uint32_t rows, uint32_t cols) {
  std::vector<unsigned char> b;
  for (uint32_t v : {0x00000803u, n, rows, cols})
    for (auto c : be32(v)) b.push_back(c);
  for (uint32_t i = 0; i < n * rows * cols; ++i)
    b.push_back(static_cast<unsigned char>(i * 7 % 256));
  return b;
}

bool message_has(const flowlab::RunError& e, const std::string& text) {
  return std::string(e.what()).find(text) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(datasets_idx)

BOOST_AUTO_TEST_CASE(reads_gzipped_images_in_row_major_order) {
  TempDir dir;
  write_gz(dir / "img.gz", image_file(3, 2, 4));
  auto t = flowlab::datasets::read_idx_images(dir / "img.gz");
  BOOST_TEST(t.sizes().vec() == (std::vector<int64_t>{3, 2, 4}));
  auto flat = t.flatten();
  for (int64_t i = 0; i < flat.numel(); ++i) BOOST_TEST(flat[i].item<int>() == i * 7 % 256);
}

BOOST_AUTO_TEST_CASE(reads_uncompressed_labels) {
  TempDir dir;
  std::vector<unsigned char> b;
  for (uint32_t v : {0x00000801u, 5u})
    for (auto c : be32(v)) b.push_back(c);
  for (unsigned char c : {9, 0, 3, 3, 1}) b.push_back(c);
  std::ofstream(dir / "labels", std::ios::binary)
      .write(reinterpret_cast<char*>(b.data()), b.size());
  auto t = flowlab::datasets::read_idx_labels(dir / "labels");
  BOOST_TEST(t.dtype() == torch::kInt64);
  BOOST_TEST((t == torch::tensor({9, 0, 3, 3, 1}, torch::kInt64)).all().item<bool>());
}

BOOST_AUTO_TEST_CASE(truncated_file_names_the_file_and_the_part) {
  TempDir dir;
  auto bytes = image_file(4, 3, 3);
  bytes.resize(bytes.size() - 5);
  write_gz(dir / "short.gz", bytes);
  BOOST_CHECK_EXCEPTION(flowlab::datasets::read_idx_images(dir / "short.gz"), flowlab::RunError,
                        [&](const flowlab::RunError& e) {
                          return message_has(e, "short.gz") && message_has(e, "truncated") &&
                                 message_has(e, "pixels");
                        });
}

BOOST_AUTO_TEST_CASE(wrong_magic_is_reported_with_the_expected_value) {
  TempDir dir;
  auto bytes = image_file(1, 2, 2);
  bytes[3] = 0x01;  // a label file's magic
  write_gz(dir / "x.gz", bytes);
  BOOST_CHECK_EXCEPTION(flowlab::datasets::read_idx_images(dir / "x.gz"), flowlab::RunError,
                        [](const flowlab::RunError& e) {
                          return message_has(e, "not an IDX image file") &&
                                 message_has(e, "0x00000803");
                        });
}

BOOST_AUTO_TEST_CASE(missing_file_is_reported) {
  TempDir dir;
  BOOST_CHECK_EXCEPTION(flowlab::datasets::read_idx_labels(dir / "nope.gz"), flowlab::RunError,
                        [](const flowlab::RunError& e) { return message_has(e, "no such file"); });
}

// A 16-byte header claiming 10^8 images of 4096 x 4096: the old reader allocated the 1.6 PB
// tensor first (a c10::Error, not a RunError, or the machine's memory); now it is truncated.
BOOST_AUTO_TEST_CASE(a_header_claiming_more_than_the_file_holds_is_truncated_not_allocated) {
  TempDir dir;
  std::vector<unsigned char> b;
  for (uint32_t v : {0x00000803u, 100'000'000u, 4096u, 4096u})
    for (auto c : be32(v)) b.push_back(c);
  write_gz(dir / "huge.gz", b);
  BOOST_CHECK_EXCEPTION(flowlab::datasets::read_idx_images(dir / "huge.gz"), flowlab::RunError,
                        [](const flowlab::RunError& e) { return message_has(e, "truncated"); });
}

BOOST_AUTO_TEST_CASE(real_fashion_mnist_has_the_published_shape) {
  // Fashion-MNIST: 60,000 training and 10,000 test images of 28x28; the first training label is
  // 9 (ankle boot) and the first test label 9 as well (Zalando's README / the IDX files).
  std::filesystem::path dir = "/usr/share/datasets/fashion-mnist";
  auto train = flowlab::datasets::read_idx_labels(dir / "train-labels-idx1-ubyte.gz");
  auto test_images = flowlab::datasets::read_idx_images(dir / "t10k-images-idx3-ubyte.gz");
  BOOST_TEST(train.size(0) == 60000);
  BOOST_TEST(test_images.sizes().vec() == (std::vector<int64_t>{10000, 28, 28}));
  BOOST_TEST(train[0].item<int64_t>() == 9);
  // Classes are balanced: 6,000 training images each.
  auto counts = torch::bincount(train);
  BOOST_TEST((counts == 6000).all().item<bool>());
}

BOOST_AUTO_TEST_SUITE_END()
