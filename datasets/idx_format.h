#pragma once
// The IDX format of (Fashion-)MNIST, without LibTorch: a big-endian header (two zero bytes, a type
// code, the number of dimensions, then each dimension as a 32-bit count) and the values, row-major.
// idx.h wraps what this reads in tensors; keeping the byte parsing here lets unit_core and the
// fuzz target (fuzz/idx_fuzz.cpp) exercise it without linking torch.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace flowlab::datasets {

enum class IdxKind {
  kImages,  // IDX3 of unsigned bytes (magic 0x00000803): [n, rows, cols]
  kLabels,  // IDX1 of unsigned bytes (magic 0x00000801): [n]
};

struct IdxData {
  std::vector<uint32_t> dims;   // [n, rows, cols] or [n]
  std::vector<uint8_t> values;  // row-major, the product of dims bytes
};

/// Reads up to `bytes` bytes into `buffer` and returns how many it read: 0 only at the end of the
/// input (or when it cannot be read further).
using IdxReadFn = std::function<size_t(void* buffer, size_t bytes)>;

/// Parses IDX data of the given kind from `read`; `name` (a file name) starts every error message.
/// Throws RunError for a wrong magic number, implausible dimensions or a truncated input. Memory
/// grows with the bytes actually read, not with what the header claims, so a short input with a
/// header claiming terabytes fails as truncated instead of allocating them. `end_reason`, when
/// given, says why the input ended early (a decompressor's message) in the truncation error.
IdxData read_idx(const IdxReadFn& read, IdxKind kind, const std::string& name,
                 const std::function<std::string()>& end_reason = {});

/// read_idx over bytes held in memory (uncompressed).
IdxData parse_idx(const uint8_t* data, size_t size, IdxKind kind, const std::string& name);

/// read_idx over a file, gzip-compressed or not (zlib reads both). Throws RunError naming the
/// file when it is missing, unreadable, corrupt or not IDX data of that kind.
IdxData read_idx_file(const std::filesystem::path& file, IdxKind kind);

}  // namespace flowlab::datasets
