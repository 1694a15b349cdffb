// The torch-free IDX parser (datasets/idx_format.h), on bytes written here: shapes, row-major
// values, every header error, and headers that claim more data than the input holds.
#include "datasets/idx_format.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "common/error.h"

namespace {

using flowlab::datasets::IdxData;
using flowlab::datasets::IdxKind;
using flowlab::datasets::parse_idx;

std::vector<uint8_t> header(std::vector<uint32_t> words) {
  std::vector<uint8_t> b;
  for (uint32_t v : words)
    for (int shift : {24, 16, 8, 0}) b.push_back(static_cast<uint8_t>(v >> shift));
  return b;
}

std::string error_of(const std::vector<uint8_t>& bytes, IdxKind kind) {
  try {
    parse_idx(bytes.data(), bytes.size(), kind, "f.idx");
  } catch (const flowlab::RunError& e) {
    return e.what();
  }
  return "";
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != s.npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(datasets_idx_format)

BOOST_AUTO_TEST_CASE(images_are_n_rows_cols_in_row_major_order) {
  auto bytes = header({0x803, 2, 2, 3});
  for (uint8_t i = 0; i < 12; ++i) bytes.push_back(i * 5);
  IdxData d = parse_idx(bytes.data(), bytes.size(), IdxKind::kImages, "f.idx");
  BOOST_TEST(d.dims == (std::vector<uint32_t>{2, 2, 3}));
  BOOST_REQUIRE(d.values.size() == 12u);
  for (size_t i = 0; i < 12; ++i) BOOST_TEST(d.values[i] == i * 5);
}

BOOST_AUTO_TEST_CASE(labels_are_n_values) {
  auto bytes = header({0x801, 3});
  for (uint8_t v : {9, 0, 3}) bytes.push_back(v);
  IdxData d = parse_idx(bytes.data(), bytes.size(), IdxKind::kLabels, "f.idx");
  BOOST_TEST(d.dims == (std::vector<uint32_t>{3}));
  BOOST_TEST(d.values == (std::vector<uint8_t>{9, 0, 3}));
}

BOOST_AUTO_TEST_CASE(header_errors_name_the_file_and_what_is_wrong) {
  BOOST_TEST(has(error_of(header({0x801, 1}), IdxKind::kImages), "not an IDX image file"));
  BOOST_TEST(has(error_of(header({0x803, 1}), IdxKind::kLabels), "expected 0x00000801"));
  BOOST_TEST(has(error_of(header({0x803, 0, 1, 1}), IdxKind::kImages), "implausible"));
  BOOST_TEST(has(error_of(header({0x803, 1, 5000, 1}), IdxKind::kImages), "implausible"));
  BOOST_TEST(has(error_of(header({0x801, 0}), IdxKind::kLabels), "implausible label count 0"));
  std::string e = error_of({0, 0, 8}, IdxKind::kLabels);
  BOOST_TEST((has(e, "f.idx: truncated") && has(e, "the header")), e);
  e = error_of(header({0x801, 5, 0}), IdxKind::kLabels);  // 4 of 5 labels
  BOOST_TEST((has(e, "truncated") && has(e, "the labels")), e);
}

// Found reviewing the reader for fuzz/idx_fuzz.cpp: the old reader allocated what the header
// claimed (up to 10^8 x 4096 x 4096 bytes) before reading any of it, so a 16-byte file asked for
// 1.6 PB. Memory now follows the bytes that arrive, and the same file fails at once as truncated.
BOOST_AUTO_TEST_CASE(a_header_claiming_petabytes_fails_as_truncated_without_allocating_them) {
  auto bytes = header({0x803, 100'000'000, 4096, 4096});
  for (int i = 0; i < 100; ++i) bytes.push_back(1);
  auto start = std::chrono::steady_clock::now();
  std::string e = error_of(bytes, IdxKind::kImages);
  BOOST_TEST((has(e, "truncated") && has(e, "the pixels")), e);
  BOOST_TEST((std::chrono::steady_clock::now() - start < std::chrono::seconds(1)));
}

BOOST_AUTO_TEST_SUITE_END()
