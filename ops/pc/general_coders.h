#pragma once
// The general-purpose lossless coders the circuit codec is measured against (zlib, bzip2, xz at
// their strongest settings), on the same bytes, as one stream. Torch-free.
#include <cstdint>
#include <string>
#include <vector>

namespace flowlab::ops::pc {

struct CoderResult {
  std::string name;         // "zlib", "bzip2", "xz"
  size_t bytes = 0;         // compressed size
  double seconds = 0;       // compression time
  bool round_trip = false;  // decompressing gives the input back
};

/// Compresses `data` with zlib -9, bzip2 -9 and xz -9e, and checks each round trip.
std::vector<CoderResult> run_general_coders(const std::vector<uint8_t>& data);

}  // namespace flowlab::ops::pc
