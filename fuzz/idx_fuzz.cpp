// The IDX reader (datasets/idx_format.h, the torch-free part of datasets/idx.h): the input is an
// IDX file's bytes, parsed from memory as images and as labels, and also read from a file the way
// the dataset op reads it (through zlib, so gzip-compressed inputs are decompressed first). A
// RunError is the expected answer to bad data; a header claiming more than the input holds must
// fail as truncated, not allocate what it claims (-rss_limit_mb / -malloc_limit_mb catch that).
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "datasets/idx_format.h"
#include "fuzz/fuzz_support.h"

namespace {

using flowlab::datasets::IdxData;
using flowlab::datasets::IdxKind;

void check(const IdxData& d, IdxKind kind) {
  size_t expected = 1;
  for (uint32_t n : d.dims) expected *= n;
  if (d.dims.size() != (kind == IdxKind::kImages ? 3u : 1u) || d.values.size() != expected)
    flowlab::fuzz::property_failed("IdxData's values do not match its dims");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::filesystem::path file = flowlab::fuzz::scratch_dir() / "data.idx";
  for (IdxKind kind : {IdxKind::kImages, IdxKind::kLabels}) {
    try {
      check(flowlab::datasets::parse_idx(data, size, kind, "input"), kind);
    } catch (const flowlab::RunError&) {
    }
  }
  flowlab::fuzz::write_file(file, std::string(reinterpret_cast<const char*>(data), size));
  for (IdxKind kind : {IdxKind::kImages, IdxKind::kLabels}) {
    try {
      check(flowlab::datasets::read_idx_file(file, kind), kind);
    } catch (const flowlab::RunError&) {
    }
  }
  return 0;
}
